"""``edigate bench``: issue 9's benchmarks, runnable by anyone on their own machine.

Each scenario is a module with ``run(size, work, config_dir, *, progress, profile_dir)``
returning a :class:`ScenarioResult`; it generates its own inputs (``generate``), runs on a
throwaway gateway under ``work`` (SQLite unless it says otherwise), verifies what came out
(counts) and measures. ``run_bench`` runs the chosen scenarios and returns one report; the
CLI prints it as a table and writes it as JSON.

Usage::

    report = run_bench("small", work=Path("/tmp/bench"))
    print(render(report)); report.write_json(Path("bench.json"))
"""

from __future__ import annotations

import importlib
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .gateway_log import GatewayLog
from .measure import CpuSampler
from .results import BenchReport, Check, ScenarioResult, machine, now_iso, render
from .sizes import SIZES, Size

Scenario = Callable[..., ScenarioResult]
Progress = Callable[[str, int, int], None]
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

#: Scenario -> its module, in the order they run: quick in-memory first, the long ones last.
#: Imported when run, so a child process measuring one path imports only that path.
SCENARIOS: dict[str, str] = {
    "translate": "translate",
    "small-files": "small_files",
    "outbound": "outbound",
    "sftp": "sftp",
    "scale-out": "scale_out",
    "large-file": "large_file",
}


def scenario(name: str) -> Scenario:
    """The ``run`` function of scenario ``name``."""
    found: Scenario = importlib.import_module(f"{__name__}.{SCENARIOS[name]}").run
    return found


def _no_progress(label: str, done: int, total: int) -> None:
    pass


__all__ = [
    "SCENARIOS",
    "SIZES",
    "BenchReport",
    "Check",
    "ScenarioResult",
    "Size",
    "render",
    "run_bench",
    "scenario",
]


def run_bench(
    size: str | Size = "small",
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    work: Path | None = None,
    config_dir: Path | None = None,
    postgres_url: str = DEFAULT_POSTGRES,
    peer: bool = True,
    profile_dir: Path | None = None,
    progress: Progress = _no_progress,
    on_result: Callable[[ScenarioResult], None] | None = None,
) -> BenchReport:
    """Run the scenarios (all, or ``only``, minus ``skip``) at ``size``; one report.

    ``work`` keeps the workspaces (default: a temporary folder, removed afterwards).
    ``peer``: run Bots' parser beside the translate scenario, when it is installed.
    """
    chosen = SIZES[size] if isinstance(size, str) else size
    unknown = [n for n in (*only, *skip) if n not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario {unknown[0]!r}; expected one of {', '.join(SCENARIOS)}")
    names = [n for n in SCENARIOS if (not only or n in only) and n not in skip]
    from .common import config_source

    source = config_source(config_dir)
    report = BenchReport(chosen.name, machine(), now_iso())
    start = time.perf_counter()
    quiet = _quiet_logs()
    try:
        with tempfile.TemporaryDirectory(prefix="edigate-bench-") as tmp:
            root = work or Path(tmp)
            for name in names:
                folder = root / name
                folder.mkdir(parents=True, exist_ok=True)
                extra: dict[str, object] = {}
                if name == "scale-out":
                    extra["postgres_url"] = postgres_url
                elif name == "translate":
                    extra["peer"] = peer
                with CpuSampler(interval=0.5) as sampler, GatewayLog(folder) as log:
                    result = scenario(name)(
                        chosen,
                        folder,
                        source,
                        progress=progress,
                        profile_dir=profile_dir,
                        **extra,
                    )
                _noise(result, sampler)
                log.note(result)
                report.scenarios.append(result)
                if on_result is not None:
                    on_result(result)
    finally:
        quiet()
    report.seconds = time.perf_counter() - start
    return report


def _noise(result: ScenarioResult, sampler: CpuSampler) -> None:
    """Record the CPU other programs took while the scenario ran: figures measured on a
    busy machine say so."""
    used = sampler.seconds()
    result.cpu_seconds = {k: round(v, 2) for k, v in used.items()}
    others = sampler.others()
    if result.skipped is None and others > 1.0:
        top = ", ".join(
            f"{k[7:]} {v:.0f} s" for k, v in used.items() if k.startswith("other: ") and v >= 1
        )
        result.notes.append(
            f"other programs used {others:.0f} CPU-s during this scenario of "
            f"{result.seconds:.0f} s ({top}): the machine was not quiet, so figures are low"
        )


def _quiet_logs() -> Callable[[], None]:
    """paramiko logs every client hang-up; the bench's own output is the table."""
    logger = logging.getLogger("paramiko")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    return lambda: logger.setLevel(level)
