"""``edigate map test``: run a partner's map on sample files, test-first onboarding.

Each sample goes the way a real file would: identification (an X12 sender must be the
partner), validation (X12, with the partner's overlay), translation (X12 850, or the map's
CSV / XML layout), then the map itself. The result is one stable JSON document per sample:
the mapped orders and every issue with its position, prefixed by the step that found it.
With an expected directory, each result is compared with ``DIR/<sample stem>.order.json``
and a difference is shown as a unified diff; ``update`` writes the files instead. Paths
under the config directory are written relative to it, so the results do not depend on
where it is or how it was spelled.

Usage::

    report = run_map_test(registry, "initech-csv", [Path("samples/csv/initech-orders.csv")],
                          expect=Path("samples/expected/mapped"))
    report.ok, report.samples[0].diff
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EdigateError, InputError
from ..model.jsonio import dump
from ..model.order import Order
from ..x12.acks import AckBuilder, AckOutput, CounterControlNumbers
from ..x12.check import blank_file_finding
from ..x12.events import GroupHeader, InterchangeHeader, TransactionSet
from ..x12.findings import Finding
from ..x12.reader import X12Reader
from .errors import UnknownPartnerError
from .group_party import group_party_warnings
from .registry import Partner, Registry
from .rules import MapIssue

#: The map step: an order in, the mapped order (None: rejected) and its issues out.
Mapper = Callable[[Order, Partner], tuple[Order | None, list[str]]]


@dataclass
class SampleResult:
    """One sample: the result document, and how it compares with the expected one."""

    sample: Path
    result: dict[str, Any]
    expected_path: Path | None = None
    diff: str | None = None
    missing: bool = False
    updated: bool = False

    @property
    def text(self) -> str:
        return stable_json(self.result)

    @property
    def issues(self) -> list[str]:
        return list(self.result["issues"])

    @property
    def has_errors(self) -> bool:
        return any(not i.endswith("(warning)") for i in self.issues)

    @property
    def ok(self) -> bool:
        return self.diff is None and not self.missing


@dataclass
class MapTestReport:
    partner: str
    samples: list[SampleResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.samples)


def stable_json(result: dict[str, Any]) -> str:
    """The text form compared and stored: indented, non-ASCII kept, newline at the end."""
    return json.dumps(result, indent=2, ensure_ascii=False) + "\n"


def expected_path(directory: Path, sample: Path) -> Path:
    return directory / f"{sample.stem}.order.json"


def _refuse_shared_goldens(directory: Path, samples: Sequence[Path]) -> None:
    """Two different samples with one stem would write one golden file, the second silently
    overwriting the first."""
    owners: dict[Path, Path] = {}
    for sample in samples:
        path = expected_path(directory, sample)
        first = owners.setdefault(path, sample)
        if first.resolve() != sample.resolve():
            raise InputError(
                f"samples {first} and {sample} would both be written to {path}: "
                "rename one of them, or update them in separate runs"
            )


def _prepare_expect_dir(directory: Path) -> None:
    """Create ``directory`` for ``update`` before any sample runs, or say why it cannot be."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (directory, *directory.parents) if p.exists()), None)
        why = (
            f"{blocker} is a file, not a directory"
            if blocker is not None and not blocker.is_dir()
            else exc.strerror or str(exc)
        )
        raise InputError(f"--expect {directory}: cannot create the directory: {why}") from exc


def run_map_test(
    registry: Registry,
    partner_id: str,
    samples: Sequence[Path],
    *,
    expect: Path | None = None,
    update: bool = False,
    mapper: Mapper | None = None,
) -> MapTestReport:
    """Run every sample through ``partner_id``'s map; compare with or write ``expect``."""
    partner = registry.get(partner_id)
    if partner is None:
        known = ", ".join(sorted(registry.partners)) or "none"
        raise UnknownPartnerError(
            f"no partner {partner_id!r} in the config (known: {known})", seen=partner_id
        )
    if expect is not None and update:
        _refuse_shared_goldens(expect, samples)
        _prepare_expect_dir(expect)
    step = mapper or default_mapper()
    report = MapTestReport(partner_id)
    for sample in samples:
        result = SampleResult(sample, run_sample(registry, partner, sample, step))
        if expect is not None:
            _compare(result, expected_path(expect, sample), update)
        report.samples.append(result)
    return report


def default_mapper() -> Mapper:
    """The map step: ``edigate.partners.apply.apply_inbound``."""
    from .apply import apply_inbound

    def mapper(order: Order, partner: Partner) -> tuple[Order | None, list[str]]:
        mapped = apply_inbound(order, partner)
        return mapped.order, [describe_issue(issue) for issue in mapped.issues]

    return mapper


def describe_issue(issue: MapIssue, base: str = "") -> str:
    """A map issue on one line: where in the order, what, and the map rule that spoke.

    ``base`` is cut from the rule's ``file:line`` (:func:`run_sample` also makes every path
    under the config directory relative, wherever it appears).
    """
    where = f"order line {issue.line_index + 1}: " if issue.line_index is not None else ""
    path = f" [{issue.path}]" if issue.path else ""
    origin = f" (map rule at {issue.origin.removeprefix(base)})" if issue.origin else ""
    warning = " (warning)" if issue.severity == "warning" else ""
    return f"{where}{issue.code}: {issue.message}{path}{origin}{warning}"


def relative_to_config(text: str, config_dir: Path) -> str:
    """``text`` with each path under ``config_dir`` made relative to it (``/srv/cfg/maps/x``
    and ``../cfg/maps/x`` both become ``maps/x``), so that results, and the golden files
    holding them, are the same wherever the config directory is and however it is spelled.
    """
    if str(config_dir) == ".":
        return text
    prefix = re.escape(str(config_dir).rstrip("/") + "/")
    return re.sub(rf"(?<![\w./-]){prefix}", "", text)


def _compare(result: SampleResult, path: Path, update: bool) -> None:
    result.expected_path = path
    actual = result.text
    if update:
        if _read_expected(path) != actual:
            _write_expected(path, actual)
            result.updated = True
        return
    expected = _read_expected(path)
    if expected is None:
        result.missing = True
        return
    if expected != actual:
        result.diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=str(path),
                tofile=f"{result.sample} (actual)",
            )
        )


def _read_expected(path: Path) -> str | None:
    """The golden text; None when there is none yet."""
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the expected result: {exc}") from exc


def _write_expected(path: Path, text: str) -> None:
    """Write the golden text; an unwritable place is the user's to fix, not a crash."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write the expected result: {exc}") from exc


def run_sample(
    registry: Registry, partner: Partner, sample: Path, mapper: Mapper
) -> dict[str, Any]:
    """The result document of one sample (never raises for problems in the sample)."""
    try:
        data = sample.read_bytes()
    except OSError as exc:
        raise InputError(f"{sample}: cannot read: {exc.strerror or exc}") from exc
    issues: list[str] = []
    orders: list[Order] = []
    if partner.map.format == "x12":
        orders = _x12_orders(registry, partner, data, issues)
    else:
        from ..formats.reader import read_partner_orders

        try:
            read = read_partner_orders(data, partner.map)
        except EdigateError as exc:
            issues.append(f"read: {exc}")
        else:
            issues.extend(f"read: {issue}" for issue in read.issues)
            orders = read.orders
    mapped: list[dict[str, Any]] = []
    for order in orders:
        result, map_issues = mapper(order, partner)
        issues.extend(f"map: PO {order.po_number}: {text}" for text in map_issues)
        if result is not None:
            mapped.append(dump(result))
        else:
            issues.append(f"map: PO {order.po_number}: rejected")
    config_dir = Path(partner.map_source.path).parent.parent
    return {
        "partner": partner.id,
        "sample": sample.name,
        "orders": mapped,
        "issues": [relative_to_config(issue, config_dir) for issue in issues],
    }


def _x12_orders(
    registry: Registry, partner: Partner, data: bytes, issues: list[str]
) -> list[Order]:
    """The orders the pipeline would deliver: read with the partner's reader limits, and
    with the partner's 997/999 and TA1 built alongside, as a group our ack rejects (a GS08
    version not in ``ack.accept_versions``, a wrong GE count) or an interchange our TA1
    rejects delivers none of its orders (see ``pipeline.inbound``)."""
    orders: list[Order] = []
    refused = False
    blank = True
    policy = partner.profile.ack
    kind = None if policy.functional == "none" else policy.functional
    builder: AckBuilder | None = None
    taken: list[tuple[int | None, str, Order]] = []  # this interchange's (GS place, ST, order)
    header: InterchangeHeader | None = None
    for event in X12Reader(data, limits=partner.profile.reader_limits).events():
        blank = False
        if isinstance(event, Finding):
            issues.append(f"read: {event}")
        elif isinstance(event, InterchangeHeader):
            orders += (order for _, _, order in taken)  # the previous one had no trailer
            taken, builder, header = [], None, event
            refused = not _identified(registry, partner, event, issues)
            issues.extend(f"read: {finding}" for finding in event.findings)
            if not refused:
                builder = AckBuilder(kind, CounterControlNumbers(), policy.ack_options())
        elif isinstance(event, GroupHeader) and header is not None and not refused:
            issues.extend(  # as the pipeline records them on the file
                f"envelope: segment {w['segment']} GS0{w['element']}: {w['code']}: "
                f"{w['message']} (warning)"
                for w in group_party_warnings(partner, header, event)
            )
        elif isinstance(event, TransactionSet) and not refused:
            order, syntax = _transaction(partner, event, issues)
            if order is not None:
                group = event.group.position if event.group else None
                taken.append((group, event.control_number, order))
            if builder is not None:
                builder.feed(event, syntax)
            continue
        if builder is not None:
            output = builder.feed(event)
            if output is not None:
                orders += _not_rejected_by_acks(output, taken, issues)
                taken, builder = [], None
    orders += (order for _, _, order in taken)  # the file ended without its trailer
    if blank:
        issues.append(f"read: {blank_file_finding()}")
    return orders


def _not_rejected_by_acks(
    output: AckOutput, taken: list[tuple[int | None, str, Order]], issues: list[str]
) -> list[Order]:
    """The orders of ``taken`` that our 997/999 and TA1 (``output``) do not reject, by the
    pipeline's rule (:meth:`AckOutput.rejection`)."""
    if output.technical is not None and output.ta1.status == "R":
        issues.extend(f"ack: {finding}" for finding in output.findings if finding.is_error)
    kept: list[Order] = []
    for group, control, order in taken:
        why = output.rejection(group)
        if why is None:
            kept.append(order)
        else:
            issues.append(f"ack: ST {control}: {why}; its order is not delivered")
    return kept


def _identified(
    registry: Registry, partner: Partner, header: InterchangeHeader, issues: list[str]
) -> bool:
    found = registry.identify_interchange(
        header.sender.qualifier,
        header.sender.id,
        header.usage,
        receiver=(header.receiver.qualifier, header.receiver.id),
    )
    where = f"ISA {header.control_number} (segment {header.position})"
    if not found.ok:
        issues.append(f"identify: {where}: {found.reason}")
        return False
    assert found.partner is not None
    if found.partner.id != partner.id:
        issues.append(f"identify: {where}: {found.seen} is {found.partner.id}, not {partner.id}")
        return False
    return True


def _transaction(
    partner: Partner, tx: TransactionSet, issues: list[str]
) -> tuple[Order | None, list[Finding]]:
    """The order of ``tx`` (None: not an order, or rejected) and the findings the
    partner's 997/999 names for it, as the pipeline finds them."""
    from ..translate.x12_850 import translate_850, with_translator_findings
    from ..x12.validator import validate_transaction

    label = f"ST {tx.control_number}"
    syntax = validate_transaction(tx, partner.overlays.get(tx.set_id))
    if tx.set_id != "850":
        issues.append(f"translate: {label}: a {tx.set_id} is not an order; skipped (warning)")
        return None, syntax
    findings = list(tx.findings) + syntax
    issues.extend(f"validate: {label}: {finding}" for finding in findings)
    if any(f.is_error for f in findings):
        issues.append(f"validate: {label}: rejected")
        return None, syntax
    translation = translate_850(tx)
    issues.extend(f"translate: {label}: {finding}" for finding in translation.findings)
    return translation.document, with_translator_findings(syntax, translation.findings)
