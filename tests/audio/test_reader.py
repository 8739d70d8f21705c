"""iter_audio on Amazon Connect's layout, track choice, and bytes that are not what they claim."""

from __future__ import annotations

import io

import pytest
from calls import (
    MIME,
    NAMES,
    RATE,
    T0,
    B,
    Block,
    call_blocks,
    connect_fragment,
    number,
    pcm,
)
from mkvbuild import B as Plain

from kvarchive import AudioChunk, MediaStream
from kvarchive._matroska import ids as E
from kvarchive._matroska.frame import TagGroup
from kvarchive._matroska.frames import read_media_items
from kvarchive.errors import MediaParseError, ValidationError


def read(body: bytes, **kwargs: object) -> list[AudioChunk]:
    with MediaStream.from_file(io.BytesIO(body)) as media:
        return list(media.iter_audio(**kwargs))  # type: ignore[arg-type]


def call(count: int = 2, *, mime: bool = True) -> bytes:
    """``count`` one-second Connect fragments back to back."""
    return b"".join(
        connect_fragment(number(k), call_blocks(1000 * k, 1000), mime=mime) for k in range(count)
    )


def test_connect_pcm_labelled_aac_is_read_as_the_mime_type_says() -> None:
    """Connect's A_AAC tracks decode as the 8 kHz s16le PCM their MimeType tag names."""
    chunks = read(call())
    assert {(c.track, c.track_name) for c in chunks} == {(1, NAMES[0]), (2, NAMES[1])}
    assert {(c.sample_rate, c.channels) for c in chunks} == {(RATE, 1)}
    for track in (1, 2):
        mine = [c for c in chunks if c.track == track]
        assert b"".join(c.data for c in mine) == pcm(track, 0, 2 * RATE)
        assert mine[0].utc_time == T0


def test_connect_bytes_without_the_mime_type_are_refused_naming_the_track() -> None:
    """Without its MimeType tag, a Connect track's raw PCM fails as AAC: MediaParseError naming it."""
    with pytest.raises(MediaParseError, match="track 1: its A_AAC blocks do not decode"):
        read(call(mime=False))


def test_tracks_by_name_and_number_in_the_order_asked() -> None:
    """tracks= picks tracks by Name or number; the chunks are of those tracks only."""
    assert {c.track for c in read(call(), tracks=["AUDIO_TO_CUSTOMER"])} == {2}
    assert {c.track for c in read(call(), tracks=1)} == {1}


def test_an_unknown_track_names_the_tracks_there_are() -> None:
    """An unknown track is a ValidationError that lists the stream's audio tracks."""
    with pytest.raises(
        ValidationError, match=r"'AUDIO_OF_NOBODY'.*1 'AUDIO_FROM_CUSTOMER'.*2 'AUDIO_TO_CUSTOMER'"
    ):
        read(call(), tracks=["AUDIO_OF_NOBODY"])


@pytest.mark.parametrize("tracks", [[], [True], [0], ["a", "a"], [1.5], object()])
def test_bad_tracks_arguments_fail_at_the_call(tracks: object) -> None:
    """tracks= that cannot name tracks is a ValidationError before anything is read."""
    with MediaStream.from_file(io.BytesIO(call())) as media:
        with pytest.raises(ValidationError):
            media.iter_audio(tracks=tracks)  # type: ignore[arg-type]
        assert media.position == 0


def test_a_stream_without_audio_is_a_validation_error() -> None:
    """Video only: iter_audio says there is no audio track, naming what there is."""
    with pytest.raises(ValidationError, match=r"no audio track.*V_MPEG4/ISO/AVC"):
        read(Plain.fragment())


def pcm_tracks(codec: bytes, depth: int) -> bytes:
    entry = (
        B.el(E.TRACK_NUMBER, b"\x01")
        + B.el(E.TRACK_TYPE, b"\x02")
        + B.el(E.CODEC_ID, codec)
        + B.el(
            E.AUDIO, B.el(E.SAMPLING_FREQUENCY, b"\x45\xfa\x00\x00") + B.el(0x6264, bytes([depth]))
        )
    )
    return B.el(E.TRACKS, B.el(E.TRACK_ENTRY, entry))


def test_a_pcm_block_of_part_of_a_sample_is_refused_naming_the_track() -> None:
    """A 16-bit PCM block of an odd number of bytes is a MediaParseError naming the track."""
    tracks = pcm_tracks(b"A_PCM/INT/LIT", 16)
    body = connect_fragment(number(0), [Block(1, 0, 10)], tracks=tracks)
    body = body.replace(pcm(1, 0, 10), pcm(1, 0, 10)[:-1], 1)
    odd = body.replace(b"\xa3" + bytes([0x80 | (4 + 20)]), b"\xa3" + bytes([0x80 | (4 + 19)]), 1)
    with pytest.raises(MediaParseError, match="track 1: a block of 19 bytes"):
        read(odd)


def test_a_pcm_track_with_a_bit_depth_it_cannot_have_is_refused() -> None:
    """A_PCM/INT/LIT with a BitDepth of 12 is a MediaParseError naming the track."""
    body = connect_fragment(number(0), [Block(1, 0, 10)], tracks=pcm_tracks(b"A_PCM/INT/LIT", 12))
    with pytest.raises(MediaParseError, match="track 1: A_PCM/INT/LIT with a BitDepth of 12"):
        read(body)


def test_the_samplingfrequency_float_of_four_bytes_is_read() -> None:
    """A 4-byte SamplingFrequency (8000.0) gives chunks at 8000 Hz."""
    body = connect_fragment(number(0), [Block(1, 0, 10)], tracks=pcm_tracks(b"A_PCM/INT/LIT", 16))
    assert {(c.sample_rate, c.data) for c in read(body)} == {(8000, pcm(1, 0, 10))}


def test_laced_blocks_are_refused_naming_the_track() -> None:
    """A laced block (Xiph lacing flag) is a MediaParseError naming its track, not noise."""
    tracks = pcm_tracks(b"A_PCM/INT/LIT", 16)
    body = connect_fragment(number(0), [Block(1, 0, 10)], tracks=tracks)
    laced = body.replace(b"\x81\x00\x00\x80", b"\x81\x00\x00\x82", 1)
    with pytest.raises(MediaParseError, match="track 1: laced blocks"):
        read(laced)


def test_tags_come_in_document_order_after_the_track_list() -> None:
    """read_media_items: the track list, the Tags before the Cluster, the blocks, then the Tags after."""
    body = connect_fragment(number(0), [Block(1, 0, 80), Block(2, 0, 80)])
    items = list(read_media_items([body]))
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["tuple", "TagGroup", "Frame", "Frame", "TagGroup", "TagGroup"]
    before, after = items[1], items[4]
    assert isinstance(before, TagGroup) and isinstance(after, TagGroup)
    assert dict(before.pairs)["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == number(0)
    assert dict(after.pairs)["MimeType"] == MIME


def test_a_mime_type_before_the_cluster_is_heeded_too() -> None:
    """A producer that writes MimeType before the Cluster: its A_AAC tracks read as that PCM."""
    body = connect_fragment(number(0), call_blocks(0, 1000), mime=False)
    marker = B.tags({"AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": "1200"})
    cluster_at = body.index(bytes.fromhex("1F43B675"))
    early = body[:cluster_at] + B.tags({"MimeType": MIME}) + body[cluster_at:]
    assert marker in early
    chunks = read(early)
    assert b"".join(c.data for c in chunks if c.track == 2) == pcm(2, 0, RATE)
