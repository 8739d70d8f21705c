"""The public face of the package."""

import kvarchive
from kvarchive import errors


def test_all_is_pinned() -> None:
    """kvarchive.__all__ lists exactly the public names; a change here is an API change."""
    assert sorted(kvarchive.__all__) == sorted(
        [
            "ArchivedMediaClient",
            "Backoff",
            "Checkpoint",
            "CheckpointConflictError",
            "CheckpointError",
            "ClientLimitExceededError",
            "ClipTruncationWarning",
            "DownloadResult",
            "CredentialsError",
            "EndpointUnreachableError",
            "FileCheckpoint",
            "Follower",
            "Fragment",
            "FragmentList",
            "FragmentPager",
            "HLSPlayer",
            "Image",
            "ImagePager",
            "InvalidArgumentError",
            "InvalidCodecPrivateDataError",
            "InvalidMediaFrameError",
            "KVArchiveError",
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
            "TrackListChangedError",
            "UnsupportedStreamMediaTypeError",
            "ValidationError",
            "WrongEndpointError",
            "__version__",
            "errors",
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
    code = f"import sys, kvarchive; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
