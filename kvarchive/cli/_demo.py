"""``kvarchive demo``: the main job end to end against the bundled emulator, no AWS needed.

The tour: a sample camera stream's fragments, URLs, recording, clip and
frames, then a phone call in Amazon Connect's layout written as a WAV.

With ``--serve`` the emulator keeps running after the tour, its HLS and DASH
URLs playable, until Ctrl-C (or SIGTERM): the ways to stop it, so it ends with
status 0 (the emulator closed, its threads joined and its ports released).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kvarchive._files import output_folder
from kvarchive._redact import Redactor
from kvarchive._times import iso
from kvarchive.cli._emulator import environment_lines, sleep_forever, until_stopped
from kvarchive.cli._output import print_fragments, print_result, save_image, save_media

if TYPE_CHECKING:
    from kvarchive import ArchivedMediaClient
    from kvarchive.testing import Emulator

__all__ = ["DEMO_FOLDER", "run_demo"]

DEMO_FOLDER = "kvarchive-demo"
DEMO_STREAM = "kvarchive-demo"
DEMO_CALL = "kvarchive-demo-call"
# The longest session the service grants: the URLs keep playing while --serve runs.
_SESSION_SECONDS = 43_200


def run_demo(args: argparse.Namespace, redactor: Redactor) -> None:
    """Run the demo into ``args.outfile``, then serve its URLs when ``args.serve``.

    With ``--output json`` the tour goes to stderr and stdout gets one JSON
    record: the files written (and, when serving, the URLs).
    """
    from kvarchive.testing import Emulator

    with Emulator() as emu:
        if args.output != "json":
            _written, urls = _demo(emu, args.outfile, redactor, args.serve)
        else:
            with contextlib.redirect_stdout(sys.stderr):
                written, urls = _demo(emu, args.outfile, redactor, args.serve)
            record: dict[str, Any] = {"folder": args.outfile, "written": written}
            if args.serve:
                record.update({f"{kind.lower()}_url": url for kind, url in urls.items()})
            print_result("json", record, [])
        if args.serve:
            _serve(emu, urls, tell=sys.stderr if args.output == "json" else sys.stdout)


def _demo(
    emu: Emulator, folder: str, redactor: Redactor, serving: bool
) -> tuple[list[str], dict[str, str]]:
    """Run the main job against ``emu``, writing into ``folder``; return the paths and the
    streaming-session URLs (HLS and DASH) of the sample."""
    output_folder(folder)  # as every command that writes: made if missing, or "cannot write"
    stream = emu.add_sample_stream(DEMO_STREAM)
    first, last = stream.fragments[0], stream.fragments[-1]
    start = first.server_timestamp
    end = last.server_timestamp + timedelta(milliseconds=last.duration_ms)
    print(f"Local emulator at {emu.endpoint_url}, stream {stream.name!r}:")
    print(f"{len(stream.fragments)} fragments from {iso(start)} to {iso(end)}\n")
    with emu.client() as kv:  # dummy credentials: the user may have none
        ref: dict[str, Any] = {"stream_name": stream.name}
        print_fragments(kv.list_fragments(**ref, start=start, end=end), "table")
        session: dict[str, Any] = {"playback_mode": "ON_DEMAND", "start": start, "end": end}
        urls = {
            "HLS": kv.get_hls_streaming_session_url(**ref, **session, expires=_SESSION_SECONDS),
            "DASH": kv.get_dash_streaming_session_url(**ref, **session, expires=_SESSION_SECONDS),
        }
        for kind, url in urls.items():
            print(f"\n{kind} URL (ON_DEMAND, token hidden): {redactor(url)}")
        if not serving:
            print("(they play while the emulator runs: 'kvarchive demo --serve' keeps it running)")
        print()
        written = []
        recording = os.path.join(folder, "recording.mkv")
        result = kv.download(**ref, start=start, end=end, path=recording)
        print(f"Downloaded {result.fragment_count} fragments ({result.bytes_written} bytes)")
        written.append(recording)
        clip = os.path.join(folder, "clip.mp4")
        size = save_media(kv.get_clip(**ref, start=start, end=end), clip, kv._s3)
        print(f"Saved an MP4 clip of the range ({size} bytes)")
        written.append(clip)
        interval = max(1000, (end - start) // timedelta(seconds=4) * 1000)
        images = kv.get_images(**ref, start=start, end=end, sampling_interval=interval)
        frames = [
            save_image(image.timestamp, image.data, folder, "JPEG", kv._s3)
            for image in images
            if image.data
        ]
        print(f"Saved {len(frames)} JPEG frames, one every {interval} ms")
        written += frames
        written.append(_call(emu, kv, folder))
    for path in written:
        print(f"wrote {path}")
    return written, urls


def _call(emu: Emulator, kv: ArchivedMediaClient, folder: str) -> str:
    """Write the WAV of a phone call in Amazon Connect's layout; return its path."""
    call = emu.add_call_stream(DEMO_CALL)
    start = call.fragments[0].server_timestamp
    path = os.path.join(folder, "call.wav")
    result = kv.download_audio(
        stream_name=call.name, start=start, end=start + timedelta(minutes=1), path=path
    )
    print(
        f"Wrote the call {call.name!r} (Amazon Connect's layout) as a WAV: "
        f"{', '.join(map(str, result.tracks))}, {result.duration.total_seconds():g} s\n"
    )
    return path


def _serve(emu: Emulator, urls: dict[str, str], tell: Any) -> None:
    """Keep the emulator serving ``urls`` until stopped, having said how to play, reach and
    stop it."""
    with until_stopped():
        print("\nServing the sample until Ctrl-C; while it runs these URLs play:", file=tell)
        for kind, url in urls.items():
            print(f"{kind:<5} {url}", file=tell)
        print("For kvarchive, boto3 or the AWS CLI in another shell, paste there:", file=tell)
        print("\n".join(environment_lines(emu)), file=tell)
        print(
            "Open a URL with ffplay, mpv, VLC or Safari, or in a notebook with "
            "kvarchive.HLSPlayer(url) / DASHPlayer(url). Press Ctrl-C to stop.",
            file=tell,
        )
        for stream in (sys.stdout, tell):
            stream.flush()  # a reader of the pipe gets the URLs now, not at exit
        sleep_forever()
    print("Stopped: the emulator is closed and its URLs no longer play.", file=sys.stderr)
