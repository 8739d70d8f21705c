"""Make the real media sample that kvarchive.testing ships. Run once by hand:

    python tests/make_sample.py

Needs ffmpeg (``apt-get install -y ffmpeg``). Writes into kvarchive/testing/data/:

- ``sample.mkv``: 10 s of 320x240 H.264 (constrained baseline, so no B-frames:
  decode order is presentation order) at 15 fps with a keyframe every second,
  and 16 kHz mono AAC as track 2, from ffmpeg's testsrc2 and sine sources. The
  emulator splits it at video keyframes into ten KVS-style fragments.
- ``sample-images.zip``: each keyframe as ``JPEG/NN.jpg`` and ``PNG/NN.png``,
  what GetImages answers for instants inside fragment NN.

The output is small (well under 1 MB) and bit-exact flags keep it stable.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "kvarchive" / "testing" / "data"
SECONDS = 10
FPS = 15


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, failing loudly."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_video(path: Path) -> None:
    """The MKV: H.264 video (track 1) and AAC audio (track 2)."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}:duration={SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=16000:duration={SECONDS}",
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-pix_fmt", "yuv420p",
        "-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0", "-crf", "30",
        "-threads", "1",
        "-c:a", "aac", "-b:a", "24k", "-ac", "1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-map_metadata", "-1",
        str(path),
    )  # fmt: skip


def make_images(video: Path, folder: Path) -> list[Path]:
    """Every keyframe of ``video`` as JPEG and PNG, numbered from 00."""
    keyframes = "select=eq(pict_type\\,I)"
    (folder / "JPEG").mkdir()
    (folder / "PNG").mkdir()
    ffmpeg("-i", str(video), "-vf", keyframes, "-fps_mode", "vfr", "-q:v", "5",
           "-start_number", "0", str(folder / "JPEG" / "%02d.jpg"))  # fmt: skip
    ffmpeg("-i", str(video), "-vf", keyframes, "-fps_mode", "vfr", "-compression_level", "100",
           "-start_number", "0", str(folder / "PNG" / "%02d.png"))  # fmt: skip
    return sorted(folder.glob("*/*"))


def main() -> int:
    """Write the sample files and print their sizes."""
    if shutil.which("ffmpeg") is None:
        print("ffmpeg is needed: apt-get install -y ffmpeg", file=sys.stderr)
        return 1
    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = work / "sample.mkv"
        make_video(video)
        images = make_images(video, work)
        shutil.copyfile(video, DATA / "sample.mkv")
        with zipfile.ZipFile(DATA / "sample-images.zip", "w", zipfile.ZIP_STORED) as archive:
            for image in images:
                name = image.relative_to(work).as_posix()
                archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), image.read_bytes())
    total = 0
    for path in (DATA / "sample.mkv", DATA / "sample-images.zip"):
        size = path.stat().st_size
        total += size
        print(f"{path}: {size} bytes")
    print(f"total: {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
