"""Scenario ``scale-out``: the small files on PostgreSQL, processed by 1, 2 and 4
``edigate worker`` processes sharing the database and the data dir.

Each run gets a fresh database (created and dropped like the tests' ``postgres_url``) and
data dir. The files are received first (``Store.receive``, timed on its own), then the
workers start together with ``--until-idle``; the run ends when every order is in the ERP
outbox and every 997 stored. ``span`` is from the first document a worker finished to the
end (the workers' start-up, about a second of imports, is left out; ``wall`` keeps it).
The machine's CPU use during the run (from /proc/stat) shows when the cores are the limit:
the workers, PostgreSQL and the fsyncs share them. A SQLite run with one worker process
on the same files is the baseline.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import EdigateError
from . import DEFAULT_POSTGRES
from .common import (
    Child,
    Progress,
    Workspace,
    busy_percent,
    cpu_times,
    edigate_command,
    first_event,
    inbound_done,
    last_created,
    last_event,
    no_progress,
    utcnow,
    wait_for,
)
from .generate import single_po_files
from .measure import MIN_MEASURED_S, CpuSampler
from .results import ScenarioResult
from .sizes import TARGET_SPEEDUP_2, Size


def run(
    size: Size,
    work: Path,
    config_dir: Path,
    *,
    postgres_url: str = DEFAULT_POSTGRES,
    progress: Progress = no_progress,
    profile_dir: Path | None = None,
) -> ScenarioResult:
    planned = bool(size.scale_files and size.scale_workers)
    title = "Scale-out on PostgreSQL"
    if planned:
        title += (
            f": {size.scale_files:,} small files, "
            f"{', '.join(map(str, size.scale_workers))} worker process(es)"
        )
    result = ScenarioResult(
        "scale-out",
        title,
        params={"files": size.scale_files, "workers": str(size.scale_workers)},
    )
    if not planned:
        result.skipped = f"not part of --size {size.name}"
        return result
    reason = _unreachable(postgres_url)
    if reason is not None:
        result.skipped = reason
        return result
    start = time.perf_counter()
    baseline = one_run(Workspace(work / "sqlite-1", config_dir), size.scale_files, 1, progress)
    baseline["database"] = "sqlite"
    result.runs.append(baseline)
    result.figures["sqlite, 1 worker: files/s"] = baseline["files_per_s"]
    result.figures["sqlite, 1 worker: CPU s by process"] = _shown(
        baseline["cpu_seconds_by_process"]
    )
    for workers in size.scale_workers:
        with fresh_database(postgres_url) as url:
            ws = Workspace(work / f"pg-{workers}", config_dir, database_url=url)
            figures = one_run(ws, size.scale_files, workers, progress)
        figures["database"] = "postgresql"
        result.runs.append(figures)
    pg = [r for r in result.runs if r["database"] == "postgresql"]
    one = next((r for r in pg if r["workers"] == 1), None)
    for r in pg:
        tag = f"postgresql, {r['workers']} worker(s)"
        result.figures[f"{tag}: files/s"] = r["files_per_s"]
        result.figures[f"{tag}: files/s (wall)"] = r["files_per_s_wall"]
        result.figures[f"{tag}: machine CPU %"] = r["cpu_busy_percent"]
        result.figures[f"{tag}: CPU s by process"] = _shown(r["cpu_seconds_by_process"])
        if one is not None and r["files_per_s"] and one["files_per_s"]:
            r["speedup"] = r["files_per_s"] / one["files_per_s"]
            result.figures[f"{tag}: speed-up"] = r["speedup"]
    result.figures["postgresql receive() files/s"] = pg[0]["receive_per_s"] if pg else None
    result.counts = {f"{r['database']}-{r['workers']} orders": r["orders"] for r in result.runs} | {
        f"{r['database']}-{r['workers']} 997s": r["acks_997"] for r in result.runs
    }
    two = next((r for r in pg if r["workers"] == 2), None)
    if two is not None and "speedup" in two:
        result.check(
            "PostgreSQL 2 workers vs 1",
            f">= {TARGET_SPEEDUP_2:g}x",
            f"{two['speedup']:.2f}x",
            two["speedup"] >= TARGET_SPEEDUP_2,
        )
    if any(r["files_per_s"] is None for r in result.runs):
        result.notes.append(
            "files/s -: every file was done within "
            f"{MIN_MEASURED_S:g} s of the first (one batch), too short a span to measure; "
            "files/s (wall) counts the start-up in"
        )
    cpus = os.cpu_count() or 1
    result.notes.append(
        f"{cpus} CPU(s): the workers, PostgreSQL and the harness share them; a run whose "
        "machine CPU is near 100 % is capped by the cores, not by claiming"
    )
    result.seconds = time.perf_counter() - start
    return result


def span_rates(files: int, wall: float, span: float) -> dict[str, float | None]:
    """files/s over ``span`` (start-up left out) and over ``wall``; None for a time too short
    to measure (a span from the first batch's commit can be ~0 when one batch held all)."""
    return {
        "files_per_s": files / span if span >= MIN_MEASURED_S else None,
        "files_per_s_wall": files / wall if wall >= MIN_MEASURED_S else None,
    }


def one_run(ws: Workspace, files: int, workers: int, progress: Progress) -> dict[str, Any]:
    gateway = ws.gateway()
    label = f"scale-out: {'pg' if ws.database_url else 'sqlite'} x{workers}"
    try:
        gateway.registry()
        start = time.perf_counter()
        for i, (name, data) in enumerate(single_po_files(files)):
            gateway.store.receive(data, channel="bench", filename=name)
            if i % 100 == 0:
                progress(f"{label} (receiving)", i, files)
        receive_s = time.perf_counter() - start
        launched = utcnow()
        cpu_before = cpu_times()
        with CpuSampler() as sampler:
            procs = [
                Child.launch(
                    edigate_command(ws.toml, "worker", "--until-idle", "--name", f"bench-{i}"),
                    ws.root / f"worker-{i}.log",
                )
                for i in range(workers)
            ]
            sampler.names.update({p.proc.pid: "edigate workers" for p in procs})
            try:
                finished = wait_for(
                    lambda: (min(inbound_done(gateway.store)), files),
                    files,
                    label=label,
                    progress=progress,
                    timeout=max(300.0, files * 0.5),
                    alive=lambda: any(p.poll() for p in procs),
                )
            finally:
                for p in procs:
                    p.wait(timeout=120)
        cpu_after = cpu_times()
        failed = [p for p in procs if p.returncode != 0]
        if failed:
            raise EdigateError(f"worker exited {failed[0].returncode}: {failed[0].tail()}")
        orders, acks = inbound_done(gateway.store)
        first = first_event(gateway.store, "processed", since=launched)
        end = max(
            last_event(gateway.store, "delivered", since=launched) or launched,
            last_created(gateway.store, "997") or launched,
        )
    finally:
        gateway.close()
    wall = (end - launched).total_seconds()
    span = (end - first).total_seconds() if first else wall
    busy = busy_percent(cpu_before, cpu_after)
    return {
        "workers": workers,
        "files": files,
        "finished": finished,
        "orders": orders,
        "acks_997": acks,
        "receive_s": receive_s,
        "receive_per_s": files / receive_s,
        "wall_s": wall,
        "span_s": span,
        **span_rates(files, wall, span),
        "cpu_busy_percent": busy,
        "cpu_seconds_by_process": sampler.seconds(),
        "worker_cpu_s": sum(p.cpu_seconds for p in procs),
        "worker_rss_mb": max(p.max_rss_mb for p in procs),
    }


def _shown(seconds: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.1f}" for name, value in list(seconds.items())[:4])


def _unreachable(url: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        psycopg.connect(url, autocommit=True, connect_timeout=5).close()
    except psycopg.Error as exc:
        return f"no PostgreSQL at {url}: {str(exc).splitlines()[0]}"
    return None


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new database on the server of ``admin_url``, dropped afterwards."""
    import psycopg

    name = f"edigate_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
