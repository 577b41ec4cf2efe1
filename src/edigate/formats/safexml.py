"""Parse XML from partners without letting it reach the file system, the network or RAM.

The parser never resolves entities, loads a DTD or goes on the network, and keeps libxml2's
limits on depth and node size (``huge_tree=False``). On top of that a document that
*declares* entities, or still holds an entity reference, is refused: resolved it would be
XXE or a billion laughs, unresolved it would silently lose text. A DOCTYPE that only names
an external DTD (every cXML document has one) is fine: it is not fetched.

Usage::

    root, issues = parse_xml(data)       # root is None when the document is refused
"""

from __future__ import annotations

import re

from lxml import etree  # type: ignore[import-untyped]

from .issues import FormatIssue


def safe_parser() -> etree.XMLParser:
    """A new parser (lxml parsers are not thread-safe) with every fetch and expansion off."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(data: bytes) -> tuple[etree._Element | None, list[FormatIssue]]:
    """The root element, or None and the reason (with its line) when refused."""
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        return None, [FormatIssue(line, None, f"not well-formed XML: {_reason(exc)}")]
    if root is None:
        return None, [FormatIssue(None, None, "empty XML document")]
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None:
        names = [str(e.name) for e in dtd.iterentities()]
        if names:
            return None, [
                FormatIssue(
                    1,
                    None,
                    f"the document declares entities ({', '.join(names[:5])}): refused, "
                    "entity expansion and external entities are not accepted",
                )
            ]
    for node in root.iter(etree.Entity):
        return None, [
            FormatIssue(
                node.sourceline,
                None,
                f"entity reference {node.text} cannot be resolved (no DTD is loaded): refused",
            )
        ]
    return root, []


#: The place lxml appends to libxml2's message (``..., line 8, column 15``).
_PLACE = re.compile(r",? line (\d+), column (\d+)$")


def _reason(exc: etree.XMLSyntaxError) -> str:
    """libxml2's message without the place the issue already carries: lxml appends
    ``line N, column M`` to it, and libxml2 may name the same line itself (``Start Tag
    Ident line 8``), so it read ``line 8: ... Ident line 8, line 8, column 15``. A line
    libxml2 names that is another (where a mismatched tag opened) stays."""
    text = str(exc.msg)
    place = _PLACE.search(text)
    if place is None:
        return text
    text = text[: place.start()]
    if exc.lineno:
        text = re.sub(rf" line {exc.lineno}\b", "", text)
    return f"{text} (column {place.group(2)})"


def check_well_formed(text: bytes) -> FormatIssue | None:
    """None when ``text`` is well-formed XML that :func:`parse_xml` accepts, else why not."""
    root, issues = parse_xml(text)
    return issues[0] if root is None else None
