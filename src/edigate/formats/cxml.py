"""The built-in layout of a cXML ``OrderRequest`` (cXML 1.2), usable as ``xml: {layout: cxml}``.

cXML has no namespace. Where the canonical model wants an X12 qualifier, the usual one is
taken: the supplier's part ID is ``VN`` (vendor's item number), the buyer's ``BP``, the
auxiliary ID ``ZZ`` (mutually defined), a buyer-assigned address ID ``92``. The requested
delivery date is DTM qualifier ``002``. The document's ``payloadID`` is kept as reference
``ZZ`` ("cXML payloadID") because every answer (ConfirmationRequest, ShipNoticeRequest)
must quote it; ``From`` and ``To`` credentials become the buyer's and seller's ``ZZ`` IDs.
The ``type`` attribute maps to the X12 purpose: new 00, update 05 (replace), delete 03.
"""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from ..partners.layouts import XmlLayout
from .xml_order import BuiltinLayout

HEADER = "OrderRequestHeader"


def _party(role: str, element: str) -> dict[str, Any]:
    address = f"{HEADER}/{element}/Address"
    postal = f"{address}/PostalAddress"
    return {
        f"party[{role}].name": f"{address}/Name",
        f"party[{role}].identifiers[92]": f"{address}/@addressID",
        f"party[{role}].additional_names": f"{postal}/DeliverTo",
        f"party[{role}].address.lines": f"{postal}/Street",
        f"party[{role}].address.city": f"{postal}/City",
        f"party[{role}].address.state": f"{postal}/State",
        f"party[{role}].address.postal_code": f"{postal}/PostalCode",
        f"party[{role}].address.country": f"{postal}/Country/@isoCountryCode",
    }


FIELDS: dict[str, Any] = {
    "order.po_number": f"{HEADER}/@orderID",
    "order.po_date": f"{HEADER}/@orderDate",
    "order.purpose_code": {
        "xpath": f"{HEADER}/@type",
        "values": {"new": "00", "update": "05", "delete": "03"},
    },
    "order.currency": f"{HEADER}/Total/Money/@currency",
    "order.dates[002]": f"{HEADER}/@requestedDeliveryDate",
    "order.references[ZZ]": "/cXML/@payloadID",
    "order.references[ZZ].description": "'cXML payloadID'",
    "order.notes[0].text": f"{HEADER}/Comments/text()[normalize-space()]",
    "party[buyer].identifiers[ZZ]": "/cXML/Header/From/Credential/Identity",
    "party[seller].identifiers[ZZ]": "/cXML/Header/To/Credential/Identity",
    **_party("ship_to", "ShipTo"),
    **_party("bill_to", "BillTo"),
    "line.line_number": "@lineNumber",
    "line.quantity": "@quantity",
    "line.unit": "ItemDetail/UnitOfMeasure",
    "line.unit_price": "ItemDetail/UnitPrice/Money",
    "line.currency": "ItemDetail/UnitPrice/Money/@currency",
    "line.identifiers[VN]": "ItemID/SupplierPartID",
    "line.identifiers[BP]": "ItemID/BuyerPartID",
    "line.identifiers[ZZ]": "ItemID/SupplierPartAuxiliaryID",
    "line.descriptions[0].text": "ItemDetail/Description",
    "line.dates[002]": "@requestedDeliveryDate",
    "line.notes[0].text": "Comments/text()[normalize-space()]",
}

LAYOUT = XmlLayout.model_validate(
    {
        "order": "/cXML/Request/OrderRequest",
        "line": "ItemOut",
        "date_formats": ["iso"],
        "decimal": ".",
        "fields": FIELDS,
    }
)


def describe(root: etree._Element) -> str:
    """Why a document holds no OrderRequest: what it is instead."""
    if etree.QName(root).localname != "cXML":
        return f"not a cXML document (root element <{etree.QName(root).localname}>)"
    for holder_name in ("Request", "Message", "Response"):
        holder = root.find(holder_name)
        if holder is None:
            continue
        children = [etree.QName(c).localname for c in holder if isinstance(c.tag, str)]
        if holder_name == "Response":
            status = holder.find("Status")
            code = status.get("code") if status is not None else "?"
            text = status.get("text") if status is not None else ""
            return f"not an OrderRequest: a cXML Response (status {code} {text})".rstrip()
        kind = next((c for c in children if c != "Status"), None)
        if kind is None:
            return f"not an OrderRequest: the cXML {holder_name} is empty"
        article = "an" if kind[:1] in "AEIOU" else "a"
        return f"not an OrderRequest: the cXML {holder_name} carries {article} {kind}"
    return "not an OrderRequest: the cXML has no Request"


BUILTIN = BuiltinLayout(LAYOUT, describe)
