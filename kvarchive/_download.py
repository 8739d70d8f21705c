"""Saving media to files, never leaving a partial file behind, stopping at once when told."""

from __future__ import annotations

import contextlib
import functools
import queue
import struct
import tempfile
import threading
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import BinaryIO, Callable, Optional

from ._audio.mixer import Mixer
from ._audio.models import AudioChunk, AudioResult
from ._audio.reader import TrackFormat, TrackSpec
from ._audio.wav import WavWriter
from ._clips import clip_ranges, plan_clips
from ._destinations import S3Factory, join, open_file, spool_folder
from ._errors import KVArchiveError, ValidationError
from ._files import PathLike
from ._matroska.recording import RecordingWriter
from ._media.resume import BatchOpener
from ._media.stream import MediaStream
from ._models import DownloadResult, Fragment
from ._progress import progress_bar
from ._service import MEDIA_MAX_FRAGMENTS
from ._stop_signal import StopSignal
from ._types import Body

__all__ = [
    "ClipOpener",
    "download_fragments",
    "save_audio",
    "save_clips",
    "save_stream",
    "split_batches",
    "write_wav",
]

_MediaOpener = Callable[[list[Fragment], StopSignal], MediaStream]
"""The media of some fragments; once the signal is set it must make no new request."""

ClipOpener = Callable[[datetime, datetime], MediaStream]
"""The GetClip of the fragments that start in ``[first, last]``."""

# A parallel download gives each connection one contiguous batch (at most one
# request long): with GetMediaForFragmentList held to 5 calls/s per stream,
# fewer, longer calls keep every connection busy.
_MAX_BATCH = MEDIA_MAX_FRAGMENTS
# A download to S3 spools in the temporary folder, which may be small (Lambda's /tmp):
# the batches fetched or waiting hold at most this many listed bytes in all.
_SPOOL_BUDGET = 96 << 20
_RECORD = struct.Struct(">HQ")  # spooled fragment: number length, data length

_Job = tuple[list[Fragment], "Future[BinaryIO]"]
"""A batch to fetch, and the future that gets its spool file."""


def download_fragments(
    fragments: Sequence[Fragment],
    open_batch: BatchOpener,
    path: PathLike,
    s3: S3Factory,
    *,
    progress: bool = False,
    concurrency: int = 1,
    stop: Optional[StopSignal] = None,
) -> DownloadResult:
    """Write ``fragments`` as one MKV recording at ``path`` (a local path or an S3 URL).

    With ``concurrency`` above 1, batches of fragments are fetched over that
    many connections at once and written in order; batches that arrive
    before their turn wait in anonymous temporary files, not in memory. Any
    failure, Ctrl-C included, stops every connection at once and leaves no file.
    ``open_batch`` requests the media of some fragment numbers; ``stop``, once
    set from another thread, does what Ctrl-C does.
    """
    own = StopSignal()
    media = functools.partial(_media, open_batch)
    told = stop.closing(own) if stop is not None else contextlib.nullcontext()
    with told, open_file(path, s3) as out:
        writer = RecordingWriter(out)
        bar = progress_bar(progress, sum(f.size for f in fragments), "download")
        with bar as advance:
            if concurrency > 1:
                folder = spool_folder(path)
                parts = _parallel_fragments(fragments, media, own, concurrency, folder)
            else:
                parts = _sequential_fragments(fragments, media, own)
            with contextlib.closing(parts):
                for number, data in parts:
                    writer.add(data, number)
                    advance(len(data))
        writer.finish(_span(fragments))
        written = out.tell()
    return DownloadResult(path=path, fragment_count=writer.fragments, bytes_written=written, s3=s3)


def _media(open_batch: BatchOpener, batch: list[Fragment], stop: StopSignal) -> MediaStream:
    """The media of ``batch``; once ``stop`` is set, no new request (not even a resume)."""

    def open_unless_stopped(numbers: list[str]) -> tuple[Body, str]:
        if stop.is_set():
            raise KVArchiveError("stopped before GetMediaForFragmentList")
        return open_batch(numbers)

    numbers = [f.number for f in batch]
    return MediaStream.for_fragments(numbers, open_unless_stopped, batch_size=MEDIA_MAX_FRAGMENTS)


def _sequential_fragments(
    fragments: Sequence[Fragment], media: _MediaOpener, stop: StopSignal
) -> Generator[tuple[str, bytes], None, None]:
    """Each fragment's number and bytes, over one connection (closed under it when stopped)."""
    with media(list(fragments), stop) as stream, stop.closing(stream):
        for fragment in stream.iter_fragments():
            yield fragment.number or "", fragment.data  # a fragment from the service has one


def _parallel_fragments(
    fragments: Sequence[Fragment],
    media: _MediaOpener,
    stop: StopSignal,
    concurrency: int,
    folder: Optional[str],
) -> Generator[tuple[str, bytes], None, None]:
    """Each fragment's number and bytes, in order, fetched in batches over many connections.

    At most ``2 * concurrency`` batches are fetched or waiting at any time,
    spooled in ``folder`` (None: the temporary folder).
    """
    budget = None if folder is not None else _SPOOL_BUDGET // (2 * concurrency)
    batches = iter(split_batches(fragments, concurrency, budget))
    fetcher = _BatchFetcher(media, stop, concurrency, folder)
    try:
        pending = deque(fetcher.submit(batch) for _, batch in zip(range(2 * concurrency), batches))
        while pending:
            with pending.popleft().result() as spool:
                pending.extend(fetcher.submit(batch) for _, batch in zip(range(1), batches))
                yield from _read_spool(spool)
    finally:
        fetcher.cancel()


def split_batches(
    fragments: Sequence[Fragment], concurrency: int, max_bytes: Optional[int]
) -> list[list[Fragment]]:
    """Contiguous batches: one per connection, at most one request long, and (with
    ``max_bytes``) at most that many listed bytes unless a single fragment is larger."""
    size = max(1, min(_MAX_BATCH, -(-len(fragments) // concurrency)))
    batches: list[list[Fragment]] = []
    batch: list[Fragment] = []
    held = 0
    for fragment in fragments:
        full = len(batch) == size or (max_bytes is not None and held + fragment.size > max_bytes)
        if batch and full:
            batches.append(batch)
            batch, held = [], 0
        batch.append(fragment)
        held += fragment.size
    if batch:
        batches.append(batch)
    return batches


class _BatchFetcher:
    """Fetches batches of fragments into spool files on ``workers`` threads.

    Daemon threads rather than a ThreadPoolExecutor, whose threads the
    interpreter waits for at exit: after :meth:`cancel` (Ctrl-C, an error) a
    connection blocked in a read must not hold the caller or the process. Its
    stream is closed as soon as the read returns, which then fails, and no new
    request is made (not even a resume).
    """

    def __init__(
        self, media: _MediaOpener, stop: StopSignal, workers: int, folder: Optional[str]
    ) -> None:
        self._media = media
        self._stop = stop
        self._folder = folder
        self._lock = threading.Lock()
        self._futures: list[Future[BinaryIO]] = []
        self._work: queue.SimpleQueue[Optional[_Job]] = queue.SimpleQueue()
        self._workers = workers
        for n in range(workers):
            name = f"kvarchive-download-{n}"
            threading.Thread(target=self._run, name=name, daemon=True).start()

    def submit(self, batch: list[Fragment]) -> Future[BinaryIO]:
        """Queue ``batch``; the future holds its spool file, positioned at the start."""
        future: Future[BinaryIO] = Future()
        with self._lock:
            self._futures.append(future)
        self._work.put((batch, future))
        return future

    def cancel(self) -> None:
        """Stop: no new request, every open connection closed, every spool file closed."""
        with self._lock:
            self._stop.set()
            futures = self._futures
        for future in futures:
            if not future.cancel() and future.done() and future.exception() is None:
                future.result().close()
        for _ in range(self._workers):
            self._work.put(None)

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            batch, future = item
            if self._stop.is_set() or not future.set_running_or_notify_cancel():
                continue
            try:
                spool = self._spool(batch)
            except BaseException as exc:  # handed to the reader waiting on the future
                future.set_exception(exc)
                continue
            with self._lock:
                if self._stop.is_set():
                    spool.close()
                    future.set_exception(KVArchiveError("download cancelled"))
                else:
                    future.set_result(spool)

    def _spool(self, batch: list[Fragment]) -> BinaryIO:
        """Fetch one batch into an anonymous temporary file of length-prefixed fragments."""
        spool = tempfile.TemporaryFile(dir=self._folder)  # noqa: SIM115 - handed to the caller
        try:
            with self._media(batch, self._stop) as stream, self._stop.closing(stream):
                for fragment in stream.iter_fragments():
                    number = (fragment.number or "").encode()
                    spool.write(_RECORD.pack(len(number), len(fragment.data)))
                    spool.write(number)
                    spool.write(fragment.data)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool


def _read_spool(spool: BinaryIO) -> Iterator[tuple[str, bytes]]:
    """The fragments a batch spooled, one at a time."""
    while header := spool.read(_RECORD.size):
        number_length, data_length = _RECORD.unpack(header)
        yield spool.read(number_length).decode(), spool.read(data_length)


def save_clips(
    fragments: Sequence[Fragment],
    clip: ClipOpener,
    directory: str,
    s3: S3Factory,
    *,
    timestamp_type: str,
    max_fragments: int,
    max_bytes: int,
) -> list[DownloadResult]:
    """Save time-ordered ``fragments`` as consecutive clips ``clip-0001.mp4``... in ``directory``.

    Groups of at most ``max_fragments`` fragments and ``max_bytes`` listed
    bytes, so that GetClip cuts none short; one clip at a time, each file
    appearing only when whole.
    """
    groups = plan_clips(fragments, max_fragments=max_fragments, max_bytes=max_bytes)
    results = []
    for index, (group, (first, last)) in enumerate(
        zip(groups, clip_ranges(groups, timestamp_type)), start=1
    ):
        path = join(directory, f"clip-{index:04d}.mp4")
        results.append(save_stream(clip(first, last), path, s3, len(group)))
    return results


def save_stream(
    stream: MediaStream, path: PathLike, s3: S3Factory, fragment_count: int
) -> DownloadResult:
    """Copy a whole MediaStream to ``path``, a local path or an S3 URL (closing the stream)."""
    with open_file(path, s3) as out, stream:
        for chunk in stream.iter_chunks():
            out.write(chunk)
        written = out.tell()
    return DownloadResult(path=path, fragment_count=fragment_count, bytes_written=written, s3=s3)


def _span(fragments: Sequence[Fragment]) -> Optional[timedelta]:
    """How long the fragments last on the producer's clock, the clock of their Clusters."""
    if not fragments:
        return None
    first = min(f.producer_timestamp for f in fragments)
    return max(f.producer_timestamp + f.duration for f in fragments) - first


def save_audio(
    fragments: Sequence[Fragment],
    open_batch: BatchOpener,
    path: PathLike,
    s3: S3Factory,
    *,
    tracks: Optional[tuple[TrackSpec, ...]],
    progress: bool = False,
) -> AudioResult:
    """Write the chosen audio tracks of ``fragments`` as one WAV file at ``path``
    (:func:`write_wav` of their media, fetched in order)."""
    media = _media(open_batch, list(fragments), StopSignal())
    size = sum(f.size for f in fragments)
    return write_wav(
        media, size, path, s3, tracks=tracks, progress=progress, fragments=len(fragments)
    )


def write_wav(
    media: MediaStream,
    size: int,
    path: PathLike,
    s3: S3Factory,
    *,
    tracks: Optional[tuple[TrackSpec, ...]],
    progress: bool,
    fragments: int,
) -> AudioResult:
    """Write the chosen audio tracks of ``media`` (about ``size`` bytes, closed after) as one
    WAV file at ``path`` (local, or S3 through ``s3``); ``fragments`` is what the result
    reports as its fragment count.

    A channel per channel of each track, in track order, all on one clock
    (``kvarchive._audio.mixer``), streamed to disk with the header written
    last. The tracks are checked against the first fragment's (unknown ones,
    no audio, different rates: ValidationError) before a sample is written.
    """
    mixer: Optional[Mixer] = None
    formats: list[TrackFormat] = []
    early: list[AudioChunk] = []  # chunks before every track's format is known (a fragment)
    with open_file(path, s3) as out, media:
        wav = WavWriter(out)
        with progress_bar(progress, size, "audio") as advance:
            read = 0
            for item in media._audio_reader(tracks):
                position = media.position
                if position != read:  # a new chunk of the body: not on every block
                    advance(position - read)
                    read = position
                if isinstance(item, list):
                    formats = item
                    mixer = Mixer(
                        [(f.number, f.channels) for f in formats], _rate(formats), wav.write
                    )
                    for chunk in early:
                        mixer.add(chunk)
                    early = []
                elif mixer is None:
                    early.append(item)
                else:
                    mixer.add(item)
        if mixer is None:
            raise KVArchiveError("the chosen tracks hold no audio in this range")
        mixer.finish()
        written = wav.finish(mixer.sample_rate, mixer.channels)
    return AudioResult(
        path=path,
        tracks=tuple(f.label for f in formats),
        sample_rate=mixer.sample_rate,
        channels=mixer.channels,
        duration=timedelta(microseconds=mixer.samples * 1_000_000 // mixer.sample_rate),
        fragment_count=fragments,
        bytes_written=written,
        start=mixer.start,
        s3=s3,
    )


def _rate(formats: Sequence[TrackFormat]) -> int:
    """The one sample rate of the chosen tracks (ValidationError naming them if they differ)."""
    rates = {f.sample_rate for f in formats}
    if len(rates) != 1:
        listed = ", ".join(f"{f.label!r}: {f.sample_rate} Hz" for f in formats)
        raise ValidationError(
            f"the chosen tracks have different sample rates ({listed}); "
            "choose tracks of one rate with tracks="
        )
    return rates.pop()
