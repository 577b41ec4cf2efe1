"""``edigate x12 ...``: look inside X12 files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..x12.check import (
    FileCheck,
    acknowledge_file,
    blank_file_finding,
    check_file,
)
from ..x12.findings import Finding
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
    if not summary["interchanges"] and not summary["errors"]:  # empty: no event to report
        summary["errors"].append(blank_file_finding().to_dict())
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


@x12.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--ack",
    "ack_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the 997/999 (and TA1 where due) to this file.",
)
@click.option(
    "--kind",
    type=click.Choice(["auto", "997", "999"]),
    default="auto",
    show_default=True,
    help="Acknowledgement kind: auto answers each 005010 interchange with a 999, others "
    "with a 997.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def validate(file: Path, ack_path: Path | None, kind: str, as_json: bool) -> None:
    """Validate every transaction in FILE and print each error with its position.

    Exit status: 0 without errors, 1 when the file has errors, 2 for usage errors.
    """
    data = file.read_bytes()
    result = check_file(data)
    no_ack = None
    written = kind
    if ack_path is not None:
        written, no_ack = write_ack(data, kind, result, ack_path)
    if as_json:
        ack: dict[str, str | None] | None = None
        if ack_path is not None:
            ack = {"kind": written, "path": None if no_ack else str(ack_path)}
            if no_ack:
                ack["error"] = no_ack
        payload = {
            "file": str(file),
            "interchanges": result.interchanges,
            "transactions": result.transactions,
            "rejected": result.rejected,
            "ack": ack,
            "errors": [f.to_dict() for f in result.findings],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(render_findings(file, result.transactions, result.rejected, result.findings))
        if no_ack:
            click.echo(f"  error: {no_ack}")
        elif ack_path is not None:
            click.echo(f"{written} written to {ack_path}")
    raise SystemExit(1 if result.errors or no_ack else 0)


def write_ack(data: bytes, kind: str, check: FileCheck, path: Path) -> tuple[str, str | None]:
    """Write the ack of ``data`` to ``path``: what was written ("997", "997 and TA1",
    "997, 999 and TA1", "TA1"), and None; else, writing nothing, say why there is none.

    An empty file would pass for an ack that answers nothing, so none is written.
    """
    acks = acknowledge_file(data, kind)
    ack = acks.functional + acks.technical
    names = list(dict.fromkeys(g.kind for g in acks.groups)) if acks.functional else []
    names += ["TA1"] if acks.technical else []
    written = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    if ack:
        write_output(path, ack, "--ack")
        return written, None
    if not check.interchanges:
        why = "the file has no readable ISA (an acknowledgement answers an interchange)"
    else:
        why = (
            "no functional group to acknowledge (groups of acks, GS01 FA, never are) "
            "and no TA1 due (ISA14 0, a sound envelope)"
        )
    return kind, f"no acknowledgement can be built: {why}; {path} not written"


def write_output(path: Path, data: bytes, option: str) -> None:
    """Write an output file; a path that cannot be written is a usage error naming it."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        parent = path.parent
        if not parent.exists():
            why = f"directory {parent} does not exist"
        elif not parent.is_dir():
            why = f"{parent} is not a directory"
        else:
            why = exc.strerror or str(exc)
        raise click.BadParameter(f"cannot write {path}: {why}", param_hint=f"'{option}'") from exc


def render_findings(file: Path, transactions: int, rejected: int, findings: list[Finding]) -> str:
    errors = [f for f in findings if f.is_error]
    lines = [
        f"{file}: {transactions} transaction(s), {rejected} rejected, "
        f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)"
    ]
    for finding in findings:
        mark = "error" if finding.is_error else "warning"
        value = f" (value {finding.value!r})" if finding.value not in (None, "") else ""
        lines.append(f"  {mark}: {finding}{value}")
    return "\n".join(lines)
