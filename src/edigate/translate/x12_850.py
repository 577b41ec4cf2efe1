"""X12 850 (purchase order, 004010 / 005010 and their VICS flavours) -> :class:`Order`.

Loops are followed as X12 nests them: the N1 loop (N1 N2 N3 N4 REF PER ...) and the N9
loop (N9 DTM MSG/MTX) inside the header or a PO1 loop; the PO1 loop until the next PO1 or
the CTT. Every segment an 850 may carry is placed in the model. What is not placed (an
unknown segment, one in an unexpected place, or the trailing elements of a known one that
the model has no field for) goes to ``extra`` with its position, so nothing the partner
sent is lost.

Values are converted exactly (Decimal; ``N2`` amounts scaled by 100; CCYYMMDD and YYMMDD
dates). A value that cannot be converted is a :class:`Finding` on its element; with any
error the translation yields no Order (a half-read order is worse than none).

Most segments are described by :data:`SPECS` (element -> field, and how to convert it), so
the mapping reads as a table; each spec is compiled into a straight-line reader
(:data:`FIELDS`) and only non-empty elements cost anything. Where each piece came from is
noted only when the model refuses the data: the transaction is then read a second time to
put each model error on its segment and element.

Usage::

    for event in X12Reader(path).events():
        if isinstance(event, TransactionSet) and event.set_id == "850":
            result = translate_850(event)
            if result.ok:
                print(result.document.po_number, len(result.document.lines))
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ..model.order import Order
from ..x12.events import TransactionSet
from ..x12.findings import ErrorCode, Finding
from ..x12.overlay import Overlay
from ..x12.reader import Source, X12Reader, components
from ..x12.validator import validate_transaction
from .x12_common import (
    NUMBER,
    Context,
    FieldMap,
    Translation,
    model_findings,
    parse_date,
    raw_dict,
)

Seg = list[str]
Data = dict[str, Any]

# How an element converts: text as sent, R decimal, N2 implied decimal, N0 count, date, time.
TEXT, DEC, N2, COUNT, DATE, TIME = range(6)
Spec = tuple[tuple[int, str, int], ...]

#: Segment -> ((element, field, kind), ...). The fields are the model's.
SPECS: dict[str, Spec] = {
    "BEG": (
        (1, "purpose_code", TEXT),
        (2, "order_type_code", TEXT),
        (3, "po_number", TEXT),
        (4, "release_number", TEXT),
        (5, "po_date", DATE),
        (6, "contract_number", TEXT),
        (7, "acknowledgment_type", TEXT),
    ),
    "TAX": ((1, "tax_id", TEXT), (12, "exempt_code", TEXT)),
    "FOB": (
        (1, "payment_method", TEXT),
        (2, "location_qualifier", TEXT),
        (3, "location", TEXT),
        (4, "terms_qualifier", TEXT),
        (5, "terms_code", TEXT),
        (6, "location2_qualifier", TEXT),
        (7, "location2", TEXT),
        (8, "risk_of_loss_qualifier", TEXT),
        (9, "risk_of_loss", TEXT),
    ),
    "CTP": (
        (1, "class_of_trade", TEXT),
        (2, "price_code", TEXT),
        (3, "unit_price", DEC),
        (4, "quantity", DEC),
        (6, "multiplier_qualifier", TEXT),
        (7, "multiplier", DEC),
        (8, "amount", DEC),
        (9, "basis", TEXT),
        (10, "condition_value", TEXT),
        (11, "multiple_price_quantity", COUNT),
    ),
    "CSH": ((1, "code", TEXT), (2, "action_code", TEXT), (3, "amount", N2)),
    "SAC": (
        (1, "indicator", TEXT),
        (2, "code", TEXT),
        (3, "agency_qualifier", TEXT),
        (4, "agency_code", TEXT),
        (5, "amount", N2),
        (6, "percent_qualifier", TEXT),
        (7, "percent", DEC),
        (8, "rate", DEC),
        (9, "unit", TEXT),
        (10, "quantity", DEC),
        (11, "quantity2", DEC),
        (12, "method_of_handling", TEXT),
        (13, "reference", TEXT),
        (14, "option_number", TEXT),
        (15, "description", TEXT),
        (16, "language", TEXT),
    ),
    "ITD": (
        (1, "type_code", TEXT),
        (2, "basis_date_code", TEXT),
        (3, "discount_percent", DEC),
        (4, "discount_due_date", DATE),
        (5, "discount_days", COUNT),
        (6, "net_due_date", DATE),
        (7, "net_days", COUNT),
        (8, "discount_amount", N2),
        (9, "deferred_due_date", DATE),
        (10, "deferred_amount", N2),
        (11, "percent_of_invoice_payable", DEC),
        (12, "description", TEXT),
        (13, "day_of_month", COUNT),
    ),
    "DIS": (
        (1, "terms_type", TEXT),
        (2, "base_qualifier", TEXT),
        (3, "base_value", DEC),
        (4, "control_indicator", TEXT),
        (5, "amount_low", DEC),
        (6, "amount_high", DEC),
    ),
    "DTM": (
        (1, "qualifier", TEXT),
        (2, "date", DATE),
        (3, "time", TIME),
        (4, "time_code", TEXT),
        (5, "period_format", TEXT),
        (6, "period", TEXT),
    ),
    "TD1": (
        (1, "packaging_code", TEXT),
        (2, "lading_quantity", COUNT),
        (3, "commodity_qualifier", TEXT),
        (4, "commodity_code", TEXT),
        (5, "description", TEXT),
        (6, "weight_qualifier", TEXT),
        (7, "weight", DEC),
        (8, "weight_unit", TEXT),
        (9, "volume", DEC),
        (10, "volume_unit", TEXT),
    ),
    "TD5": (
        (1, "routing_sequence", TEXT),
        (2, "id_qualifier", TEXT),
        (3, "scac", TEXT),
        (4, "mode", TEXT),
        (5, "routing", TEXT),
        (6, "status_code", TEXT),
        (7, "location_qualifier", TEXT),
        (8, "location", TEXT),
        (9, "transit_direction", TEXT),
        (10, "transit_time_qualifier", TEXT),
        (11, "transit_time", DEC),
        (12, "service_level", TEXT),
    ),
    "TD3": ((1, "code", TEXT), (2, "initial", TEXT), (3, "number", TEXT)),
    "TD4": (
        (1, "code", TEXT),
        (2, "hazmat_qualifier", TEXT),
        (3, "hazmat_code", TEXT),
        (4, "description", TEXT),
        (5, "flag", TEXT),
    ),
    "N9": ((1, "qualifier", TEXT), (2, "value", TEXT), (3, "description", TEXT), (4, "date", DATE)),
    "REF": ((1, "qualifier", TEXT), (2, "value", TEXT), (3, "description", TEXT)),
    "TXI": (
        (1, "type_code", TEXT),
        (2, "amount", DEC),
        (3, "percent", DEC),
        (4, "jurisdiction_qualifier", TEXT),
        (5, "jurisdiction", TEXT),
        (6, "exempt_code", TEXT),
        (7, "relationship_code", TEXT),
        (8, "basis_amount", DEC),
        (9, "tax_id", TEXT),
        (10, "assigned_id", TEXT),
    ),
    "AMT": ((1, "qualifier", TEXT), (2, "amount", DEC), (3, "credit_debit", TEXT)),
    "CTT": (
        (1, "line_count", COUNT),
        (2, "hash_total", DEC),
        (3, "weight", DEC),
        (4, "weight_unit", TEXT),
        (5, "volume", DEC),
        (6, "volume_unit", TEXT),
        (7, "description", TEXT),
    ),
    "N1": ((1, "role_code", TEXT), (2, "name", TEXT)),
    "N4": (
        (1, "city", TEXT),
        (2, "state", TEXT),
        (3, "postal_code", TEXT),
        (4, "country", TEXT),
        (5, "location_qualifier", TEXT),
        (6, "location_id", TEXT),
    ),
    "PO1": (
        (1, "line_number", TEXT),
        (2, "quantity", DEC),
        (3, "unit", TEXT),
        (4, "unit_price", DEC),
        (5, "price_basis", TEXT),
    ),
    "PID": (
        (1, "type", TEXT),
        (2, "characteristic", TEXT),
        (3, "agency", TEXT),
        (4, "code", TEXT),
        (5, "text", TEXT),
    ),
    "PO4": (
        (1, "pack", COUNT),
        (2, "size", DEC),
        (3, "size_unit", TEXT),
        (4, "packaging_code", TEXT),
        (5, "weight_qualifier", TEXT),
        (6, "gross_weight", DEC),
        (7, "weight_unit", TEXT),
        (8, "gross_volume", DEC),
        (9, "volume_unit", TEXT),
        (10, "length", DEC),
        (11, "width", DEC),
        (12, "height", DEC),
        (13, "dimension_unit", TEXT),
        (14, "inner_pack", COUNT),
    ),
    "PO3": (
        (1, "change_reason", TEXT),
        (2, "date", DATE),
        (3, "price_code", TEXT),
        (4, "unit_price", DEC),
        (5, "price_basis", TEXT),
        (6, "quantity", DEC),
        (7, "unit", TEXT),
        (8, "description", TEXT),
    ),
    "SCH": (
        (1, "quantity", DEC),
        (2, "unit", TEXT),
        (3, "entity_code", TEXT),
        (4, "name", TEXT),
        (5, "date_qualifier", TEXT),
        (6, "date", DATE),
        (7, "time", TIME),
    ),
}

#: (tag, model field) -> element, to put model errors on the element they came from.
FIELD_ELEMENTS: FieldMap = {(tag, name): k for tag, spec in SPECS.items() for k, name, _ in spec}
FIELD_ELEMENTS.update(
    {
        ("BEG", "purpose"): 1,
        ("BEG", "order_type"): 2,
        ("N1", "role"): 1,
        ("SDQ", "unit"): 1,
        ("SDQ", "location_qualifier"): 2,
        ("PER", "function"): 1,
        ("PER", "name"): 2,
        ("MAN", "qualifier"): 1,
        ("MAN", "number"): 2,
    }
)

#: A test (on a variable, by name) that passes the common ``R`` values without the regex:
#: unsigned ASCII digits with at most one decimal point, all of which :data:`NUMBER` takes.
#: Whole numbers (quantities) are decided by the first ``isdigit``; prices by the second.
PLAIN_NUMBER = "(({0}.isdigit() or {0}.replace('.', '', 1).isdigit()) and {0}.isascii())"

#: The whole numbers most quantities and pack sizes are, by their text, already converted:
#: a dict lookup instead of a parse. Decimals are immutable, so orders may share them.
SMALL_DECIMALS = {str(k): Decimal(k) for k in range(1000)}
SMALL_INTS = {str(k): k for k in range(1000)}

FieldsFn = Callable[["_Reader850", int, Seg], Data]
#: Segments whose fields are merged into a dict made earlier (the order, the address):
#: their own dict is dropped, so it is not noted as a source (its id may be reused).
MERGED = frozenset({"BEG", "N4"})


def compile_fields(tag: str, spec: Spec) -> FieldsFn:
    """A straight-line reader for one segment's ``spec``: ``(reader, index, seg) -> fields``.

    Generated once per segment type (as the validator compiles its specs), so reading an
    element costs a length test and a truth test, not a turn of a loop over the spec. A
    value that does not convert goes to the reader's :class:`Context`, which records the
    finding and gives the value read or None.
    """
    code = ["def fields(r, i, s):", "    out = {}"]
    if tag not in MERGED:
        code.append("    if r.sources is not None:")
        code.append(f"        r.sources[id(out)] = (i, {tag!r})")
    code.append("    n = len(s)")
    for k, name, kind in spec:
        code.append(f"    if n <= {k}: return out")
        code.append(f"    v = s[{k}]")
        code.append("    if v:")
        key = repr(name)
        if kind == TEXT:
            code.append(f"        out[{key}] = v")
        elif kind == DEC:
            code.append("        d = _DECIMALS.get(v)")
            code.append("        if d is not None:")
            code.append(f"            out[{key}] = d")
            code.append(f"        elif {PLAIN_NUMBER.format('v')} or _NUMBER(v):")
            code.append(f"            out[{key}] = _Decimal(v)")
            code.append("        else:")
            code.append(f"            out[{key}] = r.ctx.decimal(i, s, {k})")
        elif kind == N2:
            code.append(f"        out[{key}] = r.ctx.implied(i, s, {k})")
        elif kind == COUNT:
            code.append("        c = _INTS.get(v)")
            code.append("        if c is not None:")
            code.append(f"            out[{key}] = c")
            code.append("        elif v.isdigit() and v.isascii():")
            code.append(f"            out[{key}] = int(v)")
            code.append("        else:")
            code.append(f"            out[{key}] = r.ctx.count(i, s, {k})")
        elif kind == DATE:
            code.append("        d = _date(v)")
            code.append(f"        out[{key}] = r.ctx.date(i, s, {k}) if d is None else d")
        else:
            code.append(f"        out[{key}] = r.ctx.time(i, s, {k})")
    code.append("    return out")
    namespace: dict[str, Any] = {
        "_Decimal": Decimal,
        "_DECIMALS": SMALL_DECIMALS,
        "_INTS": SMALL_INTS,
        "_NUMBER": NUMBER,
        "_date": parse_date,
    }
    exec(compile("\n".join(code), f"<850 fields {tag}>", "exec"), namespace)
    fields: FieldsFn = namespace["fields"]
    return fields


#: Segment -> its compiled field reader.
FIELDS: dict[str, FieldsFn] = {tag: compile_fields(tag, spec) for tag, spec in SPECS.items()}
_PO1_FIELDS = FIELDS["PO1"]
_PO4_FIELDS = FIELDS["PO4"]
_PID_FIELDS = FIELDS["PID"]

#: Segments of the N1 loop (4010/5010 850). Those not placed on the party go to its extra.
N1_LOOP = frozenset(
    {"N2", "N3", "N4", "NX2", "REF", "PER", "SI", "FOB", "TD1", "TD5", "TD3", "TD4", "PKG"}
)
PARTY_PLACED = frozenset({"N2", "N3", "N4", "REF", "PER"})
N9_LOOP = frozenset({"DTM", "MSG", "MTX"})
SAC_LOOP = frozenset({"CUR"})

_PAD = [""] * 32
_COMMS = {"TE": "phone", "FX": "fax", "EM": "email"}


def translate_850(tx: TransactionSet) -> Translation[Order]:
    """The Order an 850 transaction carries, with findings for what could not be read."""
    return _Reader850(tx).run()


def checked_850(
    tx: TransactionSet, overlay: Overlay | None = None
) -> tuple[Translation[Order], list[Finding]]:
    """Validate ``tx`` against the 850 spec (and a partner's ``overlay``), then translate
    it. Returns the translation and the findings to report beside the reader's
    (``tx.findings``): the validator's, and the translator's at positions the validator did
    not name already (it re-checks what it converts). The Order is to be used only when
    none of ``tx.findings`` and these is an error."""
    syntax = validate_transaction(tx, overlay)
    result = translate_850(tx)
    return result, with_translator_findings(syntax, result.findings)


def with_translator_findings(syntax: list[Finding], translated: list[Finding]) -> list[Finding]:
    """``syntax`` (the validator's findings) and those of ``translated`` at positions it
    did not name already: the findings a 997/999 reports for a translated 850."""
    named = {(f.location.segment, f.location.element) for f in syntax}
    return syntax + [
        f
        for f in translated
        if (f.location.segment, f.location.element) not in named or not f.is_error
    ]


def po_number_of(tx: TransactionSet) -> str | None:
    """BEG03 as sent, read even when the 850 has errors (so a rejected order can still be
    found by its PO number); None without a BEG or a BEG03."""
    for seg in tx.segments:
        if seg[0] == "BEG":
            value = seg[3].strip() if len(seg) > 3 else ""
            return value or None
    return None


def iter_orders(source: Source) -> Iterator[Translation[Order]]:
    """Translate every 850 in ``source`` (other transaction sets are skipped)."""
    for event in X12Reader(source).events():
        if isinstance(event, TransactionSet) and event.set_id == "850":
            yield translate_850(event)


class _Reader850:
    """One transaction's translation: a small state machine over its segments.

    ``scope`` is the set of tags that continue the open inner loop (N1, N9 or SAC); any
    other tag closes it. ``sources`` (``id`` of each assembled dict -> the segment it came
    from) is kept only on a second pass, made when the model refuses the data: it places
    each model error on its segment, and most orders never need it.
    """

    __slots__ = (
        "beg_seen",
        "ctx",
        "handlers",
        "line",
        "n4_seen",
        "n9",
        "order",
        "party",
        "sac",
        "scope",
        "seps",
        "sources",
        "tx",
    )

    def __init__(self, tx: TransactionSet, *, track: bool = False) -> None:
        self.tx = tx
        self.seps = tx.separators
        self.ctx = Context(tx)
        self.order: Data = {"lines": []}
        self.line: Data | None = None
        self.party: Data | None = None
        self.n9: Data | None = None
        self.sac: Data | None = None
        self.scope: frozenset[str] | None = None
        self.beg_seen = False
        self.sources: dict[int, tuple[int, str]] | None = {} if track else None
        self.n4_seen: set[int] = set()
        self.handlers = _DISPATCH

    # ------------------------------------------------------------------ driver
    def run(self) -> Translation[Order]:
        segments = self.tx.segments
        stop = len(segments)
        if stop > 1 and segments[-1][0] == "SE":
            stop -= 1
        start = 1 if segments and segments[0][0] == "ST" else 0
        for index in range(start, stop):
            seg = segments[index]
            tag = seg[0]
            scope = self.scope
            if scope is not None:
                if tag not in scope:
                    self.scope = None
                    self.party = self.n9 = self.sac = None
                elif scope is N1_LOOP and tag not in PARTY_PLACED:
                    self.keep(index, seg)
                    continue
            if not tag:
                continue  # an empty segment: the reader reported it at its position
            entry = self.handlers.get(tag)
            if entry is None:
                self.keep(index, seg)
                continue
            handler, limit = entry
            if len(seg) > limit and any(seg[limit:]):
                handler(self, index, seg)
                self.keep(index, seg, partial=True)
            else:
                handler(self, index, seg)
        if not self.beg_seen:
            self.ctx.report(
                ErrorCode.MANDATORY_SEGMENT_MISSING,
                1,
                "BEG",
                None,
                "the 850 has no BEG segment (purchase order number and date)",
            )
        return self.finish()

    def finish(self) -> Translation[Order]:
        ctx = self.ctx
        if ctx.has_errors:
            return Translation(None, ctx.findings, self.tx)
        try:
            order = Order.model_validate(self.order)
        except ValidationError as exc:
            if self.sources is None:  # read again, noting where each piece came from
                return _Reader850(self.tx, track=True).run()
            model_findings(ctx, exc, self.order, self.sources, FIELD_ELEMENTS, (1, "BEG"))
            return Translation(None, ctx.findings, self.tx)
        return Translation(order, ctx.findings, self.tx)

    # ------------------------------------------------------------------ placement helpers
    def source(self, item: Data, i: int, tag: str) -> None:
        """Note that ``item`` came from segment ``i`` (on the second pass only)."""
        if self.sources is not None:
            self.sources[id(item)] = (i, tag)

    @staticmethod
    def pad(s: Seg, width: int) -> Seg:
        """``s`` with at least ``width`` elements after the tag (for direct indexing)."""
        n = len(s)
        return s if n > width else s + _PAD[: width + 1 - n]

    def level(self) -> Data:
        """Where line-or-header data goes: the open PO1 loop, else the order."""
        return self.line if self.line is not None else self.order

    def keep(self, index: int, seg: Seg, *, partial: bool = False) -> None:
        """Keep a segment as sent in the innermost open loop's ``extra``."""
        target = self.party if self.party is not None else self.level()
        extra = target.setdefault("extra", [])
        if extra and extra[-1]["position"] == index + 1:
            return  # already kept (a handler and the driver may both keep a segment)
        extra.append(raw_dict(index, seg, self.seps, partial=partial))

    def add(self, key: str, i: int, s: Seg) -> Data:
        """Place the segment's fields (per its spec) in the current level's ``key`` list."""
        item = FIELDS[s[0]](self, i, s)
        target = self.line if self.line is not None else self.order
        bucket = target.get(key)
        if bucket is None:
            target[key] = [item]
        else:
            bucket.append(item)
        return item

    def header_only(self, key: str, i: int, s: Seg) -> None:
        """Segments the model places at the order level only (in a line: kept as sent)."""
        if self.line is not None:
            self.keep(i, s)
        else:
            self.add(key, i, s)

    def pairs(self, value: str) -> list[Data]:
        """A composite of qualifier/value pairs (REF04, N907) as identifiers."""
        comps = components(value, self.seps)
        return [
            {"qualifier": comps[k], "value": comps[k + 1]}
            for k in range(0, len(comps) - 1, 2)
            if comps[k] and comps[k + 1]
        ]


# ---------------------------------------------------------------------- segment handlers
def _beg(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 7)
    if r.beg_seen or r.line is not None:
        r.keep(i, s)
        return
    r.beg_seen = True
    ctx = r.ctx
    for k, what in ((1, "purpose code"), (3, "PO number"), (5, "PO date")):
        if not s[k]:
            ctx.report(
                ErrorCode.MANDATORY_ELEMENT_MISSING, i, "BEG", k, f"BEG{k:02d} {what} missing"
            )
    r.order.update(FIELDS[s[0]](r, i, s))
    r.source(r.order, i, "BEG")


def _cur(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 2)
    if not s[2]:
        r.keep(i, s)
    elif r.sac is not None:
        r.sac["currency"] = s[2]
    elif r.line is not None:
        if "currency" in r.line:
            r.keep(i, s)
        else:
            r.line["currency"] = s[2]
    elif "currency" in r.order:
        r.keep(i, s)
    else:
        r.order["currency"] = s[2]
        if s[1]:
            r.order["currency_entity"] = s[1]


def _ref(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 4)
    item = FIELDS[s[0]](r, i, s)
    if s[4]:
        item["related"] = r.pairs(s[4])
    target = r.party if r.party is not None else r.level()
    target.setdefault("references", []).append(item)


def _per(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 8)
    item: Data = {"function": s[1]}
    if s[2]:
        item["name"] = s[2]
    other: list[Data] = []
    for k in (3, 5, 7):
        number = s[k + 1]
        if not number:
            continue
        name = _COMMS.get(s[k])
        if name is not None and name not in item:
            item[name] = number
        else:
            other.append({"qualifier": s[k] or "ZZ", "value": number})
    if other:
        item["other"] = other
    r.source(item, i, "PER")
    target = r.party if r.party is not None else r.level()
    target.setdefault("contacts", []).append(item)


def _tax(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 12)
    if r.line is not None:
        r.keep(i, s)
        return
    item = r.add("tax_exemptions", i, s)
    locations = [
        {"qualifier": s[k], "value": s[k + 1]} for k in (2, 4, 6, 8, 10) if s[k] and s[k + 1]
    ]
    if locations:
        item["locations"] = locations


def _fob(r: _Reader850, i: int, s: Seg) -> None:
    r.header_only("fob", i, s)


def _ctp(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 5)
    item = r.add("prices", i, s)
    if s[5]:
        comps = components(s[5], r.seps)
        if comps[0]:
            item["unit"] = comps[0]
        if len(comps) > 1 and any(comps[1:]):
            r.keep(i, s, partial=True)


def _csh(r: _Reader850, i: int, s: Seg) -> None:
    r.header_only("sales_requirements", i, s)


def _sac(r: _Reader850, i: int, s: Seg) -> None:
    r.sac = r.add("allowances_charges", i, s)
    r.scope = SAC_LOOP


def _itd(r: _Reader850, i: int, s: Seg) -> None:
    r.header_only("terms", i, s)


def _dis(r: _Reader850, i: int, s: Seg) -> None:
    r.header_only("discounts", i, s)


def _dtm(r: _Reader850, i: int, s: Seg) -> None:
    r.add("dates", i, s)


def _td1(r: _Reader850, i: int, s: Seg) -> None:
    r.header_only("packaging", i, s)


def _td5(r: _Reader850, i: int, s: Seg) -> None:
    r.header_only("carriers", i, s)


def _td3(r: _Reader850, i: int, s: Seg) -> None:
    r.header_only("equipment", i, s)


def _td4(r: _Reader850, i: int, s: Seg) -> None:
    r.header_only("special_handling", i, s)


def _man(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 6)
    if r.line is not None:
        r.keep(i, s)
        return
    for k in (1, 4):
        if s[k] or s[k + 1]:
            item: Data = {"qualifier": s[k], "number": s[k + 1]}
            if s[k + 2]:
                item["number_end"] = s[k + 2]
            r.source(item, i, "MAN")
            r.order.setdefault("marks", []).append(item)


def _n9(r: _Reader850, i: int, s: Seg) -> None:
    item = r.add("references", i, s)
    item["messages"] = []
    r.n9 = item
    r.scope = N9_LOOP


def _msg(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 1)
    if not s[1]:
        r.keep(i, s)
    elif r.n9 is not None:
        r.n9["messages"].append(s[1])
    else:
        item = {"text": s[1]}
        r.source(item, i, "MSG")
        r.level().setdefault("notes", []).append(item)


def _mtx(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 2)
    if not s[2]:
        r.keep(i, s)
    elif r.n9 is not None:
        r.n9["messages"].append(s[2])
    else:
        _note(r, i, s)


def _note(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 2)
    if not s[2]:
        r.keep(i, s)
        return
    item: Data = {"text": s[2]}
    if s[1]:
        item["code"] = s[1]
    r.source(item, i, s[0])
    r.level().setdefault("notes", []).append(item)


def _txi(r: _Reader850, i: int, s: Seg) -> None:
    r.add("taxes", i, s)


def _amt(r: _Reader850, i: int, s: Seg) -> None:
    r.add("amounts", i, s)


def _ctt(r: _Reader850, i: int, s: Seg) -> None:
    r.line = None
    r.order["summary"] = FIELDS[s[0]](r, i, s)
    r.handlers = _SUMMARY_DISPATCH


def _n1(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 4)
    item = r.add("parties", i, s)
    r.party = item
    r.scope = N1_LOOP
    if s[3] and s[4]:
        item["identifiers"] = [{"qualifier": s[3], "value": s[4]}]
    elif (s[3] or s[4]) and not any(s[5:]):  # with N105+ the driver keeps it already
        r.keep(i, s, partial=True)


def _n2(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 2)
    if r.party is None:
        r.keep(i, s)
        return
    names = r.party.setdefault("additional_names", [])
    _append_present(names, s[1], s[2])


def _append_present(values: list[str], first: str, second: str) -> None:
    """N201/N202 names, N301/N302 address lines: those sent (no generator: two at most)."""
    if first:
        values.append(first)
    if second:
        values.append(second)


def _address(r: _Reader850, i: int, tag: str) -> Data:
    assert r.party is not None
    address: Data | None = r.party.get("address")
    if address is None:
        address = r.party["address"] = {"lines": []}
        r.source(address, i, tag)
    return address


def _n3(r: _Reader850, i: int, s: Seg) -> None:
    s = r.pad(s, 2)
    if r.party is None:
        r.keep(i, s)
        return
    _append_present(_address(r, i, "N3")["lines"], s[1], s[2])


def _n4(r: _Reader850, i: int, s: Seg) -> None:
    if r.party is None:
        r.keep(i, s)
        return
    address = _address(r, i, "N4")
    if id(address) in r.n4_seen:  # a second N4 in one loop is kept, never overwrites
        r.keep(i, s)
        return
    r.n4_seen.add(id(address))
    address.update(FIELDS[s[0]](r, i, s))


def _po1(r: _Reader850, i: int, s: Seg) -> None:
    n = len(s)
    if n < 6:
        s = s + _PAD[: 6 - n]
        n = 6
    line = _PO1_FIELDS(r, i, s)
    odd = n > 26 and any(s[26:])
    if n > 6:
        ids: list[Data] = []
        pairs = iter(s[6:26])  # PO106/07 ... PO124/25
        for q in pairs:
            v = next(pairs, "")
            if q and v:
                ids.append({"qualifier": q, "value": v})
            elif q or v:
                odd = True
        if ids:
            line["identifiers"] = ids
    r.order["lines"].append(line)
    r.line = line
    if odd:
        r.keep(i, s, partial=True)


def _pid(r: _Reader850, i: int, s: Seg) -> None:
    if len(s) < 6:
        s = r.pad(s, 5)
    line = r.line
    if line is None or not (s[4] or s[5]):
        r.keep(i, s)
        return
    item = _PID_FIELDS(r, i, s)
    bucket = line.get("descriptions")
    if bucket is None:
        line["descriptions"] = [item]
    else:
        bucket.append(item)


def _po4(r: _Reader850, i: int, s: Seg) -> None:
    line = r.line
    if line is None or "pack" in line:
        r.keep(i, s)
    else:
        line["pack"] = _PO4_FIELDS(r, i, s)


def _po3(r: _Reader850, i: int, s: Seg) -> None:
    if r.line is None:
        r.keep(i, s)
    else:
        r.add("additional_details", i, s)


def _sdq(r: _Reader850, i: int, s: Seg) -> None:
    line = r.line
    if line is None:
        r.keep(i, s)
        return
    n = len(s)
    if n < 3:
        s = s + _PAD[: 3 - n]
        n = 3
    unit = s[1]
    qualifier = s[2]
    sources = r.sources
    dist = line.get("distribution")
    if dist is None:
        dist = line["distribution"] = []
    end = n if n < 23 else 23  # SDQ03/04 ... SDQ21/22
    odd = (n > 23 and any(s[23:])) or (end % 2 == 0 and bool(s[end - 1]))
    for k in range(3, end - 1, 2):
        location = s[k]
        quantity = s[k + 1]
        if not location or not quantity:
            odd = odd or bool(location or quantity)
            continue
        value = SMALL_DECIMALS.get(quantity)
        if value is None:
            if (quantity.isdigit() and quantity.isascii()) or NUMBER(quantity):
                value = Decimal(quantity)
            else:
                value = r.ctx.decimal(i, s, k + 1)
        item: Data = {"location_qualifier": qualifier, "location": location, "quantity": value}
        if unit:
            item["unit"] = unit
        if sources is not None:
            sources[id(item)] = (i, "SDQ")
        dist.append(item)
    if odd:
        r.keep(i, s, partial=True)


def _sch(r: _Reader850, i: int, s: Seg) -> None:
    if r.line is None:
        r.keep(i, s)
    else:
        r.add("schedules", i, s)


Handler = Callable[[_Reader850, int, Seg], None]
_SELF_MANAGED = -1  # the handler pads and checks the segment's length itself

#: tag -> (handler, highest element placed). Later non-empty elements keep it in extra.
HANDLERS: dict[str, tuple[Handler, int]] = {
    "BEG": (_beg, 7),
    "CUR": (_cur, 2),
    "REF": (_ref, 4),
    "PER": (_per, 8),
    "TAX": (_tax, 12),
    "FOB": (_fob, 9),
    "CTP": (_ctp, 11),
    "CSH": (_csh, 3),
    "SAC": (_sac, 16),
    "ITD": (_itd, 13),
    "DIS": (_dis, 6),
    "DTM": (_dtm, 6),
    "TD1": (_td1, 10),
    "TD5": (_td5, 12),
    "TD3": (_td3, 3),
    "TD4": (_td4, 5),
    "MAN": (_man, 6),
    "N9": (_n9, 4),
    "MSG": (_msg, 1),
    "MTX": (_mtx, 2),
    "NTE": (_note, 2),
    "TXI": (_txi, 10),
    "AMT": (_amt, 3),
    "N1": (_n1, 4),
    "N2": (_n2, 2),
    "N3": (_n3, 2),
    "N4": (_n4, 6),
    "PO1": (_po1, _SELF_MANAGED),
    "PID": (_pid, 5),
    "PO4": (_po4, 14),
    "PO3": (_po3, 8),
    "SDQ": (_sdq, _SELF_MANAGED),
    "SCH": (_sch, 7),
    "CTT": (_ctt, 7),
}


def _late_po1(r: _Reader850, i: int, s: Seg) -> None:
    """A PO1 after the CTT (misplaced; the validator says so) still becomes a line: an
    order must never lose a line it was sent."""
    r.handlers = _DISPATCH
    _po1(r, i, s)


#: After the CTT only summary AMTs (and a misplaced PO1) are placed; the rest is kept as sent.
SUMMARY_HANDLERS: dict[str, tuple[Handler, int]] = {
    "AMT": (_amt, 3),
    "PO1": (_late_po1, _SELF_MANAGED),
}


def _dispatch(table: dict[str, tuple[Handler, int]]) -> dict[str, tuple[Handler, int]]:
    """The driver's form of a handler table: tag -> (handler, number of leading items of
    the segment, tag included, that the handler places; a longer segment with any more
    non-empty elements is also kept)."""
    return {
        tag: (handler, sys.maxsize if width == _SELF_MANAGED else width + 1)
        for tag, (handler, width) in table.items()
    }


_DISPATCH = _dispatch(HANDLERS)
_SUMMARY_DISPATCH = _dispatch(SUMMARY_HANDLERS)
