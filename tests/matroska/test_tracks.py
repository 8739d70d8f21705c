"""Tests of kvarchive._matroska.tracks: the track list of real recordings, built ones and hostile bytes."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realdata import REALDATA, SAMPLE

from kvarchive._errors import MediaParseError
from kvarchive._matroska import ids as E
from kvarchive._matroska.scanner import scan_elements
from kvarchive._matroska.tracks import TrackEntry, read_tracks
from kvarchive._matroska.vint import encode_element, encode_uint

RECORDINGS = [*sorted(REALDATA.glob("*.mkv")), SAMPLE]
CONTENT_ENCODINGS = 0x6D80
FFPROBE_CODECS = {"V_MPEG4/ISO/AVC": "h264", "A_AAC": "aac"}

needs_ffprobe = pytest.mark.skipif(
    shutil.which("ffprobe") is None,
    reason="ffprobe reads the recordings here",
)


def file_tracks(path: Path) -> list[tuple[TrackEntry, ...]]:
    """The track list of each Matroska document of a file."""
    _, fragments = scan_elements(path.read_bytes())
    return [read_tracks(info.tracks or b"") for info in fragments]


def ffprobe_streams(path: Path) -> list[dict[str, str]]:
    """What ffprobe says of each stream: codec, size and extradata (hex)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_data", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    streams = []
    for block in re.findall(r"\[STREAM\]\n(.*?)\[/STREAM\]", out, re.S):
        fields = dict(re.findall(r"^(\w+)=(.*)$", block, re.M))
        dump = re.search(r"^extradata=\n(.*?)\n\n", block, re.S | re.M)
        hex_lines = [] if dump is None else dump.group(1).splitlines()
        # "00000010: 1ed0 0f12 26a0 ... 2c         ....&...": 40 columns of hex, then text
        fields["extradata_hex"] = "".join(
            line.split(":", 1)[1][1:41].replace(" ", "") for line in hex_lines
        )
        streams.append(fields)
    return streams


def track(*children: bytes) -> bytes:
    return encode_element(E.TRACK_ENTRY, b"".join(children))


def uint(element_id: int, value: int) -> bytes:
    return encode_element(element_id, encode_uint(value))


@needs_ffprobe
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_real_recordings_tracks_match_ffprobe(path: Path) -> None:
    """Codec, pixel size and CodecPrivate of each real recording's tracks are what ffprobe reads."""
    lists = file_tracks(path)
    assert lists and all(tracks == lists[0] for tracks in lists)
    streams = ffprobe_streams(path)
    assert len(lists[0]) == len(streams)
    for entry, stream in zip(lists[0], streams):
        assert FFPROBE_CODECS[entry.codec_id] == stream["codec_name"]
        assert entry.kind == stream["codec_type"]
        assert entry.codec_private is not None
        assert entry.codec_private.hex() == stream["extradata_hex"]
        if entry.kind == "video":
            assert (entry.width, entry.height) == (int(stream["width"]), int(stream["height"]))
        else:
            assert (entry.width, entry.height) == (None, None)
        assert not entry.content_encoded


def test_sample_holds_video_then_audio() -> None:
    """The bundled sample's tracks: 1 H.264 video 320x240 with an avcC record, 2 AAC audio."""
    (tracks,) = file_tracks(SAMPLE)
    video, audio = tracks
    assert (video.number, video.kind, video.codec_id) == (1, "video", "V_MPEG4/ISO/AVC")
    assert (video.width, video.height) == (320, 240)
    assert video.codec_private is not None and video.codec_private[0] == 1  # avcC version
    assert (audio.number, audio.kind, audio.codec_id) == (2, "audio", "A_AAC")


def test_built_tracks_with_extra_elements() -> None:
    """Void, CRC-32 and unknown children are passed over; the Name is read; absent fields
    stay None."""
    payload = (
        encode_element(E.VOID, b"\0" * 3)
        + track(
            uint(E.TRACK_NUMBER, 7),
            uint(E.TRACK_TYPE, 1),
            encode_element(E.CODEC_ID, b"V_MPEGH/ISO/HEVC\0\0"),
            encode_element(0x536E, b"name"),  # TrackName
            encode_element(E.VIDEO, uint(E.PIXEL_HEIGHT, 720) + uint(E.PIXEL_WIDTH, 1280)),
            encode_element(E.CODEC_PRIVATE, b"\x01hvcC"),
        )
        + encode_element(E.CRC32, b"\0\0\0\0")
        + track(
            uint(E.TRACK_NUMBER, 9),
            uint(E.TRACK_TYPE, 0x11),
            encode_element(E.CODEC_ID, b"S_TEXT/UTF8"),
        )
        + track(uint(E.TRACK_NUMBER, 3), encode_element(CONTENT_ENCODINGS, b""))
    )
    assert read_tracks(payload) == (
        TrackEntry(7, "video", "V_MPEGH/ISO/HEVC", b"\x01hvcC", 1280, 720, name="name"),
        TrackEntry(9, "subtitle", "S_TEXT/UTF8"),
        TrackEntry(3, "unknown", "", content_encoded=True),
    )


def test_empty_tracks_payload_has_no_tracks() -> None:
    """A Tracks element with nothing in it lists no track."""
    assert read_tracks(b"") == ()


def test_a_track_entry_without_a_number_is_refused() -> None:
    """A TrackEntry lacking TrackNumber (or with 0) is malformed, at the entry's offset."""
    payload = encode_element(E.VOID, b"") + track(uint(E.TRACK_TYPE, 1))
    with pytest.raises(MediaParseError, match="TrackNumber") as caught:
        read_tracks(payload, base=1000)
    assert caught.value.offset == 1002


def test_a_child_overrunning_its_entry_is_refused() -> None:
    """A child whose size runs past its TrackEntry is MediaParseError, not a short read."""
    inner = uint(E.TRACK_NUMBER, 1) + encode_element(E.CODEC_ID, b"V_MPEG4/ISO/AVC")
    entry = encode_element(E.TRACK_ENTRY, inner[:-3])
    with pytest.raises(MediaParseError, match="overruns"):
        read_tracks(entry)


def test_an_integer_longer_than_eight_bytes_is_refused() -> None:
    """A TrackNumber of nine bytes is malformed."""
    with pytest.raises(MediaParseError, match="longer than 8 bytes"):
        read_tracks(track(encode_element(E.TRACK_NUMBER, b"\1" * 9)))


def test_every_truncation_of_a_real_track_list_is_handled() -> None:
    """Each prefix of a real Tracks payload reads as entries or raises MediaParseError."""
    (tracks_payload,) = [info.tracks for info in scan_elements(SAMPLE.read_bytes())[1]]
    assert tracks_payload is not None
    for end in range(len(tracks_payload)):
        with contextlib.suppress(MediaParseError):
            read_tracks(tracks_payload[:end])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_entries_or_a_parse_error(data: bytes) -> None:
    """Random bytes never raise anything but MediaParseError."""
    try:
        entries = read_tracks(data)
    except MediaParseError:
        return
    assert all(isinstance(entry, TrackEntry) and entry.number > 0 for entry in entries)


def test_audio_track_has_its_name_rate_channels_and_bit_depth() -> None:
    """Name, and the Audio element's SamplingFrequency (a 4-byte float), Channels and BitDepth."""
    audio = (
        encode_element(E.SAMPLING_FREQUENCY, bytes.fromhex("45fa0000"))  # 8000.0
        + uint(E.CHANNELS, 2)
        + uint(0x6264, 24)  # BitDepth
    )
    payload = track(
        uint(E.TRACK_NUMBER, 2),
        uint(E.TRACK_TYPE, 2),
        encode_element(E.TRACK_NAME, b"AUDIO_FROM_CUSTOMER"),
        encode_element(E.CODEC_ID, b"A_PCM/INT/LIT"),
        encode_element(E.AUDIO, audio),
    )
    (entry,) = read_tracks(payload)
    assert (entry.name, entry.sample_rate, entry.channels, entry.bit_depth) == (
        "AUDIO_FROM_CUSTOMER",
        8000.0,
        2,
        24,
    )


@needs_ffprobe
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_audio_rates_and_channels_are_those_ffprobe_reads(path: Path) -> None:
    """Each real recording's audio track has the rate and channels ffprobe reports."""
    audio = [s for s in ffprobe_streams(path) if s.get("codec_type") == "audio"]
    ours = [t for t in file_tracks(path)[0] if t.kind == "audio"]
    assert [(round(t.sample_rate or 0), t.channels) for t in ours] == [
        (int(s["sample_rate"]), int(s["channels"])) for s in audio
    ]


def test_a_float_of_three_bytes_is_refused() -> None:
    """A SamplingFrequency of 3 bytes cannot be an EBML float: MediaParseError."""
    payload = track(
        uint(E.TRACK_NUMBER, 1),
        uint(E.TRACK_TYPE, 2),
        encode_element(E.AUDIO, encode_element(E.SAMPLING_FREQUENCY, b"\0\0\0")),
    )
    with pytest.raises(MediaParseError, match="float element of 3 bytes"):
        read_tracks(payload)
