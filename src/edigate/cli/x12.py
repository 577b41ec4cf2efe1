"""``edigate x12 ...``: look inside X12 files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..x12.summary import has_errors, summarize


@click.group()
def x12() -> None:
    """Inspect, validate and write X12 interchanges."""


@x12.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the tree as JSON.")
def inspect(file: Path, as_json: bool) -> None:
    """Print the envelope tree of FILE and every error with its position.

    Exit status: 0 without errors, 1 when the file has errors, 2 for usage errors.
    """
    summary = summarize(file)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(render_tree(file, summary))
    raise SystemExit(1 if has_errors(summary) else 0)


def render_tree(file: Path, summary: dict[str, Any]) -> str:
    """Human-readable tree of a summary."""
    lines = [f"{file}  ({summary['encoding']})"]
    for ic in summary["interchanges"]:
        seps = ic["separators"]
        shown = " ".join(f"{name}={value!r}" for name, value in seps.items() if value is not None)
        lines.append(
            f"  interchange {ic['control_number']}  {ic['sender']['qualifier']}:"
            f"{ic['sender']['id']} -> {ic['receiver']['qualifier']}:{ic['receiver']['id']}  "
            f"version {ic['version']}{'  TEST' if ic['test'] else ''}  (segment {ic['segment']})"
        )
        lines.append(f"    separators: {shown}")
        for ta1 in ic["ta1"]:
            lines.append(f"    TA1 {'*'.join(ta1['elements'])}  (segment {ta1['segment']})")
        for grp in ic["groups"]:
            lines.append(
                f"    group {grp['control_number']}  {grp['functional_id']}  version "
                f"{grp['version']}  {grp['sender']} -> {grp['receiver']}  "
                f"{len(grp['transactions'])} transaction(s)"
            )
            for tx in grp["transactions"]:
                lines.append(
                    f"      {tx['set_id']} {tx['control_number']}  {tx['segment_count']} "
                    f"segments  (segment {tx['segment']})"
                )
    errors = summary["errors"]
    real = [e for e in errors if e["severity"] == "error"]
    lines.append(f"{len(real)} error(s), {len(errors) - len(real)} warning(s)")
    for err in errors:
        where = f"segment {err['segment']}" if err["segment"] is not None else "file"
        if err.get("location", {}).get("tag"):
            where += f" {err['location']['tag']}"
            if err["element"] is not None:
                where += f"{err['element']:02d}"
        mark = "error" if err["severity"] == "error" else "warning"
        lines.append(f"  {mark}: {where}: [{err['code']}] {err['message']}")
    return "\n".join(lines)
