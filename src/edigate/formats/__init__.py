"""Partners' own formats: CSV and XML (cXML, UBL) orders in, templated answers out.

Public face::

    from edigate.formats import read_csv_orders, read_xml_orders, render_outbound
    result = read_csv_orders(data, partner.map.csv)     # ReadResult: orders, issues, rejected
    result = read_xml_orders(data, partner.map.xml)     # layout: cxml | ubl | your XPaths
    body, suffix = render_outbound(order_ack, partner)  # b"<?xml ...", ".xml"

Problems in a partner's file are :class:`FormatIssue` records (line, column or field,
message, value); only an unusable template or layout raises (:class:`FormatError`).
"""

from .csv_order import read_csv_orders
from .errors import FormatError, TemplateError
from .issues import FormatIssue, ReadResult
from .reader import read_partner_orders
from .safexml import parse_xml, safe_parser
from .templates import csv_cell, load_template, render_document, render_outbound
from .xml_order import compile_layout, merged_layout, read_xml_orders

__all__ = [
    "FormatError",
    "FormatIssue",
    "ReadResult",
    "TemplateError",
    "compile_layout",
    "csv_cell",
    "load_template",
    "merged_layout",
    "parse_xml",
    "read_csv_orders",
    "read_partner_orders",
    "read_xml_orders",
    "render_document",
    "render_outbound",
    "safe_parser",
]
