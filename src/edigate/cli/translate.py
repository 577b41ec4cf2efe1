"""``edigate translate FILE --to canonical|855|856|810``: X12 <-> canonical JSON.

X12 in: each 850 becomes a canonical Order (``--to canonical``), or is acknowledged at once
(``--to 855``). Canonical JSON in (an object, an array or JSON Lines): an 855 is written
from an Order (acknowledged automatically) or an OrderAck, an 856 from a Shipment, an 810
from an Invoice, in one interchange with the "no partner" envelope unless ``--sender``,
``--receiver`` and ``--version`` say otherwise.

X12 written is read back through our own validator, as the ERP path does before it sends
(:func:`~edigate.pipeline.outbound.check_written`): a partner would reject what it rejects
(an overlong BSN02, a name past N102's 60 characters), so then nothing is written.

Problems are printed to stderr like ``x12 inspect`` prints them (segment, element, code,
message); those of the X12 written name its transaction (ST02) and the segment in it.
Exit status: 0 without errors, 1 with errors, 2 for usage errors.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from ..errors import EdigateError
from ..model.jsonio import dump
from ..pipeline.outbound import check_written
from ..translate.convert import (
    Document,
    DocumentError,
    Outbound,
    documents_from_json,
    looks_like_x12,
    orders_from_x12,
    to_x12,
)
from ..translate.x12_common import parse_party_id
from ..x12.findings import Finding
from .x12 import write_output

TIMESTAMP_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


@click.command("translate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--to",
    "target",
    type=click.Choice(["canonical", "855", "856", "810"]),
    required=True,
    help="What to produce.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option("--jsonl", is_flag=True, help="Canonical output as JSON Lines, not an array.")
@click.option("--sender", default="ZZ:EDIGATE", show_default=True, help="ISA05:ISA06.")
@click.option("--receiver", default="ZZ:PARTNER", show_default=True, help="ISA07:ISA08.")
@click.option(
    "--version",
    "x12_version",
    type=click.Choice(["004010", "005010"]),
    default="004010",
    show_default=True,
    help="X12 version written (GS08).",
)
@click.option(
    "--control-number",
    type=click.IntRange(1, 999_999_999),
    default=1,
    show_default=True,
    help="ISA13 and GS06 (ST02 counts from 0001).",
)
@click.option(
    "--timestamp",
    type=click.DateTime(TIMESTAMP_FORMATS),
    help="Envelope date and time (default: now, UTC); also the auto-855 date.",
)
@click.option("--test", "test_usage", is_flag=True, help="Mark the interchange as test (ISA15 T).")
def translate(
    file: Path,
    target: str,
    out: Path | None,
    jsonl: bool,
    sender: str,
    receiver: str,
    x12_version: str,
    control_number: int,
    timestamp: dt.datetime | None,
    test_usage: bool,
) -> None:
    """Translate FILE (X12 or canonical JSON) to canonical JSON or X12."""
    data = file.read_bytes()
    try:
        outbound = Outbound(
            version=x12_version,
            sender=parse_party_id(sender),
            receiver=parse_party_id(receiver),
            control_number=control_number,
            timestamp=timestamp,
            usage="T" if test_usage else "P",
        )
        if looks_like_x12(data):
            inbound = orders_from_x12(data)
            findings: list[Finding] = inbound.findings
            withheld = inbound.withheld
            errors: list[DocumentError] = []
            documents: list[Document] = list(inbound.orders)
            if target in ("856", "810"):
                raise click.UsageError(
                    f"X12 input becomes canonical JSON or an 855, not an {target}", None
                )
        else:
            findings, withheld = [], []
            documents, errors = documents_from_json(_json_text(file, data), target)
        if target == "canonical":
            output = _canonical(documents, jsonl).encode("utf-8")
        else:
            output = to_x12(documents, target, outbound) if documents else b""
    except EdigateError as exc:
        raise click.ClickException(str(exc)) from exc
    written = check_written(output, None) if output and target != "canonical" else []
    if any(f.is_error for f in written):
        output = b""  # what a partner would reject is not written at all
    if output:
        if out is not None:
            write_output(out, output, "--out")
        else:
            sys.stdout.buffer.write(output)
            sys.stdout.buffer.flush()
    failed = _report(file, findings, errors, target, written, withheld)
    raise SystemExit(1 if failed else 0)


def _json_text(file: Path, data: bytes) -> str:
    """The text of a file that is not X12, when it can be canonical JSON (an object, an
    array or JSON Lines); else stop naming the file and what was expected."""
    expected = "expected an X12 interchange (starting with ISA) or canonical JSON"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{file} byte {exc.start + 1}: {expected}, found bytes that are not UTF-8"
        ) from exc
    start = text.lstrip()
    if not start:
        raise click.ClickException(f"{file}: {expected}, found an empty or blank file")
    if start[0] not in "{[":
        line = text[: len(text) - len(start)].count("\n") + 1
        found = start.splitlines()[0][:40]
        raise click.ClickException(f"{file} line {line}: {expected}, found {found!r}")
    return text


def _canonical(documents: list[Document], jsonl: bool) -> str:
    if jsonl:
        return "".join(json.dumps(dump(d), ensure_ascii=False) + "\n" for d in documents)
    return json.dumps([dump(d) for d in documents], indent=2, ensure_ascii=False) + "\n"


def _report(
    file: Path,
    findings: list[Finding],
    errors: list[DocumentError],
    target: str,
    written: list[Finding],
    withheld: list[str],
) -> bool:
    """Print problems to stderr as ``x12 inspect`` does; True when any is an error.

    ``findings`` are the input's, ``written`` the validator's on the X12 written (``target``),
    ``withheld`` why orders that translated are not output (their envelope's errors are
    among ``findings``).
    """
    rejected = sum(1 for f in written if f.is_error)
    n_errors = sum(1 for f in findings if f.is_error) + len(errors) + rejected
    n_warnings = sum(1 for f in findings if not f.is_error) + len(written) - rejected
    if not findings and not errors and not written:
        return False
    lines = [f"{file}: {n_errors} error(s), {n_warnings} warning(s)"]
    lines += [_line(f, _where(f)) for f in findings]
    lines += [f"  error: {error}" for error in errors]
    lines += [f"  withheld: {why}" for why in withheld]
    lines += [_line(f, f"the {target} written, {_where_written(f)}") for f in written]
    if rejected:
        lines.append(f"  error: nothing written: our validator rejects the {target}")
    click.echo("\n".join(lines), err=True)
    return n_errors > 0


def _line(finding: Finding, where: str) -> str:
    """One finding, with the value at fault as ``x12 validate`` prints it."""
    mark = "error" if finding.is_error else "warning"
    value = f" (value {finding.value!r})" if finding.value not in (None, "") else ""
    return f"  {mark}: {where}: [{finding.code.label}] {finding.message}{value}"


def _element(finding: Finding) -> str:
    """``BSN02``: the tag and element position, as far as the finding has them."""
    location = finding.location
    if not location.tag:
        return ""
    element = f"{location.element:02d}" if location.element is not None else ""
    return f" {location.tag}{element}"


def _where(finding: Finding) -> str:
    """Where in the input file: ``segment 5 PO102``."""
    segment = finding.location.segment
    return ("file" if segment is None else f"segment {segment}") + _element(finding)


def _where_written(finding: Finding) -> str:
    """Where in the X12 written, which the user does not get to see: the transaction (ST02)
    and the segment in it (ST is 1), else the segment in the interchange."""
    location = finding.location
    transaction, in_transaction = location.transaction_control, location.segment_in_transaction
    if transaction and in_transaction is not None:
        where = f"transaction {transaction} segment {in_transaction}"
    elif location.segment is not None:
        where = f"interchange segment {location.segment}"
    else:
        where = "interchange"
    return where + _element(finding)
