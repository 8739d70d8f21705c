"""The error tree: mapping service codes, keeping details, pickling."""

from __future__ import annotations

import pickle

import pytest
from botocore.exceptions import ClientError

import kvarchive
from kvarchive import errors
from kvarchive._aws.translate import from_client_error
from kvarchive._errors import ERROR_CLASSES

DOCUMENTED = {
    "ResourceNotFoundException": errors.ResourceNotFoundError,
    "InvalidArgumentException": errors.InvalidArgumentError,
    "ClientLimitExceededException": errors.ClientLimitExceededError,
    "NotAuthorizedException": errors.NotAuthorizedError,
    "NoDataRetentionException": errors.NoDataRetentionError,
    "UnsupportedStreamMediaTypeException": errors.UnsupportedStreamMediaTypeError,
    "MissingCodecPrivateDataException": errors.MissingCodecPrivateDataError,
    "InvalidCodecPrivateDataException": errors.InvalidCodecPrivateDataError,
    "InvalidMediaFrameException": errors.InvalidMediaFrameError,
}


def client_error(code: str, *, headers: dict[str, str] | None = None) -> ClientError:
    """A ClientError shaped like botocore's for a rest-json error answer."""
    response = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {
            "RequestId": "req-123",
            "HTTPStatusCode": 400,
            "HTTPHeaders": headers or {},
        },
    }
    return ClientError(response, "ListFragments")  # type: ignore[arg-type]


def test_every_documented_code_has_its_class() -> None:
    """Each documented service code maps to its own ServiceError subclass."""
    assert ERROR_CLASSES == DOCUMENTED
    for code, cls in DOCUMENTED.items():
        error = from_client_error(client_error(code))
        assert type(error) is cls
        assert isinstance(error, errors.ServiceError)
        assert error.code == code


def test_unknown_code_is_a_plain_service_error() -> None:
    """A code we do not know gives a plain ServiceError that keeps the code."""
    error = from_client_error(client_error("BrandNewException"))
    assert type(error) is errors.ServiceError
    assert error.code == "BrandNewException"


def test_details_are_kept() -> None:
    """Message, operation, status, request id and the error-type header are kept."""
    header = "InvalidArgumentException:http://internal.amazon.com/coral/"
    error = from_client_error(
        client_error("InvalidArgumentException", headers={"x-amz-ErrorType": header})
    )
    assert error.message == "InvalidArgumentException happened"
    assert error.operation == "ListFragments"
    assert error.status_code == 400
    assert error.request_id == "req-123"
    assert error.error_type == header
    assert "req-123" in str(error)


def test_the_x_amzn_header_is_read_too() -> None:
    """The error type comes from x-amzn-ErrorType when x-amz-ErrorType is absent."""
    error = from_client_error(
        client_error(
            "NotAuthorizedException", headers={"x-amzn-ErrorType": "NotAuthorizedException:"}
        )
    )
    assert error.error_type == "NotAuthorizedException:"


def test_only_throttling_and_server_errors_are_retryable() -> None:
    """retryable is True for ClientLimitExceeded and 5xx, False otherwise."""
    assert from_client_error(client_error("ClientLimitExceededException")).retryable
    assert not from_client_error(client_error("InvalidArgumentException")).retryable
    assert errors.ServiceError("x", code="InternalFailure", status_code=500).retryable


@pytest.mark.parametrize("cls", [*DOCUMENTED.values(), errors.ServiceError])
def test_service_errors_pickle(cls: type[errors.ServiceError]) -> None:
    """Service errors survive pickling with every attribute (workers send them across processes)."""
    error = cls("msg", code="Code", operation="Op", status_code=400, error_type="T", request_id="r")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert (
        copy.message,
        copy.code,
        copy.operation,
        copy.status_code,
        copy.error_type,
        copy.request_id,
    ) == ("msg", "Code", "Op", 400, "T", "r")


def test_other_errors_pickle() -> None:
    """MediaParseError and MediaIncompleteError keep their details through pickling."""
    parse = pickle.loads(pickle.dumps(errors.MediaParseError("bad", 42)))
    assert (parse.message, parse.offset) == ("bad", 42)
    incomplete = pickle.loads(pickle.dumps(errors.MediaIncompleteError("cut", "123")))
    assert incomplete.first_missing == "123"


def test_every_error_pickles_by_its_public_path() -> None:
    """Every error of kvarchive.errors comes back from pickle as itself, found as kvarchive.errors.X."""
    for name in errors.__all__:
        cls = getattr(errors, name)
        if issubclass(cls, errors.ServiceError):
            error = cls("msg", code="Code", request_id="r")
        else:
            error = cls("msg")
        data = pickle.dumps(error)
        assert b"kvarchive.errors" in data
        copy = pickle.loads(data)
        assert type(copy) is cls
        assert str(copy) == str(error)


def test_track_list_changed_error_keeps_its_fragment_through_pickling() -> None:
    """TrackListChangedError, now in the error tree, keeps the fragment number it names."""
    copy = pickle.loads(pickle.dumps(errors.TrackListChangedError("changed", "123")))
    assert (str(copy), copy.number) == ("changed", "123")
    assert issubclass(errors.TrackListChangedError, errors.KVArchiveError)


def test_misuse_is_its_own_branch() -> None:
    """UsageError is a RuntimeError under KVArchiveError, apart from service and media failures."""
    assert issubclass(errors.UsageError, RuntimeError)
    assert issubclass(errors.UsageError, errors.KVArchiveError)
    for other in (errors.ServiceError, errors.MediaParseError, errors.ValidationError):
        assert not issubclass(errors.UsageError, other)
        assert not issubclass(other, errors.UsageError)


def test_validation_error_is_a_value_error() -> None:
    """ValidationError can be caught as ValueError too."""
    assert issubclass(errors.ValidationError, ValueError)
    assert issubclass(errors.ValidationError, errors.KVArchiveError)


@pytest.mark.parametrize("name", ["ClipTruncationWarning", "LateFragmentWarning"])
def test_every_warning_is_a_kvarchive_warning(name: str) -> None:
    """kvarchive's warnings are UserWarnings of one family, importable from kvarchive.errors."""
    warning = getattr(errors, name)
    assert issubclass(warning, errors.KVArchiveWarning)
    assert issubclass(errors.KVArchiveWarning, UserWarning)
    assert getattr(kvarchive, name) is warning


def test_a_truncation_warning_keeps_its_counts_through_pickling() -> None:
    """ClipTruncationWarning, sent from a worker process, still says how much the range held."""
    copy = pickle.loads(pickle.dumps(errors.ClipTruncationWarning("cut", 450, 9000)))
    assert (str(copy), copy.fragment_count, copy.size) == ("cut", 450, 9000)
