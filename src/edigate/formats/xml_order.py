"""XML orders -> canonical Orders, driven by the XPaths of the map's ``xml:`` layout.

An XPath selects each order, one relative to the order selects each line, and one per
canonical field reads its value: order fields relative to the order node, line fields
relative to the line node (an absolute path reads from the document root, e.g. a cXML
header credential). A field of a list type (address lines) takes every value found; any
other takes the first. Built-in layouts (``layout: cxml`` or ``ubl``) give all of this for
the standard formats; a map overrides them field by field.

The input is parsed by :mod:`edigate.formats.safexml` (no entities, no DTD, no network).

Usage::

    result = read_xml_orders(path.read_bytes(), partner.map.xml)
    result.orders, result.issues
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from ..model.codes import PRICED_PER
from ..partners.layouts import XmlLayout
from .build import OrderBuilder
from .errors import FormatError
from .issues import FormatIssue, ReadResult
from .safexml import parse_xml
from .values import Target, parse_decimal, target
from .xml_reads import Ignored, XmlOrderBuilder, unread

Describe = Callable[[etree._Element], str]
ReadOrder = Callable[[XmlOrderBuilder, etree._Element], None]
ReadLine = Callable[[XmlOrderBuilder, etree._Element, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class BuiltinLayout:
    """A standard format's layout, and how to say why a document holds no order.

    ``read_order`` and ``read_line`` read what one XPath per field cannot: repeated
    structures (allowances, charges, taxes) and values that change another's meaning (a
    price per 100 units). They run after the fields, so they see what those set, and note
    what they read (``builder.reads``). With ``ignored`` set, whatever in the order nobody
    read (but those parts) is then warned about, so an element the layout never heard of
    is not lost without a word.
    """

    layout: XmlLayout
    describe: Describe
    read_order: ReadOrder | None = None
    read_line: ReadLine | None = None
    ignored: Ignored | None = None


def builtin(name: str) -> BuiltinLayout:
    """The built-in layout ``name`` (``cxml`` or ``ubl``)."""
    if name == "cxml":
        from . import cxml

        return cxml.BUILTIN
    if name == "ubl":
        from . import ubl

        return ubl.BUILTIN
    raise FormatError(f"no built-in XML layout {name!r} (known: cxml, ubl)")


def merged_layout(xml: XmlLayout, default: str | None = None) -> XmlLayout:
    """``xml`` over its built-in layout (``xml.layout``, else ``default``), field by field."""
    name = xml.layout or default
    if name is None:
        return xml
    base = builtin(name).layout
    fields: dict[str, Any] = dict(base.fields)
    for path, spec in xml.fields.items():
        if spec is None:
            fields.pop(path, None)
        else:
            fields[path] = spec
    return XmlLayout.model_validate(
        {
            "layout": name,
            "namespaces": {**base.namespaces, **xml.namespaces},
            "order": xml.order or base.order,
            "line": xml.line or base.line,
            "date_formats": xml.date_formats or base.date_formats,
            "decimal": xml.decimal or base.decimal,
            "fields": fields,
        }
    )


def xpath_problem(expr: str, namespaces: dict[str, str]) -> str | None:
    """Why ``expr`` cannot run with ``namespaces`` (syntax, undeclared prefix), or None."""
    try:
        compiled = etree.XPath(expr, namespaces=namespaces)
    except etree.XPathSyntaxError as exc:
        return f"invalid XPath {expr!r}: {exc}"
    try:
        compiled(etree.Element("probe"))
    except etree.XPathEvalError as exc:
        message = str(exc)
        if "prefix" in message:
            declared = ", ".join(namespaces) or "none"
            return (
                f"XPath {expr!r}: {message.lower()} (declared: {declared}); add it under "
                "xml.namespaces"
            )
        return f"XPath {expr!r}: {message}"
    return None


@dataclass(frozen=True, slots=True)
class CompiledField:
    target: Target
    xpath: etree.XPath


@dataclass(frozen=True, slots=True)
class CompiledLayout:
    """A layout ready to run: XPaths compiled, conversions decided."""

    order_text: str
    order: etree.XPath
    line: etree.XPath
    order_fields: tuple[CompiledField, ...]
    line_fields: tuple[CompiledField, ...]
    number_lines: bool
    describe: Describe | None = None
    read_order: ReadOrder | None = None
    read_line: ReadLine | None = None
    ignored: Ignored | None = None


def compile_layout(xml: XmlLayout, default: str | None = None) -> CompiledLayout:
    """Merge and compile; :class:`FormatError` for what the map check would report."""
    merged = merged_layout(xml, default)
    if merged.order is None or merged.line is None:
        raise FormatError("an XML layout needs 'order' and 'line' XPaths, or a built-in layout")
    namespaces = dict(merged.namespaces)
    formats = tuple(merged.date_formats or ["iso"])
    order_fields: list[CompiledField] = []
    line_fields: list[CompiledField] = []
    for path, spec in merged.fields.items():
        if spec is None:
            continue
        problem = xpath_problem(spec.xpath, namespaces)
        if problem:
            raise FormatError(f"{path}: {problem}")
        tgt = target(
            path,
            spec.xpath,
            date_formats=(spec.date_format,) if spec.date_format else formats,
            decimal=spec.decimal or merged.decimal or ".",
            values=dict(spec.values),
        )
        field = CompiledField(tgt, etree.XPath(spec.xpath, namespaces=namespaces))
        (order_fields if tgt.path.scope == "order" else line_fields).append(field)
    for expr in (merged.order, merged.line):
        problem = xpath_problem(expr, namespaces)
        if problem:
            raise FormatError(problem)
    name = merged.layout
    base = builtin(name) if name else None
    return CompiledLayout(
        order_text=merged.order,
        order=etree.XPath(merged.order, namespaces=namespaces),
        line=etree.XPath(merged.line, namespaces=namespaces),
        order_fields=tuple(order_fields),
        line_fields=tuple(line_fields),
        number_lines="line.line_number" not in merged.fields,
        describe=base.describe if base else None,
        read_order=base.read_order if base else None,
        read_line=base.read_line if base else None,
        ignored=base.ignored if base else None,
    )


def read_xml_orders(
    data: bytes, layout: XmlLayout | CompiledLayout, *, default: str | None = None
) -> ReadResult:
    """Read every order of an XML document (``default``: built-in layout to start from)."""
    compiled = layout if isinstance(layout, CompiledLayout) else compile_layout(layout, default)
    root, issues = parse_xml(data)
    if root is None:
        return ReadResult(issues=issues)
    nodes = compiled.order(root)
    if not isinstance(nodes, list) or not nodes:
        reason = (
            compiled.describe(root)
            if compiled.describe is not None
            else f"no order: {compiled.order_text} selects nothing (root element "
            f"<{etree.QName(root).localname}>)"
        )
        return ReadResult(issues=[FormatIssue(root.sourceline, None, reason)])
    result = ReadResult()
    seen: dict[str, int | None] = {}  # PO number -> line of the order that has it
    for index, node in enumerate(nodes):
        if not isinstance(node, etree._Element):
            result.issues.append(
                FormatIssue(None, None, f"{compiled.order_text} selects {node!r}, not elements")
            )
            continue
        po_number = _key(compiled, node)
        key = po_number or f"order {index + 1}"
        builder = XmlOrderBuilder(key, node.sourceline, index)
        if po_number is not None:
            _repeated(builder, po_number, seen)
        _read_fields(builder, compiled.order_fields, node, None)
        if compiled.read_order is not None:
            compiled.read_order(builder, node)
        lines = compiled.line(node)
        for line_node in lines if isinstance(lines, list) else []:
            if not isinstance(line_node, etree._Element):
                builder.issue(node.sourceline, f"the line XPath selects {line_node!r}")
                continue
            data_line = builder.add_line(line_node.sourceline)
            _read_fields(builder, compiled.line_fields, line_node, data_line)
            if compiled.read_line is not None:
                compiled.read_line(builder, line_node, data_line)
        if compiled.ignored is not None and not builder.has_errors:  # a refused order drops nothing
            for element, part in unread(node, builder.reads, compiled.ignored):
                unmapped(builder, element, "nothing in the layout reads it", part)
        order = builder.finish(number_lines=compiled.number_lines)
        result.issues.extend(builder.issues)
        if order is None:
            result.rejected.append(key)
            result.rejected_indexes.append(index)
        else:
            result.orders.append(order)
            result.order_indexes.append(index)
            result.line_positions.append(list(builder.line_positions))
    return result


def _repeated(builder: OrderBuilder, po_number: str, seen: dict[str, int | None]) -> None:
    """A PO number a second time in one file is an error on the second order: the ERP
    would take both for one order, and every answer would name the wrong one."""
    if po_number not in seen:
        seen[po_number] = builder.line
        return
    first = seen[po_number]
    builder.issue(
        builder.line,
        f'PO number "{po_number}" is already the order'
        + (f" at line {first}" if first is not None else "")
        + " of this file: expected one order per PO number",
        field="order.po_number",
        value=po_number,
    )


def _key(compiled: CompiledLayout, node: etree._Element) -> str | None:
    for field in compiled.order_fields:
        if field.target.text == "order.po_number":
            found = _values(field.xpath(node), node)
            return found[0][0] if found else None
    return None


def _read_fields(
    builder: XmlOrderBuilder,
    fields: tuple[CompiledField, ...],
    node: etree._Element,
    data: dict[str, Any] | None,
) -> None:
    for field in fields:
        try:
            result = field.xpath(node)
        except etree.XPathEvalError as exc:
            builder.issue(node.sourceline, f"XPath {field.target.source!r}: {exc}")
            continue
        for item in result if isinstance(result, list) else ():
            builder.reads.result(item)
        found = _values(result, node)
        if not found:
            continue
        if field.target.kind != "texts":
            distinct = {raw for raw, _ in found}
            if len(distinct) > 1:
                builder.issue(
                    found[1][1],
                    f"{field.target.source} finds {len(distinct)} different values; the first "
                    f'("{found[0][0]}") is used',
                    field=field.target.text,
                    severity="warning",
                )
            found = found[:1]
        for raw, line in found:
            builder.put(field.target, raw, line=line, data=data)


def _values(result: Any, context: etree._Element) -> list[tuple[str, int | None]]:
    """The non-empty text values of an XPath result (whitespace normalised), with lines."""
    items = result if isinstance(result, list) else [result]
    out: list[tuple[str, int | None]] = []
    for item in items:
        line = context.sourceline
        if isinstance(item, etree._Element):
            text = str(item.xpath("string()"))
            line = item.sourceline
        elif isinstance(item, str):
            text = str(item)
            parent = item.getparent() if isinstance(item, etree._ElementUnicodeResult) else None
            if parent is not None:
                line = parent.sourceline
        elif isinstance(item, bool):
            text = "true" if item else "false"
        elif isinstance(item, float):
            if item != item:  # NaN: number() of something that is not one
                continue
            text = format(Decimal(repr(item)).normalize(), "f")
        else:
            continue
        text = " ".join(text.split())
        if text:
            out.append((text, line))
    return out


# --- helpers for the built-in layouts' readers ---------------------------------------------------


def xml_path(element: etree._Element) -> str:
    """``/Order/cac:OrderLine[2]/cac:LineItem``: where an element is, for messages."""
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = etree.QName(node).localname
        if node.prefix:
            name = f"{node.prefix}:{name}"
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def own_text(element: etree._Element | None) -> str:
    """The element's own text, whitespace normalised, without its children's (a cXML
    ``Description`` holds a ``ShortName`` that is not part of the description)."""
    if element is None:
        return ""
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return " ".join(" ".join(parts).split())


def read_amount(
    builder: OrderBuilder, element: etree._Element, field: str, attribute: str | None = None
) -> Decimal | None:
    """The number in ``element`` (or its ``attribute``), or None with an error."""
    raw = own_text(element) if attribute is None else (element.get(attribute) or "").strip()
    where = xml_path(element) + (f"/@{attribute}" if attribute else "")
    try:
        return parse_decimal(raw)
    except ValueError as exc:
        builder.issue(element.sourceline, f"{where}: {exc}", field=field, value=raw or None)
        return None


def unmapped(
    builder: OrderBuilder, element: etree._Element, why: str, part: str | None = None
) -> None:
    """Warn that ``element`` (or its ``part``: ``text()``, ``@name``) was not read, so
    nobody believes the order carries it."""
    if isinstance(builder, XmlOrderBuilder) and part is None:
        builder.reads.element(element)  # warned about once is enough
    where = xml_path(element) + (f"/{part}" if part else "")
    builder.issue(
        element.sourceline,
        f"{where} is not read ({why}); the order goes on without it",
        severity="warning",
    )


#: A price per N units, as the price basis codes (X12 639) the canonical model computes with.
PRICE_BASES: dict[Decimal, str] = {per: code for code, per in PRICED_PER.items()}


def set_price_basis(
    builder: OrderBuilder,
    element: etree._Element,
    unit: str | None,
    data: dict[str, Any],
    attribute: str | None = None,
) -> None:
    """Read the quantity a price is for (``element`` or its ``attribute``, in ``unit``): 1
    changes nothing, 100 is HP, 1000 TP; anything else is an error, never silently a price
    per each."""
    field = "line.price_basis"
    quantity = read_amount(builder, element, field, attribute)
    if quantity is None:
        return
    where = xml_path(element) + (f"/@{attribute}" if attribute else "")
    line_unit = data.get("unit")
    if unit and line_unit and unit != line_unit:
        builder.issue(
            element.sourceline,
            f"{where}: the price is per {quantity} {unit} but the line's quantity is in "
            f"{line_unit}; a price in another unit cannot be expressed (expected {line_unit})",
            field=field,
            value=unit,
        )
        return
    if quantity == 1:
        return
    basis = PRICE_BASES.get(quantity)
    if basis is None:
        builder.issue(
            element.sourceline,
            f"{where}: a price per {quantity} units cannot be expressed (supported: 1, "
            "100 = price per hundred HP, 1000 = per thousand TP)",
            field=field,
            value=str(quantity),
        )
        return
    data.setdefault("price_basis", basis)
