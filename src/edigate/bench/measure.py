"""Light measuring helpers (no database, no gateway), so a child measuring the translation
path imports only that path: RSS, percentiles, CPU pinning, cProfile, child processes."""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import EdigateError

RESULT_MARK = "BENCH-RESULT "


def peak_rss_mb() -> float:
    """This process's own peak resident set since it started its program.

    ``VmHWM``, not ``ru_maxrss``: Linux keeps the larger ``ru_maxrss`` across fork and
    exec, so a child started by a 250 MB harness reports at least 250 MB, whatever it used.
    ``ru_maxrss`` (KiB on Linux) only where /proc cannot be read.
    """
    own = proc_status_mb("VmHWM")
    return own if own is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: How far above this process's peak a child's ``ru_maxrss`` must be to be its own.
INHERITED_SLACK_MB = 8.0


class ChildPeak:
    """A child's own peak RSS, measured from outside while it runs.

    ``wait4`` gives ``ru_maxrss``: the larger of the child's own peak and what it inherited
    from this process (see :func:`peak_rss_mb`). When it exceeds this process's peak by more
    than ``INHERITED_SLACK_MB`` it is the child's own, exactly; otherwise the child's
    ``VmHWM`` (a high-water mark, so any sample after the peak has it), sampled at each
    :meth:`sample` (every 50 ms while the harness waits), stands for it: a peak reached in
    the last interval before exit, or by a child that lives less than one, is missed (it
    read 29-31 MB for a 46 MB child that exited at once). The bench's workers run for
    seconds and peak while they work.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.sampled = 0.0
        self.inherited = peak_rss_mb()

    def sample(self) -> None:
        now = proc_status_mb("VmHWM", self.pid)
        if now is not None and now > self.sampled:
            self.sampled = now

    def of(self, ru_maxrss_kib: int) -> float:
        """The child's peak in MiB, given the ``ru_maxrss`` its ``wait4`` reported.

        What the child inherited can come out a little above this process's ``VmHWM``
        read a moment later (the kernel syncs per-thread RSS counters lazily): 489 MB
        was once reported for a 10 MB child of a 489 MB harness. So ``ru_maxrss`` counts
        as the child's own only when clearly above (``INHERITED_SLACK_MB``)."""
        reported = ru_maxrss_kib / 1024
        if reported > self.inherited + INHERITED_SLACK_MB or not self.sampled:
            return reported
        return self.sampled


def proc_status_mb(key: str, pid: int | str = "self") -> float | None:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process (or of running ``pid``) from
    /proc, in MiB; None when unreadable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def steady_rate(times: list[float]) -> float:
    """Events per second between the 10th and the 90th percentile of their ``times``
    (seconds): the rate kept up, without the run's start nor the tail of its last
    events' latency (which ``count / total time`` counts in). 0 for fewer than 10 times
    or none apart."""
    ordered = sorted(times)
    if len(ordered) < 10:
        return 0.0
    low, high = len(ordered) // 10, len(ordered) * 9 // 10
    span = ordered[high] - ordered[low]
    return (high - low) / span if span > 0 else 0.0


#: What is left of a run once its start-up is taken off counts only when it is at least
#: this share of the start-up (and MIN_MEASURED_S): start-up moves from run to run by a
#: good part of itself, so a smaller remainder is mostly that movement.
STARTUP_SHARE = 0.5
MIN_MEASURED_S = 0.25


def less_startup(total: float, startup: float, *, floor: float = MIN_MEASURED_S) -> float | None:
    """``total`` less ``startup`` (seconds, wall or CPU, measured alike), or None when the
    rest is too small to measure: dividing by it gave 12 files in 1e-9 s, 12 billion/s."""
    left = total - startup
    return left if left >= max(floor, startup * STARTUP_SHARE) else None


def pin_one_cpu() -> int | None:
    """Run this process on one CPU (the lowest allowed); returns it, None if unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


class Profiler:
    """cProfile around a callable (in whatever thread runs it); writes the top functions."""

    def __init__(self, out: Path | None, name: str) -> None:
        self.out = out
        self.name = name
        self.profile = cProfile.Profile() if out is not None else None

    def wrap(self, target: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            if self.profile is None:
                target()
                return
            self.profile.enable()
            try:
                target()
            finally:
                self.profile.disable()

        return run

    def run(self, target: Callable[[], Any]) -> None:
        """Run ``target`` here, profiled, and write the result."""
        self.wrap(target)()
        self.write()

    def write(self, top: int = 40) -> Path | None:
        if self.profile is None or self.out is None:
            return None
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / f"{self.name}.txt"
        text = io.StringIO()
        stats = pstats.Stats(self.profile, stream=text)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        path.write_text(text.getvalue(), encoding="utf-8")
        self.profile.dump_stats(str(self.out / f"{self.name}.prof"))
        return path


def run_child(task: str, *, timeout: float = 1800.0, **kwargs: Any) -> dict[str, Any]:
    """Run ``edigate.bench.child <task>`` in a fresh interpreter; returns its JSON result."""
    command = [sys.executable, "-m", "edigate.bench.child", task, json.dumps(kwargs, default=str)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK) :])
            return result
    raise EdigateError(
        f"benchmark child {task!r} failed (exit {proc.returncode}):\n"
        f"{(proc.stderr or proc.stdout)[-3000:]}"
    )


class CpuSampler:
    """Where the machine's CPU went during a run, by process: samples ``/proc/<pid>/stat``
    every ``interval`` in a thread, so processes that come and go (the workers, PostgreSQL's
    backend per connection) are counted up to their last sample.

    Labels: ``harness`` (this process), ``names[pid]`` or ``harness children`` for this
    process's descendants, ``postgres``, and ``other: <command>`` for everything else on the
    machine: CPU the benchmark did not use but had to share (another test run, say).
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.names: dict[int, str] = {}
        self._first: dict[int, int] = {}
        self._last: dict[int, tuple[str, int, int]] = {}  # pid -> comm, ppid, jiffies
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __enter__(self) -> CpuSampler:
        self._sample(first=True)
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self, first: bool = False) -> None:
        if not os.path.isdir("/proc"):
            return
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                    raw = stat.read()
            except OSError:
                continue
            comm = raw[raw.find("(") + 1 : raw.rfind(")")]
            fields = raw[raw.rfind(")") + 2 :].split()
            jiffies = int(fields[11]) + int(fields[12])  # utime + stime
            if first:
                self._first[pid] = jiffies
            self._last[pid] = (comm, int(fields[1]), jiffies)

    def _label(self, pid: int) -> str:
        me = os.getpid()
        if pid == me:
            return "harness"
        comm = self._last[pid][0]
        seen = set()
        up = pid
        while up in self._last and up not in seen:
            seen.add(up)
            if up in self.names:
                return self.names[up]
            up = self._last[up][1]
            if up == me:
                return "harness children"
        return "postgres" if comm == "postgres" else f"other: {comm}"

    def seconds(self) -> dict[str, float]:
        """CPU seconds used during the run, by label, largest first (>= 0.05 s only)."""
        used: dict[str, float] = {}
        for pid, (_, _, jiffies) in self._last.items():
            label = self._label(pid)
            spent = (jiffies - self._first.get(pid, 0)) / self._tick
            used[label] = used.get(label, 0.0) + spent
        return {k: v for k, v in sorted(used.items(), key=lambda kv: -kv[1]) if v >= 0.05}

    def others(self) -> float:
        """CPU seconds of processes that are not the benchmark's (nor PostgreSQL's)."""
        return sum(v for k, v in self.seconds().items() if k.startswith("other: "))
