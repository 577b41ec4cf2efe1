"""Read a CSV or XML partner's file with the layout its map gives.

Usage::

    result = read_partner_orders(data, partner.map)    # ReadResult(orders, issues, rejected)
"""

from __future__ import annotations

from ..partners.mapfile import PartnerMap
from .csv_order import read_csv_orders
from .errors import FormatError
from .issues import ReadResult
from .xml_order import read_xml_orders


def read_partner_orders(data: bytes, pmap: PartnerMap) -> ReadResult:
    """The orders of ``data``, read as ``pmap`` (format csv, xml or cxml) describes."""
    if pmap.format == "csv":
        if pmap.csv is None:
            raise FormatError("the map has no 'csv:' layout")
        return read_csv_orders(data, pmap.csv)
    if pmap.format in ("xml", "cxml"):
        from ..partners.layouts import XmlLayout

        layout = pmap.xml or XmlLayout()
        return read_xml_orders(data, layout, default="cxml" if pmap.format == "cxml" else None)
    raise FormatError(f"format {pmap.format} is not read here (X12 goes through translate_850)")
