"""The emulator's streaming sessions play: HLS (fMP4 and TS) and DASH over real HTTP."""

from __future__ import annotations

import json
import logging
import shutil
import struct
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urljoin, urlsplit

import boto3
import pytest

from kvarchive import ArchivedMediaClient
from kvarchive.testing import EmulatedStream, Emulator

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg / ffprobe not installed",
)
MPD = "{urn:mpeg:dash:schema:mpd:2011}"


class Clock:
    """The emulator's clock: real time, moved on by the test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emu(clock: Clock) -> Iterator[Emulator]:
    with Emulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def kv(emu: Emulator) -> Iterator[ArchivedMediaClient]:
    with ArchivedMediaClient(endpoint_url=emu.endpoint_url, rate_limit=False) as client:
        yield client


@pytest.fixture
def demo(emu: Emulator) -> EmulatedStream:
    """The real H.264 + AAC sample: ten 1 s fragments ending now."""
    return emu.add_sample_stream("demo")


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one request, error answers included."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def get(url: str) -> bytes:
    """The body of a URL that must answer 200."""
    status, _, body = fetch(url)
    assert status == 200, body
    return body


def uris(playlist: str) -> list[str]:
    """The URI lines of an HLS playlist."""
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def tag_values(playlist: str, tag: str) -> list[str]:
    """The values of every ``#TAG:value`` line."""
    prefix = tag + ":"
    return [line[len(prefix) :] for line in playlist.splitlines() if line.startswith(prefix)]


def session_url(ask: Callable[..., str], stream: EmulatedStream, **kwargs: Any) -> str:
    """A session URL from ``ask`` (a client method), ON_DEMAND over the whole stream unless
    told otherwise."""
    if kwargs.get("playback_mode", "ON_DEMAND") != "LIVE":
        kwargs.setdefault("start", stream.fragments[0].server_timestamp)
        kwargs.setdefault("end", stream.fragments[-1].server_timestamp)
    kwargs.setdefault("playback_mode", "ON_DEMAND")
    return ask(stream_name=stream.name, **kwargs)


def hls_url(kv: ArchivedMediaClient, stream: EmulatedStream, **kwargs: Any) -> str:
    """An HLS session URL (see :func:`session_url`)."""
    return session_url(kv.get_hls_streaming_session_url, stream, **kwargs)


def dash_url(kv: ArchivedMediaClient, stream: EmulatedStream, **kwargs: Any) -> str:
    """A DASH session URL (see :func:`session_url`)."""
    return session_url(kv.get_dash_streaming_session_url, stream, **kwargs)


def media_playlists(master_url: str) -> dict[str, str]:
    """Each media playlist of a master playlist, by URL."""
    master = get(master_url).decode()
    found = uris(master)
    for value in tag_values(master, "#EXT-X-MEDIA"):
        found += [part.split("=", 1)[1].strip('"') for part in value.split(",") if "URI=" in part]
    return {urljoin(master_url, uri): get(urljoin(master_url, uri)).decode() for uri in found}


def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level (type, payload) boxes of ISO BMFF bytes."""
    found = []
    position = 0
    while position < len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        found.append((kind, data[position + 8 : position + size]))
        position += size
    assert position == len(data)
    return found


def child(payload: bytes, kind: bytes) -> bytes:
    """The payload of the first child box of ``kind``."""
    return dict(boxes(payload))[kind]


def fragment_timing(segment: bytes) -> tuple[int, int, int]:
    """(tfdt, sum of trun durations, sample count) of a one-track media segment."""
    kinds = [kind for kind, _ in boxes(segment)]
    assert kinds == [b"moof", b"mdat"]
    traf = child(dict(boxes(segment))[b"moof"], b"traf")
    tfdt = struct.unpack(">Q", child(traf, b"tfdt")[4:12])[0]
    trun = child(traf, b"trun")
    count = struct.unpack(">I", trun[4:8])[0]
    entries = [struct.unpack(">III", trun[12 + 12 * i : 24 + 12 * i]) for i in range(count)]
    return tfdt, sum(duration for duration, _, _ in entries), count


def probe(path: Path | str, *, decode: bool = True) -> dict[str, int]:
    """Frames (decoded) or packets per stream type of a file or URL, as ffprobe counts them."""
    what = "frames" if decode else "packets"
    out = subprocess.run(
        ["ffprobe", "-v", "error", f"-count_{what}", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {s["codec_type"]: int(s[f"nb_read_{what}"]) for s in json.loads(out)["streams"]}


def ffmpeg_copy(url: str, target: Path) -> None:
    """``ffmpeg -i URL -c copy target``, as a user would save a session."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", url, "-c", "copy", str(target)],
        check=True,
        capture_output=True,
        timeout=120,
    )


# -- every frame of an ON_DEMAND range ------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize("container", ["FRAGMENTED_MP4", "MPEG_TS"])
def test_ffmpeg_copies_every_frame_of_an_hls_range(
    kv: ArchivedMediaClient, demo: EmulatedStream, tmp_path: Path, container: str
) -> None:
    """ffmpeg -c copy of an ON_DEMAND HLS session decodes as many video and audio frames as
    a download() of the same range."""
    start, end = demo.fragments[2].server_timestamp, demo.fragments[8].server_timestamp
    kv.download(stream_name="demo", start=start, end=end, path=tmp_path / "range.mkv")
    url = hls_url(kv, demo, start=start, end=end, container_format=container)
    ffmpeg_copy(url, tmp_path / "hls.mp4")
    expected = probe(tmp_path / "range.mkv")
    assert expected["video"] == 7 * 15
    assert probe(tmp_path / "hls.mp4") == expected


@needs_ffmpeg
def test_ffmpeg_copies_every_frame_of_a_dash_range(
    kv: ArchivedMediaClient, demo: EmulatedStream, tmp_path: Path
) -> None:
    """ffmpeg -c copy of an ON_DEMAND DASH session decodes as many frames as download()."""
    kv.download(
        stream_name="demo",
        start=demo.fragments[0].server_timestamp,
        end=demo.fragments[-1].server_timestamp,
        path=tmp_path / "all.mkv",
    )
    ffmpeg_copy(dash_url(kv, demo), tmp_path / "dash.mp4")
    expected = probe(tmp_path / "all.mkv")
    assert expected["video"] == 150
    assert probe(tmp_path / "dash.mp4") == expected


@needs_ffmpeg
def test_synthetic_stream_plays_every_packet(
    emu: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """ffprobe reads every packet of a synthetic stream (noise frames, 640x480, with audio)
    from its HLS session, and ffmpeg copies them all."""
    stream = emu.add_stream("synth", fragment_count=4, frame_rate=10, audio=True, payload_size=4096)
    url = hls_url(kv, stream)
    assert probe(url, decode=False) == {"video": 80, "audio": 80}
    ffmpeg_copy(url, tmp_path / "synth.mp4")
    assert probe(tmp_path / "synth.mp4", decode=False)["video"] == 80


# -- playlists and segments -----------------------------------------------------------


def test_every_fmp4_segment_runs_on_from_the_one_before(
    kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """Each track's playlist lists one segment per fragment; each segment's tfdt is where the
    one before ended, and its init segment declares fragments (mvex)."""
    playlists = media_playlists(hls_url(kv, demo))
    assert len(playlists) == 2  # video, and audio as a rendition
    for url, playlist in playlists.items():
        (init,) = [value.split('"')[1] for value in tag_values(playlist, "#EXT-X-MAP")]
        init_box = dict(boxes(get(urljoin(url, init))))
        assert b"mvex" in dict(boxes(init_box[b"moov"]))
        segments = uris(playlist)
        assert [parse_qs(urlsplit(u).query)["FragmentNumber"][0] for u in segments] == [
            f.number for f in demo.fragments
        ]
        timing = [fragment_timing(get(urljoin(url, uri))) for uri in segments]
        for (tfdt, duration, _), (next_tfdt, _, _) in zip(timing, timing[1:]):
            assert next_tfdt == tfdt + duration
        if parse_qs(urlsplit(url).query)["TrackNumber"] == ["1"]:
            assert [count for _, _, count in timing] == [15] * 10
            assert timing[0][0] == 0


def test_on_demand_playlist_tags(kv: ArchivedMediaClient, demo: EmulatedStream) -> None:
    """ON_DEMAND: VOD, ENDLIST, a discontinuity before every segment (ALWAYS), EXTINF of each
    fragment's length and, with DisplayFragmentTimestamp=ALWAYS, its server timestamp."""
    url = hls_url(kv, demo, display_fragment_timestamp="ALWAYS")
    (playlist,) = [p for u, p in media_playlists(url).items() if "TrackNumber=1" in u]
    lines = playlist.splitlines()
    assert lines[0] == "#EXTM3U"
    assert tag_values(playlist, "#EXT-X-PLAYLIST-TYPE") == ["VOD"]
    assert lines[-1] == "#EXT-X-ENDLIST"
    assert lines.count("#EXT-X-DISCONTINUITY") == 10
    assert tag_values(playlist, "#EXT-X-PROGRAM-DATE-TIME") == [
        f.server_timestamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for f in demo.fragments
    ]
    assert tag_values(playlist, "#EXTINF") == [
        f"{f.duration_ms / 1000:.3f}," for f in demo.fragments
    ]


@pytest.mark.parametrize(
    ("mode", "gap_ms", "marks"),
    [("NEVER", 500, 0), ("ON_DISCONTINUITY", 0, 0), ("ON_DISCONTINUITY", 60, 3)],
)
def test_discontinuity_mode(
    emu: Emulator, kv: ArchivedMediaClient, mode: str, gap_ms: int, marks: int
) -> None:
    """NEVER marks nothing; ON_DISCONTINUITY marks each gap of more than 50 ms."""
    stream = emu.add_stream("gappy", fragment_count=4, gap_ms=gap_ms, payload_size=512)
    url = hls_url(kv, stream, discontinuity_mode=mode, container_format="MPEG_TS")
    (playlist,) = media_playlists(url).values()
    assert playlist.splitlines().count("#EXT-X-DISCONTINUITY") == marks
    assert not tag_values(playlist, "#EXT-X-PROGRAM-DATE-TIME")


def test_producer_timestamps_show_producer_times(emu: Emulator, demo: EmulatedStream) -> None:
    """With PRODUCER_TIMESTAMP the program date times are the producer's, and by default
    no discontinuity is marked (the API reference's default for producer timestamps)."""
    data = boto3.client(
        "kinesis-video-archived-media", endpoint_url=emu.data_endpoint_url, region_name="us-east-1"
    )
    url = data.get_hls_streaming_session_url(
        StreamName="demo",
        PlaybackMode="ON_DEMAND",
        HLSFragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {
                "StartTimestamp": demo.fragments[0].producer_timestamp - timedelta(seconds=1),
                "EndTimestamp": demo.fragments[-1].producer_timestamp,
            },
        },
        DisplayFragmentTimestamp="ALWAYS",
    )["HLSStreamingSessionURL"]
    (playlist,) = [p for u, p in media_playlists(url).items() if "TrackNumber=1" in u]
    first = tag_values(playlist, "#EXT-X-PROGRAM-DATE-TIME")[0]
    assert first.startswith(demo.fragments[0].producer_timestamp.strftime("%Y-%m-%dT%H:%M:%S"))
    assert "#EXT-X-DISCONTINUITY" not in playlist


def test_max_results_keeps_the_oldest_fragments(
    kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """MaxMediaPlaylistFragmentResults=3 in ON_DEMAND lists the first three fragments."""
    url = hls_url(kv, demo, max_media_playlist_fragment_results=3, container_format="MPEG_TS")
    (playlist,) = media_playlists(url).values()
    numbers = [parse_qs(urlsplit(u).query)["FragmentNumber"][0] for u in uris(playlist)]
    assert numbers == [f.number for f in demo.fragments[:3]]


def test_ts_segments_carry_pat_pmt_and_both_tracks(
    kv: ArchivedMediaClient, demo: EmulatedStream, tmp_path: Path
) -> None:
    """A TS fragment is whole 188-byte packets opening with PAT and PMT; ffprobe finds H.264
    and AAC in one fragment alone."""
    (url, playlist), *_ = media_playlists(hls_url(kv, demo, container_format="MPEG_TS")).items()
    segment = get(urljoin(url, uris(playlist)[4]))
    assert len(segment) % 188 == 0
    assert segment[::188] == b"\x47" * (len(segment) // 188)
    pids = [((segment[i + 1] & 0x1F) << 8) | segment[i + 2] for i in range(0, 376, 188)]
    assert pids == [0, 0x1000]
    if shutil.which("ffprobe"):
        (tmp_path / "one.ts").write_bytes(segment)
        assert probe(tmp_path / "one.ts") == {"video": 15, "audio": 16}


def test_dash_manifest_lists_every_fragment(kv: ArchivedMediaClient, demo: EmulatedStream) -> None:
    """A static MPD with a video and an audio AdaptationSet; each S carries kvs:fn and kvs:ts
    when asked, and every $Number$ segment answers."""
    url = dash_url(kv, demo, display_fragment_number="ALWAYS", display_fragment_timestamp="ALWAYS")
    root = ET.fromstring(get(url))
    assert root.get("type") == "static"
    sets = root.findall(f"{MPD}Period/{MPD}AdaptationSet")
    assert [s.get("contentType") for s in sets] == ["video", "audio"]
    namespace = "{urn:kvarchive:emulator:kvs}"
    for adaptation in sets:
        template = adaptation.find(f"{MPD}Representation/{MPD}SegmentTemplate")
        assert template is not None
        timeline = template.findall(f"{MPD}SegmentTimeline/{MPD}S")
        assert [s.get(namespace + "fn") for s in timeline] == [f.number for f in demo.fragments]
        assert [int(s.get(namespace + "ts") or 0) for s in timeline] == [
            f.server_ms for f in demo.fragments
        ]
        get(urljoin(url, template.get("initialization") or ""))
        start = int(template.get("startNumber") or 0)
        for number, entry in enumerate(timeline, start):
            media = (template.get("media") or "").replace("$Number$", str(number))
            tfdt, _, _ = fragment_timing(get(urljoin(url, media)))
            assert abs(tfdt - int(entry.get("t") or 0)) < int(template.get("timescale") or 0) // 10


def test_dash_without_display_options_has_no_kvs_attributes(
    kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """DisplayFragmentNumber and DisplayFragmentTimestamp default to NEVER: no kvs: attribute."""
    body = get(dash_url(kv, demo)).decode()
    assert "kvs:fn" not in body and "kvs:ts" not in body
    ET.fromstring(body)


# -- LIVE and LIVE_REPLAY -------------------------------------------------------------


def live_playlist(url: str) -> str:
    (playlist,) = [p for u, p in media_playlists(url).items() if "TrackNumber=1" in u]
    return playlist


def test_live_playlist_grows_with_the_stream(
    emu: Emulator, kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """LIVE shows the newest five fragments, no ENDLIST; appended fragments slide it on, with
    media and discontinuity sequences that keep counting."""
    url = hls_url(kv, demo, playback_mode="LIVE")
    before = live_playlist(url)
    numbers = [parse_qs(urlsplit(u).query)["FragmentNumber"][0] for u in uris(before)]
    assert numbers == [f.number for f in demo.fragments[-5:]]
    assert "#EXT-X-ENDLIST" not in before and "#EXT-X-PLAYLIST-TYPE" not in before
    added = emu.append_fragments("demo", 3)
    after = live_playlist(url)
    numbers = [parse_qs(urlsplit(u).query)["FragmentNumber"][0] for u in uris(after)]
    assert numbers[-3:] == [f.number for f in added]
    assert tag_values(after, "#EXT-X-MEDIA-SEQUENCE") == ["3"]
    assert tag_values(after, "#EXT-X-DISCONTINUITY-SEQUENCE") == ["3"]
    for uri in uris(after)[-3:]:
        assert fragment_timing(get(urljoin(url, uri)))[2] == 15


def test_live_dash_manifest_is_dynamic_and_grows(
    emu: Emulator, kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """A LIVE MPD is dynamic, carries its own UTCTiming, and shows appended fragments."""
    url = dash_url(kv, demo, playback_mode="LIVE")
    root = ET.fromstring(get(url))
    assert root.get("type") == "dynamic"
    assert root.find(f"{MPD}UTCTiming") is not None
    emu.append_fragments("demo", 2)
    template = ET.fromstring(get(url)).find(f".//{MPD}SegmentTemplate")
    assert template is not None
    assert template.get("startNumber") == "2"
    assert len(template.findall(f"{MPD}SegmentTimeline/{MPD}S")) == 5


def test_live_replay_adds_a_fragment_as_each_one_elapses(
    kv: ArchivedMediaClient, demo: EmulatedStream, clock: Clock
) -> None:
    """LIVE_REPLAY starts with five fragments from the start, adds one per elapsed fragment
    length, and ends the playlist once the closed range is all shown."""
    url = hls_url(kv, demo, playback_mode="LIVE_REPLAY", end=demo.fragments[-1].server_timestamp)
    assert len(uris(live_playlist(url))) == 5
    assert "#EXT-X-ENDLIST" not in live_playlist(url)
    clock.offset += 2.0
    playlist = live_playlist(url)
    assert tag_values(playlist, "#EXT-X-MEDIA-SEQUENCE") == ["2"]
    clock.offset += 10.0
    assert live_playlist(url).splitlines()[-1] == "#EXT-X-ENDLIST"


# -- session rules --------------------------------------------------------------------


def assert_refused(url: str, status: int = 403, code: str = "NotAuthorizedException") -> None:
    """The URL answers the service's error shape: status, x-amzn-ErrorType, JSON message."""
    answer, headers, body = fetch(url)
    assert answer == status
    assert headers["x-amzn-ErrorType"].split(":")[0] == code
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(body)["Message"]


def test_tampered_token_is_refused(kv: ArchivedMediaClient, demo: EmulatedStream) -> None:
    """A changed token gets 403 NotAuthorizedException on the playlist and on fragments."""
    url = hls_url(kv, demo)
    playlists = media_playlists(url)
    segment = urljoin(*next((u, uris(p)[0]) for u, p in playlists.items()))
    token = parse_qs(urlsplit(url).query)["SessionToken"][0]
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    for target in (url, segment):
        assert_refused(target.replace(token, forged))
        assert_refused(target.replace("SessionToken=" + token, "SessionToken="))
    assert_refused(
        dash_url(kv, demo).replace(
            "/dash/v1/getDASHManifest.mpd", "/hls/v1/getHLSMasterPlaylist.m3u8"
        )
    )


def test_expired_session_is_refused(
    kv: ArchivedMediaClient, demo: EmulatedStream, clock: Clock
) -> None:
    """Past Expires seconds, the session's playlist and fragments get 403."""
    url = hls_url(kv, demo, expires=300)
    segment_url, playlist = next(iter(media_playlists(url).items()))
    segment = urljoin(segment_url, uris(playlist)[0])
    clock.offset += 299
    get(segment)
    clock.offset += 2
    assert_refused(url)
    assert_refused(segment)


def test_the_eleventh_session_closes_the_oldest(
    kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """Ten HLS sessions play at once; the eleventh closes the first; DASH counts apart."""
    urls = [hls_url(kv, demo, container_format="MPEG_TS") for _ in range(10)]
    dash = dash_url(kv, demo)
    for url in urls:
        get(url)
    hls_url(kv, demo)
    assert_refused(urls[0])
    for url in [*urls[1:], dash]:
        get(url)


def test_cors_headers_and_preflight(kv: ArchivedMediaClient, demo: EmulatedStream) -> None:
    """Playlists, fragments and manifests allow any origin; OPTIONS answers a preflight."""
    url = hls_url(kv, demo)
    segment_url, playlist = next(iter(media_playlists(url).items()))
    for target in (url, urljoin(segment_url, uris(playlist)[0]), dash_url(kv, demo)):
        status, headers, _ = fetch(target)
        assert status == 200
        assert headers["Access-Control-Allow-Origin"] == "*"
    status, headers, body = fetch(url, method="OPTIONS")
    assert (status, body) == (204, b"")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in headers["Access-Control-Allow-Methods"]


def test_content_types(kv: ArchivedMediaClient, demo: EmulatedStream) -> None:
    """Each resource says what it is: an HLS playlist, MP4, MPEG-TS, a DASH manifest."""
    fmp4 = hls_url(kv, demo)
    ts = hls_url(kv, demo, container_format="MPEG_TS")
    (ts_url, ts_playlist), *_ = media_playlists(ts).items()
    video_url, video_playlist = next((u, p) for u, p in media_playlists(fmp4).items())
    expected = {
        fmp4: "application/vnd.apple.mpegurl",
        urljoin(video_url, uris(video_playlist)[0]): "video/mp4",
        urljoin(ts_url, uris(ts_playlist)[0]): "video/MP2T",
        dash_url(kv, demo): "application/dash+xml",
    }
    for url, content_type in expected.items():
        assert fetch(url)[1]["Content-Type"] == content_type


def test_dropped_fragments_stop_playing(
    emu: Emulator, kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """Once retention drops fragments, their URLs get 404, the playlist leaves them out, and
    a session whose every fragment is gone plays nothing."""
    url = hls_url(kv, demo, container_format="MPEG_TS")
    (playlist_url, playlist), *_ = media_playlists(url).items()
    segments = [urljoin(playlist_url, uri) for uri in uris(playlist)]
    emu.drop_fragments("demo", before=demo.fragments[4].server_timestamp)
    assert_refused(segments[0], 404, "ResourceNotFoundException")
    get(segments[4])
    assert len(uris(get(playlist_url).decode())) == 6
    emu.drop_fragments("demo", before=demo.fragments[-1].server_timestamp + timedelta(seconds=1))
    assert_refused(url, 404, "ResourceNotFoundException")
    assert_refused(playlist_url, 404, "ResourceNotFoundException")


def test_requests_are_recorded_without_their_token(
    emu: Emulator, kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """Playback requests are recorded by resource name, their parameters without the token."""
    media_playlists(hls_url(kv, demo))
    names = [r.operation for r in emu.requests]
    assert names.count("GetHLSMasterPlaylist") == 1
    assert names.count("GetHLSMediaPlaylist") == 2
    assert all(emu.session_token not in repr(r) for r in emu.requests)


def test_faults_apply_to_playback(
    emu: Emulator, kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """fail_next works on playback resources by their names."""
    url = hls_url(kv, demo)
    emu.fail_next("GetHLSMasterPlaylist", "InternalFailure")
    assert_refused(url, 500, "InternalFailure")
    get(url)


def session_token_of(url: str) -> Optional[str]:
    return parse_qs(urlsplit(url).query).get("SessionToken", [None])[0]


def test_every_url_carries_the_session_token(kv: ArchivedMediaClient, demo: EmulatedStream) -> None:
    """Every playlist, init and fragment URL carries the token of its session, which
    emu.session_tokens lists."""
    url = hls_url(kv, demo)
    token = session_token_of(url)
    for playlist_url, playlist in media_playlists(url).items():
        assert session_token_of(playlist_url) == token
        maps = [value.split('"')[1] for value in tag_values(playlist, "#EXT-X-MAP")]
        assert {session_token_of(u) for u in [*uris(playlist), *maps]} == {token}


def test_malformed_requests_are_invalid_arguments(
    kv: ArchivedMediaClient, demo: EmulatedStream
) -> None:
    """A fragment URL without FragmentNumber, an fMP4 fragment of a TS session and an unknown
    track are InvalidArgumentException; an unknown fragment is ResourceNotFoundException."""
    token = session_token_of(hls_url(kv, demo, container_format="MPEG_TS"))
    base = kv.data_endpoint("GET_HLS_STREAMING_SESSION_URL", stream_name="demo") + "/hls/v1/"
    assert_refused(f"{base}getTSFragment.ts?SessionToken={token}", 400, "InvalidArgumentException")
    assert_refused(
        f"{base}getMP4InitFragment.mp4?SessionToken={token}", 400, "InvalidArgumentException"
    )
    assert_refused(
        f"{base}getTSFragment.ts?FragmentNumber=1&SessionToken={token}",
        404,
        "ResourceNotFoundException",
    )
    fmp4 = session_token_of(hls_url(kv, demo))
    assert_refused(
        f"{base}getMP4InitFragment.mp4?SessionToken={fmp4}&TrackNumber=3",
        400,
        "InvalidArgumentException",
    )


def test_emulator_logs_keep_no_token(
    kv: ArchivedMediaClient, demo: EmulatedStream, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """With DEBUG logging, the emulator's request log lines mask the session token."""
    caplog.set_level(logging.DEBUG)
    media_playlists(hls_url(kv, demo))
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("kvarchive")]
    assert any("getHLSMediaPlaylist" in line for line in lines)
    assert not any(emu.session_token in line for line in lines)
