"""Scenario ``large-file``: one large acme-retail interchange (10, 50, 100 MB) received, then
processed by ``edigate worker --until-idle`` in a child process whose own peak RSS is taken
(:class:`~.measure.ChildPeak`).

The worker streams the file: it plans and commits it in pieces of a few hundred
transactions (each validated, translated, mapped, its canonical JSON and auto-855
rendered, then committed with the file's progress), so its memory does not grow with the
file; the 997 goes out with the last piece. It then dispatches each order to the ERP
outbox and each 855 to the partner. ``plan + commit`` is the time from the worker's launch
to the file's ``processed`` event (it includes the worker's start-up, measured on its own
as ``idle worker``); ``dispatch`` is from there to the last delivery.

``phases`` (``--profile``, or ``python -m edigate.bench.child large-phases``) runs the same
steps one by one in a child and reports time and RSS after each, what a whole-file plan
holds (``InboundProcessor.plan``: the file in one piece, as before streaming), and with
``trace`` the top allocation sites of that plan (tracemalloc).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

from ..store.database import MMAP_BYTES
from .common import (
    Progress,
    Workspace,
    count,
    edigate_command,
    first_event,
    last_event,
    no_progress,
    require_ok,
    run_measured,
    tally,
    utcnow,
)
from .generate import generate_to_size
from .measure import proc_status_mb, run_child
from .results import ScenarioResult
from .sizes import TARGET_LARGE_MB, TARGET_LARGE_RSS_MB, Size


def run(
    size: Size,
    work: Path,
    config_dir: Path,
    *,
    progress: Progress = no_progress,
    profile_dir: Path | None = None,
) -> ScenarioResult:
    sizes = ", ".join(f"{mb:g}" for mb in size.large_mb)
    result = ScenarioResult(
        "large-file",
        f"Inbound end to end, one large file ({sizes} MB), SQLite, edigate worker --until-idle",
        params={"megabytes": sizes},
    )
    start = time.perf_counter()
    idle_ws = Workspace(work / "idle", config_dir)
    idle = run_measured(edigate_command(idle_ws.toml, "worker", "--until-idle"), timeout=120)
    require_ok(idle, "idle worker")
    result.figures["idle worker: seconds"] = idle.seconds
    result.figures["idle worker: peak RSS MB"] = idle.max_rss_mb
    total = len(size.large_mb)
    for i, mb in enumerate(size.large_mb):
        progress("large file", i, total)
        figures = one_file(Workspace(work / f"large-{mb:g}", config_dir), mb)
        result.runs.append(figures)
        tag = f"{mb:g} MB ({figures['orders']:,} POs)"
        result.figures[f"{tag}: receive s"] = figures["receive_s"]
        result.figures[f"{tag}: worker s"] = figures["worker_s"]
        result.figures[f"{tag}: plan+commit s"] = figures["plan_commit_s"]
        result.figures[f"{tag}: dispatch s"] = figures["dispatch_s"]
        result.figures[f"{tag}: POs/s"] = figures["pos_per_s"]
        result.figures[f"{tag}: worker peak RSS MB"] = figures["worker_rss_mb"]
        result.counts[f"{mb:g} MB orders in outbox"] = figures["orders_delivered"]
        result.counts[f"{mb:g} MB 855s stored"] = figures["acks_855"]
        result.counts[f"{mb:g} MB 997s stored"] = figures["acks_997"]
    progress("large file", total, total)
    if profile_dir is not None and size.large_mb:
        # Untraced on the first size (times and RSS as they are), then tracemalloc on at
        # most 1 MB (it slows the run several times and its own bookkeeping costs RSS).
        mb = size.large_mb[0]
        for traced, megabytes in ((False, mb), (True, min(mb, 1.0))):
            progress("large file: phases" + (" (tracemalloc)" if traced else ""), 0, 1)
            ws = Workspace(work / f"phases-{megabytes:g}-{traced}", config_dir)
            path, _ = generate_to_size(ws.root / "big.edi", megabytes)
            found = run_child(
                "large-phases",
                toml=str(ws.toml),
                path=str(path),
                trace=traced,
                profile_dir=None if traced else str(profile_dir),
            )
            result.runs.append({"phases": found, "phases_megabytes": megabytes})
            tag = f"phases {megabytes:g} MB{' traced' if traced else ''}"
            for key, value in found.items():
                if not isinstance(value, list | dict):
                    result.figures[f"{tag}: {key}"] = value
    rss = [r for r in result.runs if "megabytes" in r and "worker_rss_mb" in r]
    if len(rss) > 1:
        first, last = rss[0], rss[-1]
        slope = (last["worker_rss_mb"] - first["worker_rss_mb"]) / (
            last["megabytes"] - first["megabytes"]
        )
        result.figures["RSS growth MB per input MB"] = slope
        growth = last["worker_rss_mb"] - first["worker_rss_mb"]
        result.notes.append(rss_note(slope, growth, first.get("database_mb")))
    biggest = next((r for r in reversed(rss) if r["megabytes"] >= TARGET_LARGE_MB), None)
    if biggest is not None:
        result.check(
            f"{TARGET_LARGE_MB:g} MB file worker peak RSS",
            f"< {TARGET_LARGE_RSS_MB:.0f} MB",
            f"{biggest['worker_rss_mb']:.0f} MB",
            biggest["worker_rss_mb"] < TARGET_LARGE_RSS_MB,
        )
    result.seconds = time.perf_counter() - start
    return result


def one_file(ws: Workspace, megabytes: float) -> dict[str, Any]:
    path, orders = generate_to_size(ws.root / "big.edi", megabytes)
    gateway = ws.gateway()
    try:
        gateway.registry()
        started = time.perf_counter()
        with path.open("rb") as stream:
            gateway.store.receive(stream, channel="bench", filename=path.name)
        receive_s = time.perf_counter() - started
    finally:
        gateway.close()
    launched = utcnow()
    child = run_measured(
        edigate_command(ws.toml, "worker", "--until-idle", "--name", "bench-large"),
        timeout=max(600.0, orders * 0.1),
    )
    require_ok(child, "worker")
    gateway = ws.gateway()
    try:
        tallied = tally(gateway.store)
        processed = first_event(gateway.store, "processed", since=launched)
        finished = last_event(gateway.store, "delivered", since=launched)
    finally:
        gateway.close()
    plan_commit = (processed - launched).total_seconds() if processed else None
    dispatch = (finished - processed).total_seconds() if finished and processed else None
    return {
        "megabytes": megabytes,
        "bytes": path.stat().st_size,
        "orders": orders,
        "receive_s": receive_s,
        "worker_s": child.seconds,
        "plan_commit_s": plan_commit,
        "dispatch_s": dispatch,
        "pos_per_s": orders / child.seconds,
        "worker_rss_mb": child.max_rss_mb,
        "database_mb": _size_mb(ws.data_dir / "edigate.db"),
        "orders_delivered": count(tallied, "out", "order", "delivered"),
        "acks_855": count(tallied, "out", "855"),
        "acks_997": count(tallied, "out", "997"),
        "tally": tallied,
    }


#: What SQLite's memory map of the database can add to a worker's RSS as it grows.
MAP_MB = MMAP_BYTES / 2**20


def _size_mb(path: Path) -> float | None:
    return path.stat().st_size / 2**20 if path.exists() else None


def rss_note(slope: float, growth_mb: float, first_database_mb: float | None) -> str:
    """What the worker's peak RSS across file sizes says. The database's mapped pages count
    as RSS until the database outgrows the map, so while the smallest run's database is
    smaller than the map the peak follows the database, not the file: growth within the
    map is then not the file held in memory."""
    if slope <= 0.5:
        return "RSS stays about flat across file sizes: the file is planned and committed in pieces"
    if growth_mb <= MAP_MB and first_database_mb is not None and first_database_mb < MAP_MB:
        return (
            f"RSS grows by {growth_mb:.0f} MB across these sizes, within the {MAP_MB:.0f} MiB "
            "memory map of the SQLite database (its pages count as RSS while it is smaller "
            "than the map); compare sizes past it (--size full) to see the file's own share"
        )
    return "RSS grows with the file: something holds the file's results in memory"


def phases(
    toml: str, path: str, trace: bool = False, profile_dir: str | None = None
) -> dict[str, Any]:
    """Runs in a child: receive, plan, commit, dispatch one by one; time and memory after
    each, and what the plan holds. ``trace`` adds tracemalloc (slower: times are inflated);
    ``profile_dir`` gets a cProfile of the plan and of the commit."""
    import tracemalloc

    from ..app import Gateway
    from ..config import load_config
    from ..pipeline.inbound import Received
    from ..store import PENDING_INBOUND, Direction
    from .measure import Profiler

    out: dict[str, Any] = {"rss_start_mb": proc_status_mb("VmRSS")}
    gateway = Gateway(load_config(Path(toml), environ={}))
    store = gateway.store
    gateway.registry()
    out["rss_after_open_mb"] = proc_status_mb("VmRSS")
    clock = time.perf_counter
    t = clock()
    with open(path, "rb") as stream:
        receipt = store.receive(stream, channel="bench", filename=Path(path).name)
    out["receive_s"] = clock() - t
    ids = store.claim("phases", PENDING_INBOUND, direction=Direction.INBOUND, limit=1)
    assert ids == [receipt.document_id], ids
    with store.session() as session:
        doc = store.get(session, receipt.document_id)
        received = Received.of(doc)
    if trace:
        tracemalloc.start(8)
    profile_root = Path(profile_dir) if profile_dir else None
    planned: list[Any] = []
    t = clock()
    Profiler(profile_root, "large-file-plan").run(
        lambda: planned.append(gateway.inbound.plan(received))
    )
    out["plan_s"] = clock() - t
    plan = planned[0]
    out["rss_after_plan_mb"] = proc_status_mb("VmRSS")
    out["peak_after_plan_mb"] = proc_status_mb("VmHWM")
    txs = [tx for ic in plan.interchanges for tx in ic.transactions]
    out["plan_transactions"] = len(txs)
    out["plan_order_json_mb"] = sum(len(tx.order_json or b"") for tx in txs) / 2**20
    out["plan_855_models"] = sum(1 for tx in txs if tx.ack_855 is not None)
    out["plan_errors_dicts"] = sum(len(tx.errors) for tx in txs)
    if trace:
        current, peak = tracemalloc.get_traced_memory()
        out["traced_plan_held_mb"] = current / 2**20
        out["traced_plan_peak_mb"] = peak / 2**20
        snapshot = tracemalloc.take_snapshot()
        out["top_plan_allocations"] = [
            {
                "where": str(stat.traceback[-1]),
                "from": _ours(stat.traceback),
                "mb": stat.size / 2**20,
                "blocks": stat.count,
            }
            for stat in snapshot.statistics("traceback")[:15]
        ]
        tracemalloc.reset_peak()

    def commit() -> None:
        with store.claimed(receipt.document_id, "phases") as held:
            assert held is not None
            session, doc = held
            gateway.inbound.commit(session, doc, planned[0])
            out["commit_flush_s"] = clock() - t
            out["rss_before_sql_commit_mb"] = proc_status_mb("VmRSS")

    t = clock()
    Profiler(profile_root, "large-file-commit").run(commit)
    out["commit_s"] = clock() - t
    out["rss_after_commit_mb"] = proc_status_mb("VmRSS")
    out["peak_after_commit_mb"] = proc_status_mb("VmHWM")
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        out["traced_commit_peak_mb"] = peak / 2**20
        tracemalloc.stop()
    planned.clear()
    del plan, txs
    gc.collect()
    t = clock()
    stats = gateway.worker("phases").run(until_idle=True)
    out["dispatch_s"] = clock() - t
    out["dispatched"] = stats.processed
    out["peak_after_dispatch_mb"] = proc_status_mb("VmHWM")
    out["rss_end_mb"] = proc_status_mb("VmRSS")
    gateway.close()
    return out


def _ours(traceback: Any) -> str:
    """The innermost frame in edigate's own code: who asked for the memory."""
    for frame in reversed(list(traceback)):
        if "/edigate/" in frame.filename and "/bench/" not in frame.filename:
            return f"{frame.filename.rsplit('/edigate/', 1)[-1]}:{frame.lineno}"
    return "-"
