"""Benchmark: our X12 reader against pyx12's X12Reader and a plain streaming split.

Run ``python3 tests/bench/bench_reader.py`` (10,000 POs, about 21 MB and 700k segments) or
``--orders 200`` for a CI smoke run. Each reader runs in a fresh subprocess so its peak RSS
(``ru_maxrss``) is its own. Targets: at least 6x pyx12, at least 30 MB/s, peak RSS under
100 MB; ``--check`` exits 1 when one is missed.

* ``ours``: ``X12Reader(path).events()``, every segment structured into its transaction,
  control numbers and counts checked.
* ``pyx12``: ``pyx12.x12file.X12Reader(path)``, every segment (tokenizer and its envelope
  checks, no map validation).
* ``split``: chunked read, split on ``~`` and ``*``, no checks at all: the practical ceiling
  for pure Python.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

TARGET_RATIO = 6.0
TARGET_MBPS = 30.0
TARGET_RSS_MB = 100.0


# ---------------------------------------------------------------------- the three readers
def read_ours(path: str) -> tuple[int, int]:
    from edigate.x12 import Finding, TransactionSet, X12Reader

    segments = problems = 0
    for event in X12Reader(path).events():
        if isinstance(event, TransactionSet):
            segments += len(event.segments)
            problems += len(event.findings)
        elif isinstance(event, Finding):
            problems += 1
        else:
            segments += 1  # ISA, GS, GE, IEA (TA1 too)
            problems += len(getattr(event, "findings", ()))
    return segments, problems


def read_pyx12(path: str) -> tuple[int, int]:
    from pyx12.x12file import X12Reader

    segments = 0
    reader = X12Reader(path)
    for _segment in reader:
        segments += 1
    reader.cleanup()
    problems = len(reader.pop_errors())
    reader.close()
    return segments, problems


def read_split(path: str) -> tuple[int, int]:
    segments = 0
    rest = ""
    with open(path, encoding="utf-8", errors="surrogateescape") as stream:
        while chunk := stream.read(1 << 20):
            parts = (rest + chunk).split("~")
            rest = parts.pop()
            for part in parts:
                part.lstrip("\r\n").split("*")
                segments += 1
    if rest.strip():
        rest.split("*")
        segments += 1
    return segments, 0


READERS = {"ours": read_ours, "pyx12": read_pyx12, "split": read_split}


def child(name: str, path: str) -> None:
    """Runs in the subprocess: import, read once, print one JSON line."""
    if name == "ours":
        import edigate.x12  # noqa: F401  (imports are not part of the timing)
    elif name == "pyx12":
        import pyx12.x12file  # noqa: F401
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    segments, problems = READERS[name](path)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "segments": segments,
                "problems": problems,
                "rss_kb": rss,
                "rss_before_kb": rss_before,
            }
        )
    )


def measure(name: str, path: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000, help="POs in the file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child", nargs=2, metavar=("READER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        path = generate(Path(tmp) / f"bench-850-{args.orders}.edi", args.orders)
        size_mb = path.stat().st_size / 1e6
        print(f"file: {args.orders} POs (004010 850), {size_mb:.1f} MB")
        results = {name: measure(name, path) for name in ("ours", "pyx12", "split")}

    print(f"{'reader':8} {'seconds':>8} {'MB/s':>8} {'segments/s':>12} {'peak RSS':>10}  notes")
    for name, r in results.items():
        seconds = r["seconds"]
        note = f"{r['segments']} segments, {r['problems']} findings"
        print(
            f"{name:8} {seconds:8.2f} {size_mb / seconds:8.1f} {r['segments'] / seconds:12,.0f} "
            f"{r['rss_kb'] / 1024:8.1f} MB  {note} (RSS {r['rss_before_kb'] / 1024:.0f} MB "
            "before reading)"
        )
    ours, pyx12, split = results["ours"], results["pyx12"], results["split"]
    ratio = pyx12["seconds"] / ours["seconds"]
    mbps = size_mb / ours["seconds"]
    rss_mb = ours["rss_kb"] / 1024
    print(
        f"ours vs pyx12: {ratio:.1f}x faster; ours vs plain split: "
        f"{ours['seconds'] / split['seconds']:.1f}x the time"
    )
    checks = [
        (f"speed vs pyx12 >= {TARGET_RATIO:.0f}x", ratio >= TARGET_RATIO, f"{ratio:.1f}x"),
        (f"throughput >= {TARGET_MBPS:.0f} MB/s", mbps >= TARGET_MBPS, f"{mbps:.1f} MB/s"),
        (f"peak RSS < {TARGET_RSS_MB:.0f} MB", rss_mb < TARGET_RSS_MB, f"{rss_mb:.1f} MB"),
        ("same segment count as pyx12", ours["segments"] == pyx12["segments"], ""),
    ]
    for label, ok, value in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}  {value}")
    return 0 if all(ok for _, ok, _ in checks) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
