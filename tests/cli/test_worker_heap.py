"""A long-running worker freezes its startup heap, so full collections stop walking it, and
collects its young generation every 5,000 objects instead of 700."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from edigate.cli.main import cli
from edigate.heap import YOUNG_GENERATION_THRESHOLD, prepare_long_running_heap

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *thresholds[1:])
    yield
    gc.unfreeze()  # the test process keeps collecting its own heap, as often as before
    gc.set_threshold(*thresholds)


def test_prepare_long_running_heap_takes_the_survivors_out_of_the_collectors_sight(
    unfrozen: None,
) -> None:
    survivors = [{"n": n} for n in range(1000)]
    frozen = prepare_long_running_heap()
    assert frozen == gc.get_freeze_count() >= len(survivors)
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD == 5000
    gc.unfreeze()
    assert gc.get_freeze_count() == 0


def test_edigate_worker_freezes_what_startup_built(tmp_path: Path, unfrozen: None) -> None:
    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    args = ["--data-dir", str(tmp_path / "data"), "--config-dir", str(config_dir)]
    result = CliRunner().invoke(cli, [*args, "worker", "--until-idle"])
    assert result.exit_code == 0, result.output
    assert "processed 0 document(s)" in result.output
    # The partner registry, the maps and the pydantic schemas: tens of thousands of objects.
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD
