"""The schema of a partner map (``maps/<id>.yaml``).

A map says how one partner's documents differ from our canonical ones: their item IDs
(SKU cross-reference), their units (UoM conversion), their codes (code mappings), what to
fill in when they leave it out (defaults), small value rules, and the extra X12 rules they
impose (validation overlay). Unknown keys are errors, and every canonical field path is
checked against :mod:`edigate.partners.fields` when the map loads.

Annotated example::

    format: x12                    # x12 | csv | xml | cxml
    sku:
      file: acme-retail-skus.csv   # beside the map; or `items:` inline
      columns: {sku: sku, ids: {VN: vendor_item, UP: upc}}
      unknown: reject_line         # reject_line | reject_order | pass_through
    uom:
      conversions:
        CA: {internal: EA, factor: 12, per_sku: {GAD-200-SS: 6}}
      units: {EA: {integral: true}}
    codes:
      - from: party[ship_to].identifiers[92]
        to: party[ship_to].identifiers[LOC]
        table: {"0420": DC-JOLIET}
    defaults: {order.currency: USD}
    rules:
      - {set: line.requested_ship_date, copy: order.requested_ship_date, if_missing: true}
    validation:                    # per transaction set, on top of the standard
      "850":
        require:
          - {segment: REF, when: {REF01: DP}}    # in the header; `loop: PO1` for each line
          - {segment: PID, loop: PO1}
        elements: [PER02]                        # elements that become mandatory
        codes: {PO103: [EA, CA]}                 # allowed codes (PO1/REF01: scoped)
        max_length: {N102: 35}
        max: {PO1: 200}                          # loops
        max_segments: {/REF: 10}                 # segments (/ = header only)
    csv: ...                       # CSV / XML partners: their layout, and the templates
    xml: ...                       #   of what we send them (see edigate.partners.layouts)
    templates: ...
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, model_validator

from .configbase import STRICT, CanonicalPath, DateFormat, Text, schema_of
from .default_values import defaults_the_model_refuses
from .fields import DEFAULT_SCHEMA, FieldPath, Schema, parse_path
from .layouts import CsvLayout, TemplatesSection, XmlLayout, layout_problems
from .validation import (
    AllowedCodes,
    MaxLength,
    MaxOccurs,
    RequiredSegment,
    ValidationSpec,
    check_loop,
    check_segment_key,
    check_tag,
    parse_element_ref,
)


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors, objects are immutable."""

    model_config = STRICT


def _check_ref(value: str) -> str:
    parse_element_ref(value)
    return value


Qualifier = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,3}$")]
UnitCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")]
Positive = Annotated[Decimal, Field(gt=0)]
ElementRefText = Annotated[str, AfterValidator(_check_ref)]
Tag = Annotated[str, AfterValidator(check_tag)]
LoopPath = Annotated[str, AfterValidator(check_loop)]
SegmentKey = Annotated[str, AfterValidator(check_segment_key)]
SetId = Annotated[str, Field(pattern=r"^\d{3}$")]
Direction = Literal["inbound", "outbound", "both"]


# --- SKU cross-reference -----------------------------------------------------------------------


class SkuItem(Strict):
    """One row of an inline table: our SKU and the partner's IDs for it, by qualifier."""

    sku: Text
    ids: Annotated[dict[Qualifier, Text], Field(min_length=1)]


class SkuColumns(Strict):
    """Which CSV columns hold our SKU and each of the partner's ID kinds."""

    sku: Text = "sku"
    ids: Annotated[dict[Qualifier, Text], Field(min_length=1)]


class SkuSection(Strict):
    file: Text | None = None
    columns: SkuColumns | None = None
    items: list[SkuItem] | None = None
    #: Which of the partner's qualifiers to prefer, for lookup and for outbound IDs.
    qualifiers: list[Qualifier] | None = None
    unknown: Literal["reject_line", "reject_order", "pass_through"] = "reject_line"

    @model_validator(mode="after")
    def _one_source(self) -> SkuSection:
        if (self.file is None) == (self.items is None):
            raise ValueError("give either 'file' (a CSV beside the map) or 'items', not both")
        if self.file is not None and self.columns is None:
            raise ValueError("a SKU 'file' needs 'columns' (e.g. {sku: sku, ids: {VN: vendor}})")
        if self.items is not None and self.columns is not None:
            raise ValueError("'columns' applies to a SKU 'file' only")
        return self


# --- units -------------------------------------------------------------------------------------


class UnitConversion(Strict):
    """The partner's unit in ours: 1 CA = ``factor`` EA; ``per_sku`` overrides by our SKU."""

    internal: UnitCode
    factor: Positive
    per_sku: dict[Text, Positive] = {}


class UnitInfo(Strict):
    integral: bool = False


class UomSection(Strict):
    conversions: dict[UnitCode, UnitConversion] = {}
    units: dict[UnitCode, UnitInfo] = {}
    unknown: Literal["pass_through", "reject_line"] = "pass_through"
    #: None: a unit price that does not divide exactly is an error; N: every converted price
    #: is rounded (half up) to at most N decimals.
    price_decimals: Annotated[int, Field(ge=0, le=10)] | None = None


# --- codes, defaults, rules --------------------------------------------------------------------


class CodeMapping(Strict):
    """A table from the partner's codes to ours, read at ``from`` and written at ``to``."""

    name: str | None = None
    source: CanonicalPath = Field(alias="from")
    to: CanonicalPath | None = None
    table: Annotated[dict[Text, Text], Field(min_length=1)]
    unknown: Literal["error", "warn", "keep", "default"] = "error"
    default: Text | None = None
    direction: Direction = "both"

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> CodeMapping:
        if (self.unknown == "default") != (self.default is not None):
            raise ValueError("'default' goes with 'unknown: default', and only with it")
        if self.unknown == "default" and self.direction == "outbound":
            raise ValueError(
                "'unknown: default' stands in for a partner's unknown code inbound; an "
                "outbound table never uses it: use warn, keep or error"
            )
        schema = schema_of(info)
        if self.to and parse_path(self.to, schema).scope != parse_path(self.source, schema).scope:
            raise ValueError("'from' and 'to' must both be order paths or both line paths")
        return self


class DateSpec(Strict):
    """Reformat a date: read ``from`` (a date, or text in ``input``), write text in ``output``."""

    source: CanonicalPath = Field(alias="from")
    input: DateFormat | None = None
    output: DateFormat = "%Y-%m-%d"


class ValueRule(Strict):
    """Set a field: to a fixed ``value``, a ``copy`` of another field, or a reformatted ``date``."""

    target: CanonicalPath = Field(alias="set")
    value: str | None = None
    copy_from: CanonicalPath | None = Field(default=None, alias="copy")
    date: DateSpec | None = None
    if_missing: bool = False
    direction: Direction = "inbound"

    @model_validator(mode="after")
    def _one_kind(self, info: ValidationInfo) -> ValueRule:
        given = [
            k
            for k, v in (("value", self.value), ("copy", self.copy_from), ("date", self.date))
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError("a rule needs exactly one of 'value', 'copy' or 'date'")
        schema = schema_of(info)
        source = self.copy_from or (self.date.source if self.date else None)
        target = parse_path(self.target, schema)
        if source and target.scope == "order" and parse_path(source, schema).scope == "line":
            raise ValueError(f"an order field cannot take a line field ({source})")
        return self


# --- validation overlay ------------------------------------------------------------------------


class RequireEntry(Strict):
    """A segment that must be there: in the header, or in each ``loop``; ``when`` values."""

    segment: Tag
    when: dict[ElementRefText, Text] = {}
    loop: LoopPath | None = None
    min: Annotated[int, Field(ge=1)] = 1

    @model_validator(mode="after")
    def _same_segment(self) -> RequireEntry:
        for text in self.when:
            ref = parse_element_ref(text)
            if ref.tag != self.segment or ref.scope is not None or ref.component is not None:
                raise ValueError(f"condition {text} is not an element of {self.segment}")
        return self


class ValidationSection(Strict):
    """One transaction set's overlay (the keys of ``validation:`` are set IDs)."""

    require: list[RequireEntry] = []
    elements: list[ElementRefText] = []
    codes: dict[ElementRefText, Annotated[list[Text], Field(min_length=1)]] = {}
    max_length: dict[ElementRefText, Annotated[int, Field(gt=0)]] = {}
    #: Loops (by loop id or path) at most so many times: ``{PO1: 200}``.
    max: dict[LoopPath, Annotated[int, Field(gt=0)]] = {}
    #: Segments (``REF``, ``/REF`` header only, ``PO1/REF``) at most so many times.
    max_segments: dict[SegmentKey, Annotated[int, Field(gt=0)]] = {}

    def to_spec(self, set_id: str) -> ValidationSpec:
        """The neutral, typed form the X12 validator consumes."""
        return ValidationSpec(
            set_id=set_id,
            require=tuple(
                RequiredSegment(
                    r.segment,
                    tuple((parse_element_ref(k), v) for k, v in r.when.items()),
                    r.loop,
                    r.min,
                )
                for r in self.require
            ),
            elements=tuple(parse_element_ref(e) for e in self.elements),
            codes=tuple(
                AllowedCodes(parse_element_ref(k), frozenset(v)) for k, v in self.codes.items()
            ),
            max_lengths=tuple(
                MaxLength(parse_element_ref(k), v) for k, v in self.max_length.items()
            ),
            max=tuple(MaxOccurs(tag, limit) for tag, limit in self.max.items()),
            max_segments=tuple(MaxOccurs(k, limit) for k, limit in self.max_segments.items()),
        )

    def items(self) -> list[tuple[tuple[str | int, ...], ValidationSection]]:
        """Each restriction alone, with its location in the section (to check one by one)."""
        out: list[tuple[tuple[str | int, ...], ValidationSection]] = []
        for i, req in enumerate(self.require):
            out.append((("require", i), ValidationSection(require=[req])))
        for i, element in enumerate(self.elements):
            out.append((("elements", i), ValidationSection(elements=[element])))
        for key, codes in self.codes.items():
            out.append((("codes", key), ValidationSection(codes={key: codes})))
        for key, length in self.max_length.items():
            out.append((("max_length", key), ValidationSection(max_length={key: length})))
        for key, limit in self.max.items():
            out.append((("max", key), ValidationSection(max={key: limit})))
        for key, limit in self.max_segments.items():
            out.append((("max_segments", key), ValidationSection(max_segments={key: limit})))
        return out


# --- the map -----------------------------------------------------------------------------------


class PartnerMap(Strict):
    format: Literal["x12", "csv", "xml", "cxml"]
    description: str | None = None
    sku: SkuSection | None = None
    uom: UomSection | None = None
    codes: list[CodeMapping] = []
    defaults: dict[CanonicalPath, Text] = {}
    rules: list[ValueRule] = []
    validation: dict[SetId, ValidationSection] = {}
    csv: CsvLayout | None = None
    xml: XmlLayout | None = None
    templates: TemplatesSection | None = None

    def validation_specs(self) -> dict[str, ValidationSpec]:
        return {set_id: section.to_spec(set_id) for set_id, section in self.validation.items()}


def map_problems(
    m: PartnerMap, schema: Schema = DEFAULT_SCHEMA, raw: dict[str, Any] | None = None
) -> list[tuple[tuple[Any, ...], str]]:
    """Checks across sections, as ``(loc, message)`` so the caller can point at the line.

    ``raw`` is the map as loaded, so a problem points at the key the user wrote.
    """
    problems: list[tuple[tuple[Any, ...], str]] = []
    if m.csv is not None and m.format != "csv":
        problems.append((("csv",), f"a 'csv' layout needs 'format: csv' (format is {m.format})"))
    if m.xml is not None and m.format not in ("xml", "cxml"):
        problems.append((("xml",), f"an 'xml' layout needs format xml or cxml (is {m.format})"))
    problems.extend(layout_problems(m.format, m.csv, m.xml, m.templates, raw))
    if m.validation and m.format != "x12":
        problems.append((("validation",), "validation overlays apply to X12 maps only"))
    for i, mapping in enumerate(m.codes):
        if mapping.direction == "inbound":
            continue
        seen: dict[str, str] = {}
        for code, ours in mapping.table.items():
            if ours in seen:
                problems.append(
                    (
                        ("codes", i, "table", code),
                        f"{ours!r} is also the value of {seen[ours]!r}: the outbound direction "
                        "would be ambiguous (set 'direction: inbound' if it is one-way)",
                    )
                )
            seen.setdefault(ours, code)
    problems.extend(_written_after_conversion(m))
    problems.extend(defaults_the_model_refuses(m.defaults, schema))
    problems.extend(_chained_units(m.uom))
    problems.extend(_unused_qualifiers(m.sku))
    return problems


def _unused_qualifiers(sku: SkuSection | None) -> list[tuple[tuple[Any, ...], str]]:
    """A preferred qualifier that no column or item carries (a typo: ``[VN, PU]``) would
    be ignored silently, and the order of the others with it."""
    if sku is None or not sku.qualifiers:
        return []
    given = set(sku.columns.ids) if sku.columns is not None else set()
    for item in sku.items or ():
        given |= set(item.ids)
    known = ", ".join(sorted(given))
    return [
        (("sku", "qualifiers", i), f"{q} is not one of the table's qualifiers ({known})")
        for i, q in enumerate(sku.qualifiers)
        if q not in given
    ]


def _chained_units(uom: UomSection | None) -> list[tuple[tuple[Any, ...], str]]:
    """A conversion into a unit the partner's own units are converted from: a line is
    converted once (``CA -> CA`` x 12 would turn 10 CA into 120 CA, and ``CA -> BX -> EA``
    stops at BX), and outbound our unit would be read as theirs of the same name."""
    if uom is None:
        return []

    def identity(unit: str) -> bool:
        """``EA: {internal: EA, factor: 1}``: a unit taken as it is (with ``unknown:
        reject_line``, one way to accept our own unit; naming it under ``units:`` is the
        other), not a conversion."""
        conv = uom.conversions[unit]
        return conv.internal == unit and conv.factor == 1 and not conv.per_sku

    problems: list[tuple[tuple[Any, ...], str]] = []
    for unit, conv in uom.conversions.items():
        if conv.internal == unit:
            if identity(unit):
                continue
            message = (
                f"{unit} is converted into itself by a factor other than 1; leave it out, or "
                "give factor 1 to take it as it is"
            )
        elif conv.internal in uom.conversions and not identity(conv.internal):
            then = uom.conversions[conv.internal].internal
            message = (
                f"{conv.internal} is also one of the partner's units (converted to {then}): "
                f"a unit is converted once, so give {unit} in our final unit directly"
            )
        else:
            continue
        problems.append((("uom", "conversions", unit, "internal"), message))
    return problems


def _written_after_conversion(m: PartnerMap) -> list[tuple[tuple[Any, ...], str]]:
    """Inbound codes, defaults and rules run after the SKU lookup and the unit conversion (see
    ``partners.apply``): a unit they write that ``uom:`` converts would reach the ERP
    unconverted, and an item ID they write would never be looked up."""
    convertible = set(m.uom.conversions) if m.uom is not None else set()
    problems: list[tuple[tuple[Any, ...], str]] = []
    fix = "give the file's own spelling in uom.conversions (or the CSV/XML layout's values)"
    for i, mapping in enumerate(m.codes):
        if mapping.direction == "outbound":
            continue
        target = mapping.to or mapping.source
        if target == "line.unit":
            for code, ours in mapping.table.items():
                if ours in convertible and ours != code:  # {CA: CA} changes nothing
                    problems.append(
                        (
                            ("codes", i, "table", code),
                            f"{code} -> {ours}: codes run after uom: converts units, so {ours} "
                            f"would reach the ERP unconverted; {fix}",
                        )
                    )
        elif target.startswith("line.identifiers") and _looked_up(m.sku, target):
            problems.append(
                (
                    ("codes", i, "to" if mapping.to else "from"),
                    f"{target}: codes run after the sku: lookup, so an item ID written here is "
                    "never looked up; list the partner's IDs in sku: instead",
                )
            )
    for i, rule in enumerate(m.rules):
        if rule.direction == "outbound":
            continue
        if rule.target == "line.unit" and rule.value in convertible:
            problems.append(
                (
                    ("rules", i, "value"),
                    f"{rule.value}: rules run after uom: converts units, so {rule.value} "
                    "would reach the ERP unconverted; set the unit it becomes",
                )
            )
        elif _looked_up(m.sku, rule.target.removesuffix(".value")):
            problems.append(
                (
                    ("rules", i, "set"),
                    f"{rule.target}: rules run after the sku: lookup, so an item ID written "
                    "here is never looked up; list the partner's IDs in sku: instead",
                )
            )
    unit = m.defaults.get("line.unit")
    if unit is not None and unit in convertible:
        problems.append(
            (
                ("defaults", "line.unit"),
                f"{unit}: defaults apply after uom: converts units, so a line without a unit "
                f"would reach the ERP in {unit}, unconverted; default to the unit it becomes",
            )
        )
    return problems


def _looked_up(sku: SkuSection | None, target: str) -> bool:
    """Whether the SKU table looks up the identifier ``target`` (``line.identifiers[VN]``)
    names: one of the qualifiers its rows or columns carry."""
    if sku is None:
        return False
    qualifiers = set(sku.qualifiers or ())
    if sku.columns is not None:
        qualifiers |= set(sku.columns.ids)
    for item in sku.items or ():
        qualifiers |= set(item.ids)
    return any(target == f"line.identifiers[{q}]" for q in qualifiers)


def compile_path(text: str, schema: Schema = DEFAULT_SCHEMA) -> FieldPath:
    """Parse a path already checked at load time."""
    return parse_path(text, schema)
