"""Plumbing shared by the benchmarks: environment, emulator process, timing, memory, results."""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

BENCH_DIR = Path(__file__).resolve().parent
REGION = "us-east-1"
MB = 1_000_000
MIB = 1 << 20

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDKVARCHIVEBENCH",
    "AWS_SECRET_ACCESS_KEY": "kvarchive-bench-not-a-secret",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def use_dummy_credentials() -> None:
    """Point boto3 at dummy credentials and no config files (set before any client)."""
    os.environ.update(DUMMY_ENV)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)


# -- the emulator, in a process of its own ---------------------------------------------


@dataclass
class StreamInfo:
    """What the emulator process says about a stream it created."""

    name: str
    count: int
    first: datetime
    last: datetime
    total_size: int
    numbers: list[str] = field(default_factory=list)


class EmulatorProcess:
    """``kvarchive.testing.Emulator`` running in a child process (see emulator_proc.py)."""

    def __init__(self, *, plain: bool = False) -> None:
        extra = ["--plain"] if plain else []
        self._proc = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "emulator_proc.py"), *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        hello = self._reply()
        self.endpoint_url: str = hello["endpoint_url"]
        self.data_endpoint_url: str = hello["data_endpoint_url"]
        self.media_cache: bool = hello["media_cache"]

    def _reply(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the emulator process exited (code {self._proc.poll()})")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"emulator process: {reply['error']}")
        return reply

    def _request(self, **request: Any) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        return self._reply()

    def add_stream(self, name: str, *, numbers: bool = False, **kwargs: Any) -> StreamInfo:
        """``Emulator.add_stream(name, **kwargs)``; ``numbers`` returns the fragment numbers."""
        info = self._request(op="add", name=name, numbers=numbers, **kwargs)
        return StreamInfo(
            name=name,
            count=info["count"],
            first=from_ms(info["first_ms"]),
            last=from_ms(info["last_ms"]),
            total_size=info["total_size"],
            numbers=info.get("numbers", []),
        )

    def cpu_seconds(self) -> float:
        """CPU seconds the emulator process has used so far (0.0 where /proc is missing)."""
        return process_cpu_seconds(self._proc.pid)

    def bandwidth(self, bytes_per_second: Optional[int]) -> None:
        """``Emulator.bandwidth``: cap each connection's body rate (None lifts it)."""
        self._request(op="bandwidth", bytes_per_second=bytes_per_second)

    def throttle(self, operation: str, per_second: Optional[float]) -> None:
        """``Emulator.throttle``: refuse calls of ``operation`` over ``per_second`` per stream."""
        self._request(op="throttle", operation=operation, per_second=per_second)

    def throttled_count(self) -> int:
        """``Emulator.throttled_count``: calls refused by throttling so far."""
        return int(self._request(op="throttled")["count"])

    def reset_faults(self) -> None:
        """``Emulator.reset_faults``: no throttling, no bandwidth cap, the count at zero."""
        self._request(op="reset_faults")

    def close(self) -> None:
        """Stop the emulator process (ours: started in ``__init__``)."""
        if self._proc.poll() is None:
            try:
                self._request(op="quit")
                self._proc.wait(timeout=10)
            except (OSError, RuntimeError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class StaticServer:
    """``static_server.py`` in a child process: one body file served fast (figures 3-4)."""

    def __init__(self, body_path: Path) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "static_server.py"), str(body_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        self.url: str = json.loads(self._proc.stdout.readline())["url"]

    def cpu_seconds(self) -> float:
        """CPU seconds the server process has used so far (0.0 where /proc is missing)."""
        return process_cpu_seconds(self._proc.pid)

    def __enter__(self) -> StaticServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds process ``pid`` has used so far (0.0 where /proc is missing)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def from_ms(ms: int) -> datetime:
    """An aware UTC datetime from epoch milliseconds (exact, no float rounding)."""
    return _EPOCH + timedelta(milliseconds=ms)


# -- timing ------------------------------------------------------------------------------


class Timing(NamedTuple):
    """One measured run: wall seconds, CPU seconds of this process, units of work done,
    and CPU seconds of the emulator process meanwhile (0.0 when not measured)."""

    wall: float
    cpu: float
    units: float
    server_cpu: float = 0.0

    @property
    def rate(self) -> float:
        """Units per wall-clock second."""
        return self.units / self.wall if self.wall > 0 else float("inf")

    @property
    def cpu_rate(self) -> float:
        """Units per CPU second of this process."""
        return self.units / self.cpu if self.cpu > 0 else float("inf")


def timed(fn: Callable[[], float], server_cpu: Optional[Callable[[], float]] = None) -> Timing:
    """Run ``fn`` once (after a collection) and time it; ``fn`` returns its units of work."""
    gc.collect()
    server = server_cpu() if server_cpu else 0.0
    cpu = time.process_time()
    start = time.perf_counter()
    units = fn()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    server = server_cpu() - server if server_cpu else 0.0
    return Timing(wall, cpu, units, server)


def interleave(
    sides: Mapping[str, Callable[[], float]],
    reps: int,
    server_cpu: Optional[Callable[[], float]] = None,
) -> dict[str, list[Timing]]:
    """Time each side once per repetition, in turn (A B C, C B A, ...) to cancel drift."""
    names = list(sides)
    results: dict[str, list[Timing]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else reversed(names):
            results[name].append(timed(sides[name], server_cpu))
    return results


def paired_calls(
    a: Callable[[], object], b: Callable[[], object], *, reps: int, calls: int
) -> tuple[list[float], list[float]]:
    """Seconds per call of ``a`` and ``b``, alternated call by call.

    Each repetition makes ``calls`` calls of each (which goes first alternates)
    and keeps the median call of each side; the lists hold one value per repetition.
    """
    per_rep_a: list[float] = []
    per_rep_b: list[float] = []
    clock = time.perf_counter
    for rep in range(reps):
        times_a: list[float] = []
        times_b: list[float] = []
        gc.collect()
        for i in range(calls):
            order = ((a, times_a), (b, times_b))
            if (i + rep) % 2:
                order = order[::-1]
            for fn, out in order:
                start = clock()
                fn()
                out.append(clock() - start)
        per_rep_a.append(statistics.median(times_a))
        per_rep_b.append(statistics.median(times_b))
    return per_rep_a, per_rep_b


def median(values: Sequence[float]) -> float:
    """The median (of repetitions)."""
    return statistics.median(values)


def median_ratio(kv: list[float], base: list[float]) -> float:
    """Median over repetitions of kv/base (each repetition ran both sides back to back)."""
    return median([a / b for a, b in zip(kv, base)])


def mb_rates(timings: list[Timing]) -> list[float]:
    """Each run's rate in MB/s."""
    return [t.rate / MB for t in timings]


# -- memory ------------------------------------------------------------------------------


def proc_status_kb(*keys: str) -> dict[str, int]:
    """Selected ``/proc/self/status`` fields, in kB (Linux only)."""
    found: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in keys:
                found[key] = int(value.split()[0])
    return found


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


# -- results -----------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table.

    ``ratio`` is what ``target`` is checked against (see the figure's text for
    which way round); ``status`` is PASS, FAIL, info, n/a or skipped.
    """

    figure: str
    name: str
    kv: Optional[float]
    raw: Optional[float]
    unit: str
    ratio: Optional[float]
    target: str
    status: str
    n: int
    raw_label: str = "raw boto3"
    note: str = ""
    ratio_format: str = "{:.2f}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge(value: Optional[float], op: str, limit: float) -> str:
    """PASS or FAIL for ``value op limit`` (op: "<=" or ">=")."""
    if value is None:
        return "n/a"
    ok = value <= limit if op == "<=" else value >= limit
    return "PASS" if ok else "FAIL"


def target_row(
    figure: str,
    name: str,
    *,
    kv: Optional[float],
    raw: Optional[float],
    unit: str,
    ratio: Optional[float],
    op: str,
    limit: float,
    n: int,
    raw_label: str = "raw boto3",
    ratio_text: str = "",
    limit_text: str = "",
    note: str = "",
    ratio_format: str = "{:.2f}",
) -> Row:
    """A row judged against ``ratio op limit``."""
    target = f"{ratio_text}{op} {limit_text or format(limit, 'g')}"
    status = judge(ratio, op, limit)
    return Row(figure, name, kv, raw, unit, ratio, target, status, n, raw_label, note, ratio_format)


# -- machine -----------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """What ran the benchmarks: platform, CPUs, Python and library versions."""
    import boto3
    import botocore
    import urllib3

    import kvarchive

    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    optional = {}
    for module in ("ebmlite", "pyinstrument"):
        try:
            imported = __import__(module)
            optional[module] = getattr(imported, "__version__", "installed")
        except ImportError:
            optional[module] = "not installed"
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "python": platform.python_version(),
        "python_impl": platform.python_implementation(),
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "urllib3": urllib3.__version__,
        "kvarchive": kvarchive.__version__,
        **optional,
    }
