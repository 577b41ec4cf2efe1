"""The small rule language of a map: code mappings, defaults and value rules.

Rules read and write canonical fields by path (:mod:`edigate.partners.fields`) on the plain
dict shape of a canonical document (``model_dump()``), so they run without pydantic and
bind to the models by dumping and re-validating. Order of evaluation, per direction:

1. **codes**: look the value at ``from`` up in the table, write it at ``to`` (inbound);
   the inverse table from ``to`` back to ``from`` (outbound);
2. **defaults**: set a field that is missing (None, empty);
3. **rules**, in file order: a fixed ``value``, a ``copy`` of another field, or a ``date``
   reformatted; ``if_missing`` makes a rule a conditional default.

A line path (``line.*``) is evaluated once per line, an order path once. What cannot be done
(an unmapped code, an unreadable date) is a :class:`MapIssue`, data for the caller to act
on: an error on a line path rejects that line, on an order path the order.

Usage::

    engine = RuleEngine.from_map(partner_map)
    applied = engine.apply(order.model_dump(mode="json"), "inbound")
    applied.document, applied.issues
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from .fields import DEFAULT_SCHEMA, FieldPath, Schema, get_value, is_missing, parse_path, set_value
from .loader import YamlSource
from .mapfile import PartnerMap

Flow = Literal["inbound", "outbound"]


@dataclass(frozen=True, slots=True)
class MapIssue:
    """Something a map could not do to a document.

    ``line_index`` is the index in ``lines`` for a line-level issue (None: order level);
    ``origin`` is the map rule that spoke, as ``file:line``.
    """

    severity: Literal["error", "warning"]
    code: str
    message: str
    path: str | None = None
    line_index: int | None = None
    origin: str | None = None


@dataclass
class Applied:
    document: dict[str, Any]
    issues: list[MapIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[MapIssue]:
        return [i for i in self.issues if i.severity == "error"]


@dataclass(frozen=True)
class CodeTable:
    """A compiled code mapping; usable on its own (``to_internal`` / ``to_partner``)."""

    source: FieldPath
    target: FieldPath
    table: Mapping[str, str]
    unknown: Literal["error", "warn", "keep", "default"] = "error"
    default: str | None = None
    flows: frozenset[str] = frozenset({"inbound", "outbound"})
    name: str | None = None
    origin: str | None = None

    @property
    def reverse(self) -> dict[str, str]:
        inverse: dict[str, str] = {}
        for theirs, ours in self.table.items():
            inverse.setdefault(ours, theirs)
        return inverse

    def to_internal(self, value: str) -> str | None:
        return self.table.get(value)

    def to_partner(self, value: str) -> str | None:
        return self.reverse.get(value)


@dataclass(frozen=True)
class ValueRuleSpec:
    target: FieldPath
    kind: Literal["value", "copy", "date"]
    value: str | None = None
    source: FieldPath | None = None
    input_format: str | None = None
    output_format: str = "%Y-%m-%d"
    if_missing: bool = False
    flows: frozenset[str] = frozenset({"inbound"})
    origin: str | None = None


def _flows(direction: str) -> frozenset[str]:
    return frozenset({"inbound", "outbound"}) if direction == "both" else frozenset({direction})


class RuleEngine:
    """Codes, defaults and rules of one map, compiled once and applied to many documents."""

    def __init__(
        self,
        codes: Sequence[CodeTable] = (),
        defaults: Sequence[tuple[FieldPath, str, str | None]] = (),
        rules: Sequence[ValueRuleSpec] = (),
        *,
        lines_field: str = "lines",
    ):
        self.codes = list(codes)
        self.defaults = list(defaults)
        self.rules = list(rules)
        self.lines_field = lines_field

    @classmethod
    def from_map(
        cls,
        m: PartnerMap,
        source: YamlSource | None = None,
        schema: Schema = DEFAULT_SCHEMA,
    ) -> RuleEngine:
        def origin(*loc: str | int) -> str | None:
            if source is None:
                return None
            line = source.line_of(loc)
            return f"{source.path}:{line}" if line else source.path

        codes = [
            CodeTable(
                source=parse_path(c.source, schema),
                target=parse_path(c.to or c.source, schema),
                table=dict(c.table),
                unknown=c.unknown,
                default=c.default,
                flows=_flows(c.direction),
                name=c.name,
                origin=origin("codes", i),
            )
            for i, c in enumerate(m.codes)
        ]
        defaults = [
            (parse_path(path, schema), value, origin("defaults", path))
            for path, value in m.defaults.items()
        ]
        rules = []
        for i, r in enumerate(m.rules):
            kind: Literal["value", "copy", "date"] = (
                "value" if r.value is not None else "copy" if r.copy_from else "date"
            )
            src = r.copy_from or (r.date.source if r.date else None)
            rules.append(
                ValueRuleSpec(
                    target=parse_path(r.target, schema),
                    kind=kind,
                    value=r.value,
                    source=parse_path(src, schema) if src else None,
                    input_format=r.date.input if r.date else None,
                    output_format=r.date.output if r.date else "%Y-%m-%d",
                    if_missing=r.if_missing,
                    flows=_flows(r.direction),
                    origin=origin("rules", i),
                )
            )
        return cls(codes, defaults, rules, lines_field=schema.lines_field)

    def apply(self, document: Mapping[str, Any], flow: Flow = "inbound") -> Applied:
        """Run every rule for ``flow`` on a deep copy of ``document``."""
        return self.apply_in_place(copy.deepcopy(dict(document)), flow)

    def apply_in_place(self, doc: dict[str, Any], flow: Flow = "inbound") -> Applied:
        """Run every rule for ``flow`` on ``doc`` itself (``Applied.document`` is ``doc``).

        For a caller that built ``doc`` for this call only: a deep copy of a whole order
        costs more than everything the rules then do to it.
        """
        issues: list[MapIssue] = []
        for table in self.codes:
            if flow in table.flows:
                for at in self._scopes(table.source, doc, table.origin, issues):
                    _code(table, flow, at)
        for path, value, origin in self.defaults:
            for at in self._scopes(path, doc, origin, issues):
                if is_missing(at.get(path)):
                    at.put(path, value)
        for rule in self.rules:
            if flow not in rule.flows:
                continue
            source = rule.source
            if source is not None and source.scope == "order" and rule.target.scope == "line":
                # An order value copied to every line: read once (a line rule writes only
                # in the line, so it cannot change what the next line reads).
                value = get_value(source, doc)
                for at in self._scopes(rule.target, doc, rule.origin, issues):
                    _rule(rule, at, value)
            else:
                for at in self._scopes(rule.target, doc, rule.origin, issues):
                    _rule(rule, at)
        return Applied(doc, issues)

    def touched_fields(self, flow: Flow = "inbound") -> tuple[frozenset[str], frozenset[str]]:
        """The top-level order fields and line fields that ``flow`` may read or write.

        A path only ever walks down from its first step, so a field named by no rule is
        neither seen nor changed: the caller may leave it out of the document it passes
        (and keep its already validated value).
        """
        paths: list[FieldPath] = []
        for table in self.codes:
            if flow in table.flows:
                paths += (table.source, table.target)
        paths += (path for path, _, _ in self.defaults)
        for rule in self.rules:
            if flow in rule.flows:
                paths.append(rule.target)
                if rule.source is not None:
                    paths.append(rule.source)
        order = frozenset(p.steps[0].name for p in paths if p.scope == "order" and p.steps)
        line = frozenset(p.steps[0].name for p in paths if p.scope == "line" and p.steps)
        return order, line

    def _scopes(
        self, path: FieldPath, doc: dict[str, Any], origin: str | None, issues: list[MapIssue]
    ) -> Iterator[_At]:
        """Once for an order path; once per line (with its index) for a line path.

        For a line path one ``_At`` moves from line to line: it is used before the next is
        asked for, and never kept.
        """
        at = _At(doc, None, None, origin, issues)
        if path.scope == "order":
            yield at
            return
        lines = doc.get(self.lines_field)
        if isinstance(lines, list):
            for index, line in enumerate(lines):
                if type(line) is dict or isinstance(line, MutableMapping):
                    at.line, at.index = line, index
                    yield at


@dataclass(slots=True)
class _At:
    """Where a rule is being applied: the order, the line (if any), and where to report."""

    order: MutableMapping[str, Any]
    line: MutableMapping[str, Any] | None
    index: int | None
    origin: str | None
    issues: list[MapIssue]

    def get(self, path: FieldPath) -> Any:
        return get_value(path, self.order, self.line)

    def put(self, path: FieldPath, value: Any) -> None:
        try:
            set_value(path, value, self.order, self.line)
        except ValueError as exc:
            self.report("error", "cannot_set", str(exc), path)

    def report(
        self, severity: Literal["error", "warning"], code: str, message: str, path: FieldPath
    ) -> None:
        index = self.index if path.scope == "line" else None
        self.issues.append(MapIssue(severity, code, message, str(path), index, self.origin))


def _code(table: CodeTable, flow: Flow, at: _At) -> None:
    read, write = (
        (table.source, table.target) if flow == "inbound" else (table.target, table.source)
    )
    value = at.get(read)
    if is_missing(value):
        return
    text = str(value)
    mapped = table.to_internal(text) if flow == "inbound" else table.to_partner(text)
    if mapped is not None:
        at.put(write, mapped)
        return
    label = table.name or f"{read} code"
    if table.unknown == "default" and flow == "inbound":
        assert table.default is not None
        at.put(write, table.default)
        message = f"{label} {text!r} not in the table; used {table.default!r}"
        at.report("warning", "unknown_code", message, read)
    elif table.unknown == "error":
        at.report("error", "unknown_code", f"{label} {text!r} not in the table", read)
    else:
        if write != read:
            at.put(write, text)
        if table.unknown != "keep":
            message = f"{label} {text!r} not in the table; kept as is"
            at.report("warning", "unknown_code", message, read)


#: Values a copy rule may share instead of deep-copying (deepcopy rebuilds even a date).
_IMMUTABLE = frozenset({str, int, float, bool, Decimal, date, datetime, time})


_UNREAD: Any = object()


def _rule(rule: ValueRuleSpec, at: _At, source: Any = _UNREAD) -> None:
    """Apply one rule where ``at`` is; ``source`` is its source's value when read already."""
    if rule.if_missing and not is_missing(at.get(rule.target)):
        return
    if rule.kind == "value":
        at.put(rule.target, rule.value)
        return
    assert rule.source is not None
    value = at.get(rule.source) if source is _UNREAD else source
    if is_missing(value):
        return
    if rule.kind == "copy":
        at.put(rule.target, value if type(value) in _IMMUTABLE else copy.deepcopy(value))
        return
    try:
        when = _as_date(value, rule.input_format)
    except ValueError as exc:
        at.report("error", "bad_date", f"{rule.source}: {exc}", rule.source)
        return
    at.put(rule.target, when.strftime(rule.output_format))


def _as_date(value: Any, input_format: str | None) -> date:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if input_format:
        try:
            return datetime.strptime(text, input_format)
        except ValueError:
            raise ValueError(f"{text!r} does not match the date format {input_format!r}") from None
    try:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date (give 'input' for other formats)") from None
