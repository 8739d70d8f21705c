"""No credential or session token reaches a log record, repr or message of kvarchive."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kvarchive import ArchivedMediaClient, DASHPlayer, HLSPlayer, KVArchiveError
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def planted(emulator: Emulator) -> list[str]:
    """Every secret planted for the test: credentials from conftest and the emulator's token."""
    return [
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ["AWS_SESSION_TOKEN"],
        emulator.session_token,
    ]


def test_no_secret_in_kvarchive_logs_reprs_or_errors(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """With every logger at DEBUG, a tour of the API leaves no secret in kvarchive's output."""
    stream = emulator.add_stream("cam", fragment_count=4, start=T0, payload_size=512)
    texts: list[str] = []
    caplog.set_level(logging.DEBUG)
    with ArchivedMediaClient(endpoint_url=emulator.endpoint_url) as kv:
        texts += [repr(kv), str(kv)]
        pager = kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(minutes=1))
        fragments = list(pager)
        texts += [repr(pager), repr(fragments), pager._repr_html_()]
        url = kv.get_hls_streaming_session_url(
            stream_name="cam", playback_mode="ON_DEMAND", start=T0, end=T0 + timedelta(seconds=8)
        )
        assert emulator.session_token in url  # the one place it belongs
        texts += [repr(HLSPlayer(url)), repr(DASHPlayer(url)), repr(pager.timeline())]
        with kv.get_media_for_fragment_list(stream_name="cam", fragments=fragments) as media:
            texts.append(repr(media))
            emulator.cut_next("GetMediaForFragmentList", 700)
            texts += [repr(f) for f in media.iter_fragments()]
        images = list(kv.get_images(stream_name="cam", start=T0, end=T0 + timedelta(seconds=4)))
        texts += [repr(i) for i in images]
        for code in ("NotAuthorizedException", "ClientLimitExceededException"):
            emulator.fail_next("GetClip", code, count=10)
            with pytest.raises(KVArchiveError) as caught:
                kv.get_clip(stream_name="cam", start=T0, end=T0 + timedelta(seconds=8))
            texts += [str(caught.value), repr(caught.value)]
            emulator.reset_faults()
    assert len(stream.fragments) == len(fragments)
    texts += [
        record.getMessage() for record in caplog.records if record.name.startswith("kvarchive")
    ]
    joined = "\n".join(texts)
    for secret in planted(emulator):
        assert secret not in joined
    assert any(r.name == "kvarchive" for r in caplog.records)  # the resume was logged


def test_pandas_frames(emulator: Emulator, kv: Any) -> None:
    """to_pandas gives one row per fragment and per image."""
    pytest.importorskip("pandas")
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=256)
    frame = kv.list_fragments(
        stream_name="cam", start=T0, end=T0 + timedelta(minutes=1)
    ).to_pandas()
    assert list(frame["size"]) == [f.size for f in emulator.stream("cam").fragments]
    images = kv.get_images(
        stream_name="cam", start=T0, end=T0 + timedelta(seconds=6), sampling_interval=2000
    )
    assert len(images.to_pandas()) == 3
