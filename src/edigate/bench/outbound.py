"""Scenario ``outbound``: the ERP's shipments (canonical JSON in ``<erp_root>/inbox/shipments``)
become ACME's 856s, stored with their control numbers and dispatched to its pickup folder.

Setup (not timed): ACME's orders arrive in one interchange and reach the ERP outbox; the
ERP then writes one shipment per order (every line shipped in full). Timed: one worker,
in this process, until idle: the ERP inbox poll stores each file (``Store.receive``), the
``erp`` lane maps it back to ACME's item IDs and units, writes the 856 and reads it back
through the validator, envelopes it with ISA13/GS06/ST02 from ACME's sequences and stores
it; the dispatcher delivers it.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from ..store import Document
from .common import Instruments, Progress, Workspace, count, no_progress, tally
from .generate import generate, write_shipments
from .measure import Profiler
from .results import ScenarioResult
from .sizes import Size


def run(
    size: Size,
    work: Path,
    config_dir: Path,
    *,
    progress: Progress = no_progress,
    profile_dir: Path | None = None,
) -> ScenarioResult:
    n = size.shipments
    result = ScenarioResult(
        "outbound",
        f"Outbound: {n:,} ERP shipments to 856s with control numbers, SQLite",
        params={"shipments": n},
    )
    ws = Workspace(work / "outbound", config_dir)
    gateway = ws.gateway()
    try:
        progress("outbound: orders in (setup)", 0, 3)
        setup = time.perf_counter()
        path = generate(ws.root / "orders.edi", n, style="acme")
        gateway.store.receive(path.read_bytes(), channel="bench", filename=path.name)
        gateway.worker("setup").run(until_idle=True)
        written = write_shipments(gateway.erp.outbox / "orders", gateway.erp.inbox / "shipments")
        result.figures["setup s (orders in, not timed)"] = time.perf_counter() - setup
        progress("outbound: shipments", 1, 3)
        instruments = Instruments()
        profiler = Profiler(profile_dir, "outbound-worker")
        worker = gateway.worker("bench-outbound")
        with instruments.installed(gateway.store.engine):
            start = time.perf_counter()
            profiler.run(lambda: worker.run(until_idle=True))
            seconds = time.perf_counter() - start
        progress("outbound: shipments", 3, 3)
        tallied = tally(gateway.store)
        with gateway.store.session() as session:
            controls = session.execute(
                select(func.count(func.distinct(Document.interchange_control))).where(
                    Document.doc_type == "856"
                )
            ).scalar_one()
    finally:
        gateway.close()
    sent = count(tallied, "out", "856", "sent")
    result.figures.update(
        {
            "seconds": seconds,
            "shipments/s": written / seconds,
            "ms per shipment": seconds / max(written, 1) * 1e3,
        }
    )
    result.figures.update({k.replace("_", " "): v for k, v in instruments.per(written).items()})
    result.counts = {
        "shipment files": written,
        "shipments translated": count(tallied, "in", "shipment", "translated"),
        "856s sent": sent,
        "distinct ISA13": int(controls),
    }
    result.seconds = seconds
    return result
