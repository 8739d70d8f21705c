"""The benchmarks: one function per figure, each kvarchive against raw boto3 in the same run.

Every function takes a :class:`Context` and returns table rows. The
kvarchive clients of figures 1-5 are made with ``rate_limit=False``: the
client-side limiter spaces calls to each stream's documented rate (5/s for
ListFragments), which would measure the pacing, not the overhead. Figure 7
uses the default (paced) client, as a user would, and shows the unpaced one
for information.
"""

from __future__ import annotations

import gc
import inspect
import json
import os
import subprocess
import sys
import tracemalloc
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Optional

import splitter
from common import (
    BENCH_DIR,
    MB,
    MIB,
    REGION,
    EmulatorProcess,
    Row,
    StaticServer,
    StreamInfo,
    Timing,
    interleave,
    judge,
    median,
    paired_calls,
    target_row,
)
from follow_case import figure9_follow

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
    follow_seconds: float = 20.0  # figure 9: how long every follower runs, all at once
    follow_polls: tuple[float, ...] = (0.5, 1.0, 2.0)


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
    follow_seconds=6.0,
    follow_polls=(1.0,),
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


def _ratios(kv: list[float], base: list[float]) -> float:
    """Median over repetitions of kv/base (each repetition ran both sides back to back)."""
    return median([a / b for a, b in zip(kv, base)])


def _rates(timings: list[Timing]) -> list[float]:
    return [t.rate / MB for t in timings]


# -- figures 1 and 2: per-call overhead --------------------------------------------------


def _calls_stream(ctx: Context) -> StreamInfo:
    return ctx.stream("calls", fragment_count=100, payload_size=1024)


def _call_pairs(ctx: Context, kv: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Per operation: the kvarchive call and a function making the same call on a raw client."""
    stream = _calls_stream(ctx)
    start, end = stream.first, stream.first + timedelta(seconds=18)  # 10 fragments
    selector = {
        "FragmentSelectorType": "SERVER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end},
    }
    name = stream.name

    def kv_list() -> Any:
        return list(kv.list_fragments(stream_name=name, start=start, end=end).pages())

    def raw_list(client: Any) -> Any:
        return client.list_fragments(StreamName=name, MaxResults=1000, FragmentSelector=selector)

    def kv_hls() -> Any:
        return kv.get_hls_streaming_session_url(
            stream_name=name, playback_mode="ON_DEMAND", start=start, end=end
        )

    def raw_hls(client: Any) -> Any:
        # The same request kvarchive sends (it always sends these defaults).
        return client.get_hls_streaming_session_url(
            StreamName=name,
            PlaybackMode="ON_DEMAND",
            HLSFragmentSelector=selector,
            ContainerFormat="FRAGMENTED_MP4",
            DiscontinuityMode="ALWAYS",
            DisplayFragmentTimestamp="NEVER",
            Expires=300,
        )

    return {
        "list_fragments (1 page of 10)": (kv_list, raw_list),
        "get_hls_streaming_session_url": (kv_hls, raw_hls),
    }


def figure1_per_call(ctx: Context) -> list[Row]:
    """Per-call time of kvarchive vs a raw boto3 client created once on the data endpoint."""
    kv, raw = ctx.kv(), ctx.raw()
    rows = []
    for op, (kv_call, raw_call) in _call_pairs(ctx, kv).items():

        def reused(call: Callable[[Any], Any] = raw_call) -> Any:
            return call(raw)

        for _ in range(5):  # warm: endpoint resolved, connections open, models loaded
            kv_call()
            reused()
        kv_s, raw_s = paired_calls(kv_call, reused, reps=ctx.sizes.call_reps, calls=ctx.sizes.calls)
        rows.append(
            target_row(
                "1",
                f"{op}, per call",
                kv=median(kv_s) * 1e3,
                raw=median(raw_s) * 1e3,
                unit="ms",
                ratio=_ratios(kv_s, raw_s),
                op="<=",
                limit=1.05,
                n=ctx.sizes.call_reps,
                raw_label="raw client, reused",
            )
        )
    kv.close()
    raw.close()
    return rows


def figure2_naive(ctx: Context) -> list[Row]:
    """kvarchive vs the naive pattern: GetDataEndpoint and a new boto3 client for every call."""
    import boto3

    kv = ctx.kv()
    control = boto3.client("kinesisvideo", endpoint_url=ctx.emu.endpoint_url, region_name=REGION)
    api_names = {
        "list_fragments (1 page of 10)": "LIST_FRAGMENTS",
        "get_hls_streaming_session_url": "GET_HLS_STREAMING_SESSION_URL",
    }
    name = _calls_stream(ctx).name
    rows = []
    for op, (kv_call, raw_call) in _call_pairs(ctx, kv).items():

        def naive(call: Callable[[Any], Any] = raw_call, api: str = api_names[op]) -> Any:
            endpoint = control.get_data_endpoint(StreamName=name, APIName=api)["DataEndpoint"]
            client = boto3.client(
                "kinesis-video-archived-media", endpoint_url=endpoint, region_name=REGION
            )
            try:
                return call(client)
            finally:
                client.close()  # naive code leaks it; closing keeps the emulator's threads few

        for _ in range(2):
            kv_call()
            naive()
        kv_s, naive_s = paired_calls(
            kv_call, naive, reps=ctx.sizes.naive_reps, calls=ctx.sizes.naive_calls
        )
        rows.append(
            target_row(
                "2",
                f"{op}, per call",
                kv=median(kv_s) * 1e3,
                raw=median(naive_s) * 1e3,
                unit="ms",
                ratio=_ratios(naive_s, kv_s),
                op=">=",
                limit=2.5,
                n=ctx.sizes.naive_reps,
                raw_label="naive: endpoint + new client per call",
                ratio_text="naive/kv ",
            )
        )
    kv.close()
    control.close()
    return rows


# -- figures 3 and 4: one large media body -----------------------------------------------


def _media_stream(ctx: Context) -> StreamInfo:
    sizes = ctx.sizes
    return ctx.stream(
        "media",
        fragment_count=sizes.media_fragments,
        payload_size=sizes.media_payload,
        numbers=True,
    )


def _readers(
    kv: Any, raw: Any, stream: StreamInfo, counts: dict[str, dict[str, int]]
) -> dict[str, Callable[[], float]]:
    """Every way of reading ``stream``'s media body; each returns the bytes it saw.

    ``counts`` gets each fragment splitter's tally (pieces, broken pieces).
    """
    numbers, name = stream.numbers, stream.name

    def raw_read() -> int:
        total = 0
        body = raw.get_media_for_fragment_list(StreamName=name, Fragments=numbers)["Payload"]
        with body:
            while data := body.read(MIB):
                total += len(data)
        return total

    def kv_read() -> int:
        total = 0
        with kv.get_media_for_fragment_list(stream_name=name, fragments=numbers) as media:
            while data := media.read(MIB):
                total += len(data)
        return total

    def kv_chunks() -> int:
        total = 0
        with kv.get_media_for_fragment_list(stream_name=name, fragments=numbers) as media:
            for chunk in media.iter_chunks():
                total += len(chunk)
        return total

    def kv_fragments() -> int:
        total = found = 0
        with kv.get_media_for_fragment_list(stream_name=name, fragments=numbers) as media:
            for fragment in media.iter_fragments():
                total += len(fragment.data)
                found += 1
        counts["kv"] = {"pieces": found, "broken": 0}
        return total

    sides: dict[str, Callable[[], float]] = {
        "raw read": raw_read,
        "kv read": kv_read,
        "kv iter_chunks": kv_chunks,
        "kv iter_fragments": kv_fragments,
    }
    if splitter.available() is None:
        schema = splitter.load_schema()

        def ebmlite_split() -> int:
            total = 0
            tally: dict[str, int] = {}
            body = raw.get_media_for_fragment_list(StreamName=name, Fragments=numbers)["Payload"]
            with body:
                for _, _, _, piece, _ in splitter.split_fragments(body, schema, tally):
                    total += len(piece)
            counts["ebmlite"] = tally
            return total

        sides["ebmlite splitter"] = ebmlite_split
    return sides


def _checked(sides: dict[str, Callable[[], float]], stream: StreamInfo) -> None:
    """Run each reader once (a warm-up) and check that it saw every byte."""
    for name, side in sides.items():
        got = side()
        if got != stream.total_size:
            raise RuntimeError(f"{name} saw {got} bytes of {stream.total_size}")


def figures3_4_media(ctx: Context) -> list[Row]:
    """Throughput of reading one GetMediaForFragmentList body, every reader interleaved."""
    stream = _media_stream(ctx)
    kv, raw = ctx.kv(), ctx.raw()
    counts: dict[str, dict[str, int]] = {}
    sides = _readers(kv, raw, stream, counts)
    missing = splitter.available()
    _checked(sides, stream)
    runs = interleave(sides, ctx.sizes.media_reps, ctx.emu.cpu_seconds)
    rates = {side: _rates(timings) for side, timings in runs.items()}
    reps = ctx.sizes.media_reps
    size_text = f"{stream.total_size / MIB:.0f} MiB, {stream.count} fragments"
    rows = [
        target_row(
            "3",
            f"read(1 MiB) of {size_text}",
            kv=median(rates["kv read"]),
            raw=median(rates["raw read"]),
            unit="MB/s",
            ratio=_ratios(rates["kv read"], rates["raw read"]),
            op=">=",
            limit=0.9,
            n=reps,
            raw_label="StreamingBody.read(1 MiB)",
        ),
        target_row(
            "3",
            "iter_chunks() of the same body",
            kv=median(rates["kv iter_chunks"]),
            raw=median(rates["raw read"]),
            unit="MB/s",
            ratio=_ratios(rates["kv iter_chunks"], rates["raw read"]),
            op=">=",
            limit=0.9,
            n=reps,
            raw_label="StreamingBody.read(1 MiB)",
        ),
    ]
    rows.append(_media_memory(ctx, stream))
    rows.append(
        target_row(
            "4",
            "iter_fragments() vs raw read",
            kv=median(rates["kv iter_fragments"]),
            raw=median(rates["raw read"]),
            unit="MB/s",
            ratio=_ratios(rates["kv iter_fragments"], rates["raw read"]),
            op=">=",
            limit=0.7,
            n=reps,
            raw_label="StreamingBody.read(1 MiB)",
        )
    )
    if missing is None:
        rows.append(
            target_row(
                "4",
                "iter_fragments() vs ebmlite magic splitter",
                kv=median(rates["kv iter_fragments"]),
                raw=median(rates["ebmlite splitter"]),
                unit="MB/s",
                ratio=_ratios(rates["kv iter_fragments"], rates["ebmlite splitter"]),
                op=">=",
                limit=2.0,
                n=reps,
                raw_label="raw read + ebmlite magic-byte splitter",
            )
        )
        tally = counts["ebmlite"]
        correct = tally.get("pieces") == stream.count and not tally.get("broken")
        ctx.note(
            "4",
            f"the magic-byte splitter is also wrong: it cut {tally.get('pieces')} pieces from "
            f"{stream.count} fragments ({tally.get('broken', 0)} pieces without a fragment "
            f"number: frames containing 1A 45 DF A3 were cut) -> "
            f"{'correct' if correct else 'WRONG'}; kvarchive iter_fragments found "
            f"{counts['kv']['pieces']} of {stream.count}",
        )
    else:
        rows.append(
            Row(
                "4",
                "iter_fragments() vs ebmlite magic splitter",
                None,
                None,
                "MB/s",
                None,
                ">= 2",
                "skipped",
                0,
                "ebmlite",
                note=missing,
            )
        )
    _cpu_note(ctx, "3-4", runs)
    if missing is None:
        rows.extend(_small_fragments(ctx, kv, raw))
    rows.extend(_fast_double(ctx, stream, raw))
    kv.close()
    raw.close()
    return rows


def _cpu_note(
    ctx: Context, figure: str, runs: dict[str, list[Timing]], server: str = "emulator"
) -> None:
    """Note each reader's client CPU throughput and how busy the server was."""
    parts = []
    for side, timings in runs.items():
        cpu_rate = median([t.cpu_rate / MB for t in timings])
        busy = median([t.server_cpu / t.wall for t in timings])
        parts.append(f"{side} {cpu_rate:.0f} MB/cpu-s ({server} {busy:.2f} cores)")
    ctx.note(
        figure,
        f"reading process CPU throughput, and {server} CPU use meanwhile (near 1.0 core: the "
        f"{server}, not the reader, set the wall-clock rate): " + "; ".join(parts),
    )


def _fast_double(ctx: Context, stream: StreamInfo, emulator_raw: Any) -> list[Row]:
    """Figures 3-4 again against a double that serves the same body at kernel speed (info).

    There the reading process's CPU sets the rate, which is what kvarchive's own
    costs weigh against.
    """
    from kvarchive import ArchivedMediaClient

    body_path = ctx.tmpdir / "media-body.mkv"
    payload = emulator_raw.get_media_for_fragment_list(
        StreamName=stream.name, Fragments=stream.numbers
    )["Payload"]
    with payload, open(body_path, "wb") as out:
        while data := payload.read(MIB):
            out.write(data)
    with StaticServer(body_path) as server:
        kv = ArchivedMediaClient(endpoint_url=server.url, region_name=REGION, rate_limit=False)
        raw = ctx.raw(endpoint_url=server.url)
        readers = _readers(kv, raw, stream, {})
        sides = {name: readers[name] for name in ("raw read", "kv read", "kv iter_fragments")}
        _checked(sides, stream)
        runs = interleave(sides, ctx.sizes.media_reps, server.cpu_seconds)
        kv.close()
        raw.close()
    body_path.unlink()
    _cpu_note(ctx, "3-4 fast double", runs, server="static server")
    rates = {side: _rates(timings) for side, timings in runs.items()}
    return [
        Row(
            "3",
            f"  {label} vs raw read, fast double (sendfile)",
            median(rates[side]),
            median(rates["raw read"]),
            "MB/s",
            _ratios(rates[side], rates["raw read"]),
            f"(info) >= {limit}",
            "info",
            ctx.sizes.media_reps,
            "StreamingBody.read(1 MiB)",
        )
        for label, side, limit in (
            ("read(1 MiB)", "kv read", 0.9),
            ("iter_fragments()", "kv iter_fragments", 0.7),
        )
    ]


def _small_fragments(ctx: Context, kv: Any, raw: Any) -> list[Row]:
    """Figure 4 again on smaller fragments, where per-fragment costs weigh more (info)."""
    sizes = ctx.sizes
    stream = ctx.stream(
        "media-small",
        fragment_count=sizes.small_fragments,
        payload_size=sizes.small_payload,
        numbers=True,
    )
    counts: dict[str, dict[str, int]] = {}
    readers = _readers(kv, raw, stream, counts)
    sides = {name: readers[name] for name in ("raw read", "kv iter_fragments", "ebmlite splitter")}
    _checked(sides, stream)
    runs = interleave(sides, sizes.media_reps, ctx.emu.cpu_seconds)
    # The emulator cannot serve small fragments fast (it is CPU-bound near 60 MB/s),
    # so these rows compare MB per CPU-second of the reading process, not wall clock.
    rates = {side: [t.cpu_rate / MB for t in timings] for side, timings in runs.items()}
    _cpu_note(ctx, "4 small", runs)
    text = f"{stream.total_size / MIB:.0f} MiB, {stream.count} x {sizes.small_payload >> 10} KiB"
    return [
        Row(
            "4",
            f"  iter_fragments() vs raw read, {text}",
            median(rates["kv iter_fragments"]),
            median(rates["raw read"]),
            "MB/cpu-s",
            _ratios(rates["kv iter_fragments"], rates["raw read"]),
            "(info) >= 0.7",
            "info",
            sizes.media_reps,
            "StreamingBody.read(1 MiB)",
        ),
        Row(
            "4",
            "  iter_fragments() vs ebmlite splitter, same",
            median(rates["kv iter_fragments"]),
            median(rates["ebmlite splitter"]),
            "MB/cpu-s",
            _ratios(rates["kv iter_fragments"], rates["ebmlite splitter"]),
            "(info) >= 2",
            "info",
            sizes.media_reps,
            "raw read + ebmlite magic-byte splitter",
        ),
    ]


def _media_memory(ctx: Context, stream: StreamInfo) -> Row:
    """Peak RSS growth of one read(1 MiB) pass, each in a fresh process, interleaved."""
    numbers_file = ctx.tmpdir / "media-numbers.json"
    numbers_file.write_text(json.dumps(stream.numbers))

    def child(side: str) -> dict[str, Any]:
        out = subprocess.run(
            [
                sys.executable,
                str(BENCH_DIR / "child.py"),
                side,
                ctx.emu.endpoint_url,
                ctx.emu.data_endpoint_url,
                stream.name,
                str(numbers_file),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        if result["bytes"] != stream.total_size:
            raise RuntimeError(f"{side} child read {result['bytes']} of {stream.total_size}")
        return result

    growth: dict[str, list[float]] = {"kv": [], "raw": []}
    method = ""
    for rep in range(ctx.sizes.memory_reps):
        for side in ("kv", "raw") if rep % 2 == 0 else ("raw", "kv"):
            result = child(side)
            growth[side].append(result["growth_mb"])
            method = result["method"]
    kv_mb, raw_mb = median(growth["kv"]), median(growth["raw"])
    ctx.note("3", f"memory: peak RSS minus RSS before the request, fresh process each ({method})")
    return Row(
        "3",
        "peak RSS growth of that read(1 MiB) pass",
        kv_mb,
        raw_mb,
        "MB",
        None,
        "kv <= 64 MB",
        judge(kv_mb, "<=", 64),
        ctx.sizes.memory_reps,
        "StreamingBody.read(1 MiB)",
    )


# -- figure 5: listing many fragments ----------------------------------------------------


def figure5_listing(ctx: Context) -> list[Row]:
    """Listing a large range, sorted: kvarchive vs boto3's paginator plus a sort."""
    count = ctx.sizes.list_count
    stream = ctx.stream("many", fragment_count=count, payload_size=16, fragment_duration_ms=10)
    kv, raw = ctx.kv(), ctx.raw()
    # Padded by a second: boto3 sends whole seconds, which would cut the ends off.
    start, end = stream.first - timedelta(seconds=1), stream.last + timedelta(seconds=1)
    selector = {
        "FragmentSelectorType": "SERVER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end},
    }

    def kv_list() -> list[Any]:
        return list(kv.list_fragments(stream_name=stream.name, start=start, end=end))

    def raw_list() -> list[Any]:
        paginator = raw.get_paginator("list_fragments")
        fragments: list[Any] = []
        for page in paginator.paginate(
            StreamName=stream.name,
            FragmentSelector=selector,
            PaginationConfig={"PageSize": 1000},
        ):
            fragments.extend(page["Fragments"])
        fragments.sort(key=lambda f: (f["ServerTimestamp"], int(f["FragmentNumber"])))
        return fragments

    def counted(fn: Callable[[], list[Any]]) -> Callable[[], float]:
        def run() -> float:
            found = len(fn())
            if found != count:
                raise RuntimeError(f"listed {found} fragments of {count}")
            return found

        return run

    runs = interleave({"kv": counted(kv_list), "raw": counted(raw_list)}, ctx.sizes.list_reps)
    kv_s = [t.wall for t in runs["kv"]]
    raw_s = [t.wall for t in runs["raw"]]
    memory = {"kv": _traced(kv_list), "raw": _traced(raw_list)}
    label = "paginator + sort by (ServerTimestamp, int(number))"
    rows = [
        target_row(
            "5",
            f"list {count:,} fragments, sorted: time",
            kv=median(kv_s),
            raw=median(raw_s),
            unit="s",
            ratio=_ratios(kv_s, raw_s),
            op="<=",
            limit=0.8,
            n=ctx.sizes.list_reps,
            raw_label=label,
        ),
        target_row(
            "5",
            "  peak traced memory while listing",
            kv=memory["kv"][1] / MB,
            raw=memory["raw"][1] / MB,
            unit="MB",
            ratio=memory["kv"][1] / memory["raw"][1],
            op="<=",
            limit=0.6,
            n=1,
            raw_label=label,
        ),
        Row(
            "5",
            "  retained memory of the result",
            memory["kv"][0] / MB,
            memory["raw"][0] / MB,
            "MB",
            memory["kv"][0] / memory["raw"][0],
            "(info)",
            "info",
            1,
            label,
        ),
    ]
    cpu = {side: median([t.cpu for t in timings]) for side, timings in runs.items()}
    ctx.note(
        "5",
        f"client CPU seconds: kv {cpu['kv']:.2f}, raw {cpu['raw']:.2f} (the rest of the wall "
        "time is the emulator's); memory by tracemalloc in separate runs from the timing runs",
    )
    kv.close()
    raw.close()
    return rows


def _traced(fn: Callable[[], Any]) -> tuple[int, int]:
    """(bytes still held with the result alive, peak bytes) allocated while running ``fn``."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return current - base, peak - base


# -- figure 6: import time ---------------------------------------------------------------


def figure6_import(ctx: Context) -> list[Row]:
    """Wall time of fresh ``python -c`` processes importing kvarchive vs boto3."""
    endpoint = ctx.emu.endpoint_url

    def process(code: str) -> Callable[[], float]:
        def run() -> float:
            subprocess.run([sys.executable, "-c", code], check=True)
            return 1.0

        return run

    client_kv = (
        "import kvarchive; kvarchive.ArchivedMediaClient("
        f"endpoint_url={endpoint!r}, region_name={REGION!r})"
    )
    client_raw = (
        "import boto3; boto3.client('kinesis-video-archived-media', "
        f"endpoint_url={endpoint!r}, region_name={REGION!r})"
    )
    sides = {
        "kv": process("import kvarchive"),
        "raw": process("import boto3"),
        "kv client": process(client_kv),
        "raw client": process(client_raw),
    }
    runs = interleave(sides, ctx.sizes.import_reps)
    ms = {side: [t.wall * 1e3 for t in timings] for side, timings in runs.items()}
    diff = median([a - b for a, b in zip(ms["kv"], ms["raw"])])
    client_diff = median([a - b for a, b in zip(ms["kv client"], ms["raw client"])])
    eager = _imports_boto3()
    ctx.note(
        "6",
        "wall clock of whole `python -c` processes (interpreter start included on both sides); "
        f"`import kvarchive` {'IMPORTS' if eager else 'does not import'} boto3; "
        "ArchivedMediaClient(...) makes its boto3 Session but no botocore client until the "
        "first call, so the second row compares unequal work",
    )
    n = ctx.sizes.import_reps
    return [
        target_row(
            "6",
            "import kvarchive (vs import boto3)",
            kv=median(ms["kv"]),
            raw=median(ms["raw"]),
            unit="ms",
            ratio=diff,
            op="<=",
            limit=20,
            n=n,
            raw_label="import boto3",
            ratio_text="kv-raw ",
            limit_text="+20 ms",
            ratio_format="{:+.0f} ms",
        ),
        Row(
            "6",
            "import + ArchivedMediaClient(...) vs + boto3.client(...)",
            median(ms["kv client"]),
            median(ms["raw client"]),
            "ms",
            client_diff,
            "(info)",
            "info",
            n,
            "import boto3; boto3.client(...)",
            ratio_format="{:+.0f} ms",
        ),
    ]


def _imports_boto3() -> bool:
    """Whether ``import kvarchive`` alone loads boto3 (checked in a fresh process)."""
    code = "import sys, kvarchive; print('boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.strip() == "True"


# -- figure 7: parallel download ---------------------------------------------------------


def figure7_download(ctx: Context) -> list[Row]:
    """download(concurrency=4) vs concurrency=1 with a per-connection bandwidth cap."""
    from kvarchive import ArchivedMediaClient

    if "concurrency" not in inspect.signature(ArchivedMediaClient.download).parameters:
        return [
            Row(
                "7",
                "download() throughput, concurrency 4 vs 1",
                None,
                None,
                "MB/s",
                None,
                ">= 3.4",
                "n/a",
                0,
                note="not available: download() has no concurrency parameter yet",
            )
        ]
    sizes = ctx.sizes
    stream = ctx.stream(
        "download", fragment_count=sizes.download_fragments, payload_size=sizes.download_payload
    )
    paced, unpaced = ctx.kv(rate_limit=True), ctx.kv(rate_limit=False)
    target = ctx.tmpdir / "download.mkv"

    def download(client: Any, concurrency: int) -> Callable[[], float]:
        def run() -> float:
            result = client.download(
                stream_name=stream.name,
                start=stream.first,
                end=stream.last,
                path=target,
                concurrency=concurrency,
            )
            if result.fragment_count != stream.count:
                raise RuntimeError(f"downloaded {result.fragment_count} of {stream.count}")
            os.unlink(target)
            return float(result.bytes_written)

        return run

    sides = {
        "c1": download(paced, 1),
        "c4": download(paced, 4),
        "c4 unpaced": download(unpaced, 4),
    }
    ctx.emu.bandwidth(sizes.download_bandwidth)
    try:
        runs = interleave(sides, sizes.download_reps)
    finally:
        ctx.emu.bandwidth(None)
    rates = {side: _rates(timings) for side, timings in runs.items()}
    cap = f"{sizes.download_bandwidth / MB:g} MB/s per connection"
    size_text = f"{stream.total_size / MIB:.0f} MiB"
    ctx.note(
        "7",
        f"emulator capped at {cap}; {stream.count} fragments, {size_text}; the first row uses "
        "the default client (rate limiter on: GetMediaForFragmentList paced to 5 calls/s per "
        "stream), the second rate_limit=False",
    )
    return [
        target_row(
            "7",
            f"download() {size_text} at {cap}: conc 4 vs 1",
            kv=median(rates["c4"]),
            raw=median(rates["c1"]),
            unit="MB/s",
            ratio=_ratios(rates["c4"], rates["c1"]),
            op=">=",
            limit=3.4,
            n=sizes.download_reps,
            raw_label="kvarchive concurrency=1",
            ratio_text="c4/c1 ",
        ),
        Row(
            "7",
            "  same, rate_limit=False",
            median(rates["c4 unpaced"]),
            median(rates["c1"]),
            "MB/s",
            _ratios(rates["c4 unpaced"], rates["c1"]),
            "(info) >= 3.4",
            "info",
            sizes.download_reps,
            "kvarchive concurrency=1",
        ),
    ]


FIGURES: dict[str, Callable[[Context], list[Row]]] = {
    "1": figure1_per_call,
    "2": figure2_naive,
    "3": figures3_4_media,  # also figure 4: one interleaved run of every reader
    "5": figure5_listing,
    "6": figure6_import,
    "7": figure7_download,
    "9": figure9_follow,
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
