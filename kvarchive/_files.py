"""Where output goes: one rule for every path the library and the command line write.

Missing folders are made, as ``mkdir -p`` does, before the first request; a
file path that names a folder is a ValidationError; a folder that cannot be
made or written is a KVArchiveError naming the path the user gave. Files
appear only when whole: they are written under a temporary name in the same
folder and renamed at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from typing import BinaryIO, Union

from ._errors import KVArchiveError, ValidationError

__all__ = ["PathLike", "atomic_file", "file_sha256", "output_file", "output_folder"]

PathLike = Union[str, "os.PathLike[str]"]


def output_folder(directory: PathLike) -> str:
    """``directory`` as an absolute path, made (with its parents) if missing."""
    target = os.path.abspath(os.fspath(directory))
    problem = _make_folder(target)
    if problem:
        raise KVArchiveError(f"cannot write into {os.fspath(directory)!r}: {problem}")
    return target


def output_file(path: PathLike) -> str:
    """``path`` as an absolute file path, its folder made if missing; a folder is refused."""
    name = os.fspath(path)
    if not name or name.endswith((os.sep, "/")) or os.path.isdir(name):
        raise ValidationError(f"path must name a file, not a folder: {name!r}")
    target = os.path.abspath(name)
    problem = _make_folder(os.path.dirname(target))
    if problem:
        raise KVArchiveError(f"cannot write {name!r}: {problem}")
    return target


def _make_folder(folder: str) -> str:
    """Make ``folder`` and its parents; what went wrong, or "" if it is there and writable."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        blocker = folder
        while blocker and not os.path.exists(blocker):
            blocker = os.path.dirname(blocker)
        if os.path.exists(blocker) and not os.path.isdir(blocker):
            return f"{blocker!r} is a file, not a folder"
        return exc.strerror or str(exc)
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"no permission to write in {folder!r}"
    return ""


@contextlib.contextmanager
def atomic_file(path: PathLike) -> Iterator[BinaryIO]:
    """A new file that appears at ``path`` only if the ``with`` block succeeds.

    It is written under a temporary name in the same folder and renamed over
    ``path`` at the end; on any failure, Ctrl-C included, it is removed.
    """
    target = output_file(path)
    folder, name = os.path.split(target)
    # Not tempfile.mkstemp: its 0600 mode would survive the rename; this honours the umask.
    temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.part")
    try:
        out = open(temp, "xb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    try:
        with out:
            yield out
        try:
            os.replace(temp, target)
        except OSError as exc:
            raise _cannot_write(path, exc) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _cannot_write(path: PathLike, exc: OSError) -> KVArchiveError:
    reason = exc.strerror or str(exc)
    return KVArchiveError(f"cannot write {os.fspath(path)!r}: {reason}")


def file_sha256(path: PathLike) -> str:
    """The SHA-256 of the file at ``path``, in hex, read a chunk at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
