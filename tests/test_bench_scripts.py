"""The scripts in ``tests/bench`` keep running: issue 4's benchmark and its reference point.

Only that they run and compare like with like; never their timings.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent / "bench"


@pytest.fixture(scope="module")
def bench_modules() -> Iterator[tuple[ModuleType, ModuleType]]:
    sys.path.insert(0, str(BENCH))
    try:
        import bench_translate
        import reference_850

        yield bench_translate, reference_850
    finally:
        sys.path.remove(str(BENCH))


def test_the_translate_benchmark_runs_beside_its_reference() -> None:
    script = str(BENCH / "bench_translate.py")
    done = subprocess.run(
        [sys.executable, script, "--orders", "30", "--reference", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "30 POs" in out and "0 findings" in out
    assert "reference: the first 30 POs give equal Orders and 855s" in out
    assert "ours is" in out and "x the reference" in out


def test_the_reference_must_build_the_855_we_build(
    bench_modules: tuple[ModuleType, ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison is only fair while both do the same work: a reference 855 that
    leaves out a segment stops the run."""
    bench_translate, reference_850 = bench_modules
    path = bench_translate.generate(tmp_path / "pos.edi", 3)
    assert bench_translate.same_work(path, 3) == 3
    whole = reference_850.ack_segments
    monkeypatch.setattr(reference_850, "ack_segments", lambda o, d: whole(o, d)[:-1])
    with pytest.raises(SystemExit, match="gives another 855 than ours"):
        bench_translate.same_work(path, 3)


def test_the_reference_must_build_the_order_we_build(
    bench_modules: tuple[ModuleType, ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench_translate, reference_850 = bench_modules
    path = bench_translate.generate(tmp_path / "pos.edi", 2)
    whole = reference_850.order_dict

    def without_the_summary(segments: list[list[str]]) -> dict:
        data = whole(segments)
        del data["summary"]
        return data

    monkeypatch.setattr(reference_850, "order_dict", without_the_summary)
    with pytest.raises(SystemExit, match="gives another Order than ours"):
        bench_translate.same_work(path, 2)
