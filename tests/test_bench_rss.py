"""A child's peak RSS is its own: Linux starts a child's ``ru_maxrss`` at its parent's
peak, so a 30 MB worker started by a 300 MB harness read as 300 MB."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from edigate.bench.common import Child, run_measured
from edigate.bench.measure import ChildPeak, peak_rss_mb, proc_status_mb

MIB = 1024 * 1024


def _grown_past(mb: float) -> bytes:
    """Touched memory that puts this process's peak RSS past ``mb``."""
    now = proc_status_mb("VmRSS") or 0.0
    ballast = b"x" * int(max(mb - now, 0) * MIB + 64 * MIB)
    assert peak_rss_mb() > mb
    return ballast


def test_a_small_child_of_a_large_parent_reports_its_own_small_peak() -> None:
    ballast = _grown_past(400)
    run = run_measured([sys.executable, "-c", "import time; time.sleep(0.3)"], timeout=30)
    assert run.returncode == 0
    assert 0 < run.max_rss_mb < 100, run.max_rss_mb
    del ballast


def test_a_child_larger_than_its_parent_reports_its_whole_peak() -> None:
    parent = peak_rss_mb()
    grow = int(parent + 150)
    code = f"b = b'x' * ({grow} * 1024 * 1024); del b"  # freed at once: only its peak shows
    run = run_measured([sys.executable, "-c", code], timeout=30)
    assert run.returncode == 0
    assert grow <= run.max_rss_mb < grow + 100, (grow, run.max_rss_mb)


def test_a_child_smaller_than_its_parent_is_sampled_while_it_runs(tmp_path: Path) -> None:
    """Between the two: above a bare interpreter, below the parent's peak, held a while."""
    ballast = _grown_past(500)
    code = "import time; b = b'x' * (200 * 1024 * 1024); time.sleep(0.5)"
    child = Child.launch([sys.executable, "-c", code], tmp_path / "log")
    child.wait(30)
    assert child.returncode == 0
    assert 200 <= child.max_rss_mb < 300, child.max_rss_mb
    del ballast


def test_an_inherited_peak_a_little_above_ours_is_not_taken_for_the_childs() -> None:
    """Seen once under load: ``ru_maxrss`` 489 MB for a sleeping child of a 489 MB test
    process, the kernel's lazily synced RSS counters a hair above our ``VmHWM``."""
    peak = ChildPeak(os.getpid())
    peak.inherited = 488.5
    peak.sampled = 9.8
    assert peak.of(int(488.99 * 1024)) == 9.8  # inherited, give or take: the sampled peak
    assert peak.of(700 * 1024) == 700  # far above ours: the child's own, exactly
