"""The client's jobs of many calls: each lists a range, then fetches and writes what it holds.

:class:`Jobs` is a base of ``ArchivedMediaClient``, kept apart so that the
facade in ``_client`` reads as the list of the service's operations, and the
jobs built on them (downloads, clips, following, exports) have a room of
their own. Each job's work lives in its own module; these methods check the
arguments and hand over.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Optional, Union

from ._audio.models import AudioResult
from ._audio.reader import TracksArg, check_tracks
from ._checkpoint import Checkpoint
from ._clips import CLIP_GROUP_BYTES
from ._destinations import check_file, check_folder, is_s3
from ._download import download_fragments, save_audio, save_clips
from ._errors import KVArchiveError
from ._follow import Follower, FollowOptions, open_follower
from ._inspect.look import inspect_stream
from ._inspect.report import StreamReport
from ._media.stream import MediaStream
from ._models import DownloadResult, Fragment, MediaFragment
from ._params import check_timestamp_type
from ._service import CLIP_MAX_FRAGMENTS
from ._shards import ExportShard, check_shard, plan_shards
from ._stop_signal import StopSignal
from ._types import StreamRef, TimeLike
from ._validate import check_int, check_range

if TYPE_CHECKING:
    from ._aws.operations import Operations

__all__ = ["Jobs"]


class Jobs:
    """Downloads, clips and export plans of a time range, following a stream, and inspecting
    one (mixed into ``ArchivedMediaClient``)."""

    if TYPE_CHECKING:  # provided by ArchivedMediaClient
        _ops: Operations

        def _stream(self, stream_name: Optional[str], stream_arn: Optional[str]) -> StreamRef: ...

        def _check_open(self) -> None: ...

        def _s3(self) -> Any: ...

        _clients: Any

        def _listed(
            self, stream: StreamRef, first: datetime, last: datetime, selector_type: str
        ) -> list[Fragment]: ...

        def get_clip(
            self,
            *,
            stream_name: Optional[str] = None,
            stream_arn: Optional[str] = None,
            start: TimeLike,
            end: TimeLike,
            timestamp_type: str = "SERVER_TIMESTAMP",
            check_truncation: bool = True,
        ) -> MediaStream: ...

    def inspect(
        self, *, stream_name: Optional[str] = None, stream_arn: Optional[str] = None
    ) -> StreamReport:
        """One look at a stream: its description, newest fragment, tracks, and what works on it.

        Calls DescribeStream, ListFragments over the last minute (then, while
        empty, the last hour and the retention period: at most three),
        GetMediaForFragmentList for the newest fragment, and GetDataEndpoint
        for each data API (cached). A call that fails is a
        line of ``report.problems``, not an exception; an unknown stream raises
        ResourceNotFoundError.
        """
        return inspect_stream(self._ops, self._stream(stream_name, stream_arn))

    def download(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: TimeLike,
        end: TimeLike,
        path: Union[str, os.PathLike[str]],
        timestamp_type: str = "SERVER_TIMESTAMP",
        progress: bool = False,
        concurrency: int = 1,
    ) -> DownloadResult:
        """Save the fragments of ``[start, end]`` as one MKV recording at ``path``.

        Lists the range, fetches the fragments (over ``concurrency``
        connections at once, within the per-stream rate) and writes them in
        order as one file players read whole, through a temporary file renamed
        on success: a failure, Ctrl-C included, never leaves a file at ``path``
        and stops every connection at once. Missing folders of ``path`` are
        made first; a ``path`` that is a folder is a ValidationError.
        ``path`` may be ``s3://bucket/key``: the object is uploaded while it is
        fetched, and appears only when whole.
        """
        stream = self._stream(stream_name, stream_arn)
        first, last = check_range(start, end)
        workers = check_int(concurrency, "concurrency", 1, 32)
        check_file(path, self._s3)
        fragments = self._listed(stream, first, last, check_timestamp_type(timestamp_type))
        if not fragments:
            raise KVArchiveError(f"no fragments between {start} and {end}: nothing to download")
        return self._save_recording(stream, fragments, path, progress=progress, concurrency=workers)

    def download_audio(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: TimeLike,
        end: TimeLike,
        path: Union[str, os.PathLike[str]],
        tracks: TracksArg = None,
        timestamp_type: str = "SERVER_TIMESTAMP",
        progress: bool = False,
    ) -> AudioResult:
        """Save the audio of ``[start, end]`` as one WAV file (PCM s16le) at ``path``.

        Lists the range, fetches its fragments in order (GetMediaForFragmentList)
        and writes a channel per mono track, in track order or ``tracks=``
        order (names or numbers), every channel on one clock: sample ``k`` is at
        the first block's time + ``k / sample_rate``, time without media is
        silence. Memory stays at a few fragments' audio however long the call.
        Unknown tracks, a stream without audio and tracks of different rates
        are ValidationErrors found in the first fragment; the file appears only
        when whole, as with :meth:`download`.
        """
        stream = self._stream(stream_name, stream_arn)
        first, last = check_range(start, end)
        selector_type = check_timestamp_type(timestamp_type)
        chosen = check_tracks(tracks)
        check_file(path, self._s3)
        fragments = self._listed(stream, first, last, selector_type)
        if not fragments:
            raise KVArchiveError(f"no fragments between {start} and {end}: no audio to write")
        self._check_open()
        open_batch = functools.partial(self._ops.media, stream)
        return save_audio(fragments, open_batch, path, self._s3, tracks=chosen, progress=progress)

    def plan_export(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: TimeLike,
        end: TimeLike,
        shard: Union[timedelta, float] = timedelta(minutes=10),
        timestamp_type: str = "SERVER_TIMESTAMP",
    ) -> list[ExportShard]:
        """The shards of an export of ``[start, end]``, each about ``shard`` long, in time order.

        Lists the range once (ListFragments) and cuts it at fragment
        boundaries on a grid of ``shard`` (a timedelta or seconds, at least
        1 s) counted from the epoch, so shards of 10 minutes start at :00,
        :10, ...: no shard is empty, no fragment is in two. Each shard
        pickles, to be run anywhere with ``shard.run(kv, out_dir)``.
        """
        stream = self._stream(stream_name, stream_arn)
        first, last = check_range(start, end)
        selector_type = check_timestamp_type(timestamp_type)
        length = check_shard(shard)
        fragments = self._listed(stream, first, last, selector_type)
        return plan_shards(stream, fragments, length, selector_type)

    def _save_recording(
        self,
        stream: StreamRef,
        fragments: Sequence[Fragment],
        path: Union[str, os.PathLike[str]],
        *,
        progress: bool = False,
        concurrency: int = 1,
        stop: Optional[StopSignal] = None,
    ) -> DownloadResult:
        """Write listed ``fragments`` of ``stream`` as one MKV recording at ``path``
        (given up at once, leaving no file, when ``stop`` is set)."""
        self._check_open()
        open_batch = functools.partial(self._ops.media, stream)
        return download_fragments(
            fragments,
            open_batch,
            path,
            self._s3,
            progress=progress,
            concurrency=concurrency,
            stop=stop,
        )

    def download_clips(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: TimeLike,
        end: TimeLike,
        directory: Union[str, os.PathLike[str]],
        timestamp_type: str = "SERVER_TIMESTAMP",
        max_fragments: int = CLIP_MAX_FRAGMENTS,
        max_bytes: int = CLIP_GROUP_BYTES,
    ) -> list[DownloadResult]:
        """Save ``[start, end]`` as consecutive MP4 files ``clip-0001.mp4``... in ``directory``.

        Lists the range and asks GetClip for groups of at most ``max_fragments``
        fragments and ``max_bytes`` listed bytes, so no clip is cut short; the
        clips neither overlap nor leave gaps. Each file appears only when whole.
        ``directory`` is made, with its parents, if missing; it may be an S3
        prefix, ``s3://bucket/prefix``.
        """
        stream = self._stream(stream_name, stream_arn)
        first, last = check_range(start, end)
        selector_type = check_timestamp_type(timestamp_type)
        limit = check_int(max_fragments, "max_fragments", 1, CLIP_MAX_FRAGMENTS)
        byte_limit = check_int(max_bytes, "max_bytes", 1)
        folder = check_folder(directory, self._s3)
        fragments = self._listed(stream, first, last, selector_type)

        def clip(start: datetime, end: datetime) -> MediaStream:
            ref = {"stream_name": stream_name, "stream_arn": stream_arn}
            return self.get_clip(
                **ref, start=start, end=end, timestamp_type=selector_type, check_truncation=False
            )

        return save_clips(
            fragments,
            clip,
            folder if is_s3(directory) else os.fspath(directory),
            self._s3,
            timestamp_type=selector_type,
            max_fragments=limit,
            max_bytes=byte_limit,
        )

    def follow(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: Optional[TimeLike] = None,
        checkpoint: Optional[Checkpoint] = None,
        poll: float = 2.0,
        settle: float = 5.0,
        until: Optional[Union[TimeLike, timedelta]] = None,
        timestamp_type: str = "SERVER_TIMESTAMP",
    ) -> Follower[Fragment]:
        """Each fragment from ``start`` (default: now, or the checkpoint's position) once, in order.

        Polls ListFragments every ``poll`` seconds and holds each new fragment
        ``settle`` seconds so that late ones are still yielded in order; ends
        after ``until`` (a time, or a timedelta from now), or when closed. See
        :class:`Follower` for checkpoints and what counts as consumed.
        """
        stream = self._stream(stream_name, stream_arn)
        self._lend_clients(checkpoint)
        options = FollowOptions(start, checkpoint, poll, settle, until, timestamp_type)
        return open_follower(self._ops, stream, options, media=False)

    def follow_media(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: Optional[TimeLike] = None,
        checkpoint: Optional[Checkpoint] = None,
        poll: float = 2.0,
        settle: float = 5.0,
        until: Optional[Union[TimeLike, timedelta]] = None,
        timestamp_type: str = "SERVER_TIMESTAMP",
    ) -> Follower[MediaFragment]:
        """As :meth:`follow`, with each fragment's media, one fragment in memory at a time.

        Calls GetMediaForFragmentList for the fragments released together (up to 100 a call).
        """
        stream = self._stream(stream_name, stream_arn)
        self._lend_clients(checkpoint)
        options = FollowOptions(start, checkpoint, poll, settle, until, timestamp_type)
        return open_follower(self._ops, stream, options, media=True)

    def _lend_clients(self, checkpoint: Optional[Checkpoint]) -> None:
        """Give a checkpoint that asks for one (DynamoDBCheckpoint) a client of this session."""
        use = getattr(checkpoint, "use_session_client", None)
        if callable(use):
            use(self._clients.service)
