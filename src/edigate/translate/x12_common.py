"""What the X12 translations share: value parsing with findings, value formatting, the
segments several documents carry (N1 loop, REF, DTM, SAC, PID ...), and writing a whole
interchange.

Parsing never raises: a value that cannot be converted becomes a :class:`Finding` at its
segment and element, with the 997/999 code it maps to. Formatting is exact: Decimal in,
the X12 text out (``R`` without exponent, ``N2`` as implied cents).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from ..errors import X12Error, X12WriteError
from ..model.codes import INDICATOR_LETTERS
from ..model.common import (
    FOB,
    AllowanceCharge,
    Carrier,
    Contact,
    DateRef,
    Description,
    Identifier,
    Note,
    PackDetail,
    Party,
    RawSegment,
    Reference,
    Tax,
    Terms,
)
from ..model.invoice import finer_than_cents
from ..x12.events import PartyId, TransactionSet
from ..x12.findings import ErrorCode, Finding, Location, Severity
from ..x12.reader import components
from ..x12.separators import Separators
from ..x12.spec import FUNCTIONAL_GROUP_OF_SET
from ..x12.writer import Composite, Element, GroupEnvelope, InterchangeEnvelope, X12Writer, trim

T = TypeVar("T")
Out = list[Element]
"""A segment being written: tag first, each element a str or a tuple of components."""

#: X12 ``R`` (and ``N`` before scaling): optional minus, digits with an optional decimal
#: point, and the exponent 5010 allows.
NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[Ee]-?\d+)?").fullmatch
_INTEGER = re.compile(r"-?\d+").fullmatch

#: Versions the writers produce (GS08) and their ISA12.
VERSIONS = {"004010": "00401", "005010": "00501"}


# ---------------------------------------------------------------------------------------------
# results
@dataclass(slots=True)
class Translation(Generic[T]):
    """A translated document, or None when errors made it impossible; and the findings.

    ``document`` is set exactly when no finding is an error: a translated Order is whole.
    """

    document: T | None
    findings: list[Finding] = field(default_factory=list)
    transaction: TransactionSet | None = None

    @property
    def ok(self) -> bool:
        return self.document is not None


# ---------------------------------------------------------------------------------------------
# parsing
@lru_cache(maxsize=4096)
def parse_date(value: str) -> dt.date | None:
    """CCYYMMDD or YYMMDD (years 00-49 are 20xx, 50-99 are 19xx); None when invalid."""
    try:
        if len(value) == 8 and value.isdigit():
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if len(value) == 6 and value.isdigit():
            yy = int(value[:2])
            return dt.date((2000 if yy < 50 else 1900) + yy, int(value[2:4]), int(value[4:]))
    except ValueError:
        return None
    return None


@lru_cache(maxsize=1024)
def parse_time(value: str) -> dt.time | None:
    """HHMM, HHMMSS or HHMMSSd..d (decimal seconds); None when invalid."""
    if not value.isdigit() or len(value) not in (4, 6, 7, 8):
        return None
    try:
        hh, mm = int(value[:2]), int(value[2:4])
        ss = int(value[4:6]) if len(value) >= 6 else 0
        frac = value[6:]
        micro = int(frac.ljust(6, "0")) if frac else 0
        return dt.time(hh, mm, ss, micro)
    except ValueError:
        return None


class Context:
    """Where we are in one transaction, and the findings so far.

    ``index`` is the segment's index in ``tx.segments`` (ST = 0): its file position is
    ``tx.position + index`` and its place in the transaction ``tx.place(index)``.
    """

    __slots__ = ("findings", "group_control", "interchange_control", "position", "tx")

    def __init__(self, tx: TransactionSet) -> None:
        self.tx = tx
        self.position = tx.position
        self.findings: list[Finding] = []
        self.interchange_control = tx.interchange.control_number
        self.group_control = tx.group.control_number if tx.group is not None else None

    def location(
        self, index: int, tag: str, element: int | None = None, component: int | None = None
    ) -> Location:
        return Location(
            segment=self.position + index,
            tag=tag,
            element=element,
            component=component,
            segment_in_transaction=self.tx.place(index),
            interchange_control=self.interchange_control,
            group_control=self.group_control,
            transaction_control=self.tx.control_number,
        )

    def report(
        self,
        code: ErrorCode,
        index: int,
        tag: str,
        element: int | None,
        message: str,
        value: str | None = None,
        *,
        component: int | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.findings.append(
            Finding(
                code,
                self.location(index, tag, element, component),
                message,
                value,
                severity,
                {"stage": "translate"},
            )
        )

    def blanks(self, index: int, tag: str, e: int, value: str) -> None:
        """A number, date or time padded with blanks: read without them, with a warning."""
        self.report(
            ErrorCode.INVALID_CHARACTER,
            index,
            tag,
            e,
            f"{tag}{e:02d} {value!r} has leading or trailing blanks; read as {value.strip()!r}",
            value,
            severity=Severity.WARNING,
        )

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)

    # -- element parsers: None for an empty element, a finding for a bad one ----------------
    def decimal(self, index: int, seg: Sequence[str], e: int) -> Decimal | None:
        v = seg[e]
        if not v:
            return None
        if NUMBER(v):
            return Decimal(v)
        tag = seg[0]
        if NUMBER(v.strip()):
            self.blanks(index, tag, e, v)
            return Decimal(v.strip())
        self.report(
            ErrorCode.INVALID_CHARACTER,
            index,
            tag,
            e,
            f"{tag}{e:02d} must be a number, got {v!r}",
            v,
        )
        return None

    def implied(self, index: int, seg: Sequence[str], e: int, places: int = 2) -> Decimal | None:
        """An ``N2`` (``Nn``) value: digits with an implied decimal point, e.g. 1250 = 12.50."""
        v = seg[e]
        if not v:
            return None
        if _INTEGER(v):
            return Decimal(v).scaleb(-places)
        tag = seg[0]
        if _INTEGER(v.strip()):
            self.blanks(index, tag, e, v)
            return Decimal(v.strip()).scaleb(-places)
        self.report(
            ErrorCode.INVALID_CHARACTER,
            index,
            tag,
            e,
            f"{tag}{e:02d} must be whole digits with {places} implied decimals (N{places}), "
            f"got {v!r}",
            v,
        )
        return None

    def count(self, index: int, seg: Sequence[str], e: int) -> int | None:
        """A whole number (``N0``); a decimal with only zeros after the point is accepted."""
        d = self.decimal(index, seg, e)
        if d is None:
            return None
        if d != d.to_integral_value():
            tag = seg[0]
            self.report(
                ErrorCode.INVALID_CHARACTER,
                index,
                tag,
                e,
                f"{tag}{e:02d} must be a whole number, got {seg[e]!r}",
                seg[e],
            )
            return None
        return int(d)

    def date(self, index: int, seg: Sequence[str], e: int) -> dt.date | None:
        v = seg[e]
        if not v:
            return None
        d = parse_date(v)
        if d is None and v.strip() != v:
            d = parse_date(v.strip())
            if d is not None:
                self.blanks(index, seg[0], e, v)
        if d is None:
            tag = seg[0]
            self.report(
                ErrorCode.INVALID_DATE,
                index,
                tag,
                e,
                f"{tag}{e:02d} is not a date (CCYYMMDD or YYMMDD): {v!r}",
                v,
            )
        return d

    def time(self, index: int, seg: Sequence[str], e: int) -> dt.time | None:
        v = seg[e]
        if not v:
            return None
        t = parse_time(v)
        if t is None and v.strip() != v:
            t = parse_time(v.strip())
            if t is not None:
                self.blanks(index, seg[0], e, v)
        if t is None:
            tag = seg[0]
            self.report(
                ErrorCode.INVALID_TIME,
                index,
                tag,
                e,
                f"{tag}{e:02d} is not a time (HHMM, HHMMSS or HHMMSSd..): {v!r}",
                v,
            )
        return t


def raw_dict(
    index: int, seg: Sequence[str], seps: Separators, *, partial: bool = False
) -> dict[str, Any]:
    """Like :func:`raw`, as plain data for a model still being assembled."""
    return {
        "position": index + 1,
        "tag": seg[0],
        "elements": [list(components(e, seps)) for e in seg[1:]],
        "partial": partial,
    }


# ---------------------------------------------------------------------------------------------
# pydantic errors back to segments
#: (tag, field) -> element position, to place a model error on the element it came from.
FieldMap = dict[tuple[str, str], int]


def model_findings(
    ctx: Context,
    exc: ValidationError,
    data: Any,
    sources: dict[int, tuple[int, str]],
    field_elements: FieldMap,
    fallback: tuple[int, str],
) -> None:
    """Turn a ValidationError into findings placed on the segment (and element) of origin.

    ``sources`` maps ``id(dict)`` of each assembled piece to the (index, tag) of the
    segment it came from; walking an error's path through ``data`` finds the deepest one.
    """
    for err in exc.errors():
        node: Any = data
        index, tag = fallback
        last_field: str | None = None
        for key in err["loc"]:
            src = sources.get(id(node))
            if src is not None:
                index, tag = src
            if isinstance(key, str):
                last_field = key
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                break
        src = sources.get(id(node))
        if src is not None:
            index, tag = src
        element = field_elements.get((tag, last_field)) if last_field else None
        code = _PYDANTIC_CODES.get(err["type"], ErrorCode.INVALID_CODE_VALUE)
        if err["type"] == "string_too_short" and err.get("input") == "":
            code = ErrorCode.MANDATORY_ELEMENT_MISSING
        path = ".".join(str(k) for k in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        ctx.report(
            code,
            index,
            tag,
            element,
            f"{path}: {message}" if path else message,
            value if isinstance(value, str) else None if value is None else str(value),
        )


_PYDANTIC_CODES = {
    "missing": ErrorCode.MANDATORY_ELEMENT_MISSING,
    "greater_than_equal": ErrorCode.INVALID_CHARACTER,
    "greater_than": ErrorCode.INVALID_CHARACTER,
    "less_than_equal": ErrorCode.INVALID_CODE_VALUE,
    "string_too_short": ErrorCode.ELEMENT_TOO_SHORT,
    "string_too_long": ErrorCode.ELEMENT_TOO_LONG,
    "string_pattern_mismatch": ErrorCode.INVALID_CHARACTER,
    "value_error": ErrorCode.CONDITIONAL_ELEMENT_MISSING,
    "date_from_datetime_parsing": ErrorCode.INVALID_DATE,
}


# ---------------------------------------------------------------------------------------------
# outbound text: the X12 extended character set
#: Elements that hold names, addresses and free text, where an accent or a curly quote may be
#: written in its ASCII form: N1 name, N2 names, N3 address lines, N4 city, PER contact name,
#: PID description, NTE/MSG text (MTX02 in 005010), REF description, SAC/ITD descriptions,
#: TD5/CAD routing, FOB location. Anything else (IDs, PO numbers, SKUs, codes) is refused
#: instead: a changed identifier would name something else.
FREE_TEXT = frozenset(
    {
        ("N1", 2),
        ("N2", 1),
        ("N2", 2),
        ("N3", 1),
        ("N3", 2),
        ("N4", 1),
        ("PER", 2),
        ("PID", 5),
        ("NTE", 2),
        ("MSG", 1),
        ("MTX", 2),
        ("REF", 3),
        ("SAC", 15),
        ("ITD", 12),
        ("TD5", 5),
        ("CAD", 5),
        ("FOB", 3),
    }
)
#: ASCII forms NFKD does not give: typographic quotes and dashes, letters that are not a base
#: letter plus accents (ß, Æ, Ø, Ł ...), the fraction slash of a decomposed ½.
_ASCII_FORMS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2044": "/",
        "\u00df": "ss",
        "\u00c6": "AE",
        "\u00e6": "ae",
        "\u0152": "OE",
        "\u0153": "oe",
        "\u00d8": "O",
        "\u00f8": "o",
        "\u0141": "L",
        "\u0142": "l",
        "\u0110": "D",
        "\u0111": "d",
        "\u00de": "TH",
        "\u00fe": "th",
        "\u0131": "i",
        "\t": " ",
        "\n": " ",
        "\r": " ",
    }
)
log = logging.getLogger("edigate.translate")


def x12_ascii(value: str) -> str:
    """``value`` in the X12 extended character set (printable ASCII), deterministically:
    NFKD (``É`` -> ``E`` + accent, ``½`` -> ``1⁄2``), then the table above, then whatever is
    still outside is dropped."""
    text = unicodedata.normalize("NFKD", value).translate(_ASCII_FORMS)
    return "".join(ch for ch in text if " " <= ch <= "~")


def x12_text(segments: list[Out], document: str) -> list[Out]:
    """``segments`` with every value in the X12 extended character set, checked in place.

    Our writer would otherwise put UTF-8 bytes on the wire, which a partner's translator
    reads as garbage or rejects. Names, addresses and descriptions (:data:`FREE_TEXT`) are
    written in their ASCII form (``ÉDIGATE DISTRIBUTIÖN “X”`` -> ``EDIGATE DISTRIBUTION
    "X"``), with a warning in the log; any other value is refused with an
    :class:`X12WriteError` naming ``document``, the segment, the element and the character.
    """
    for position, segment in enumerate(segments, start=2):  # ST is segment 1
        for index in range(1, len(segment)):
            element = segment[index]
            if element.__class__ is str and element.isascii() and element.isprintable():
                continue  # the usual case
            if isinstance(element, list):  # repetitions
                segment[index] = [_value(r, document, position, segment, index) for r in element]
            else:
                segment[index] = _value(element, document, position, segment, index)
    return segments


def _value(
    value: str | Composite, document: str, position: int, segment: Out, index: int
) -> str | Composite:
    """One value checked: a simple element or each component of a composite."""
    if isinstance(value, str):
        if value.isascii() and value.isprintable():
            return value
        return _text(value, document, position, segment, index, None)
    return tuple(
        c if c.isascii() and c.isprintable() else _text(c, document, position, segment, index, n)
        for n, c in enumerate(value, start=1)
    )


def _text(
    value: str, document: str, position: int, segment: Out, index: int, component: int | None
) -> str:
    """``value``'s ASCII form if it is free text that has one; else an X12WriteError."""
    tag = str(segment[0])
    where = f"{tag}{index:02d}" + (f"-{component}" if component else "")
    bad = next(ch for ch in value if not (" " <= ch <= "~"))
    control = next(
        (c for c in value if unicodedata.category(c) == "Cc" and c not in "\t\n\r"), None
    )
    if (tag, index) not in FREE_TEXT or component is not None:
        reason = "an identifier or code is never transliterated, so correct it at the source"
    elif control is not None:
        bad, reason = control, "a control character is corrupt data, not text"
    else:
        written = x12_ascii(value)
        if written.strip():
            log.warning(
                "%s: segment %d %s %r written as %r (X12 extended character set)",
                document,
                position,
                where,
                value,
                written,
            )
            return written
        reason = "it has no ASCII form"
    raise X12WriteError(
        f"{document}: segment {position} {where} value {value!r} has {bad!r} "
        f"(U+{ord(bad):04X}), outside the X12 extended character set (printable ASCII); "
        f"{reason}",
        segment=tag,
        element=index,
    )


# ---------------------------------------------------------------------------------------------
# formatting
def fmt_decimal(value: Decimal) -> str:
    """X12 ``R``: plain digits, no exponent, no trailing zeros after the point.

    ``str`` (a third of the cost of ``format(value, "f")``) is plain notation unless it has
    an exponent; only then is the value formatted again. No context, so no rounding
    (``normalize()`` would round). Not cached: hashing a fresh Decimal costs as much.
    """
    text = str(value)
    if text.isdigit():  # a whole number, the usual quantity: already as X12 wants it
        return text
    if "E" in text or "e" in text:
        text = format(value, "f")
    if "." in text:
        if text[-1] not in "0.":  # a price such as 12.95: nothing to strip
            return text
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


#: CTT02 holds 10 digits: X12 truncates a longer hash total on the left.
HASH_TOTAL_DIGITS = 10


def fmt_hash_total(total: Decimal, values: Iterable[Decimal | None]) -> str:
    """CTT02 for ``total``, the sum of ``values``: the sum itself while it fits in 10 digits
    (what partners expect), else X12's hash total, every value's digits summed without
    decimal points or signs, truncated to its rightmost 10 digits (for whole, unsigned
    quantities the two agree). ``values`` is read only past 10 digits: the 855's hot loop
    passes a generator over its lines beside its running sum."""
    text = fmt_decimal(total)
    if len(text) <= HASH_TOTAL_DIGITS or sum(c.isdigit() for c in text) <= HASH_TOTAL_DIGITS:
        return text
    digits = (fmt_decimal(v).replace("-", "").replace(".", "") for v in values if v is not None)
    return str(sum(int(d) for d in digits) % 10**HASH_TOTAL_DIGITS)


def fmt_n2(value: Decimal, name: str = "amount") -> str:
    """X12 ``N2``: the amount in cents, e.g. 12.5 -> ``1250``."""
    if finer_than_cents(value):
        raise X12Error(f"{name} {value} has more than 2 decimals; it cannot be written as N2")
    return str(int(value.scaleb(2)))


@lru_cache(maxsize=4096)
def fmt_date(value: dt.date) -> str:
    """CCYYMMDD. Cached: ``strftime`` costs a microsecond and a batch repeats its dates."""
    return value.strftime("%Y%m%d")


def fmt_time(value: dt.time) -> str:
    return value.strftime("%H%M%S" if value.second else "%H%M")


def opt(value: str | None) -> str:
    return value or ""


def opt_dec(value: Decimal | None) -> str:
    return "" if value is None else fmt_decimal(value)


def opt_int(value: int | None) -> str:
    return "" if value is None else str(value)


def opt_date(value: dt.date | None) -> str:
    return "" if value is None else fmt_date(value)


def seg(*elements: Element) -> Out:
    """A segment with its trailing empty elements dropped."""
    n = len(elements)
    while n > 1 and not elements[n - 1]:
        n -= 1
    return list(elements[:n])


def trimmed(segment: Out) -> Out:
    """``segment`` with its trailing empty elements removed, in place."""
    while len(segment) > 1 and not segment[-1]:
        segment.pop()
    return segment


def id_pairs(identifiers: Sequence[Identifier], sku: str | None = None) -> list[str]:
    """Qualifier/value pairs flattened for PO1/IT1/LIN. A line with no partner identifiers
    (no map turned our SKU into theirs) names our ``sku`` as VN: we are the vendor, and it
    is our item number; a PO1/IT1/LIN without one is invalid."""
    out: list[str] = []
    for ident in identifiers:
        out += (ident.qualifier, ident.value)
    if not out and sku:
        out = ["VN", sku]
    return out


def ref_segment(ref: Reference) -> Out:
    related: tuple[str, ...] = tuple(x for i in ref.related for x in (i.qualifier, i.value))
    return trimmed(["REF", ref.qualifier, ref.value or "", ref.description or "", related])


def dtm_segment(d: DateRef) -> Out:
    return seg(
        "DTM",
        d.qualifier,
        opt_date(d.date),
        "" if d.time is None else fmt_time(d.time),
        opt(d.time_code),
        opt(d.period_format),
        opt(d.period),
    )


def per_segments(c: Contact) -> list[Out]:
    """PER: a segment holds three communication numbers; more go on in further PERs of the
    same function and name, rather than being cut off."""
    comms: list[str] = []
    for qual, number in (("TE", c.phone), ("FX", c.fax), ("EM", c.email)):
        if number:
            comms += (qual, number)
    for other in c.other:
        comms += (other.qualifier, other.value)
    return [
        seg("PER", c.function, opt(c.name), *comms[start : start + 6])
        for start in range(0, max(len(comms), 1), 6)
    ]


def party_segments(p: Party) -> list[Out]:
    """The N1 loop: N1 (with the first identifier: N1 holds one), N2, N3, N4, REF, PER.

    The party's ``extra`` segments are not written: they belong to the loop of the document
    they came in (an 850's), not to the 855/856/810 answering it. Written out rather than
    through :func:`seg`: every document has a few parties.
    """
    ident = p.identifiers[0] if p.identifiers else None
    n1: Out = ["N1", p.role_code, p.name or ""]
    if ident is not None:
        n1 += (ident.qualifier, ident.value)
    out = [trimmed(n1)]
    if p.additional_names:
        out += _two_per_segment("N2", p.additional_names)
    a = p.address
    if a is not None:
        if a.lines:
            out += _two_per_segment("N3", a.lines)
        if a.city or a.state or a.postal_code or a.country or a.location_id:
            n4: Out = [
                "N4",
                a.city or "",
                a.state or "",
                a.postal_code or "",
                a.country or "",
                a.location_qualifier or "",
                a.location_id or "",
            ]
            out.append(trimmed(n4))
    if p.references:
        out += [ref_segment(r) for r in p.references]
    if p.contacts:
        for contact in p.contacts:
            out += per_segments(contact)
    return out


def _two_per_segment(tag: str, values: Sequence[str]) -> list[Out]:
    """``tag`` segments holding two of ``values`` each (N2 names, N3 address lines)."""
    out: list[Out] = []
    for i in range(0, len(values), 2):
        segment: Out = [tag, *values[i : i + 2]]
        while len(segment) > 1 and not segment[-1]:
            segment.pop()
        out.append(segment)
    return out


def sac_segment(ac: AllowanceCharge) -> Out:
    return seg(
        "SAC",
        INDICATOR_LETTERS[ac.indicator],
        opt(ac.code),
        opt(ac.agency_qualifier),
        opt(ac.agency_code),
        "" if ac.amount is None else fmt_n2(ac.amount, "SAC05 amount"),
        opt(ac.percent_qualifier),
        opt_dec(ac.percent),
        opt_dec(ac.rate),
        opt(ac.unit),
        opt_dec(ac.quantity),
        opt_dec(ac.quantity2),
        opt(ac.method_of_handling),
        opt(ac.reference),
        opt(ac.option_number),
        opt(ac.description),
        opt(ac.language),
    )


def pid_segment(d: Description) -> Out:
    out: Out = ["PID", d.type, d.characteristic or "", d.agency or "", d.code or "", d.text or ""]
    while not out[-1] and len(out) > 1:  # trimmed(), inline: one per line of every document
        out.pop()
    return out


def po4_segment(p: PackDetail) -> Out:
    return seg(
        "PO4",
        opt_int(p.pack),
        opt_dec(p.size),
        opt(p.size_unit),
        opt(p.packaging_code),
        opt(p.weight_qualifier),
        opt_dec(p.gross_weight),
        opt(p.weight_unit),
        opt_dec(p.gross_volume),
        opt(p.volume_unit),
        opt_dec(p.length),
        opt_dec(p.width),
        opt_dec(p.height),
        opt(p.dimension_unit),
        opt_int(p.inner_pack),
    )


def td5_segment(c: Carrier) -> Out:
    qualifier = c.id_qualifier or ("2" if c.scac else "")
    return seg(
        "TD5",
        opt(c.routing_sequence),
        qualifier,
        opt(c.scac),
        opt(c.mode),
        opt(c.routing),
        opt(c.status_code),
        opt(c.location_qualifier),
        opt(c.location),
        opt(c.transit_direction),
        opt(c.transit_time_qualifier),
        opt_dec(c.transit_time),
        opt(c.service_level),
    )


def itd_segment(t: Terms) -> Out:
    return seg(
        "ITD",
        opt(t.type_code),
        opt(t.basis_date_code),
        opt_dec(t.discount_percent),
        opt_date(t.discount_due_date),
        opt_int(t.discount_days),
        opt_date(t.net_due_date),
        opt_int(t.net_days),
        "" if t.discount_amount is None else fmt_n2(t.discount_amount, "ITD08"),
        opt_date(t.deferred_due_date),
        "" if t.deferred_amount is None else fmt_n2(t.deferred_amount, "ITD10"),
        opt_dec(t.percent_of_invoice_payable),
        opt(t.description),
        opt_int(t.day_of_month),
    )


def fob_segment(f: FOB) -> Out:
    return seg(
        "FOB",
        f.payment_method,
        opt(f.location_qualifier),
        opt(f.location),
        opt(f.terms_qualifier),
        opt(f.terms_code),
        opt(f.location2_qualifier),
        opt(f.location2),
        opt(f.risk_of_loss_qualifier),
        opt(f.risk_of_loss),
    )


def txi_segment(t: Tax) -> Out:
    return seg(
        "TXI",
        t.type_code,
        opt_dec(t.amount),
        opt_dec(t.percent),
        opt(t.jurisdiction_qualifier),
        opt(t.jurisdiction),
        opt(t.exempt_code),
        opt(t.relationship_code),
        opt_dec(t.basis_amount),
        opt(t.tax_id),
        opt(t.assigned_id),
    )


def nte_segment(n: Note) -> Out:
    return seg("NTE", opt(n.code), n.text)


def raw_out(r: RawSegment) -> Out:
    """A kept segment written back: each element's components as a composite."""
    out: Out = [r.tag]
    for comps in r.elements:
        out.append(comps[0] if len(comps) == 1 else tuple(comps) if comps else "")
    return trim(out)


# ---------------------------------------------------------------------------------------------
# writing whole interchanges
def isa_version(version: str) -> str:
    """ISA12 for a GS08 version: 004010 -> 00401, 005010 -> 00501."""
    try:
        return VERSIONS[version]
    except KeyError:
        raise X12Error(
            f"version {version!r} is not written; one of {', '.join(VERSIONS)}"
        ) from None


def default_separators(version: str = "004010") -> Separators:
    """``* > ~`` and newlines; 5010 adds the repetition separator ``^``."""
    return Separators("*", ">", "~", "^" if version >= "005010" else None, "\n")


def parse_party_id(text: str) -> PartyId:
    """``ZZ:ACME`` -> PartyId("ZZ", "ACME"); a bare ID gets qualifier ZZ (mutually defined)."""
    qualifier, sep, ident = text.partition(":")
    if not sep:
        qualifier, ident = "ZZ", text
    if not ident or len(qualifier) != 2 or len(ident) > 15:
        raise X12Error(f"party ID {text!r}: expected QQ:ID (2-letter qualifier, ID up to 15)")
    return PartyId(qualifier, ident)


#: The "no partner" envelope the CLI writes until partner profiles exist.
NO_PARTNER_SENDER = PartyId("ZZ", "EDIGATE")
NO_PARTNER_RECEIVER = PartyId("ZZ", "PARTNER")


def default_envelopes(
    set_id: str,
    *,
    version: str = "004010",
    sender: PartyId = NO_PARTNER_SENDER,
    receiver: PartyId = NO_PARTNER_RECEIVER,
    control_number: int = 1,
    timestamp: dt.datetime | None = None,
    usage: str = "P",
) -> tuple[InterchangeEnvelope, GroupEnvelope]:
    """ISA and GS for one outbound group (GS02/03 are the ISA IDs)."""
    try:
        functional_id = FUNCTIONAL_GROUP_OF_SET[set_id]
    except KeyError:
        raise X12Error(f"no functional group known for transaction set {set_id!r}") from None
    interchange = InterchangeEnvelope(
        sender,
        receiver,
        control_number,
        version=isa_version(version),
        usage=usage,
        timestamp=timestamp,
    )
    group = GroupEnvelope(
        functional_id, sender.id, receiver.id, control_number, version=version, timestamp=timestamp
    )
    return interchange, group


def write_interchange(
    set_id: str,
    bodies: Iterable[Sequence[Out]],
    interchange: InterchangeEnvelope,
    group: GroupEnvelope,
    *,
    separators: Separators | None = None,
    first_control_number: int = 1,
) -> bytes:
    """One interchange, one group, one transaction per body (ST02 counting up from
    ``first_control_number``); SE, GE and IEA counts are the writer's."""
    writer = X12Writer(separators or default_separators(group.version))
    writer.begin_interchange(interchange)
    writer.begin_group(group)
    control = first_control_number
    for body in bodies:
        writer.begin_transaction(set_id, control)
        writer.segments(body)
        writer.end_transaction()
        control += 1
    writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


def write_documents(
    set_id: str,
    build: Callable[..., list[Out]],
    documents: Iterable[Any],
    *,
    version: str = "004010",
    interchange: InterchangeEnvelope | None = None,
    group: GroupEnvelope | None = None,
    separators: Separators | None = None,
    timestamp: dt.datetime | None = None,
    first_control_number: int = 1,
) -> bytes:
    """A whole interchange of ``set_id`` transactions, one per document, built by ``build``
    (the "no partner" envelope unless one is given)."""
    if interchange is None or group is None:
        default_i, default_g = default_envelopes(set_id, version=version, timestamp=timestamp)
        interchange = interchange or default_i
        group = group or default_g
    bodies = [build(doc, version=version) for doc in documents]
    return write_interchange(
        set_id,
        bodies,
        interchange,
        group,
        separators=separators,
        first_control_number=first_control_number,
    )
