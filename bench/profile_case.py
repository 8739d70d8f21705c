"""Profile one kvarchive path of the benchmarks against the emulator (no library edits).

    python bench/profile_case.py iter-fragments          # pyinstrument if installed
    python bench/profile_case.py hls --tool cprofile     # cProfile, top functions by self time
    python bench/profile_case.py list-many --quick

Cases: list-call, hls (figure 1), read, iter-fragments (figures 3-4),
list-many (figure 5), download (figure 7, concurrency 4, capped bandwidth).
The emulator runs in its own process, so the profile holds only the client.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from common import MB, MIB, EmulatorProcess, use_dummy_credentials

CASES = ("list-call", "hls", "read", "iter-fragments", "list-many", "download")


def _workload(case: str, emu: EmulatorProcess, quick: bool, tmp: Path) -> Callable[[], Any]:
    """Set up ``case`` (untimed) and return the function to profile."""
    from kvarchive import ArchivedMediaClient

    kv = ArchivedMediaClient(
        endpoint_url=emu.endpoint_url, region_name="us-east-1", rate_limit=False
    )
    if case in ("list-call", "hls"):
        stream = emu.add_stream("calls", fragment_count=100, payload_size=1024)
        start, end = stream.first, stream.first + timedelta(seconds=18)
        calls = 300 if quick else 2000

        def one() -> Any:
            if case == "hls":
                return kv.get_hls_streaming_session_url(
                    stream_name="calls", playback_mode="ON_DEMAND", start=start, end=end
                )
            return list(kv.list_fragments(stream_name="calls", start=start, end=end).pages())

        one()

        def many() -> None:
            for _ in range(calls):
                one()

        return many
    if case in ("read", "iter-fragments"):
        count = 256 if quick else 1000
        stream = emu.add_stream(
            "media", fragment_count=count, payload_size=512 * MIB // 1000, numbers=True
        )

        def media() -> int:
            total = 0
            with kv.get_media_for_fragment_list(
                stream_name="media", fragments=stream.numbers
            ) as body:
                if case == "read":
                    while data := body.read(MIB):
                        total += len(data)
                else:
                    for fragment in body.iter_fragments():
                        total += len(fragment.data)
            return total

        return media
    if case == "list-many":
        count = 20_000 if quick else 100_000
        stream = emu.add_stream(
            "many", fragment_count=count, payload_size=16, fragment_duration_ms=10
        )
        return lambda: list(
            kv.list_fragments(stream_name="many", start=stream.first, end=stream.last)
        )
    stream = emu.add_stream("download", fragment_count=256, payload_size=256 * 1024)
    emu.bandwidth(8 * MB)
    paced = ArchivedMediaClient(endpoint_url=emu.endpoint_url, region_name="us-east-1")
    target = tmp / "download.mkv"

    def download() -> Any:
        result = paced.download(
            stream_name="download", start=stream.first, end=stream.last, path=target, concurrency=4
        )
        os.unlink(target)
        return result

    return download


def main() -> int:
    """Profile the chosen case and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("case", choices=CASES)
    parser.add_argument("--quick", action="store_true", help="smaller workload")
    parser.add_argument("--tool", choices=("pyinstrument", "cprofile"), default=None)
    parser.add_argument("--top", type=int, default=25, help="cProfile rows to print")
    args = parser.parse_args()
    use_dummy_credentials()
    tool = args.tool
    if tool is None:
        try:
            import pyinstrument  # noqa: F401

            tool = "pyinstrument"
        except ImportError:
            tool = "cprofile"
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as emu:
        work = _workload(args.case, emu, args.quick, Path(tmp))
        work()  # warm: endpoints resolved, connections open
        if tool == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            work()
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        else:
            profile = cProfile.Profile()
            profile.enable()
            work()
            profile.disable()
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
