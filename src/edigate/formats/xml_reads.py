"""What of an XML order was read, so that what was not is warned about instead of dropped.

The fields' XPaths and a built-in layout's readers note every element, text and attribute
they take; :func:`unread` then walks the order and names the rest. A layout cannot list
every element a partner might send, so an element nobody expected (a new cXML version's,
a buyer's own ``Extrinsic``) is found by this walk, not by a list of known names.

Usage::

    reads = Reads()
    reads.result(item)            # each item an XPath field returned
    reads.element(shipping)       # a reader took the whole element
    for element, part in unread(order_node, reads, IGNORED): ...
"""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from .build import OrderBuilder

#: ``(element name or "*", "@attribute" or "text()")`` pairs that carry nothing to read,
#: e.g. ``("*", "@xml:lang")``. Namespaced attributes are written with their prefix.
Ignored = frozenset[tuple[str, str]]

_XML_NS = "{http://www.w3.org/XML/1998/namespace}"


class Reads:
    """Elements read whole, elements whose own text was read, attributes read."""

    def __init__(self) -> None:
        self._whole: set[etree._Element] = set()
        self._texts: set[etree._Element] = set()
        self._attributes: set[tuple[etree._Element, str]] = set()
        self._touched: set[etree._Element] = set()  # read, or holding something read

    def element(self, element: etree._Element) -> None:
        """``element`` was taken as a whole: its text, attributes and children."""
        self._whole.add(element)
        self._touch(element)

    def text(self, element: etree._Element) -> None:
        self._texts.add(element)
        self._touch(element)

    def attribute(self, element: etree._Element, name: str) -> None:
        self._attributes.add((element, name))
        self._touch(element)

    def result(self, item: Any) -> None:
        """One item of an XPath result. An element counts as read whole: its text is its
        value, and a predicate on an attribute is how a field picks it
        (``Extrinsic[@name='CostCenter']``). A string made by ``concat()`` names no node;
        the reader that asks for it notes what it read."""
        if isinstance(item, etree._Element):
            self.element(item)
        elif isinstance(item, etree._ElementUnicodeResult):
            owner = item.getparent()
            if owner is None:
                return
            if item.is_attribute:
                self.attribute(owner, str(item.attrname))
            elif item.is_tail:  # text after a child element is the parent's own text
                parent = owner.getparent()
                if parent is not None:
                    self.text(parent)
            else:
                self.text(owner)

    def _touch(self, element: etree._Element) -> None:
        node: etree._Element | None = element
        while node is not None and node not in self._touched:
            self._touched.add(node)
            node = node.getparent()

    def is_whole(self, element: etree._Element) -> bool:
        return element in self._whole

    def is_touched(self, element: etree._Element) -> bool:
        return element in self._touched

    def has_text(self, element: etree._Element) -> bool:
        return element in self._texts

    def has_attribute(self, element: etree._Element, name: str) -> bool:
        return (element, name) in self._attributes


class XmlOrderBuilder(OrderBuilder):
    """An :class:`OrderBuilder` that also records which parts of the XML were read."""

    def __init__(self, key: str, line: int | None, index: int | None = None):
        super().__init__(key, line, index)
        self.reads = Reads()


def unread(
    node: etree._Element, reads: Reads, ignored: Ignored
) -> list[tuple[etree._Element, str | None]]:
    """What under ``node`` carries a value nobody read, in document order: ``(element,
    None)`` for an element read not at all (one entry for all it holds), ``(element,
    "text()")`` or ``(element, "@name")`` for a part of one read in part."""
    found: list[tuple[etree._Element, str | None]] = []
    for child in _children(node):
        _walk(child, reads, ignored, found)
    return found


def _walk(
    element: etree._Element,
    reads: Reads,
    ignored: Ignored,
    found: list[tuple[etree._Element, str | None]],
) -> None:
    if reads.is_whole(element):
        return
    if not reads.is_touched(element):
        if _carries(element, ignored):
            found.append((element, None))
        return
    text_unread = _own_text(element) and not reads.has_text(element)
    if text_unread and not _is_ignored(element, "text()", ignored):
        found.append((element, "text()"))
    for name in element.attrib:
        part = "@" + attribute_name(name)
        if not reads.has_attribute(element, name) and not _is_ignored(element, part, ignored):
            found.append((element, part))
    for child in _children(element):
        _walk(child, reads, ignored, found)


def _carries(element: etree._Element, ignored: Ignored) -> bool:
    """Whether ``element`` holds any value: text or an attribute not ignored, here or below."""
    for node in element.iter(etree.Element):
        if _own_text(node) and not _is_ignored(node, "text()", ignored):
            return True
        if any(not _is_ignored(node, "@" + attribute_name(n), ignored) for n in node.attrib):
            return True
    return False


def _is_ignored(element: etree._Element, part: str, ignored: Ignored) -> bool:
    name = etree.QName(element).localname
    return (name, part) in ignored or ("*", part) in ignored


def _children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _own_text(element: etree._Element) -> str:
    """Text directly in ``element``, also after its children and comments."""
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return "".join(parts).strip()


def attribute_name(name: str) -> str:
    """``xml:lang`` for lxml's ``{http://www.w3.org/XML/1998/namespace}lang``."""
    return "xml:" + name[len(_XML_NS) :] if name.startswith(_XML_NS) else name
