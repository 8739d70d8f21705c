"""Call streams in Amazon Connect's real layout, voiced by the bundled sample.

A Connect fragment (SERVICE-NOTES.md, third round) as the emulator writes it::

    EBML header, Segment (unknown size)
      Info: Title "Kinesis Video SDK", MuxingApp "Kinesis Video SDK 1.1.0 JNI 2.0"
      Tracks: 1 AUDIO_FROM_CUSTOMER, 2 AUDIO_TO_CUSTOMER (A_AAC with a CodecPrivate)
      Tags: AWS_KINESISVIDEO_FRAGMENT_NUMBER / _SERVER_TIMESTAMP / _PRODUCER_TIMESTAMP
      Cluster (unknown size): Timecode in epoch ms, 34 SimpleBlocks of raw 8 kHz s16le PCM
      Tags: MimeType, ContactId, InstanceId, AUDIO_FROM_CUSTOMER=1, AUDIO_TO_CUSTOMER=2, Events
      Tags: AWS_KINESISVIDEO_MILLIS_BEHIND_NOW

Each fragment is one second of ``data/call-voices.wav`` (3 s, the customer on
its left channel, the agent on its right: data/README.md), played in a loop.
"""

from __future__ import annotations

import array
import functools
import struct
import uuid
import wave
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Optional

import attrs

from kvarchive._matroska import ids as ebml
from kvarchive._matroska import vint
from kvarchive._matroska.elements import DEFAULT_TIMECODE_SCALE
from kvarchive._service import STREAM_NAME
from kvarchive.testing._mkv_writer import MediaFrame, Track, _ebml_header, _tag_time, _tags
from kvarchive.testing._operations import Service
from kvarchive.testing._sample import DATA
from kvarchive.testing._seeded import mixed_seed, rng
from kvarchive.testing._streams import (
    EmulatedStream,
    FragmentRecord,
    StreamDescription,
    first_fragment_ms,
    fragment_numbers,
    next_number,
)

__all__ = ["CALL_TRACK_NAMES", "CallStreams", "call_voices"]

CALL_TRACK_NAMES = ("AUDIO_FROM_CUSTOMER", "AUDIO_TO_CUSTOMER")
_RATE = 8000
_FRAGMENT_MS = 1000
_BLOCK_SAMPLES = 480  # 60 ms: 17 blocks a track, 34 a fragment, as Connect's
_MIME = "audio/L16;rate=8000;channels=1;"
# AAC-LC, 8 kHz, mono: the AudioSpecificConfig Connect writes beside its A_AAC label.
_AAC_8K_MONO = bytes([0x15, 0x88])
_TRACKS = [Track(n, "audio", _AAC_8K_MONO, sample_rate=_RATE, channels=1) for n in (1, 2)]


@functools.lru_cache(maxsize=1)
def call_voices() -> tuple[bytes, bytes]:
    """The bundled call, a track each: (customer, agent) as 8 kHz mono s16le."""
    with wave.open(str(DATA / "call-voices.wav"), "rb") as voices:
        # Two-byte items: slicing keeps each sample's bytes whatever this machine's order.
        samples = array.array("h", voices.readframes(voices.getnframes()))
    return samples[0::2].tobytes(), samples[1::2].tobytes()


def _tracks() -> bytes:
    """The Tracks element of a Connect call: two A_AAC tracks of 8 kHz mono, named by side."""
    entries = b""
    for track, name in zip(_TRACKS, CALL_TRACK_NAMES):
        number = vint.encode_uint(track.number)
        audio = vint.encode_element(ebml.SAMPLING_FREQUENCY, struct.pack(">d", _RATE))
        entries += vint.encode_element(
            ebml.TRACK_ENTRY,
            vint.encode_element(ebml.TRACK_NUMBER, number)
            + vint.encode_element(ebml.TRACK_UID, number)
            + vint.encode_element(ebml.TRACK_TYPE, b"\x02")
            + vint.encode_element(ebml.TRACK_NAME, name.encode())
            + vint.encode_element(ebml.CODEC_ID, b"A_AAC")
            + vint.encode_element(ebml.CODEC_PRIVATE, track.codec_private)
            + vint.encode_element(ebml.AUDIO, audio + vint.encode_element(ebml.CHANNELS, b"\x01")),
        )
    return vint.encode_element(ebml.TRACKS, entries)


# Info and Tracks, the same in every fragment of a call.
_HEAD = (
    vint.encode_element(
        ebml.INFO,
        vint.encode_element(ebml.TIMECODE_SCALE, vint.encode_uint(DEFAULT_TIMECODE_SCALE))
        + vint.encode_element(ebml.TITLE, b"Kinesis Video SDK")
        + vint.encode_element(ebml.MUXING_APP, b"Kinesis Video SDK 1.1.0 JNI 2.0")
        + vint.encode_element(ebml.WRITING_APP, b"Kinesis Video SDK 1.1.0 JNI 2.0"),
    )
    + _tracks()
)


def _blocks(index: int) -> bytes:
    """The SimpleBlocks of the ``index``-th second of the call, the tracks' blocks alternating."""
    voices = call_voices()
    seconds = len(voices[0]) // (2 * _RATE)
    first = (index % seconds) * _RATE
    body = b""
    for start in range(first, first + _RATE, _BLOCK_SAMPLES):
        end = min(start + _BLOCK_SAMPLES, first + _RATE)
        offset = ((start - first) * 1000 // _RATE).to_bytes(2, "big", signed=True)
        for number, voice in enumerate(voices, start=1):
            head = vint.encode_size(number) + offset + b"\x80"
            body += vint.encode_element(ebml.SIMPLE_BLOCK, head + voice[2 * start : 2 * end])
    return body


@attrs.frozen
class CallFragment:
    """One second of a call: a fragment in Connect's layout, its bytes made when asked."""

    number: str
    server_ms: int
    producer_ms: int
    index: int
    contact_id: str
    instance_id: str

    def data(self) -> bytes:
        """The fragment's whole Matroska document."""
        head = _ebml_header() + vint.encode_id(ebml.SEGMENT) + vint.encode_size(vint.UNKNOWN_SIZE)
        head += _HEAD
        head += _tags(
            [
                ("AWS_KINESISVIDEO_FRAGMENT_NUMBER", self.number),
                ("AWS_KINESISVIDEO_SERVER_TIMESTAMP", _tag_time(self.server_ms)),
                ("AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", _tag_time(self.producer_ms)),
            ]
        )
        cluster = vint.encode_element(ebml.TIMECODE, self.producer_ms.to_bytes(8, "big"))
        cluster += _blocks(self.index)
        connect = [("MimeType", _MIME), ("ContactId", self.contact_id)]
        connect += [("InstanceId", self.instance_id), ("AUDIO_FROM_CUSTOMER", "1")]
        connect += [("AUDIO_TO_CUSTOMER", "2"), ("Events", "[]")]
        behind = [("AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", str(800 + self.index % 400))]
        return (
            head
            + vint.encode_id(ebml.CLUSTER)
            + vint.encode_size(vint.UNKNOWN_SIZE)
            + cluster
            + _tags(connect)
            + _tags(behind)
        )

    @property
    def size(self) -> int:
        return len(self.data())

    def iter_chunks(self) -> Iterator[bytes]:
        yield self.data()

    def frames(self) -> Sequence[MediaFrame]:
        """No frames for MP4 (GetClip and HLS need video, which a call has not)."""
        return ()


def _uuid(seed: int, salt: int) -> str:
    return str(uuid.UUID(bytes=rng(seed, salt).randbytes(16), version=4))


def call_stream(
    name: str,
    description: StreamDescription,
    *,
    start_ms: int,
    fragment_count: int,
    seed: int,
    contact_id: Optional[str],
    instance_id: Optional[str],
) -> EmulatedStream:
    """A call of ``fragment_count`` one-second fragments from ``start_ms`` (server time)."""
    lag_ms = rng(seed, 50).randrange(200, 500)
    contact = contact_id or _uuid(seed, 51)
    instance = instance_id or _uuid(seed, 52)

    def record(index: int, number: str) -> FragmentRecord:
        server_ms = start_ms + index * _FRAGMENT_MS
        source = CallFragment(number, server_ms, server_ms - lag_ms, index, contact, instance)
        return FragmentRecord(
            number, server_ms, server_ms - lag_ms, _FRAGMENT_MS, source.size, index, source
        )

    numbers = fragment_numbers(fragment_count, seed)
    return EmulatedStream(
        name,
        description,
        [record(index, number) for index, number in enumerate(numbers)],
        list(_TRACKS),
        next_fragment=lambda last: record(last.index + 1, next_number(last, seed)),
    )


class CallStreams:
    """The emulator's call streams (a mixin of :class:`~kvarchive.testing.Emulator`)."""

    seed: int
    _service: Service

    def add_call_stream(
        self,
        name: str = "call",
        *,
        fragment_count: int = 6,
        start: Optional[datetime] = None,
        contact_id: Optional[str] = None,
        instance_id: Optional[str] = None,
        seed: Optional[int] = None,
        retention_hours: int = 24,
    ) -> EmulatedStream:
        """Create a stream of a phone call in Amazon Connect's layout and return it.

        One fragment a second, each with two tracks, ``AUDIO_FROM_CUSTOMER``
        (1) and ``AUDIO_TO_CUSTOMER`` (2), labelled ``A_AAC`` but holding raw
        8 kHz s16le mono PCM, and after its Cluster the tags Connect writes
        (``MimeType`` ``audio/L16;rate=8000;channels=1;``, ``ContactId``,
        ``InstanceId``, the track names, ``Events``). The voices loop a 3 s
        recording the package ships: the customer asks, the agent answers
        (:func:`call_voices` gives its samples). ``contact_id`` and
        ``instance_id`` default to seeded UUIDs; ``start`` is the first
        fragment's server timestamp (by default the call ends now).
        """
        if not STREAM_NAME.fullmatch(name):
            raise ValueError(f"invalid stream name {name!r}")
        if fragment_count < 0:
            raise ValueError("fragment_count must not be negative")
        start_ms = first_fragment_ms(start, fragment_count * _FRAGMENT_MS)
        described = self._service.describe(
            name,
            start_ms,
            created=None,
            retention_hours=retention_hours,
            kms_key_id=None,
            media_type="audio/aac",
            audio=True,
        )
        stream = call_stream(
            name,
            described,
            start_ms=start_ms,
            fragment_count=fragment_count,
            seed=mixed_seed(self.seed, name) if seed is None else seed,
            contact_id=contact_id,
            instance_id=instance_id,
        )
        self._service.add_stream(stream)
        return stream
