"""Hostile X12: ten million segments in one transaction, one line of a gigabyte.

Both are generated while they are read (``tests/security/streams.py``): nothing that large
exists in memory or on disk. Each runs in a fresh process whose peak RSS (VmHWM) is reset
just before reading, so the figure is the reader's alone.

Measured on the 2-core machine: 10M segments (180 MB) in 6 s, 180 MB peak with the default
limits (the 500,000 segments kept), 11 MB with ``max_transaction_segments=10_000``; a 1 GB
line in 3.5 s, 7 MB peak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from edigate.x12 import ErrorCode, ReaderLimits, TransactionSet, X12Reader

from . import targets
from .streams import GeneratedStream, many_segments, one_long_line

TEN_MILLION = 10_000_000
ONE_GB = 1 << 30


def measure(*args: object) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.security.streams", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=targets.ROOT,
        env={**os.environ, "PYTHONPATH": str(targets.ROOT / "src")},
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_ten_million_segments_in_one_transaction_are_refused_in_bounded_memory() -> None:
    result = measure("segments", TEN_MILLION)
    (tx,) = result["transactions"]
    assert tx["findings"] == [ErrorCode.TRANSACTION_TOO_LARGE.name]
    assert tx["count"] == TEN_MILLION + 3  # every segment counted (ST, BEG, REFs, SE)
    assert tx["kept"] == ReaderLimits().max_transaction_segments + 1 and not tx["complete"]
    assert "more than 500000 segments" in tx["messages"][0]
    assert result["bytes"] > 170_000_000
    # Bounded by the limit (500,000 segments kept), not by the 180 MB of input.
    assert result["peak_kib"] < 300 * 1024, result


def test_the_transaction_limit_is_configurable_and_bounds_memory() -> None:
    result = measure("segments", TEN_MILLION, 10_000)
    (tx,) = result["transactions"]
    assert tx["findings"] == [ErrorCode.TRANSACTION_TOO_LARGE.name]
    assert tx["kept"] == 10_001 and tx["count"] == TEN_MILLION + 3
    assert result["peak_kib"] < 32 * 1024, result


def test_a_one_gigabyte_line_is_skipped_with_a_finding_in_bounded_memory() -> None:
    result = measure("line", ONE_GB)
    assert result["bytes"] > ONE_GB
    (tx,) = result["transactions"]
    assert tx["findings"] == [ErrorCode.SEGMENT_TOO_LONG.name]  # the transaction is rejected
    assert (
        "segment longer than 1048576 characters (the reader's limit per segment): skipped up "
        "to its terminator" in tx["messages"][0]
    )
    # The segments around it survive, and the SE count (which counts the skipped one) agrees.
    assert tx["count"] == 4 and tx["complete"]
    assert result["other_findings"] == []
    assert result["peak_kib"] < 64 * 1024, result


def test_generated_streams_are_real_x12() -> None:
    """The generators make what they claim: a small one reads clean."""
    events = list(X12Reader(GeneratedStream(many_segments(1000))).events())
    (tx,) = [e for e in events if isinstance(e, TransactionSet)]
    assert tx.segment_count == 1003 and tx.findings == [] and tx.complete
    limits = ReaderLimits(max_segment_chars=4096)
    events = list(X12Reader(GeneratedStream(one_long_line(4096)), limits=limits).events())
    (tx,) = [e for e in events if isinstance(e, TransactionSet)]
    assert [f.code for f in tx.findings] == [ErrorCode.SEGMENT_TOO_LONG]
