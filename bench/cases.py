"""The benchmarks: their sizes, the context every figure gets, and which module runs each.

One module per figure (``calls``: 1 and 2, ``media``: 3 and 4, measured in one
interleaved run, ``listing``: 5, ``import_time``: 6, ``download``: 7,
``decoding``: 8, ``following``: 9, ``scaleout``: 10, ``s3_output``: 11, ``audio``: 12), each
kvarchive against the best alternative in the same run (figure 10: against the
ideal that the bandwidth cap sets). Every figure function takes a :class:`Context` and
returns table rows. The
kvarchive clients of figures 1-5 are made with ``rate_limit=False``: the
client-side limiter spaces calls to each stream's documented rate (5/s for
ListFragments), which would measure the pacing, not the overhead. Figure 7
uses the default (paced) client, as a user would, and shows the unpaced one
for information; so does figure 9, whose followers are paced as users' are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from audio import figure12_audio
from calls import figure1_per_call, figure2_naive
from common import (
    MB,
    MIB,
    REGION,
    EmulatorProcess,
    Row,
    StreamInfo,
)
from decoding import figure8_decode
from download import figure7_download
from following import figure9_follow
from import_time import figure6_import
from listing import figure5_listing
from media import figures3_4_media
from s3_output import figure11_s3
from scaleout import figure10_export

# -- sizes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """How much work each figure does (full run or ``--quick``)."""

    call_reps: int  # figure 1: repetitions x calls per side, alternated call by call
    calls: int
    naive_reps: int  # figure 2
    naive_calls: int
    media_fragments: int  # figures 3-4: one GetMediaForFragmentList body
    media_payload: int
    media_reps: int
    memory_reps: int
    small_fragments: int  # figure 4 again, smaller fragments (information)
    small_payload: int
    list_count: int  # figure 5
    list_reps: int
    import_reps: int  # figure 6
    download_fragments: int  # figure 7
    download_payload: int
    download_bandwidth: int
    download_reps: int
    decode_seconds: int  # figure 8: length of the recording decoded
    decode_reps: int
    follow_seconds: float  # figure 9: how long every follower runs, all at once
    follow_polls: tuple[float, ...]
    export_shard_fragments: int  # figure 10: fragments of 2 s a shard (8 streams)
    export_payload: int
    export_bandwidth: int
    export_reps: int
    s3_reps: int  # figure 11: each side's 200 MB recording to S3, in fresh processes
    audio_call_seconds: int  # figure 12: the PCM call's length, and the AAC recording's
    audio_aac_seconds: int
    audio_reps: int


FULL = Sizes(
    call_reps=9,
    calls=100,
    naive_reps=7,
    naive_calls=15,
    media_fragments=1000,
    media_payload=512 * MIB // 1000 - 1024,  # ~512 MiB in one request (1000 is the most)
    media_reps=5,
    memory_reps=3,
    small_fragments=1000,
    small_payload=64 * 1024,
    list_count=100_000,
    list_reps=3,
    import_reps=10,
    download_fragments=256,
    download_payload=256 * 1024,  # ~64 MiB
    download_bandwidth=8 * MB,
    download_reps=3,
    decode_seconds=60,
    decode_reps=3,
    follow_seconds=20.0,
    follow_polls=(0.5, 1.0, 2.0),
    export_shard_fragments=16,  # 4 MiB shards: 32 MiB a worker, about 4 s at the cap
    export_payload=256 * 1024,
    export_bandwidth=8 * MB,
    export_reps=3,
    s3_reps=5,
    audio_call_seconds=3600,
    audio_aac_seconds=300,
    audio_reps=3,
)


QUICK = Sizes(
    call_reps=5,
    calls=40,
    naive_reps=5,
    naive_calls=6,
    media_fragments=256,
    media_payload=512 * 1024,  # ~128 MiB
    media_reps=3,
    memory_reps=1,
    small_fragments=500,
    small_payload=64 * 1024,
    list_count=20_000,
    list_reps=3,
    import_reps=10,
    download_fragments=256,
    download_payload=256 * 1024,
    download_bandwidth=8 * MB,
    download_reps=1,
    decode_seconds=20,
    decode_reps=1,
    follow_seconds=6.0,
    follow_polls=(1.0,),
    export_shard_fragments=8,
    export_payload=256 * 1024,
    export_bandwidth=8 * MB,
    export_reps=1,
    s3_reps=1,
    audio_call_seconds=600,
    audio_aac_seconds=120,
    audio_reps=1,
)


@dataclass
class Context:
    """What every figure needs: the emulator, the sizes, a scratch folder and the notes."""

    emu: EmulatorProcess
    sizes: Sizes
    tmpdir: Path
    notes: list[str] = field(default_factory=list)
    _streams: dict[str, StreamInfo] = field(default_factory=dict)

    def note(self, figure: str, text: str) -> None:
        self.notes.append(f"[{figure}] {text}")

    def stream(self, name: str, **kwargs: Any) -> StreamInfo:
        """An emulator stream, created on first use."""
        if name not in self._streams:
            self._streams[name] = self.emu.add_stream(name, **kwargs)
        return self._streams[name]

    def kv(self, *, rate_limit: bool = False) -> Any:
        """A new kvarchive client on the emulator."""
        from kvarchive import ArchivedMediaClient

        return ArchivedMediaClient(
            endpoint_url=self.emu.endpoint_url, region_name=REGION, rate_limit=rate_limit
        )

    def raw(self, endpoint_url: Optional[str] = None) -> Any:
        """A new raw boto3 archived-media client on the data endpoint (to be reused)."""
        import boto3

        return boto3.client(
            "kinesis-video-archived-media",
            endpoint_url=endpoint_url or self.emu.data_endpoint_url,
            region_name=REGION,
        )


FIGURES: dict[str, Callable[[Context], list[Row]]] = {
    "1": figure1_per_call,
    "2": figure2_naive,
    "3": figures3_4_media,  # also figure 4: one interleaved run of every reader
    "5": figure5_listing,
    "6": figure6_import,
    "7": figure7_download,
    "8": figure8_decode,
    "9": figure9_follow,
    "10": figure10_export,
    "11": figure11_s3,
    "12": figure12_audio,
}


def select(only: Optional[str]) -> list[str]:
    """The figure keys to run for ``--only`` (e.g. "1,3"; 4 means 3)."""
    if not only:
        return list(FIGURES)
    wanted = {"3" if part.strip() == "4" else part.strip() for part in only.split(",")}
    unknown = wanted - set(FIGURES)
    if unknown:
        raise SystemExit(f"unknown figure(s): {', '.join(sorted(unknown))}")
    return [key for key in FIGURES if key in wanted]
