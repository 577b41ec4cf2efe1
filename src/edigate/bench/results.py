"""Benchmark results: figures, targets, the table a person reads and the JSON a machine reads."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__

Figure = int | float | str | bool | None


@dataclass
class Check:
    """One target of issue 9 against what was measured (``met`` None: not applicable)."""

    name: str
    target: str
    measured: str
    met: bool | None


@dataclass
class ScenarioResult:
    """What one scenario measured. ``figures`` are the numbers, ``counts`` what it verified
    (documents in the outbox, 997s stored...), ``checks`` the targets, ``notes`` caveats."""

    name: str
    title: str
    params: dict[str, Figure] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
    #: CPU seconds by process while the scenario ran (the harness, its children, postgres,
    #: and ``other: <command>``: programs that were not the benchmark).
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def check(self, name: str, target: str, measured: str, met: bool | None) -> None:
        self.checks.append(Check(name, target, measured, met))


@dataclass
class BenchReport:
    size: str
    machine: dict[str, Any]
    started: str
    scenarios: list[ScenarioResult] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    def scenario(self, name: str) -> ScenarioResult | None:
        return next((s for s in self.scenarios if s.name == name), None)


def machine() -> dict[str, Any]:
    """What the figures depend on: CPUs, Python, platform, edigate version and commit."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpus_allowed": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "edigate": __version__,
    }
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            timeout=5,
            check=False,
        ).stdout.strip()
    except OSError:
        info["commit"] = None
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            model = next((ln for ln in cpuinfo if ln.startswith("model name")), "")
        info["cpu_model"] = model.split(":", 1)[-1].strip() or None
    except OSError:
        info["cpu_model"] = None
    return info


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def render(report: BenchReport) -> str:
    """The table: each scenario's headline figures, then every target met or missed."""
    lines = [
        f"edigate bench --size {report.size}: {report.machine.get('cpus')} CPU(s), "
        f"Python {report.machine.get('python')}, edigate {report.machine.get('edigate')} "
        f"({report.machine.get('commit') or 'no commit'}), {report.seconds:.0f} s in total",
        "",
    ]
    for s in report.scenarios:
        head = f"== {s.title}"
        lines.append(head if not s.skipped else f"{head}: skipped ({s.skipped})")
        if s.skipped:
            continue
        for key, value in s.figures.items():
            lines.append(f"   {key:<34} {_fmt(value)}")
        if s.counts:
            shown = ", ".join(f"{k} {v}" for k, v in s.counts.items())
            lines.append(f"   {'verified':<34} {shown}")
        for note in s.notes:
            lines.append(f"   note: {note}")
    checks = [(s.name, c) for s in report.scenarios for c in s.checks]
    if checks:
        judged = report.size == "full"  # the targets are for issue 9's sizes
        title = "Targets (issue 9)" if judged else "Targets (issue 9, set for --size full)"
        lines += ["", f"{title}:"]
        width = max(len(c.name) for _, c in checks)
        for _, c in checks:
            verdict = {True: "met", False: "MISSED", None: "-"}[c.met]
            if not judged and c.met is not None:
                verdict = f"not judged at {report.size} size ({verdict.lower()} as measured)"
            lines.append(
                f"   {c.name:<{width}}  target {c.target:<16} measured {c.measured:<22} {verdict}"
            )
    return "\n".join(lines)


def _fmt(value: Figure) -> str:
    if value is None:
        return "-"  # not measured: a note of the scenario says why
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.4f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
