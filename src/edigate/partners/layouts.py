"""The map sections for partners who send CSV or XML, and get answers in their own format.

``csv:`` says how their CSV orders look, ``xml:`` where things are in their XML orders
(XPath), ``templates:`` which template writes each outbound document for them. Everything a
mistake can hide in (a column number in a map with a header row, an XPath that does not
parse, a namespace prefix never declared, a template that does not exist) is reported at
load time as ``file:line``, not at 3 a.m. on the first order.

Annotated example::

    csv:
      delimiter: ";"                 # one character; "tab" for a tab
      quote: '"'
      encoding: cp1252               # utf-8 | utf-8-sig | cp1252 | latin-1
      header: true                   # false: columns by number, 1 = first
      decimal: ","                   # decimal separator of numbers
      thousands: "."                 # grouping separator to drop (optional)
      date_formats: ["%d.%m.%Y"]     # tried in order; iso = 2026-03-01 (or a date-time)
      group_by: Bestellung           # rows with the same value are one order
                                     #   (default: the column of order.po_number)
      unmapped: warn                 # a filled column no field takes: warn | ignore
      columns:                       # canonical field: column
        order.po_number: Bestellung
        order.po_date: {column: Datum, date_format: "%d.%m.%y"}
        party[ship_to].name: Lieferadresse
        line.identifiers[BP]: Artikel
        line.quantity: Menge
        line.description: Text       # short for line.descriptions[0].text

    xml:
      layout: cxml                   # start from a built-in layout: cxml | ubl (optional)
      namespaces: {u: "urn:example:orders"}
      order: /u:Orders/u:Order       # XPath: each order
      line: u:Line                   # XPath relative to the order: each line
      date_formats: [iso]
      decimal: "."
      fields:                        # order fields relative to the order node,
        order.po_number: u:Number    #   line fields relative to the line node
        order.po_date: {xpath: u:Date, date_format: "%Y%m%d"}
        order.purpose_code: {xpath: "@type", values: {new: "00", update: "05"}}
        line.quantity: "@qty"
        order.references[ZZ]: ~      # null: drop a field of the built-in layout

    templates:                       # per outbound document (or "855", "856", "810")
      order_ack: cxml/ConfirmationRequest    # a built-in template
      shipment: cxml/ShipNoticeRequest
      invoice: templates/invoice.csv.j2      # or a .j2 file beside the map
      values: {our_identity: EDIGATE}        # free values the templates read
      encoding: utf-8
      newline: lf                            # lf | crlf
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from lxml import etree  # type: ignore[import-untyped]
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from ..errors import ConfigError
from .configbase import STRICT, Text, check_date_format, check_path
from .loader import YamlSource

#: Built-in templates: name -> (document kind, file suffix). They live in
#: ``edigate/formats/templates/<name><suffix>.j2``.
BUILTIN_TEMPLATES: dict[str, tuple[str, str]] = {
    "cxml/ConfirmationRequest": ("order_ack", ".xml"),
    "cxml/ShipNoticeRequest": ("shipment", ".xml"),
    "csv/order_ack": ("order_ack", ".csv"),
    "csv/shipment": ("shipment", ".csv"),
    "csv/invoice": ("invoice", ".csv"),
}

#: Short forms a layout may use for a canonical path.
PATH_ALIASES = {"line.description": "line.descriptions[0].text"}

Encoding = Literal["utf-8", "utf-8-sig", "cp1252", "latin-1"]
DecimalMark = Literal[".", ","]


def _alias(value: Any) -> Any:
    return PATH_ALIASES.get(value, value) if isinstance(value, str) else value


def _one_char(value: Any) -> Any:
    return "\t" if value in ("tab", "\\t") else value


def _date_format(value: str) -> str:
    return value if value == "iso" else check_date_format(value)


def _as_mapping(key: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return {key: value} if isinstance(value, str) else value

    return convert


def _time_zone(value: str) -> str:
    """An IANA time zone this machine knows (``America/Chicago``), or ``UTC``."""
    if value == "UTC":
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        if not zoneinfo.available_timezones():
            raise ValueError(
                f"time zone {value!r}: this Python finds no time zone database (neither the "
                "system's nor the tzdata package): pip install tzdata"
            ) from exc
        raise ValueError(
            f"unknown time zone {value!r}: an IANA name such as America/Chicago, or UTC"
        ) from exc
    return value


def _check_xpath(value: str) -> str:
    try:
        etree.XPath(value)
    except etree.XPathSyntaxError as exc:
        raise ValueError(f"invalid XPath {value!r}: {exc}") from exc
    return value


class Strict(BaseModel):
    """Base of the layout models: unknown keys are errors, objects are immutable."""

    model_config = STRICT


LayoutPath = Annotated[str, BeforeValidator(_alias), AfterValidator(check_path)]
OneChar = Annotated[str, BeforeValidator(_one_char), Field(min_length=1, max_length=1)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
LayoutDateFormat = Annotated[str, AfterValidator(_date_format)]
XPathText = Annotated[str, Field(min_length=1), AfterValidator(_check_xpath)]
Prefix = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")]


# --- CSV ---------------------------------------------------------------------------------------


class CsvColumn(Strict):
    """One column: by header name (or 1-based number), with its own conversions if needed."""

    column: Text
    date_format: LayoutDateFormat | None = None
    decimal: DecimalMark | None = None
    #: Their value -> the canonical one (``{new: "00"}``); a value not in the table is an error.
    values: dict[Text, Text] = {}


CsvColumnSpec = Annotated[CsvColumn, BeforeValidator(_as_mapping("column"))]


class CsvLayout(Strict):
    """How a partner's CSV orders look: dialect, encoding, numbers, dates, columns."""

    delimiter: OneChar = ","
    quote: OneChar = '"'
    encoding: Encoding = "utf-8"
    header: bool = True
    decimal: DecimalMark = "."
    thousands: Literal[",", ".", " ", "'"] | None = None
    date_formats: Annotated[list[LayoutDateFormat], Field(min_length=1)] = ["iso"]
    group_by: Text | None = None
    unmapped: Literal["warn", "ignore"] = "warn"
    columns: Annotated[dict[LayoutPath, CsvColumnSpec], Field(min_length=1)]

    def group_column(self) -> str:
        """The column whose value keys an order (``group_by``, else the PO number's)."""
        if self.group_by is not None:
            return self.group_by
        spec = self.columns.get("order.po_number")
        return spec.column if spec is not None else ""


# --- XML ---------------------------------------------------------------------------------------


class XmlField(Strict):
    """Where one canonical field is, as an XPath, with its own conversions if needed."""

    xpath: XPathText
    date_format: LayoutDateFormat | None = None
    decimal: DecimalMark | None = None
    values: dict[Text, Text] = {}


XmlFieldSpec = Annotated[XmlField, BeforeValidator(_as_mapping("xpath"))]


class XmlLayout(Strict):
    """Where orders, lines and fields are in a partner's XML (XPath 1.0, lxml)."""

    layout: Literal["cxml", "ubl"] | None = None
    namespaces: dict[Prefix, Text] = {}
    order: XPathText | None = None
    line: XPathText | None = None
    date_formats: Annotated[list[LayoutDateFormat], Field(min_length=1)] | None = None
    decimal: DecimalMark | None = None
    #: ``None`` removes a field of the built-in layout.
    fields: dict[LayoutPath, XmlFieldSpec | None] = {}


# --- templates ---------------------------------------------------------------------------------


def _template_ref(value: str) -> str:
    if value in BUILTIN_TEMPLATES:
        return value
    if not value.endswith(".j2"):
        close = difflib.get_close_matches(value, list(BUILTIN_TEMPLATES), n=1)
        hint = (
            f"did you mean {close[0]!r}?" if close else "built-in: " + ", ".join(BUILTIN_TEMPLATES)
        )
        raise ValueError(f"unknown built-in template {value!r} ({hint}); a file must end in .j2")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{value!r}: a template file must be a relative path beside the map")
    return value


TemplateRef = Annotated[str, AfterValidator(_template_ref)]


class TemplatesSection(Strict):
    """Which template writes each outbound document for this partner."""

    order_ack: TemplateRef | None = Field(None, alias="855")
    shipment: TemplateRef | None = Field(None, alias="856")
    invoice: TemplateRef | None = Field(None, alias="810")
    values: dict[Text, str] = {}
    #: The CSV delimiter the ``csv`` filters use (default: the map's ``csv.delimiter`` or ",").
    delimiter: OneChar | None = None
    encoding: Encoding = "utf-8"
    newline: Literal["lf", "crlf"] = "lf"
    #: Where the partner's dates are midnight, for the ``isodatetime`` filter (cXML's
    #: datetime.tz): a date of ours is written as that day's start there.
    timezone: TimeZoneName = "UTC"

    def for_kind(self, kind: str) -> str | None:
        value = getattr(self, kind, None)
        return value if isinstance(value, str) else None

    def kinds(self) -> list[tuple[str, str]]:
        """(document kind, template) for each template given."""
        return [
            (kind, ref)
            for kind in ("order_ack", "shipment", "invoice")
            if (ref := self.for_kind(kind)) is not None
        ]


_KIND_KEYS = {"order_ack": "855", "shipment": "856", "invoice": "810"}


# --- checks across keys ------------------------------------------------------------------------

Problem = tuple[tuple[Any, ...], str]
_NUMBER = re.compile(r"^[1-9][0-9]*$")


def layout_problems(
    file_format: str,
    csv: CsvLayout | None,
    xml: XmlLayout | None,
    templates: TemplatesSection | None,
    raw: dict[str, Any] | None = None,
) -> list[Problem]:
    """Checks a field validator cannot make, as ``(loc, message)`` for the map's lines.

    ``raw`` is the map as loaded (to point at the key the user wrote, e.g. ``"855"``).
    """
    problems: list[Problem] = []
    if file_format == "csv":
        if csv is None:
            problems.append((("format",), "format csv needs a 'csv:' layout (its columns)"))
        else:
            keys = _given(raw, "csv", "columns")
            problems.extend(_csv_problems(csv, keys))
    if file_format in ("xml", "cxml"):
        if xml is None and file_format == "xml":
            problems.append((("format",), "format xml needs an 'xml:' layout (or layout: ubl)"))
        else:
            keys = _given(raw, "xml", "fields")
            problems.extend(_xml_problems(file_format, xml or XmlLayout(), keys))
    if templates is not None:
        given = raw.get("templates", {}) if isinstance(raw, dict) else {}
        for kind, ref in templates.kinds():
            builtin = BUILTIN_TEMPLATES.get(ref)
            if builtin is not None and builtin[0] != kind:
                key = _KIND_KEYS[kind] if _KIND_KEYS[kind] in given else kind
                problems.append((("templates", key), f"{ref} writes a {builtin[0]}, not a {kind}"))
    return problems


def _given(raw: dict[str, Any] | None, section: str, key: str) -> Callable[[str], str]:
    """Path -> the key the user wrote for it (an alias such as ``line.description``)."""
    given = raw.get(section) if isinstance(raw, dict) else None
    written = given.get(key) if isinstance(given, dict) else None
    keys = set(written) if isinstance(written, dict) else set()

    def original(path: str) -> str:
        if path in keys:
            return path
        return next((a for a, p in PATH_ALIASES.items() if p == path and a in keys), path)

    return original


def _csv_problems(csv: CsvLayout, key: Callable[[str], str]) -> list[Problem]:
    problems: list[Problem] = []
    for field in ("order.po_number", "order.po_date"):
        if field not in csv.columns:
            problems.append((("csv", "columns"), f"{field} needs a column (every order has one)"))
    if not csv.header:
        for path, spec in csv.columns.items():
            if not _NUMBER.match(spec.column):
                problems.append(
                    (
                        ("csv", "columns", key(path)),
                        f"with 'header: false' a column is a number (1 = first), not "
                        f"{spec.column!r}",
                    )
                )
        if csv.group_by is not None and not _NUMBER.match(csv.group_by):
            problems.append((("csv", "group_by"), "with 'header: false' group_by is a number"))
    if csv.thousands is not None and csv.thousands == csv.decimal:
        problems.append((("csv", "thousands"), "the thousands separator is the decimal one"))
    for path, spec in csv.columns.items():
        if csv.thousands is not None and spec.decimal == csv.thousands:
            problems.append(
                (
                    ("csv", "columns", key(path), "decimal"),
                    f"{spec.decimal!r} is the layout's thousands separator too",
                )
            )
    if csv.quote == csv.delimiter:
        problems.append((("csv", "quote"), "the quote character is the delimiter"))
    problems.extend(_kind_problems("csv", "columns", list(csv.columns), key))
    return problems


def _xml_problems(file_format: str, xml: XmlLayout, key: Callable[[str], str]) -> list[Problem]:
    # Lazy: the built-in layouts live with the XML reader (edigate.formats imports us).
    from ..formats.xml_order import merged_layout, xpath_problem

    problems: list[Problem] = []
    if file_format == "cxml" and xml.layout not in (None, "cxml"):
        problems.append((("xml", "layout"), f"format cxml takes layout cxml, not {xml.layout}"))
        return problems
    merged = merged_layout(xml, default="cxml" if file_format == "cxml" else None)
    for part in ("order", "line"):
        if getattr(merged, part) is None:
            problems.append(
                (("xml",), f"an XML layout needs '{part}' (an XPath) or 'layout: cxml|ubl'")
            )
    for field in ("order.po_number", "order.po_date"):
        if merged.fields.get(field) is None:
            problems.append((("xml", "fields"), f"{field} needs an XPath (every order has one)"))
    for part in ("order", "line"):
        expr = getattr(xml, part)
        if expr is not None and (message := xpath_problem(expr, merged.namespaces)):
            problems.append((("xml", part), message))
    for path, spec in xml.fields.items():
        if spec is not None and (message := xpath_problem(spec.xpath, merged.namespaces)):
            problems.append((("xml", "fields", key(path)), message))
    given = [p for p, s in xml.fields.items() if s is not None]
    problems.extend(_kind_problems("xml", "fields", given, key))
    return problems


def _kind_problems(
    section: str, name: str, paths: list[str], key: Callable[[str], str]
) -> list[Problem]:
    from ..formats.values import kind_of

    problems: list[Problem] = []
    for path in paths:
        try:
            kind_of(path)
        except ValueError as exc:
            problems.append(((section, name, key(path)), str(exc)))
    return problems


def template_problems(
    templates: TemplatesSection | None, source: YamlSource, map_dir: Path
) -> list[ConfigError]:
    """Template files that are missing or do not compile, at the map line naming them.

    The message carries the template's own ``file:line`` too, so both are one click away.
    """
    if templates is None:
        return []
    from ..formats.errors import TemplateError
    from ..formats.templates import load_template, required_values

    given = source.data.get("templates", {}) if isinstance(source.data, dict) else {}
    errors: list[ConfigError] = []
    for kind, ref in templates.kinds():
        key = _KIND_KEYS[kind] if _KIND_KEYS[kind] in given else kind
        try:
            load_template(ref, map_dir)
        except TemplateError as exc:
            errors.append(source.error(str(exc), ("templates", key)))
            continue
        missing = sorted(required_values(ref, map_dir) - templates.values.keys())
        if missing:
            message = (
                f"{ref} needs templates.values {', '.join(missing)} (every document would fail)"
            )
            errors.append(source.error(message, ("templates", key)))
    return errors
