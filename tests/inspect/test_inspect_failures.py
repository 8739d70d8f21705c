"""kv.inspect() keeps failures as facts: each failed call is a line of the report, not a crash."""

from __future__ import annotations

from inspecting import inspected

from kvarchive import ArchivedMediaClient
from kvarchive.testing import Emulator


def test_retention_zero_is_reported_after_describe_stream_alone(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """Retention 0: one call, and every API refused with NoDataRetentionException."""
    emu.add_sample_stream("cam", retention_hours=0)
    report = inspected(emu, kv, "cam")
    assert [r.operation for r in emu.requests] == ["DescribeStream"]
    assert report.retention_hours == 0
    assert all(s.ok is False and "NoDataRetention" in s.reason for s in report.supports.values())


def test_no_retention_is_learnt_from_list_fragments_when_describe_stream_is_denied(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """DescribeStream denied on a stream without archive: ListFragments' answer says retention 0."""
    emu.add_sample_stream("cam", retention_hours=0)
    emu.fail_next("DescribeStream", "AccessDeniedException")
    report = inspected(emu, kv, "cam")
    assert report.retention_hours == 0
    assert [p.operation for p in report.problems] == ["DescribeStream", "ListFragments"]
    assert report.problems[0].permission == "kinesisvideo:DescribeStream"
    assert report.supports["GetClip"].ok is False


def test_an_empty_stream_looks_twice_then_says_it_cannot_know(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """No fragments: the last minute, the last hour, the retention period; codec checks None."""
    emu.add_stream("empty", fragment_count=0)
    report = inspected(emu, kv, "empty")
    assert [r.operation for r in emu.requests].count("ListFragments") == 3
    assert (report.newest, report.tracks, report.problems) == (None, None, ())
    assert report.supports["HLS"].ok is None and "unknown" in report.supports["HLS"].reason
    assert report.supports["GetMediaForFragmentList"].ok is True


def test_a_kms_key_that_denies_access_is_a_problem_naming_kms_decrypt(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """GetMediaForFragmentList refused for the stream's KMS key: the report names kms:Decrypt."""
    emu.add_sample_stream("cam", kms_key_id="arn:aws:kms:us-east-1:123456789012:key/k1")
    emu.fail_next(
        "GetMediaForFragmentList", "AccessDeniedException", message="KMS key access denied"
    )
    report = inspected(emu, kv, "cam")
    (problem,) = report.problems
    assert (problem.operation, problem.code) == ("GetMediaForFragmentList", "AccessDeniedException")
    assert (
        problem.permission
        == "kms:Decrypt on the stream's key arn:aws:kms:us-east-1:123456789012:key/k1"
    )
    assert report.tracks is None and report.supports["HLS"].ok is None


def test_a_missing_permission_for_list_fragments_is_a_line_of_the_report(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """ListFragments not authorized: the problem names the call and its permission; no more calls."""
    emu.add_sample_stream("cam")
    emu.fail_next("ListFragments", "NotAuthorizedException", message="not allowed")
    report = inspected(emu, kv, "cam")
    assert [str(p) for p in report.problems] == [
        "ListFragments: NotAuthorizedException: not allowed (needs kinesisvideo:ListFragments)"
    ]
    assert emu.count("GetMediaForFragmentList") == 0
    assert report.status == "ACTIVE" and report.newest is None


def test_get_data_endpoint_denied_names_get_data_endpoint(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """The data endpoint refused: the problem is GetDataEndpoint's, with its permission."""
    emu.add_sample_stream("cam")
    emu.fail_next("GetDataEndpoint", "AccessDeniedException")
    report = inspected(emu, kv, "cam")
    assert report.problems[0].operation == "GetDataEndpoint"
    assert report.problems[0].permission == "kinesisvideo:GetDataEndpoint"


def test_describe_stream_denied_leaves_the_rest_of_the_report(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """DescribeStream denied: its facts are None, the fragments and supports are still there."""
    emu.add_sample_stream("cam")
    emu.fail_next("DescribeStream", "AccessDeniedException")
    report = inspected(emu, kv, "cam")
    assert (report.status, report.retention_hours) == (None, None)
    assert report.tracks is not None and report.supports["GetClip"].ok is True
    assert report.supports["GetMediaForFragmentList"].ok is True


def test_a_fragment_served_as_an_error_chunk_is_a_problem(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """The newest fragment comes back as an error chunk: a GetMediaForFragmentList problem."""
    stream = emu.add_sample_stream("cam")
    emu.fail_fragment("cam", stream.fragments[-1].number, code="4000", message="not available")
    report = inspected(emu, kv, "cam")
    (problem,) = report.problems
    assert problem.operation == "GetMediaForFragmentList" and "not available" in problem.message
    assert report.tracks is None and report.newest is not None


def test_a_media_answer_that_keeps_ending_early_is_a_problem(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """GetMediaForFragmentList bodies that end before any byte: a problem, not a traceback."""
    emu.add_sample_stream("cam")
    emu.cut_next("GetMediaForFragmentList", 0, count=20, framing="close")
    report = inspected(emu, kv, "cam")
    assert [(p.operation, p.code) for p in report.problems] == [
        ("GetMediaForFragmentList", "MediaIncompleteError")
    ]
    assert report.tracks is None
