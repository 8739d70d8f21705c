"""The public face of the package."""

import importlib
import pickle
import typing

import attrs

import kvarchive
import kvarchive.testing
from kvarchive import errors


def test_all_is_pinned() -> None:
    """kvarchive.__all__ lists exactly the public names; a change here is an API change."""
    assert sorted(kvarchive.__all__) == sorted(
        [
            "ArchivedMediaClient",
            "AudioChunk",
            "AudioResult",
            "Backoff",
            "Checkpoint",
            "CheckpointConflictError",
            "CheckpointError",
            "ClientLimitExceededError",
            "ClipTruncationWarning",
            "DASHPlayer",
            "DecodedFrame",
            "DecodedFrames",
            "DownloadResult",
            "ExportResult",
            "ExportShard",
            "CredentialsError",
            "DynamoDBCheckpoint",
            "EndpointUnreachableError",
            "FileCheckpoint",
            "Follower",
            "Fragment",
            "FragmentList",
            "Frame",
            "FragmentPager",
            "HLSPlayer",
            "Image",
            "ImagePager",
            "InvalidArgumentError",
            "InvalidCodecPrivateDataError",
            "InvalidMediaFrameError",
            "KVArchiveError",
            "KVArchiveWarning",
            "LateFragmentWarning",
            "MediaFragment",
            "MediaIncompleteError",
            "MediaParseError",
            "MediaStream",
            "MissingCodecPrivateDataError",
            "NoDataRetentionError",
            "NotAuthorizedError",
            "ResourceNotFoundError",
            "S3Checkpoint",
            "ServiceError",
            "ShardResult",
            "StreamReport",
            "Support",
            "TrackReport",
            "Gap",
            "Problem",
            "TrackListChangedError",
            "UnsupportedStreamMediaTypeError",
            "UsageError",
            "ValidationError",
            "WrongEndpointError",
            "__version__",
            "errors",
            "export",
        ]
    )


def test_every_exported_name_exists() -> None:
    """Every name in __all__ can be imported from the package."""
    for name in kvarchive.__all__:
        assert getattr(kvarchive, name) is not None


def test_errors_module_reexports_the_same_classes() -> None:
    """kvarchive.errors.X and kvarchive.X are the same class."""
    for name in errors.__all__:
        assert getattr(errors, name) is getattr(kvarchive, name)


def test_import_is_light() -> None:
    """`import kvarchive` loads neither boto3 nor any optional or test-only package."""
    import subprocess
    import sys

    heavy = ["boto3", "botocore", "pandas", "tqdm", "IPython", "moto", "kvarchive.testing"]
    heavy += ["av", "numpy", "PIL"]
    code = f"import sys, kvarchive; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_public_names_print_as_public() -> None:
    """Public classes and functions name the module users import them from, in tracebacks and reprs."""
    for package in (kvarchive, errors, kvarchive.testing):
        for name in package.__all__:
            value = getattr(package, name)
            if not hasattr(value, "__qualname__"):
                continue  # a constant or a module
            assert value.__module__ in ("kvarchive", "kvarchive.errors", "kvarchive.testing"), name
            assert getattr(importlib.import_module(value.__module__), value.__qualname__) is value
    assert repr(kvarchive.Fragment).endswith("'kvarchive.Fragment'>")
    assert repr(errors.ResourceNotFoundError) == "<class 'kvarchive.errors.ResourceNotFoundError'>"


def test_public_models_pickle_by_their_public_path() -> None:
    """A pickled model names kvarchive.X, so it unpickles wherever kvarchive is installed."""
    fragment = kvarchive.Frame(track=1, time_ns=5, keyframe=True, data=b"x")
    data = pickle.dumps(fragment)
    assert b"kvarchive" in data and b"_matroska" not in data
    assert pickle.loads(data) == fragment


def test_type_hints_of_public_classes_still_resolve() -> None:
    """Introspection that reads annotations (typing.get_type_hints, attrs.resolve_types, cattrs)
    works on the public classes although they name a public module now."""
    for package in (kvarchive, kvarchive.testing):
        for name in package.__all__:
            value = getattr(package, name)
            # DecodedFrame's numpy types are imported for type checkers only (numpy is optional).
            if not isinstance(value, type) or value is kvarchive.DecodedFrame:
                continue
            typing.get_type_hints(value)
            if attrs.has(value):
                attrs.resolve_types(value)
    assert typing.get_type_hints(kvarchive.Fragment)["producer_timestamp"].__name__ == "datetime"
