"""Figure 8: decoding frames to RGB arrays, against the ffmpeg command on the same file.

The recording is made here with ffmpeg: 1280x720 H.264 at 30 fps and 4 Mb/s,
a 2 s GOP (``-g 60``, no scene-cut keyframes), x264's ``veryfast`` preset
(three B-frames), moving test pictures with grain so that it costs what a
camera's picture costs. kvarchive decodes it as KVS-like fragments (the file
cut at each keyframe into Matroska documents by ffmpeg's segment muxer,
which copies the frames' bytes), read from memory through the public API,
``MediaStream.from_file(...).iter_frames(decode=True)``; ffmpeg reads the
file itself: ``ffmpeg -threads N -i FILE -f rawvideo -pix_fmt rgb24 -`` into
/dev/null.
"""

from __future__ import annotations

import io
import resource
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from common import Row, interleave, median, target_row

if TYPE_CHECKING:
    from cases import Context

FPS = 30
GOP_SECONDS = 2


def make_recording(folder: Path, seconds: int) -> Path:
    """The benchmark's recording (see the module's text), made once per folder."""
    path = folder / f"decode-{seconds}s-720p.mkv"
    if not path.exists():
        source = f"testsrc2=size=1280x720:rate={FPS},noise=alls=8:allf=t"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-t", str(seconds),
             "-c:v", "libx264", "-preset", "veryfast", "-b:v", "4M", "-maxrate", "4M",
             "-bufsize", "8M", "-g", str(FPS * GOP_SECONDS), "-keyint_min", str(FPS * GOP_SECONDS),
             "-sc_threshold", "0", "-pix_fmt", "yuv420p", str(path)],
            check=True,
        )  # fmt: skip
    return path


def fragments(path: Path) -> list[bytes]:
    """The recording cut at its keyframes into Matroska documents, as KVS stores them."""
    folder = path.with_name(path.stem + "-fragments")
    if not folder.exists():
        folder.mkdir()
        subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(path), "-c", "copy", "-f", "segment",
             "-segment_time", str(GOP_SECONDS), "-segment_format", "matroska",
             str(folder / "%04d.mkv")],
            check=True,
        )  # fmt: skip
    return [part.read_bytes() for part in sorted(folder.iterdir())]


def frame_count(path: Path) -> int:
    """ffprobe's count of the recording's video frames."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(out.stdout.strip())


def _children_cpu() -> float:
    """CPU seconds used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def figure8_decode(ctx: Context) -> list[Row]:
    """Decoding throughput against ffmpeg, and every=1s against a full decode."""
    from kvarchive import MediaStream

    path = make_recording(ctx.tmpdir, ctx.sizes.decode_seconds)
    parts = fragments(path)
    body = b"".join(parts)  # the fragments as GetMediaForFragmentList sends them
    total = frame_count(path)
    counts: dict[str, int] = {}
    ffmpeg_cpu: dict[str, list[float]] = {}

    def ffmpeg(threads: str) -> Callable[[], float]:
        command = ["ffmpeg", "-v", "error", *(["-threads", threads] if threads else []),
                   "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]  # fmt: skip

        def run() -> float:
            before = _children_cpu()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
            ffmpeg_cpu.setdefault(threads, []).append(_children_cpu() - before)
            return total

        return run

    def kvarchive(name: str, **options: object) -> Callable[[], float]:
        def run() -> float:
            with MediaStream.from_file(io.BytesIO(body)) as media:
                decoded = media.iter_frames(decode=True, **options)  # type: ignore[call-overload]
                kept = sum(1 for _ in decoded)
            counts[name] = decoded.frames_decoded
            counts[name + " kept"] = kept
            return float(kept)

        return run

    sides = {
        "ffmpeg 1 thread": ffmpeg("1"),
        "ffmpeg default": ffmpeg(""),
        "kv 1 thread": kvarchive("kv 1 thread", threads=1),
        "kv default": kvarchive("kv default"),
        "kv every 1s": kvarchive("kv every 1s", every=timedelta(seconds=1)),
    }
    runs = interleave(sides, ctx.sizes.decode_reps)
    fps = {side: [t.rate for t in timings] for side, timings in runs.items()}
    walls = {side: [t.wall for t in timings] for side, timings in runs.items()}
    if counts["kv default kept"] != total or counts["kv 1 thread kept"] != total:
        raise RuntimeError(f"kvarchive decoded {counts} frames where ffprobe counts {total}")
    n = ctx.sizes.decode_reps
    ratio = {
        side: median([a / b for a, b in zip(fps[side], fps["ffmpeg 1 thread"])])
        for side in ("kv default", "kv 1 thread", "ffmpeg default")
    }
    share = median([a / b for a, b in zip(walls["kv every 1s"], walls["kv default"])])
    cpus = {side: [t.cpu for t in timings] for side, timings in runs.items()}
    cpu_share = median([a / b for a, b in zip(cpus["kv every 1s"], cpus["kv default"])])
    cpu_fps = median([t.cpu_rate for t in runs["kv 1 thread"]])
    ffmpeg_cpu_fps = median([total / cpu for cpu in ffmpeg_cpu["1"]])
    kept = counts["kv every 1s kept"]
    ideal = counts["kv every 1s"] / total
    ctx.note(
        "8",
        f"{ctx.sizes.decode_seconds} s of 1280x720 H.264, 30 fps, 4 Mb/s, 2 s GOP, B-frames; "
        f"{total} frames in {len(parts)} fragments; kvarchive yields numpy RGB arrays, ffmpeg "
        "writes rgb24 to /dev/null; kvarchive's default is FFmpeg's frame+slice threading with "
        "as many threads as FFmpeg sees fit",
    )
    ctx.note(
        "8",
        f"CPU throughput, one thread each: kvarchive {cpu_fps:.0f} frames per CPU-second, "
        f"ffmpeg -threads 1 {ffmpeg_cpu_fps:.0f} ({cpu_fps / ffmpeg_cpu_fps:.2f}); wall-clock "
        "rates on a shared machine move more than CPU time does",
    )
    ctx.note(
        "8",
        f"every=1s kept {kept} frames (each window's first) and decoded {counts['kv every 1s']} "
        f"of {total} ({ideal:.2f}: the least any decoder must decode for those frames, each "
        "from its keyframe; a window's first frame can sit at the end of its GOP, as each even "
        "second does here, the fragments' frames being 67 ms late by the B-frames' delay); "
        "it is judged on CPU time, steadier than wall time here: only kept frames are "
        "converted to RGB, so it should cost at most that share of a full decode",
    )
    label = "ffmpeg -threads 1"
    return [
        target_row("8", "decode to RGB, frames/s (kvarchive default threads)",
                   kv=median(fps["kv default"]), raw=median(fps["ffmpeg 1 thread"]),
                   unit="fps", ratio=ratio["kv default"], op=">=", limit=0.9, n=n,
                   raw_label=label),
        Row("8", "  kvarchive threads=1", median(fps["kv 1 thread"]),
            median(fps["ffmpeg 1 thread"]), "fps", ratio["kv 1 thread"], "(info)", "info", n,
            label),
        Row("8", "  ffmpeg default threads", median(fps["ffmpeg default"]),
            median(fps["ffmpeg 1 thread"]), "fps", ratio["ffmpeg default"], "(info)", "info", n,
            label),
        target_row("8", "every=1s vs full decode, CPU time (2 s GOP)",
                   kv=median(cpus["kv every 1s"]), raw=median(cpus["kv default"]), unit="s",
                   ratio=cpu_share, op="<=", limit=round(ideal, 2), n=n,
                   raw_label="kvarchive full decode",
                   limit_text=f"{ideal:.2f} (share that must be decoded)"),
        Row("8", "  same, wall time", median(walls["kv every 1s"]), median(walls["kv default"]),
            "s", share, "(info)", "info", n, "kvarchive full decode"),
        Row("8", "  every=1s: frames decoded per frame kept", counts["kv every 1s"] / kept,
            total / kept, "frames", ideal, "(info)", "info", n, "full decode, per frame kept"),
    ]  # fmt: skip
