"""Figure 12: ``kvarchive audio --file`` against ffmpeg writing the same WAV, whole processes.

Two recordings, made once per folder:

- a call in Amazon Connect's layout (SERVICE-NOTES.md): one-second
  fragments, each its own Matroska document, two tracks labelled ``A_AAC``
  holding raw 8 kHz s16le mono PCM in 20 ms blocks, the tracks' blocks
  alternating, voiced by the emulator's bundled call
  (``kvarchive.testing.call_voices``). ffmpeg trusts the label, so it is
  told the truth with ``-c:a pcm_s16le`` before ``-i``; otherwise it runs as
  ``ffmpeg -threads 1 -i call.mkv -filter_complex amerge call.wav``.
- AAC: the audio of ``/work/shared/realdata/sample-mkv-file.mkv`` (or
  ffmpeg's sine if that file is missing) looped to a few minutes and encoded
  again by ffmpeg's AAC encoder (so that its times run on across the loops),
  stream-copied into Matroska documents as KVS stores fragments (ffmpeg's
  segment muxer),
  then joined; ffmpeg reads only a first document, so it is given the looped
  file the fragments were cut from (the same AAC frames) and writes
  ``-c:a pcm_s16le`` of that track.

Both sides are timed as whole processes (start-up included), alternating, and
their WAVs compared: identical samples for PCM, within a stated tolerance for
AAC (two AAC decoders may differ by a few least significant bits).
"""

from __future__ import annotations

import array
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from common import Row, interleave, median, target_row

if TYPE_CHECKING:
    from cases import Context

RATE = 8000
BLOCK_MS = 20
MIME = "audio/L16;rate=8000;channels=1;"
REALDATA = Path("/work/shared/realdata/sample-mkv-file.mkv")
AAC_TOLERANCE = 4  # largest difference allowed between the two AAC decodes, in s16 steps


def _call_fragment(index: int, voices: tuple[bytes, bytes], start_ms: int) -> bytes:
    """The ``index``-th second of the call, a Connect fragment with 20 ms blocks."""
    from kvarchive._matroska import ids as ebml
    from kvarchive._matroska import vint
    from kvarchive.testing._call import _HEAD
    from kvarchive.testing._mkv_writer import _ebml_header, _tags

    seconds = len(voices[0]) // (2 * RATE)
    first = (index % seconds) * RATE
    step = RATE * BLOCK_MS // 1000
    blocks = bytearray()
    for offset in range(0, RATE, step):
        stamp = (offset * 1000 // RATE).to_bytes(2, "big", signed=True)
        for number, voice in enumerate(voices, start=1):
            data = voice[2 * (first + offset) : 2 * (first + offset + step)]
            head = vint.encode_size(number) + stamp + b"\x80"
            blocks += vint.encode_element(ebml.SIMPLE_BLOCK, head + data)
    timecode = vint.encode_element(ebml.TIMECODE, (start_ms + index * 1000).to_bytes(8, "big"))
    unknown = vint.encode_size(vint.UNKNOWN_SIZE)
    return (
        _ebml_header()
        + vint.encode_id(ebml.SEGMENT)
        + unknown
        + _HEAD
        + vint.encode_id(ebml.CLUSTER)
        + unknown
        + timecode
        + bytes(blocks)
        + _tags([("MimeType", MIME), ("AUDIO_FROM_CUSTOMER", "1"), ("AUDIO_TO_CUSTOMER", "2")])
    )


def make_call(folder: Path, seconds: int) -> Path:
    """A ``seconds``-long two-track PCM call in Connect's layout (see the module's text)."""
    path = folder / f"call-{seconds}s.mkv"
    if not path.exists():
        from kvarchive.testing import call_voices

        voices = call_voices()
        start_ms = 1_764_504_000_000
        with open(path.with_suffix(".part"), "wb") as out:
            for index in range(seconds):
                out.write(_call_fragment(index, voices, start_ms))
        path.with_suffix(".part").rename(path)
    return path


def make_aac(folder: Path, seconds: int) -> tuple[Path, Path]:
    """A ``seconds``-long AAC recording, whole and as joined Matroska fragments (see the
    module's text)."""
    path = folder / f"aac-{seconds}s.mkv"
    looped = folder / f"aac-{seconds}s-looped.mkv"
    if not path.exists():
        if REALDATA.exists():
            source = ["-stream_loop", "-1", "-i", str(REALDATA), "-map", "0:a:0", "-c:a", "aac"]
        else:
            source = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-c:a", "aac"]
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", *source, "-t", str(seconds), str(looped)], check=True
        )
        parts = folder / f"aac-{seconds}s-parts"
        parts.mkdir(exist_ok=True)
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(looped), "-c", "copy", "-f", "segment",
             "-segment_time", "2", "-segment_format", "matroska", str(parts / "%05d.mkv")],
            check=True,
        )  # fmt: skip
        with open(path, "wb") as out:
            for part in sorted(parts.iterdir()):
                out.write(part.read_bytes())
    return looped, path


def wav_samples(path: Path) -> tuple[int, int, array.array[int]]:
    """A WAV's (rate, channels, interleaved s16 samples)."""
    with wave.open(str(path), "rb") as wav:
        samples = array.array("h", wav.readframes(wav.getnframes()))
        return wav.getframerate(), wav.getnchannels(), samples


def _largest_difference(a: array.array[int], b: array.array[int]) -> int:
    """The largest sample difference over the common length (the lengths must be near)."""
    if abs(len(a) - len(b)) > 4096:
        raise RuntimeError(f"AAC decodes differ in length: {len(a)} vs {len(b)} samples")
    return max((abs(x - y) for x, y in zip(a, b)), default=0)


def _run(command: list[str]) -> Callable[[], float]:
    def run() -> float:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return 1.0

    return run


def _sides(source: Path, whole: Path, folder: Path, name: str, pcm: bool) -> dict[str, list[str]]:
    """The two commands: kvarchive on the fragments, ffmpeg on the whole recording."""
    kv = [sys.executable, "-m", "kvarchive", "audio", "--file", str(source)]
    kv += ["-o", str(folder / f"{name}-kv.wav")]
    forced = ["-c:a", "pcm_s16le"] if pcm else []
    ff = ["ffmpeg", "-v", "fatal", "-y", "-threads", "1", *forced, "-i", str(whole)]
    ff += ["-filter_complex", "amerge"] if pcm else ["-map", "0:a:0"]
    ff += ["-c:a", "pcm_s16le", str(folder / f"{name}-ffmpeg.wav")]
    return {"kvarchive": kv, "ffmpeg": ff}


def _figure(
    ctx: Context, name: str, sources: tuple[Path, Path], pcm: bool, limit: float
) -> tuple[Row, str]:
    """One row: the two commands timed alternately, their WAVs compared."""
    folder = ctx.tmpdir
    whole, source = sources
    commands = _sides(source, whole, folder, name, pcm)
    runs = interleave({side: _run(cmd) for side, cmd in commands.items()}, ctx.sizes.audio_reps)
    walls = {side: [t.wall for t in timings] for side, timings in runs.items()}
    ratio = median([f / k for k, f in zip(walls["kvarchive"], walls["ffmpeg"])])
    rate, channels, kv = wav_samples(folder / f"{name}-kv.wav")
    ff_rate, ff_channels, ff = wav_samples(folder / f"{name}-ffmpeg.wav")
    if (rate, channels) != (ff_rate, ff_channels):
        raise RuntimeError(f"{name}: {rate} Hz x {channels} vs ffmpeg's {ff_rate} x {ff_channels}")
    if pcm:
        if kv != ff:
            raise RuntimeError(f"{name}: kvarchive's samples differ from ffmpeg's")
        check = f"identical samples ({len(kv) // channels} per channel)"
    else:
        worst = _largest_difference(kv, ff)
        if worst > AAC_TOLERANCE:
            raise RuntimeError(f"{name}: samples differ by up to {worst} (> {AAC_TOLERANCE})")
        check = f"samples within {worst} of ffmpeg's (tolerance {AAC_TOLERANCE})"
    seconds = len(kv) / channels / rate
    row = target_row(
        "12", f"audio --file, {name} (throughput vs ffmpeg)",
        kv=median(walls["kvarchive"]), raw=median(walls["ffmpeg"]), unit="s", ratio=ratio,
        op=">=", limit=limit, n=ctx.sizes.audio_reps, raw_label="ffmpeg -threads 1",
        ratio_text="ffmpeg/kv ",
    )  # fmt: skip
    note = f"{name}: {seconds:.0f} s of {rate} Hz x {channels}, {check}"
    return row, note


def figure12_audio(ctx: Context) -> list[Row]:
    """``kvarchive audio --file`` against ffmpeg, PCM call and AAC."""
    started = time.perf_counter()
    call = make_call(ctx.tmpdir, ctx.sizes.audio_call_seconds)
    aac = make_aac(ctx.tmpdir, ctx.sizes.audio_aac_seconds)
    ctx.note("12", f"recordings made in {time.perf_counter() - started:.1f} s")
    rows = []
    cases = (("PCM call", (call, call), True, 0.8), ("AAC", aac, False, 0.9))
    for name, sources, pcm, limit in cases:
        row, note = _figure(ctx, name, sources, pcm, limit)
        rows.append(row)
        ctx.note("12", note)
    ctx.note(
        "12",
        "whole processes, wall time, alternating; the PCM call is Connect's layout (A_AAC "
        "labels on raw PCM, 20 ms blocks, one-second fragments), ffmpeg given -c:a pcm_s16le; "
        "on a loaded 2-core machine wall times are noisy",
    )
    return rows
