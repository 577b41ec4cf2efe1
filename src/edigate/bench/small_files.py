"""Scenario ``small-files``: single-PO acme-retail files end to end on SQLite, in three
configurations of ``edigate serve`` on the embedded database:

* ``1 process``: ``edigate serve``, the worker in a thread beside the channels (one GIL,
  so about one core);
* ``2 processes``: ``edigate serve --workers 1``: the channels (here ``receive()`` in the
  harness) and one worker process on the same data dir, each on a core;
* ``3 processes``: ``edigate serve --workers 2``: two worker processes. They and the
  channels meet at SQLite's write lock (busy timeout).

The worker processes are serve's own (``worker_processes.WorkerProcesses``), woken by the
harness's ``receive()`` through their pipes as serve's channels wake them.

Each file is received (``Store.receive``: blob fsynced, row committed) and then processed by
the worker: validate, translate, map, the canonical order delivered to the ERP outbox, a
997 and an auto-855 stored and dispatched to ACME's SFTP pickup folder. A file is done when
its order is in the outbox; the run is done when every order is there and every 997 stored.

Runs (each on a fresh data dir and database; burst and paced in both configurations):

* ``burst``: every file offered at once, as fast as ``receive`` goes: the throughput. Its
  latencies are mostly time in the queue, so they say how long a burst takes to drain.
* ``paced``: files offered at a steady rate (the 300 files/s target, and 70 % of the burst
  throughput): latency receipt -> order in the outbox at that rate.
* ``folder``: files dropped in a watched folder first (``FolderInbound``, settle 0 s, poll
  0.1 s, so the channel's own cost is measured, not a settle time): latency from the file's
  mtime.
* ``worker alone``: every file received first, then ``edigate worker --until-idle`` in a
  process of its own (``backlog_run``): its files/s and CPU per file, user and kernel, with
  its start-up taken off. Nothing shares the cores with it, so this moves least from run
  to run; the kernel's share is mostly creating the three output files of each file.

Latency = the order's ``delivered`` audit event minus the received row's ``created_at``
(the folder run: minus the file's mtime). An idle worker, thread or process, waits
``poll_seconds`` (0.5 s, the default) or until ``receive()`` commits a file, which wakes it
at once.
The targets are checked on the configuration with the higher burst throughput, named in the
measured text.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..app import Gateway
from ..channels.base import store_handler
from ..channels.folder import FolderInbound
from ..errors import EdigateError
from ..heap import prepare_long_running_heap
from ..store import Store
from ..wakeups import WorkerWakers
from ..worker_processes import WorkerProcesses
from .common import (
    ChildRun,
    Instruments,
    Progress,
    Workspace,
    busy_percent,
    cpu_times,
    edigate_command,
    inbound_done,
    last_created,
    last_event,
    no_progress,
    order_deliveries,
    require_ok,
    run_measured,
    utcnow,
    wait_for,
)
from .generate import ACME_FIRST_PO, single_po_files
from .measure import (
    Profiler,
    less_startup,
    peak_rss_mb,
    percentile,
    proc_status_mb,
    steady_rate,
)
from .results import ScenarioResult
from .sizes import BOTS_FILES_PER_S, TARGET_SMALL_FILES_PER_S, TARGET_SMALL_P99_S, Size

WARMUP = 3
CHANNEL = "bench"
#: Names the figures of the worker meeting a backlog alone (backlog_run).
BACKLOG_PREFIX = "worker alone: "


@dataclass(frozen=True)
class Setup:
    """A configuration. ``prefix`` starts the names of its figures (none for ``edigate serve``,
    whose figures came first), ``folder`` those of its workspaces."""

    name: str
    label: str
    prefix: str
    folder: str
    #: Worker processes beside the channels; 0: the worker is a thread of serve.
    worker_processes: int


SINGLE = Setup("1 process", "1 process (edigate serve)", "", "", worker_processes=0)
SPLIT = Setup("2 processes", "2 processes (serve --workers 1)", "2 processes: ", "split-", 1)
TWO_WORKERS = Setup("3 processes", "3 processes (serve --workers 2)", "3 processes: ", "split2-", 2)
#: The configurations with worker processes, whose figures have the same shape.
SPLIT_SETUPS = (SPLIT, TWO_WORKERS)


def run(
    size: Size,
    work: Path,
    config_dir: Path,
    *,
    progress: Progress = no_progress,
    profile_dir: Path | None = None,
) -> ScenarioResult:
    result = ScenarioResult(
        "small-files",
        f"Inbound end to end, small files, SQLite: {size.small_files:,} single-PO files",
        params={
            "files": size.small_files,
            "paced_files": size.paced_files,
            "folder_files": size.folder_files,
        },
    )
    start = time.perf_counter()
    profiler = Profiler(profile_dir, "small-files-worker")
    single = setup_runs(SINGLE, size, work, config_dir, progress, profiler)
    splits = {s: setup_runs(s, size, work, config_dir, progress, None) for s in SPLIT_SETUPS}
    folder = inbound_run(
        Workspace(work / "folder", config_dir),
        size.folder_files,
        via="folder",
        label="small files: folder",
        progress=progress,
    )
    backlog = backlog_run(Workspace(work / "backlog", config_dir), size.small_files, progress)
    result.runs += [*single, *(r for runs in splits.values() for r in runs), folder, backlog]
    result.seconds = time.perf_counter() - start

    _single_figures(result, single[0])
    _paced_figures(result, SINGLE, single[1:])
    for setup, runs in splits.items():
        _split_figures(result, setup, runs)
    result.figures["folder files/s"] = folder["files_per_s"]
    result.figures["folder latency p50 s (from mtime)"] = folder["latency_p50_s"]
    result.figures["folder latency p99 s (from mtime)"] = folder["latency_p99_s"]
    _backlog_figures(result, backlog)
    result.counts = _counts([*single, folder]) | _counts([backlog], BACKLOG_PREFIX)
    for setup, runs in splits.items():
        result.counts |= _counts(runs, setup.prefix)
    _check_targets(result, {SINGLE: single, **splits})
    result.notes.append(
        "burst latencies are queue time (all files offered at once); paced runs give latency "
        "at a rate; 1 process: the worker thread shares the GIL with the channel, as in "
        "edigate serve"
    )
    result.notes.append(
        f"{SPLIT.label} and {TWO_WORKERS.label}: receive() in the harness as serve's "
        "channels, the worker processes serve's own, on the same SQLite data dir; they meet "
        "at SQLite's write lock (busy timeout), which shows in the receive() times; paced "
        "70 % is of the configuration's own burst rate"
    )
    return result


def setup_runs(
    setup: Setup,
    size: Size,
    work: Path,
    config_dir: Path,
    progress: Progress,
    profiler: Profiler | None,
) -> list[dict[str, Any]]:
    """The burst run, then the paced runs (300/s and 70 % of the burst rate) of ``setup``."""
    tag = f"small files{', ' + setup.name if setup.prefix else ''}"
    burst = inbound_run(
        Workspace(work / f"{setup.folder}burst", config_dir),
        size.small_files,
        label=f"{tag}: burst",
        worker_processes=setup.worker_processes,
        progress=progress,
        profiler=profiler,
    )
    runs = [burst]
    if size.paced_files:
        for rate in [TARGET_SMALL_FILES_PER_S, round(burst["files_per_s"] * 0.7, 1)]:
            runs.append(
                inbound_run(
                    Workspace(work / f"{setup.folder}paced-{rate:g}", config_dir),
                    size.paced_files,
                    rate=rate,
                    label=f"{tag}: paced {rate:g}/s",
                    worker_processes=setup.worker_processes,
                    progress=progress,
                )
            )
    for run_ in runs:
        run_["configuration"] = setup.label
    return runs


def _single_figures(result: ScenarioResult, burst: dict[str, Any]) -> None:
    rate = burst["files_per_s"]
    n = max(burst["files"], 1)
    result.figures.update(
        {
            "configuration": "1 process: edigate serve, the worker a thread",
            "burst files/s": rate,
            "burst latency p50 s (queue)": burst["latency_p50_s"],
            "burst latency p99 s (queue)": burst["latency_p99_s"],
            "receive() p50 ms": burst["receive_p50_ms"],
            "receive() p99 ms": burst["receive_p99_ms"],
            "x Bots 4.0 (45 files/s)": rate / BOTS_FILES_PER_S,
            "fsyncs per file": burst["fsyncs_per_file"],
            "fsync ms per file": burst["fsync_ms_per_file"],
            "SQL commits per file": burst["commits_per_file"],
            "SQL commit ms per file": burst.get("commit_ms_per_file"),
            "SQL statements per file": burst["sql_statements_per_file"],
            "SQL statement ms per file": burst.get("sql_ms_per_file"),
            "worker ms per file (1000 / files/s)": 1000 / rate if rate else None,
            "burst CPU ms per file (one process)": burst["process_cpu_s"] / n * 1e3,
            "burst cores used (CPU s / wall s)": burst["cores_used"],
            "peak RSS MB (harness+gateway)": burst["rss_mb"],
        }
    )


def _paced_figures(result: ScenarioResult, setup: Setup, paced: list[dict[str, Any]]) -> None:
    for run_ in paced:
        tag = f"{setup.prefix}paced {run_['offered_per_s']:.0f}/s"
        result.figures[f"{tag}: files/s received"] = run_["offered_achieved_per_s"]
        result.figures[f"{tag}: files/s done"] = run_["files_per_s"]
        result.figures[f"{tag}: files/s done, steady (10-90 %)"] = run_["steady_done_per_s"]
        result.figures[f"{tag}: latency p50 s"] = run_["latency_p50_s"]
        result.figures[f"{tag}: latency p99 s"] = run_["latency_p99_s"]
        if setup.worker_processes:
            result.figures[f"{tag}: receive() p99 ms"] = run_["receive_p99_ms"]


def _split_figures(result: ScenarioResult, setup: Setup, runs: list[dict[str, Any]]) -> None:
    burst, paced = runs[0], runs[1:]
    p = setup.prefix
    n = max(burst["files"], 1)
    result.figures.update(
        {
            f"{p}configuration": f"edigate serve --workers {setup.worker_processes}, SQLite",
            f"{p}burst files/s": burst["files_per_s"],
            f"{p}burst latency p50 s (queue)": burst["latency_p50_s"],
            f"{p}burst latency p99 s (queue)": burst["latency_p99_s"],
            f"{p}receive() p50 ms": burst["receive_p50_ms"],
            f"{p}receive() p99 ms": burst["receive_p99_ms"],
            f"{p}receive() max ms": burst["receive_max_ms"],
            f"{p}burst cores used (CPU s / wall s)": burst["cores_used"],
            f"{p}CPU ms per file (receiver / worker)": (
                f"{burst['process_cpu_s'] / n * 1e3:.1f} / {burst['worker_cpu_s'] / n * 1e3:.1f}"
            ),
            f"{p}worker process peak RSS MB": burst["worker_rss_mb"],
        }
    )
    _paced_figures(result, setup, paced)


def backlog_run(ws: Workspace, files: int, progress: Progress = no_progress) -> dict[str, Any]:
    """The worker alone, as it meets a backlog: ``files`` received first, then ``edigate
    worker --until-idle`` in a process of its own. Its CPU (from wait4) less an idle run's
    (start-up: imports, the partner registry), per file: the steadiest figure here, as no
    channel shares the cores with it."""
    command = edigate_command(ws.toml, "worker", "--until-idle")
    idle = run_measured(command, timeout=120)
    require_ok(idle, "idle worker")
    gateway = ws.gateway()
    try:
        for i, (name, data) in enumerate(single_po_files(files)):
            gateway.store.receive(data, channel=CHANNEL, filename=name)
            if i % 100 == 0:
                progress("small files: worker alone (receiving)", i, files)
    finally:
        gateway.close()
    progress("small files: worker alone (working)", 0, files)
    run = run_measured(command, timeout=max(300.0, files * 0.5))
    require_ok(run, "worker on the backlog")
    gateway = ws.gateway()
    try:
        orders, acks = inbound_done(gateway.store)
    finally:
        gateway.close()
    return {"orders": orders, "acks_997": acks, **backlog_figures(files, run, idle)}


def backlog_figures(files: int, run: ChildRun, idle: ChildRun) -> dict[str, Any]:
    """The worker's figures on ``files`` with the ``idle`` run's start-up taken off; None
    where what is left is too short to measure (``less_startup``: a smoke run's dozen files
    take a fraction of the start-up's own variation)."""
    seconds = less_startup(run.seconds, idle.seconds)
    cpu = less_startup(run.user_s + run.system_s, idle.user_s + idle.system_s)
    n = max(files, 1)
    return {
        "files": files,
        "seconds": seconds,
        "files_per_s": files / seconds if seconds is not None else None,
        "whole_run_s": run.seconds,
        "whole_run_files_per_s": files / run.seconds if run.seconds > 0 else None,
        "user_ms_per_file": (
            max(0.0, run.user_s - idle.user_s) / n * 1e3 if cpu is not None else None
        ),
        "system_ms_per_file": (
            max(0.0, run.system_s - idle.system_s) / n * 1e3 if cpu is not None else None
        ),
        "startup_s": idle.seconds,
        "rss_mb": run.max_rss_mb,
    }


def _backlog_figures(result: ScenarioResult, backlog: dict[str, Any]) -> None:
    p = BACKLOG_PREFIX
    user, system = backlog["user_ms_per_file"], backlog["system_ms_per_file"]
    cpu = f"{user:.1f} / {system:.1f}" if user is not None and system is not None else None
    result.figures[f"{p}files/s"] = backlog["files_per_s"]
    result.figures[f"{p}CPU ms per file (user / kernel)"] = cpu
    result.figures[f"{p}start-up s (taken off)"] = backlog["startup_s"]
    result.figures[f"{p}peak RSS MB"] = backlog["rss_mb"]
    if backlog["files_per_s"] is None or cpu is None:
        whole = backlog["whole_run_files_per_s"]
        result.notes.append(
            f"worker alone: files/s and CPU per file not measured (-): the run was too short "
            f"once its start-up is taken off ({backlog['whole_run_s']:.2f} s in all, start-up "
            f"{backlog['startup_s']:.2f} s), so what is left is mostly start-up's own "
            f"variation; {whole or 0:.2f} files/s over the whole run, start-up included; "
            "run a larger --size to measure the worker alone"
        )


def _counts(runs: list[dict[str, Any]], prefix: str = "") -> dict[str, int]:
    return {
        f"{prefix}orders in outbox": sum(r["orders"] for r in runs),
        f"{prefix}997s stored": sum(r["acks_997"] for r in runs),
        f"{prefix}files": sum(r["files"] for r in runs),
    }


def _check_targets(result: ScenarioResult, runs: dict[Setup, list[dict[str, Any]]]) -> None:
    """Issue 9's targets, on the configuration with the higher burst rate (both can be run
    from the README); the measured text names it."""
    setup, chosen = max(runs.items(), key=lambda item: item[1][0]["files_per_s"])
    rate = chosen[0]["files_per_s"]
    result.check(
        "small files/s (SQLite)",
        f">= {TARGET_SMALL_FILES_PER_S:.0f}",
        f"{rate:,.1f} ({setup.name})",
        rate >= TARGET_SMALL_FILES_PER_S,
    )
    at_target = next(
        (r for r in chosen[1:] if r["offered_per_s"] == TARGET_SMALL_FILES_PER_S), None
    )
    if at_target is not None:
        # The latency target holds only at that rate, received and done: when receive()
        # cannot take files as fast as they are offered, or the worker falls behind (a
        # short run's p99 then hides a queue that would grow for as long as the load
        # lasts), the target is not met, whatever the p99 of the run. "Done" is the
        # steady rate (steady_rate): count / total time would also count the last file's
        # own latency, which a worker that keeps up still has.
        p99 = at_target["latency_p99_s"]
        reached = at_target["offered_achieved_per_s"]
        done = at_target["steady_done_per_s"]
        result.check(
            "small files p99 at 300/s",
            f"< {TARGET_SMALL_P99_S:.0f} s at {TARGET_SMALL_FILES_PER_S:.0f}/s",
            f"{p99:.2f} s, {reached:.0f}/s received, {done:.0f}/s done ({setup.name})",
            p99 < TARGET_SMALL_P99_S and min(reached, done) >= 0.95 * TARGET_SMALL_FILES_PER_S,
        )


def inbound_run(
    ws: Workspace,
    files: int,
    *,
    label: str,
    rate: float | None = None,
    via: str = "receive",
    worker_processes: int = 0,
    progress: Progress = no_progress,
    profiler: Profiler | None = None,
) -> dict[str, Any]:
    """One run on a fresh workspace; returns its figures (see the module docstring)."""
    gateway = ws.gateway()
    store = gateway.store
    try:
        gateway.registry()
        # Warm up (imports, caches, the first statements): a running gateway is warm.
        # Other ISA13s and PO numbers: a repeated PO is held as a duplicate, never delivered.
        warmup = single_po_files(
            WARMUP, seed=99, first_control=900_000_000, first_po=ACME_FIRST_PO + 900_000_000
        )
        for name, data in warmup:
            store.receive(data, channel="warmup", filename=name)
        runner: WorkerRunner
        if worker_processes:
            runner = ServeWorkers(gateway, worker_processes, label, progress)
        else:
            runner = WorkerThread(gateway, f"bench-{via}", profiler)
        batch = list(single_po_files(files))
        instruments = Instruments()
        machine_before, cpu_before = cpu_times(), _process_cpu_seconds()
        try:
            with instruments.installed(store.engine):
                if via == "folder":
                    figures = _folder_run(ws, store, batch, runner, label, progress)
                else:
                    figures = _receive_run(store, batch, runner, rate, label, progress)
            figures["machine_cpu_percent"] = busy_percent(machine_before, cpu_times())
            figures["process_cpu_s"] = _process_cpu_seconds() - cpu_before
        finally:
            figures_of_worker = runner.stop()
        if profiler is not None:
            profiler.write()
        figures.update(figures_of_worker)
        cpu_s = figures["process_cpu_s"] + figures.get("worker_cpu_s", 0.0)
        figures["cores_used"] = cpu_s / figures["seconds"] if figures["seconds"] > 0 else None
        figures.update(instruments.per(files))
        figures["rss_mb"] = peak_rss_mb()
        return figures
    finally:
        gateway.close()


class WorkerRunner(Protocol):
    """The worker of a run, started with the first file offered, stopped after the last."""

    def start(self) -> None: ...

    def alive(self) -> bool: ...

    def stop(self) -> dict[str, Any]: ...


class WorkerThread:
    """The worker as ``edigate serve`` runs it: a thread of this process, woken at once by
    ``receive()`` (``store.wakeup``)."""

    def __init__(self, gateway: Gateway, name: str, profiler: Profiler | None) -> None:
        gateway.worker("warmup").run(until_idle=True)
        prepare_long_running_heap()  # as edigate serve does once started (see heap.py)
        self.worker = gateway.worker(name)
        target = profiler.wrap(self.worker.run) if profiler else self.worker.run
        self.thread = threading.Thread(target=target, name="bench-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> dict[str, Any]:
        self.worker.stop()
        self.thread.join(timeout=60)
        return {}


class ServeWorkers:
    """The worker processes of ``edigate serve --workers count`` (``worker_processes``), woken
    by this harness's ``receive()`` as by serve's channels; ready once they processed the
    warm-up files (imports done, caches warm), so their start-up is not measured."""

    def __init__(self, gateway: Gateway, count: int, label: str, progress: Progress) -> None:
        wakers = WorkerWakers()
        gateway.store.wakeup = wakers
        self.cpu_before = _process_cpu_seconds(resource.RUSAGE_CHILDREN)
        self.processes = WorkerProcesses(gateway.config, count, wakers, log_level="WARNING")
        self.processes.start()
        ready = wait_for(
            lambda: (min(inbound_done(gateway.store)), WARMUP),
            WARMUP,
            label=f"{label} (workers starting)",
            progress=progress,
            timeout=120.0,
            interval=0.05,
            alive=self.alive,
        )
        if not ready:
            self.processes.stop()
            raise EdigateError(f"{label}: the worker processes did not start")
        self.cpu_at_start = sum(_child_cpu_seconds(pid) for pid in self._pids())

    def _pids(self) -> list[int]:
        return [pid for pid in self.processes.pids if pid is not None]

    def start(self) -> None:
        """Already running: the sender only starts."""

    def alive(self) -> bool:
        """True while every worker runs as started (a restart would stall or skew the run)."""
        return len(self._pids()) == self.processes.count and not self.processes.restarts

    def stop(self) -> dict[str, Any]:
        rss = max((proc_status_mb("VmHWM", pid) or 0.0 for pid in self._pids()), default=0.0)
        self.processes.stop()
        if self.processes.restarts:
            raise EdigateError(f"{self.processes.restarts} worker process(es) died in the run")
        spent = _process_cpu_seconds(resource.RUSAGE_CHILDREN) - self.cpu_before
        return {"worker_cpu_s": spent - self.cpu_at_start, "worker_rss_mb": rss}


def _process_cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """CPU (user + system) of this process, or with RUSAGE_CHILDREN of every child it has
    reaped so far."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _child_cpu_seconds(pid: int) -> float:
    """A running process's CPU time so far (user + system), from /proc; 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _receive_run(
    store: Store,
    batch: list[tuple[str, bytes]],
    runner: WorkerRunner,
    rate: float | None,
    label: str,
    progress: Progress,
) -> dict[str, Any]:
    n = len(batch)
    receive_s: list[float] = []
    runner.start()
    t0 = utcnow()
    clock0 = time.perf_counter()
    for i, (name, data) in enumerate(batch):
        if rate is not None:
            delay = clock0 + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        start = time.perf_counter()
        store.receive(data, channel=CHANNEL, filename=name)
        receive_s.append(time.perf_counter() - start)
        if i % 50 == 0:
            progress(f"{label} (receiving)", i, n)
    offered = n / (time.perf_counter() - clock0)
    figures = _finish(store, n, t0, label, progress, lambda name, received: received, runner)
    figures.update(
        {
            "paced": rate is not None,
            "offered_per_s": rate if rate is not None else offered,
            "offered_achieved_per_s": offered,
            "receive_p50_ms": percentile(receive_s, 50) * 1e3,
            "receive_p99_ms": percentile(receive_s, 99) * 1e3,
            "receive_max_ms": max(receive_s, default=0.0) * 1e3,
        }
    )
    return figures


def _folder_run(
    ws: Workspace,
    store: Store,
    batch: list[tuple[str, bytes]],
    runner: WorkerRunner,
    label: str,
    progress: Progress,
) -> dict[str, Any]:
    drop = ws.root / "drop"
    drop.mkdir(parents=True, exist_ok=True)
    mtimes: dict[str, dt.datetime] = {}
    for name, data in batch:
        path = drop / name
        path.write_bytes(data)
        mtimes[name] = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    watcher = FolderInbound(
        drop, store_handler(store), settle_seconds=0.0, interval=0.1, channel=CHANNEL
    )
    t0 = min(mtimes.values())
    runner.start()
    watcher.start()
    try:
        figures = _finish(
            store, len(batch), t0, label, progress, lambda name, received: mtimes[name], runner
        )
    finally:
        watcher.stop()
    figures["offered_per_s"] = None
    return figures


def _finish(
    store: Store,
    n: int,
    t0: dt.datetime,
    label: str,
    progress: Progress,
    start_of: Callable[[str, dt.datetime], dt.datetime],
    runner: WorkerRunner,
) -> dict[str, Any]:
    """Wait until every order is in the outbox and every 997 stored; the figures."""

    def done() -> tuple[int, int]:
        orders, acks = inbound_done(store)
        return min(orders, acks) - WARMUP, n

    finished = wait_for(
        done, n, label=label, progress=progress, timeout=max(120.0, n * 0.5), alive=runner.alive
    )
    rows = order_deliveries(store, CHANNEL)
    orders, acks = inbound_done(store)
    last_997 = last_created(store, "997")
    last_order = max((d for _, _, d in rows), default=t0)
    end = max(last_order, last_997 or t0)
    drained = last_event(store, "delivered") or end
    elapsed = (end - t0).total_seconds()
    latencies = [(d - start_of(name, r)).total_seconds() for name, r, d in rows]
    return {
        "files": n,
        "finished": finished,
        "orders": orders - WARMUP,
        "acks_997": acks - WARMUP,
        "seconds": elapsed,
        "files_per_s": n / elapsed if elapsed > 0 else 0.0,
        "steady_done_per_s": steady_rate([(d - t0).total_seconds() for _, _, d in rows]),
        "drained_seconds": (drained - t0).total_seconds(),
        "latency_p50_s": percentile(latencies, 50),
        "latency_p99_s": percentile(latencies, 99),
        "latency_max_s": max(latencies, default=0.0),
    }
