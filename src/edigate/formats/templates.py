"""Outbound documents in a partner's own format, written by Jinja2 templates.

A map's ``templates:`` section names, per document (order_ack, shipment, invoice), a
built-in template (``cxml/ConfirmationRequest``) or a ``.j2`` file beside the map. Templates
are partner data, so they run in Jinja's immutable sandbox with ``StrictUndefined`` (a typo
is an error, not an empty field) and autoescaping for XML. Rendered XML must parse with the
safe parser before it leaves; every error names the template file and line.

Templates see ``doc`` (the canonical document), ``partner`` (``id``, ``name``), ``values``
(the section's free values), ``now``, ``payload_id`` (unique per document and time),
``delimiter``, and the partner's CSV dialect: ``decimal_mark``, ``date_format``,
``header`` and ``quote`` (from its ``csv:`` layout), with these filters:

* ``x12date`` (CCYYMMDD), ``isodate`` (ISO 8601), ``isodatetime`` (ISO 8601 with a time
  and offset: a date is its midnight in the section's ``timezone``, UTC by default),
  ``date`` (the partner's ``date_format``), ``strftime(fmt)``: dates; None gives "";
* ``decimal(places=2, point=".")``: a fixed number of places, half up; None gives "";
* ``csv``: one RFC 4180 cell; a text starting with = + - @ tab or CR gets a leading
  apostrophe, so a spreadsheet does not run it as a formula (a plain number like -5 is left
  alone); a Decimal is written with ``decimal_mark``; ``csvrow``: a list of cells joined by
  ``delimiter``;
* ``reference(qualifier)``: the value of the first reference with that qualifier, or "";
* ``order_reference(qualifier)``, on the document or one of its orders: that reference, or
  else the one on the partner's order it answers (the order the ERP received, found by
  ``po_number``, also given to templates as ``orders``), so an answer echoes the partner's
  own reference (cXML's OrderRequest payloadID) when the ERP left it out;
* ``required(what)``: the value, or an error naming ``what`` when it is empty, so a
  document the partner would refuse is not sent;
* ``cxml_operation(allowed="new update delete")``, on the document: cXML's ``operation``
  for its purpose code (04/05 update, 01/03 delete, else new), or an error when that is
  not one of ``allowed``.

Usage::

    body, suffix = render_outbound(order_ack, partner)      # b"<?xml ...", ".xml"
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import traceback
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.meta
import jinja2.nodes
from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..model.invoice import Invoice
from ..model.jsonio import dumps
from ..model.order import Order
from ..model.order_ack import OrderAck
from ..model.shipment import Shipment
from ..partners.layouts import BUILTIN_TEMPLATES, CsvLayout, TemplatesSection
from .errors import TemplateError
from .safexml import check_well_formed

if TYPE_CHECKING:
    from ..partners.registry import Partner

Outbound = OrderAck | Shipment | Invoice

BUILTIN_DIR = Path(__file__).resolve().parent / "templates"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")


@dataclass(frozen=True, slots=True)
class CsvDialect:
    """How a CSV partner writes what it sends: answers are written the same way."""

    decimal_mark: str = "."
    date_format: str = "iso"
    header: bool = True
    quote: str = '"'


# --- filters -----------------------------------------------------------------------------------


def x12date(value: dt.date | None) -> str:
    return "" if value is None else value.strftime("%Y%m%d")


def isodate(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


@pass_context
def _isodatetime_filter(context: Context, value: dt.date | dt.datetime | None) -> str:
    return isodatetime(value, context.get("timezone") or dt.UTC)


def isodatetime(value: dt.date | dt.datetime | None, zone: dt.tzinfo = dt.UTC) -> str:
    """ISO 8601 with a time and UTC offset (cXML's datetime.tz, which a bare date is not):
    a date is that day's midnight in ``zone``, a datetime without a zone is taken to be in
    ``zone``, one with a zone is kept as it is."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.isoformat(timespec="seconds")


def strftime(value: dt.date | dt.time | None, fmt: str) -> str:
    return "" if value is None else value.strftime(fmt)


def decimal(value: Decimal | int | str | None, places: int = 2, point: str = ".") -> str:
    """``value`` with exactly ``places`` decimals (half up), ``point`` as the separator."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"decimal: {value!r} is not a number") from None
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(_unsigned_zero(rounded), "f")
    return text.replace(".", point) if point != "." else text


def _unsigned_zero(number: Decimal) -> Decimal:
    """``-0`` (``-0.001`` rounded, or an ERP's ``-0.00``) as ``0``: a partner's import may
    refuse a negative price or read a credit, and the X12 writer writes 0 too."""
    return number.copy_abs() if number.is_zero() else number


def plain(value: Any) -> Any:
    """A Decimal in positional notation (``0.0001``, never ``1E-4`` nor ``1E+3``; zero
    unsigned): what every spreadsheet and ERP import reads as the number it is; None as
    nothing (never the word ``None`` in a partner's document); other values unchanged."""
    if value is None:
        return ""
    return format(_unsigned_zero(value), "f") if isinstance(value, Decimal) else value


def csv_cell(value: Any, delimiter: str = ",", quote: str = '"', point: str = ".") -> str:
    """One CSV cell (RFC 4180), neutralised against spreadsheet formula injection; a
    Decimal written with the decimal mark ``point`` (the partner's, as it reads numbers)."""
    text = "" if value is None else str(plain(value))
    if point != "." and isinstance(value, Decimal):
        text = text.replace(".", point)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        text = "'" + text
    if any(ch in text for ch in (delimiter, quote, "\r", "\n")):
        text = quote + text.replace(quote, quote * 2) + quote
    return text


@pass_context
def _csv_filter(context: Context, value: Any) -> str:
    return csv_cell(value, str(context.get("delimiter", ",")), _quote(context), _point(context))


@pass_context
def _csvrow_filter(context: Context, values: Iterable[Any]) -> str:
    delimiter = str(context.get("delimiter", ","))
    quote, point = _quote(context), _point(context)
    return delimiter.join(csv_cell(v, delimiter, quote, point) for v in values)


def _quote(context: Context) -> str:
    """The partner's quote character: a cell quoted with another is split at its delimiter."""
    return str(context.get("quote") or '"')


@pass_context
def _date_filter(context: Context, value: dt.date | None) -> str:
    """A date in the partner's own format (its layout's first ``date_formats`` entry),
    ISO when it has none or it is ``iso``."""
    fmt = str(context.get("date_format") or "iso")
    if value is None or fmt == "iso":
        return isodate(value)
    return value.strftime(fmt)


def _point(context: Context) -> str:
    return str(context.get("decimal_mark") or ".")


@pass_context
def _decimal_filter(
    context: Context, value: Decimal | int | str | None, places: int = 2, point: str | None = None
) -> str:
    """:func:`decimal`, with the partner's decimal mark unless the template names one."""
    return decimal(value, places, point if point is not None else _point(context))


def reference(references: Iterable[Any], qualifier: str) -> str:
    for ref in references:
        if getattr(ref, "qualifier", None) == qualifier:
            value = getattr(ref, "value", None)
            return "" if value is None else str(value)
    return ""


@pass_context
def _order_reference(context: Context, item: Any, qualifier: str) -> str:
    found = reference(getattr(item, "references", ()), qualifier)
    if found:
        return found
    orders = context.get("orders") or {}
    order = orders.get(getattr(item, "po_number", None) or "")
    return "" if order is None else reference(order.references, qualifier)


def _required(value: Any, what: str) -> Any:
    if value is None or value == "":
        raise ValueError(f"{what}: none given")
    return value


#: cXML ``operation`` by purpose (BSN01/BAK01): a change or replacement updates what the
#: buyer has, a cancellation or deletion deletes it; anything else is new.
_CXML_OPERATIONS = {"01": "delete", "03": "delete", "04": "update", "05": "update"}


def cxml_operation(document: Any, allowed: str = "new update delete") -> str:
    """The cXML ``operation`` for ``document``'s purpose, one of ``allowed`` (a
    ConfirmationHeader has no delete); a purpose it cannot say stops the document, as a
    replacement sent as "new" would be a second document to the buyer."""
    code = str(getattr(document, "purpose_code", None) or "00")
    operation = _CXML_OPERATIONS.get(code, "new")
    if operation not in allowed.split():
        raise ValueError(
            f"purpose {code} ({getattr(document, 'purpose', code)}) would be operation "
            f'"{operation}", which this cXML element does not have; expected one of {allowed}'
        )
    return operation


FILTERS = {
    "x12date": x12date,
    "isodate": isodate,
    "isodatetime": _isodatetime_filter,
    "date": _date_filter,
    "strftime": strftime,
    "decimal": _decimal_filter,
    "csv": _csv_filter,
    "csvrow": _csvrow_filter,
    "reference": reference,
    "order_reference": _order_reference,
    "required": _required,
    "cxml_operation": cxml_operation,
}


# --- environments and loading ------------------------------------------------------------------


def _autoescape(name: str | None) -> bool:
    return name is not None and name.removesuffix(".j2").endswith((".xml", ".html"))


@lru_cache(maxsize=64)
def _environment(root: str) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(root),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
        finalize=plain,
    )
    env.filters.update(FILTERS)
    return env


def template_file(ref: str, map_dir: Path | None) -> tuple[Path, str]:
    """(directory, name inside it) of template ``ref``: built-in, or a file beside the map."""
    builtin = BUILTIN_TEMPLATES.get(ref)
    if builtin is not None:
        return BUILTIN_DIR, f"{ref}{builtin[1]}.j2"
    if map_dir is None:
        raise TemplateError("a template file needs the map's directory", template=ref)
    path = PurePosixPath(ref)
    if path.is_absolute() or ".." in path.parts:
        raise TemplateError("must be a relative path beside the map", template=ref)
    return map_dir, ref


def suffix_of(ref: str) -> str:
    """The file suffix of what ``ref`` writes: ``.xml``, ``.csv`` (``.txt`` if unsaid)."""
    builtin = BUILTIN_TEMPLATES.get(ref)
    if builtin is not None:
        return builtin[1]
    return PurePosixPath(ref.removesuffix(".j2")).suffix or ".txt"


def load_template(ref: str, map_dir: Path | None) -> jinja2.Template:
    """Load and compile ``ref``; :class:`TemplateError` names the file and line."""
    directory, name = template_file(ref, map_dir)
    shown = str(directory / name)
    if not (directory / name).is_file():
        raise TemplateError("template file not found", template=shown)
    env = _environment(str(directory))
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", template=shown, line=exc.lineno) from exc
    except (jinja2.TemplateError, OSError, UnicodeDecodeError) as exc:
        raise TemplateError(str(exc), template=shown) from exc


def required_values(ref: str, map_dir: Path | None) -> set[str]:
    """The ``values`` keys template ``ref`` (and what it includes) reads without a default:
    ``values.our_identity``; not a key it also reads as ``values.get('key')`` or with
    ``| default``, nor one tested ``is defined`` or ``'key' in values`` (the template copes
    without it). ``partners check`` names the missing
    ones: at render time each would fail every document."""
    directory, name = template_file(ref, map_dir)
    env = _environment(str(directory))
    read: set[str] = set()
    optional: set[str] = set()
    pending, seen = [name], set()
    while pending:
        current = pending.pop()
        if current in seen or not (directory / current).is_file():
            continue
        seen.add(current)
        tree = env.parse((directory / current).read_text(encoding="utf-8"))
        for test in tree.find_all(jinja2.nodes.Test):
            if test.name in ("defined", "undefined") and (key := _values_key(test.node)):
                optional.add(key)
        for call in tree.find_all(jinja2.nodes.Call):
            if _values_key(call.node) == "get" and call.args:
                first = call.args[0]
                if isinstance(first, jinja2.nodes.Const):
                    optional.add(str(first.value))
        for flt in tree.find_all(jinja2.nodes.Filter):  # values.x | default('...')
            key = _values_key(flt.node) if flt.node is not None else None
            if flt.name in ("default", "d") and key:
                optional.add(key)
        for compare in tree.find_all(jinja2.nodes.Compare):  # {% if 'x' in values %}
            if isinstance(compare.expr, jinja2.nodes.Const) and any(
                op.op in ("in", "notin") and _reads_values(op.expr) for op in compare.ops
            ):
                optional.add(str(compare.expr.value))
        for access in (*tree.find_all(jinja2.nodes.Getattr), *tree.find_all(jinja2.nodes.Getitem)):
            if (key := _values_key(access)) and key not in _DICT_METHODS:
                read.add(key)
        pending += [t for t in jinja2.meta.find_referenced_templates(tree) if t]
    return read - optional


#: ``values.items()`` and the like read the mapping, not a key of it.
_DICT_METHODS = frozenset({"get", "items", "keys", "values"})


def _values_key(node: jinja2.nodes.Node) -> str | None:
    """``x`` for ``values.x`` or ``values['x']``, else None."""
    if isinstance(node, jinja2.nodes.Getattr) and _reads_values(node.node):
        return node.attr
    if (
        isinstance(node, jinja2.nodes.Getitem)
        and _reads_values(node.node)
        and isinstance(node.arg, jinja2.nodes.Const)
    ):
        return str(node.arg.value)
    return None


def _reads_values(node: jinja2.nodes.Node) -> bool:
    return isinstance(node, jinja2.nodes.Name) and node.name == "values"


def render_template(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render; a failure is a :class:`TemplateError` at the template line that failed."""
    shown = template.filename or template.name or "<template>"
    try:
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", template=shown, line=exc.lineno) from exc
    except Exception as exc:  # a template may fail in any filter or attribute: name its line
        where, line = _template_line(exc, template)
        message = str(exc) or type(exc).__name__
        raise TemplateError(message, template=where or shown, line=line) from exc


def _template_line(exc: BaseException, template: jinja2.Template) -> tuple[str | None, int | None]:
    """(file, line) of the innermost template frame in the traceback (Jinja maps frames to
    template lines): in an included template, that file and line, not the ``include``."""
    loader = template.environment.loader
    roots = loader.searchpath if isinstance(loader, jinja2.FileSystemLoader) else []
    prefixes = tuple(
        os.path.join(os.path.normpath(root), "") for root in roots if os.path.normpath(root) != "."
    )
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        name = frame.filename
        if name == template.filename or (prefixes and name.startswith(prefixes)):
            found = (name, frame.lineno)
    return found


# --- outbound ----------------------------------------------------------------------------------


def document_kind(document: Outbound) -> str:
    """``order_ack``, ``shipment`` or ``invoice``: the key in ``templates:``."""
    if isinstance(document, OrderAck):
        return "order_ack"
    if isinstance(document, Shipment):
        return "shipment"
    if isinstance(document, Invoice):
        return "invoice"
    raise TemplateError(
        f"no outbound template for a {type(document).__name__}", template="<templates>"
    )


def render_document(
    document: Outbound,
    ref: str,
    *,
    map_dir: Path | None = None,
    partner_id: str = "",
    partner_name: str | None = None,
    values: dict[str, str] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    newline: str = "lf",
    now: dt.datetime | None = None,
    dialect: CsvDialect | None = None,
    orders: Mapping[str, Order] | None = None,
    timezone: str = "UTC",
) -> tuple[bytes, str]:
    """Render ``document`` with template ``ref``; (bytes, file suffix). ``dialect``: how
    the partner writes numbers, dates and headers (from its CSV layout), which CSV answers
    follow. ``orders``: the orders the document answers, by PO number (as the ERP received
    them), for what the partner expects echoed that the ERP may leave out. ``timezone``: an
    IANA name, where ``isodatetime`` puts a date's midnight."""
    dialect = dialect or CsvDialect()
    moment = now or dt.datetime.now(dt.UTC)
    values = dict(values or {})
    digest = hashlib.sha256(dumps(document, indent=None).encode("utf-8")).hexdigest()
    domain = values.get("payload_domain", "edigate")
    template = load_template(ref, map_dir)
    context = {
        "doc": document,
        "partner": {"id": partner_id, "name": partner_name or partner_id},
        "values": values,
        "now": moment,
        "payload_id": f"{moment:%Y%m%d%H%M%S}.{digest[:16]}@{domain}",
        "delimiter": delimiter,
        "decimal_mark": dialect.decimal_mark,
        "date_format": dialect.date_format,
        "header": dialect.header,
        "quote": dialect.quote,
        "orders": dict(orders or {}),
        "timezone": dt.UTC if timezone == "UTC" else zoneinfo.ZoneInfo(timezone),
    }
    text = render_template(template, context)
    if newline == "crlf":
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    shown = template.filename or ref
    try:
        body = text.encode(encoding)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise TemplateError(
            f"output has {bad!r}, which {encoding} cannot write", template=shown
        ) from exc
    suffix = suffix_of(ref)
    if suffix == ".xml":
        problem = check_well_formed(body)
        if problem is not None:
            held = _control_text(document.model_dump(), document_kind(document))
            if held is not None and held[1] in text:  # the data, not the template: name it
                raise TemplateError(
                    f"{held[0]} holds U+{ord(held[1]):04X}, which XML cannot carry",
                    template=shown,
                )
            raise TemplateError(
                f"rendered XML is not well-formed (output line {problem.line}): {problem.message}",
                template=shown,
            )
    elif (stray := _CONTROL.search(text)) is not None:
        # A CSV cell or flat-file field with a bell or NUL in it breaks the partner's import
        # (the X12 writer refuses them too): name the field, or the output line.
        held = _control_text(document.model_dump(), document_kind(document))
        code = f"U+{ord(stray.group()):04X}"
        if held is not None and held[1] in text:
            raise TemplateError(
                f"{held[0]} holds U+{ord(held[1]):04X}, a control character a partner file "
                "must not carry",
                template=shown,
            )
        line = text.count("\n", 0, stray.start()) + 1
        raise TemplateError(
            f"output line {line} holds {code}, a control character a partner file must not carry",
            template=shown,
        )
    return body, suffix


#: Control characters no partner file should carry: what XML 1.0 cannot hold even as a
#: character reference (``&#11;`` is not well-formed); tab, LF and CR are text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _control_text(value: Any, where: str) -> tuple[str, str] | None:
    """(``order_ack.notes[0].text``, the character) for the first text holding one of
    :data:`_CONTROL`, or None: an ERP's stray control character otherwise reads as a
    broken template, or reaches the partner."""
    if isinstance(value, str):
        found = _CONTROL.search(value)
        return None if found is None else (where, found.group())
    items: Iterable[tuple[str, Any]] = ()
    if isinstance(value, dict):
        items = ((f"{where}.{key}", item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{index}]", item) for index, item in enumerate(value))
    for path, item in items:
        held = _control_text(item, path)
        if held is not None:
            return held
    return None


def _answer_encoding(section: TemplatesSection, layout: CsvLayout | None) -> str:
    """The templates section's ``encoding`` when the map gives one, else the encoding the
    partner's CSV orders arrive in: a partner whose orders are cp1252, or Excel's
    ``utf-8-sig``, reads its answers in the same (UTF-8 without the mark shows Excel
    ``CafÃ©``)."""
    if "encoding" in section.model_fields_set or layout is None:
        return section.encoding
    return layout.encoding


def render_outbound(
    document: Outbound,
    partner: Partner,
    *,
    now: dt.datetime | None = None,
    orders: Mapping[str, Order] | None = None,
) -> tuple[bytes, str]:
    """``document`` in ``partner``'s own format: (bytes, file suffix such as ``.xml``).
    ``orders``: the partner's orders it answers, by PO number (see :func:`render_document`)."""
    kind = document_kind(document)
    section = partner.map.templates
    ref = section.for_kind(kind) if section is not None else None
    if section is None or ref is None:
        raise TemplateError(
            f"partner {partner.id} has no template for {kind} (map section templates:)",
            template=partner.map_source.path,
        )
    layout = partner.map.csv
    delimiter = section.delimiter or (layout.delimiter if layout else ",")
    dialect = CsvDialect()
    if layout is not None:
        dialect = CsvDialect(layout.decimal, layout.date_formats[0], layout.header, layout.quote)
    return render_document(
        document,
        ref,
        map_dir=Path(partner.map_source.path).parent,
        partner_id=partner.id,
        partner_name=partner.profile.name,
        values=dict(section.values),
        delimiter=delimiter,
        encoding=_answer_encoding(section, layout),
        newline=section.newline,
        now=now,
        dialect=dialect,
        orders=orders,
        timezone=section.timezone,
    )
