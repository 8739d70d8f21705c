"""Running the command line: the client, the exit status, and errors told on one line.

Exit status: 0 success; 1 a service or runtime error, told on one line of
stderr; 2 bad usage or a ValidationError. ``--debug`` adds tracebacks and
DEBUG logs of kvarchive and botocore, with credentials and session tokens
masked.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Optional, TextIO, Union

from kvarchive import (
    ArchivedMediaClient,
    CredentialsError,
    KVArchiveError,
    ServiceError,
    ValidationError,
)
from kvarchive._aws.hints import no_credentials_message, no_region_message
from kvarchive._redact import Redactor
from kvarchive._validate import check_int
from kvarchive.cli._commands import Command, audio_of_file, frames_of_file, require_extras
from kvarchive.cli._debug import debug_logging, mask_credentials
from kvarchive.cli._demo import run_demo
from kvarchive.cli._emulator import emulator
from kvarchive.cli._messages import in_flags
from kvarchive.cli._output import error, tell, warn
from kvarchive.cli._parser import parse_args

__all__ = ["main", "warnings_told"]

# What a shell reports for a process killed by SIGPIPE (128 + 13), as for `yes | head`.
EXIT_BROKEN_PIPE = 141


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    now = datetime.now(timezone.utc)
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv, now)
    except SystemExit as exc:  # argparse: --help, --version or a usage error
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 2
    redactor = Redactor.from_environment()
    with contextlib.ExitStack() as stack:
        stack.enter_context(warnings_told(args.parser))
        if args.debug:
            stack.enter_context(debug_logging(redactor))
        try:
            done = _run(args, redactor)
            sys.stdout.flush()  # a reader that went away shows here, not at exit
            return done
        except BrokenPipeError:
            # The reader of stdout is gone (`| head`): stop quietly, as Unix tools do.
            _silence_stdout()
            return EXIT_BROKEN_PIPE
        except Exception as exc:
            status = _exit_status(exc)
            if status is None:
                raise
            if args.debug:
                sys.stderr.write(redactor(traceback.format_exc()))
            error(redactor(_describe(exc, args.parser)))
            return status
        except KeyboardInterrupt as exc:  # its text, if any, says what was kept (follow)
            tell(str(exc) or "interrupted")  # what the user asked for, not an error
            return 130


@contextlib.contextmanager
def warnings_told(parser: argparse.ArgumentParser) -> Iterator[None]:
    """While active, kvarchive's warnings are told as one line each, in the words of the
    command run with ``parser``; other warnings are shown as Python shows them."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(  # noqa: PLR0917 - warnings.showwarning's own signature
            message: Union[Warning, str],
            category: type[Warning],
            filename: str,
            lineno: int,
            file: Optional[TextIO] = None,
            line: Optional[str] = None,
        ) -> None:
            if category.__module__.split(".")[0] == "kvarchive":
                warn(in_flags(str(message), parser))
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def _run(args: argparse.Namespace, redactor: Redactor) -> int:
    if args.command_name == "demo":
        run_demo(args, redactor)
        return 0
    if args.command_name == "emulator":
        emulator(args)
        return 0
    if args.command_name == "frames":
        check_int(args.quality, "jpeg_quality", 1, 100)  # as images checks its --quality
        require_extras()  # before any request
        if args.file is not None:
            frames_of_file(args)  # no AWS
            return 0
    if args.command_name == "audio" and args.file is not None:
        audio_of_file(args)  # no AWS
        return 0
    import boto3

    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    if session.region_name is None:
        raise ValidationError(no_region_message("give --region"))
    if args.debug:
        mask_credentials(redactor, session)
    with ArchivedMediaClient(session=session, endpoint_url=args.endpoint_url) as kv:
        handler: Command = args.handler
        handler(kv, args)
    return 0


def _exit_status(exc: BaseException) -> Optional[int]:
    """1 or 2 for the failures a user can meet, None for a bug (let it raise)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ValidationError):
        return 2
    if isinstance(exc, (KVArchiveError, BotoCoreError, ClientError, OSError)):
        return 1
    return None


def _describe(exc: BaseException, parser: argparse.ArgumentParser) -> str:
    """The one line that tells ``exc``, in the words of the command run with ``parser``."""
    if isinstance(exc, ValidationError):
        return in_flags(str(exc), parser)
    if isinstance(exc, ServiceError):
        text = f"{exc.code}"
        if exc.operation:
            text += f" when calling {exc.operation}"
        text += f": {exc.message}"
        if exc.request_id:
            text += f" (request id: {exc.request_id})"
        return text
    if isinstance(exc, CredentialsError):
        return no_credentials_message(
            "pass --profile", "to try kvarchive without AWS: kvarchive demo"
        )
    return str(exc) or type(exc).__name__


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit finds no broken pipe."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)
