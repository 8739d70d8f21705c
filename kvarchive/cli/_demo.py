"""``kvarchive demo``: the main job end to end against the bundled emulator, no AWS needed."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import timedelta
from typing import Any

from kvarchive._redact import Redactor
from kvarchive.cli._output import iso, print_fragments, print_result, save_image, save_media

__all__ = ["DEMO_FOLDER", "run_demo"]

DEMO_FOLDER = "kvarchive-demo"
DEMO_STREAM = "kvarchive-demo"


def run_demo(args: argparse.Namespace, redactor: Redactor) -> None:
    """Run the demo into ``args.outfile``; with ``--output json``, the files written on stdout."""
    if args.output == "json":  # the tour goes to stderr, the files written to stdout
        with contextlib.redirect_stdout(sys.stderr):
            written = _demo(args.outfile, redactor)
        print_result("json", {"folder": args.outfile, "written": written}, [])
    else:
        _demo(args.outfile, redactor)


def _demo(folder: str, redactor: Redactor) -> list[str]:
    """Run the main job against the bundled emulator, writing into ``folder``; return the paths."""
    from kvarchive.testing import Emulator

    os.makedirs(folder, exist_ok=True)
    with Emulator() as emu:
        stream = emu.add_sample_stream(DEMO_STREAM)
        first, last = stream.fragments[0], stream.fragments[-1]
        start = first.server_timestamp
        end = last.server_timestamp + timedelta(milliseconds=last.duration_ms)
        print(f"Local emulator at {emu.endpoint_url}, stream {stream.name!r}:")
        print(f"{len(stream.fragments)} fragments from {iso(start)} to {iso(end)}\n")
        with emu.client() as kv:  # dummy credentials: the user may have none
            ref: dict[str, Any] = {"stream_name": stream.name}
            print_fragments(kv.list_fragments(**ref, start=start, end=end), "table")
            for kind, url in (
                ("HLS", kv.get_hls_streaming_session_url),
                ("DASH", kv.get_dash_streaming_session_url),
            ):
                playback = url(**ref, playback_mode="ON_DEMAND", start=start, end=end)
                print(f"\n{kind} URL (ON_DEMAND, token hidden): {redactor(playback)}")
            print()
            written = []
            recording = os.path.join(folder, "recording.mkv")
            result = kv.download(**ref, start=start, end=end, path=recording)
            print(f"Downloaded {result.fragment_count} fragments ({result.bytes_written} bytes)")
            written.append(recording)
            clip = os.path.join(folder, "clip.mp4")
            size = save_media(kv.get_clip(**ref, start=start, end=end), clip)
            print(f"Saved an MP4 clip of the range ({size} bytes)")
            written.append(clip)
            interval = max(1000, (end - start) // timedelta(seconds=4) * 1000)
            images = kv.get_images(**ref, start=start, end=end, sampling_interval=interval)
            frames = [
                save_image(image.timestamp, image.data, folder, "JPEG")
                for image in images
                if image.data
            ]
            print(f"Saved {len(frames)} JPEG frames, one every {interval} ms\n")
            written += frames
        for path in written:
            print(f"wrote {path}")
    return written
