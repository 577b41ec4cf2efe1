"""Scenario ``translate``: one interchange of acme-retail 850s through everything the worker
does to a transaction, in memory (no store), on one core.

Per transaction, as ``pipeline/inbound.py`` plans it: read (``X12Reader``), validate with
ACME's overlay, translate to an ``Order``, apply ACME's map and render the canonical JSON
the ERP gets, then the auto-855 (``auto_ack`` -> ``build_855`` -> an enveloped interchange);
every event also feeds the 997 builder, whose interchange is written at the end. Runs in a
child process pinned to one CPU, so its peak RSS is its own.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EdigateError
from ..heap import prepare_long_running_heap
from . import peer as bots_parser
from .generate import generate
from .measure import Profiler, peak_rss_mb, pin_one_cpu, run_child
from .results import ScenarioResult
from .sizes import BOTS_POS_PER_S, TARGET_TRANSLATE_POS, TARGET_TRANSLATE_RSS_MB, Size

if TYPE_CHECKING:
    from ..model import Order
    from ..partners import Partner

#: The peer parses 10,000 POs in about 40 s here; far past that it is not coming back.
PEER_TIMEOUT_S = 600.0
#: POs the pydantic floor is timed on (after the pass; their Orders are held meanwhile).
FLOOR_ORDERS = 1000
STAGES = ("read", "validate", "translate", "map", "ack_855", "ack_997")
ACK_DATE = dt.date(2026, 11, 21)
STAMP = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)


def measure(path: str, config_dir: str, profile_dir: str | None = None) -> dict[str, Any]:
    """Runs in the child: the pass over ``path``; returns seconds per stage and counts."""
    from ..model import erp_json
    from ..partners import load_registry
    from ..partners.apply import apply_inbound
    from ..pipeline.envelope import OutboundTransaction, write_envelope
    from ..translate import auto_ack, build_855, translate_850
    from ..x12 import InterchangeHeader, TransactionSet, X12Reader, validate_transaction
    from ..x12.acks import AckBuilder, CounterControlNumbers, group_segments

    cpu = pin_one_cpu()
    partner = load_registry(Path(config_dir)).get("acme-retail")
    assert partner is not None, "the example partner acme-retail is not configured"
    overlay = partner.overlays.get("850")
    policy = partner.profile.ack
    version = partner.profile.envelope.version
    # As a long-running worker does after startup: the modules, pydantic schemas and the
    # partner's configuration (about 110,000 objects) leave the collector's sight, and the
    # young generation is collected every 5,000 objects, not 700 (see heap.py).
    prepare_long_running_heap()
    rss_start = peak_rss_mb()
    profiler = Profiler(Path(profile_dir) if profile_dir else None, "translate")
    stages = dict.fromkeys(STAGES, 0.0)
    counts = {"orders": 0, "mapped": 0, "map_errors": 0, "findings": 0, "acks_855": 0}
    ack_997 = b""
    clock = time.perf_counter

    def run() -> None:
        nonlocal ack_997
        builder = AckBuilder("997", CounterControlNumbers(), policy.ack_options())
        events = X12Reader(path).events()
        isa13 = 0
        while True:
            t0 = clock()
            event = next(events, None)
            t1 = clock()
            stages["read"] += t1 - t0
            if event is None:
                break
            syntax: list[Any] = []
            if isinstance(event, InterchangeHeader) and event.sender.id != "ACMERETAIL":
                raise AssertionError(f"interchange from {event.sender.id}, not acme-retail")
            if isinstance(event, TransactionSet):
                syntax = validate_transaction(event, overlay)
                t2 = clock()
                result = translate_850(event)
                t3 = clock()
                counts["orders"] += 1
                counts["findings"] += len(syntax) + len(event.findings)
                stages["validate"] += t2 - t1
                stages["translate"] += t3 - t2
                t1 = t3
                order = result.document
                if order is not None:
                    mapped = apply_inbound(order, partner)
                    if mapped.order is not None:
                        erp_json(mapped.order)
                        counts["mapped"] += 1
                    counts["map_errors"] += sum(1 for i in mapped.issues if i.severity == "error")
                    t4 = clock()
                    isa13 += 1
                    ack = auto_ack(order, ack_date=ACK_DATE)
                    write_envelope(
                        partner,
                        "PR",
                        [OutboundTransaction("855", build_855(ack, version=version, echo=True))],
                        isa13=isa13,
                        gs06=isa13,
                        first_st=isa13,
                        version=version,
                        timestamp=STAMP,
                    )
                    counts["acks_855"] += 1
                    t1 = clock()
                    stages["map"] += t4 - t3
                    stages["ack_855"] += t1 - t4
            output = builder.feed(event, syntax)
            if output is not None and output.groups:
                isa13 += 1
                ack_997 = write_envelope(
                    partner,
                    "FA",
                    [OutboundTransaction("997", group_segments(g)) for g in output.groups],
                    isa13=isa13,
                    gs06=isa13,
                    first_st=isa13,
                    version="004010",
                    timestamp=STAMP,
                ).data
            stages["ack_997"] += clock() - t1

    start = clock()
    profiler.wrap(run)()
    total = clock() - start
    profiler.write()
    rss = peak_rss_mb()  # before the floor pass, which keeps its orders in memory
    floor = _pydantic_floor(path, partner, FLOOR_ORDERS)
    return {
        "seconds": total,
        "stages": stages,
        "counts": counts,
        "ack_997_bytes": len(ack_997),
        "ak2_in_997": ack_997.count(b"AK2*"),
        "rss_mb": rss,
        "rss_before_mb": rss_start,
        "floor": floor,
        "cpu": cpu,
    }


def _pydantic_floor(path: str, partner: Partner, count: int) -> dict[str, float]:
    """What pydantic alone costs per PO, on the first ``count`` POs of ``path``: validating
    each translated Order again from its own values (the typed values the translator hands
    it) and rendering the mapped Order's ERP JSON. The target's 333 us per PO must hold
    these and everything else; they are timed after the pass, so they do not slow it."""
    from ..model import Order, erp_json
    from ..partners.apply import apply_inbound
    from ..translate import translate_850
    from ..x12 import TransactionSet, X12Reader

    pairs: list[tuple[dict[str, Any], Order]] = []
    for event in X12Reader(path).events():
        if len(pairs) == count:
            break
        if isinstance(event, TransactionSet):
            order = translate_850(event).document
            mapped = apply_inbound(order, partner).order if order is not None else None
            if order is not None and mapped is not None:
                pairs.append((order.model_dump(exclude_none=True), mapped))
    clock = time.perf_counter
    validate = render = 0.0
    for data, mapped in pairs:
        t0 = clock()
        Order.model_validate(data)
        t1 = clock()
        erp_json(mapped)
        render += clock() - t1
        validate += t1 - t0
    n = max(len(pairs), 1)
    return {"orders": len(pairs), "validate_us": validate / n * 1e6, "render_us": render / n * 1e6}


def run(
    size: Size,
    work: Path,
    config_dir: Path,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    profile_dir: Path | None = None,
    peer: bool = True,
) -> ScenarioResult:
    """Ours on the generated file, then (``peer``) Bots' parser on the same file."""
    orders = size.translate_pos
    progress = progress or (lambda label, done, total: None)
    result = ScenarioResult(
        "translate",
        f"Translate: {orders:,} acme-retail POs in one interchange, in memory, one core",
        params={"orders": orders, "partner": "acme-retail"},
    )
    progress("translate: generating", 0, 2)
    path = generate(work / f"acme-850-{orders}.edi", orders, style="acme")
    progress("translate: running", 1, 3 if peer else 2)
    child = run_child(
        "translate",
        path=str(path),
        config_dir=str(config_dir),
        profile_dir=str(profile_dir) if profile_dir else None,
    )
    progress("translate: running", 2, 3 if peer else 2)
    seconds = child["seconds"]
    counts = child["counts"]
    rate = counts["orders"] / seconds
    result.figures.update(
        {
            "file MB": path.stat().st_size / 1e6,
            "seconds": seconds,
            "POs/s": rate,
            "peak RSS MB": child["rss_mb"],
            "RSS after imports MB": child["rss_before_mb"],
            "x Bots 4.0 (98 POs/s)": rate / BOTS_POS_PER_S,
        }
    )
    for stage in STAGES:
        share = child["stages"][stage] / seconds * 100
        per_po = child["stages"][stage] / max(counts["orders"], 1) * 1e6
        result.figures[f"{stage} us/PO ({share:.0f} %)"] = per_po
    floor = child["floor"]
    floor_us = floor["validate_us"] + floor["render_us"]
    result.figures["pydantic floor us/PO: Order validation"] = floor["validate_us"]
    result.figures["pydantic floor us/PO: ERP JSON render"] = floor["render_us"]
    result.figures["POs/s if nothing but the floor cost"] = 1e6 / floor_us if floor_us else 0.0
    result.notes.append(
        f"pydantic floor: validating an Order and rendering its ERP JSON, timed alone on the "
        f"first {floor['orders']:,} POs after the pass, take {floor_us:,.0f} us of the "
        f"{1e6 / TARGET_TRANSLATE_POS:,.0f} us per PO that {TARGET_TRANSLATE_POS:,.0f} POs/s "
        "allows for everything"
    )
    result.counts = {
        "orders": counts["orders"],
        "mapped": counts["mapped"],
        "855s": counts["acks_855"],
        "AK2 in 997": child["ak2_in_997"],
        "map errors": counts["map_errors"],
        "pydantic floor POs": floor["orders"],
    }
    result.check(
        "translate POs/s (one core)",
        f">= {TARGET_TRANSLATE_POS:,.0f}",
        f"{rate:,.0f}",
        rate >= TARGET_TRANSLATE_POS,
    )
    rss = child["rss_mb"]
    result.check(
        "translate peak RSS",
        f"< {TARGET_TRANSLATE_RSS_MB:.0f} MB",
        f"{rss:.0f} MB",
        rss < TARGET_TRANSLATE_RSS_MB,
    )
    if peer:
        progress(f"translate: {bots_parser.NAME}", 2, 3)
        _run_peer(result, path, rate)
        progress(f"translate: {bots_parser.NAME}", 3, 3)
    else:
        result.notes.append(f"{bots_parser.NAME} not run beside it (--no-peer)")
    result.seconds = seconds
    return result


def _run_peer(result: ScenarioResult, path: Path, rate: float) -> None:
    """Bots' parser on the same file, with its rate, RSS and our ratio to it; a note says
    why when it did not run or did not read every PO."""
    name = bots_parser.NAME
    if not bots_parser.installed():
        result.notes.append(f"{name} not run beside it: not installed ({bots_parser.INSTALL_HINT})")
        return
    try:  # an optional extra: its failure (out of memory, say) must not cost our figures
        child = run_child("bots-parser", timeout=PEER_TIMEOUT_S, path=str(path))
    except (EdigateError, subprocess.TimeoutExpired) as exc:
        result.notes.append(f"{name} failed, no ratio given: {str(exc).strip()[-300:]}")
        return
    orders = result.counts["orders"]
    result.counts[f"{name} POs"] = child["messages"]
    if not child["success"] or child["messages"] != orders:
        shown = "; ".join(child["errors"]) or "no error given"
        result.notes.append(
            f"{name} read {child['messages']} of {orders} POs, no ratio given "
            f"({child['error_count']} error(s): {shown})"
        )
        return
    peer_rate = orders / child["seconds"]
    result.figures[f"{name} POs/s (parse only)"] = peer_rate
    result.figures[f"{name} peak RSS MB"] = child["rss_mb"]
    result.figures[f"x {name} (same file, same run)"] = rate / peer_rate
