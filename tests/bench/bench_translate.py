"""Benchmark: 850s through read, validation, the canonical Order and an auto-855.

Run ``python3 tests/bench/bench_translate.py`` (10,000 POs from ``generate.py``) or
``--orders 500`` for a smoke run; ``--profile`` prints the hottest functions. One core, one
process: every PO is read (``X12Reader.events``), validated (``validate_transaction``, when
``edigate.x12.validator`` exists), translated to an ``Order`` (pydantic validation on), and
acknowledged (``auto_ack`` -> ``OrderAck`` -> ``build_855`` segments). Target: 3,000 POs/s.
``--check`` exits 1 when it is missed. ``--reference`` also runs issue 4's reference point in
the same process, alternating with the real path (``reference_850.py``: a plain split, our
``Order`` validated by pydantic, an 855 written straight from it; no X12 validation), after
checking on the first POs that both give equal Orders and 855s, and prints the ratio.
``--worker-gc`` (or its old name ``--gc-freeze``) sets the collector up as ``edigate worker``
does (``edigate.heap``): the startup heap (modules, pydantic schemas: about 40,000 objects)
frozen out of its sight, and the young generation collected every 5,000 objects, not 700.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import reference_850  # noqa: E402
from generate import generate  # noqa: E402

from edigate.heap import prepare_long_running_heap  # noqa: E402
from edigate.model.order import Order  # noqa: E402
from edigate.translate.auto_ack import auto_ack  # noqa: E402
from edigate.translate.x12_850 import translate_850  # noqa: E402
from edigate.translate.x12_855 import build_855  # noqa: E402
from edigate.x12 import TransactionSet, X12Reader  # noqa: E402

TARGET = 3000.0
ACK_DATE = dt.date(2026, 11, 21)

Validate = Callable[[TransactionSet], list[Any]]


def load_validator() -> Validate | None:
    try:
        from edigate.x12.validator import validate_transaction
    except ImportError:
        return None
    return validate_transaction


def run(path: Path, validate: Validate | None) -> dict[str, float]:
    """One pass; returns seconds spent per stage and the counts."""
    stages = {"read": 0.0, "validate": 0.0, "order": 0.0, "ack": 0.0}
    orders = segments = findings = ack_segments = 0
    clock = time.perf_counter
    events = X12Reader(path).events()
    while True:
        t0 = clock()
        event = next(events, None)
        t1 = clock()
        stages["read"] += t1 - t0
        if event is None:
            break
        if not isinstance(event, TransactionSet):
            continue
        if validate is not None:
            problems = validate(event)
            findings += len(problems)
        t2 = clock()
        result = translate_850(event)
        t3 = clock()
        order = result.document
        if order is None:
            raise SystemExit(f"PO {event.control_number} did not translate: {result.findings}")
        ack_segments += len(build_855(auto_ack(order, ack_date=ACK_DATE), echo=True))
        t4 = clock()
        stages["validate"] += t2 - t1
        stages["order"] += t3 - t2
        stages["ack"] += t4 - t3
        orders += 1
        segments += len(event.segments)
    return {
        **stages,
        "orders": orders,
        "segments": segments,
        "findings": findings,
        "ack_segments": ack_segments,
    }


def same_work(path: Path, count: int) -> int:
    """Check that the reference's first ``count`` Orders and 855s equal ours; how many."""
    ours = (e for e in X12Reader(path).events() if isinstance(e, TransactionSet))
    checked = 0
    for tx, segments in zip(ours, reference_850.transactions(path), strict=True):
        if checked == count:
            break
        order = translate_850(tx).document
        theirs = Order.model_validate(reference_850.order_dict(segments))
        if order != theirs:
            raise SystemExit(f"reference: PO {tx.control_number} gives another Order than ours")
        ack = [[str(e) for e in s] for s in build_855(auto_ack(order, ack_date=ACK_DATE))]
        if ack != reference_850.ack_segments(theirs, ACK_DATE):
            raise SystemExit(f"reference: PO {tx.control_number} gives another 855 than ours")
        checked += 1
    return checked


def compare_with_reference(path: Path, validate: Validate | None, rounds: int) -> None:
    """Ours and the reference, alternating, in this process; best round of each."""
    print(f"reference: the first {same_work(path, 200)} POs give equal Orders and 855s")
    best: dict[str, float] = {}
    clock = time.perf_counter
    for _ in range(rounds):
        for name, one_pass in (
            ("ours", lambda: run(path, validate)),
            ("reference", lambda: reference_850.run(path, ACK_DATE)),
        ):
            start = clock()
            result = one_pass()
            rate = result["orders"] / (clock() - start)
            best[name] = max(best.get(name, 0.0), rate)
            stages = ", ".join(
                f"{k} {v / result['orders'] * 1e6:.0f}"
                for k, v in result.items()
                if k not in ("orders", "segments", "findings", "ack_segments")
            )
            print(f"  {name:9s} {rate:7,.0f} POs/s  (us/PO: {stages})")
    print(
        f"best of {rounds}: ours {best['ours']:,.0f} POs/s, reference {best['reference']:,.0f} "
        f"POs/s: ours is {best['ours'] / best['reference']:.2f}x the reference"
    )


def measure(
    path: Path, validate: Validate | None, worker_gc: bool, profile: bool
) -> tuple[dict[str, float], float, cProfile.Profile | None]:
    """The timed pass over ``path``: its stages, the total seconds and the profile."""
    if worker_gc:
        prepare_long_running_heap()
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    start = time.perf_counter()
    result = run(path, validate)
    total = time.perf_counter() - start
    if profiler is not None:
        profiler.disable()
    return result, total, profiler


def report(result: dict[str, float], total: float, size: int, validated: bool, gc: bool) -> float:
    """Print the stages and the rate; returns POs/s."""
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = result["orders"] / total
    orders, segments = result["orders"], result["segments"]
    print(f"file: {size / 1e6:.1f} MB, {orders:.0f} POs, {segments:.0f} segments")
    print(
        f"validator: {'edigate.x12.validator' if validated else 'absent (not measured)'}, "
        f"{result['findings']:.0f} findings"
    )
    for stage in ("read", "validate", "order", "ack"):
        share = result[stage] / total * 100
        per_po = result[stage] / max(result["orders"], 1) * 1e6
        print(f"  {stage:9s} {result[stage]:6.2f} s  {share:5.1f} %  {per_po:6.1f} us/PO")
    print(
        f"total: {total:.2f} s, {rate:,.0f} POs/s (target {TARGET:,.0f}), "
        f"{'worker gc, ' if gc else ''}"
        f"peak RSS {rss_mb:.0f} MB, {result['ack_segments']:.0f} 855 segments built"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="print the top 25 functions")
    parser.add_argument("--check", action="store_true", help=f"exit 1 below {TARGET:.0f} POs/s")
    parser.add_argument(
        "--worker-gc",
        "--gc-freeze",
        dest="worker_gc",
        action="store_true",
        help="the collector as in edigate worker (edigate.heap)",
    )
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also run issue 4's plain-Python reference, alternating, and print the ratio",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each with --reference")
    args = parser.parse_args()
    validate = load_validator()
    with tempfile.TemporaryDirectory() as tmp:
        path = generate(Path(tmp) / "pos.edi", args.orders)
        size = path.stat().st_size
        result, total, profiler = measure(path, validate, args.worker_gc, args.profile)
        rate = report(result, total, size, validate is not None, args.worker_gc)
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        if args.reference:
            compare_with_reference(path, validate, args.rounds)
    if args.check and rate < TARGET:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
