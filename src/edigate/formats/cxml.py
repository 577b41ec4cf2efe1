"""The built-in layout of a cXML ``OrderRequest`` (cXML 1.2), usable as ``xml: {layout: cxml}``.

cXML has no namespace. Where the canonical model wants an X12 qualifier, the usual one is
taken: the supplier's part ID is ``VN`` (vendor's item number), the buyer's ``BP``, the
auxiliary ID ``ZZ`` (mutually defined), a buyer-assigned address ID ``92``. The requested
delivery date is DTM qualifier ``002``. The document's ``payloadID`` is kept as reference
``ZZ`` ("cXML payloadID") because every answer (ConfirmationRequest, ShipNoticeRequest)
must quote it; ``From`` and ``To`` credentials become the buyer's and seller's ``ZZ`` IDs.
The ``type`` attribute maps to the X12 purpose: new 00, update 05 (replace), delete 03.

Money beside the lines is kept: ``Shipping`` (of the header or of an ``ItemOut``) becomes a
charge D240 (freight) with its description, ``Tax`` a tax ``TX`` (all taxes), a
``Discount`` an allowance C310. ``PriceBasisQuantity`` 100 or 1000 is price basis ``HP`` or
``TP``; any other quantity, unit or conversion factor cannot be expressed and is an error.
A ``Description``'s ``ShortName`` is left out of the description text (it is the short form
of the same text). Price ``Modifications`` are warned about: ``UnitPrice`` is the net price.
"""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from ..partners.layouts import XmlLayout
from .build import OrderBuilder
from .xml_order import BuiltinLayout, own_text, read_amount, set_price_basis, unmapped, xml_path

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
    # The first Description's own text only: a ShortName child would run into it ("... per
    # caseWidget"), and another language's Description (one per xml:lang) is not this one.
    "line.descriptions[0].text": (
        "concat(ItemDetail/Description[1]/text()[1], ' ', ItemDetail/Description[1]/text()[2])"
    ),
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
    name = etree.QName(root)
    if name.localname != "cXML":
        return f"not a cXML document (root element <{name.localname}>)"
    if name.namespace is not None:
        return (
            f'not an OrderRequest: <cXML> is in namespace "{name.namespace}", '
            "but cXML takes no namespace (remove the xmlns attribute)"
        )
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


def read_order(builder: OrderBuilder, node: etree._Element) -> None:
    """The header's shipping, tax and discount; price modifications are warned about."""
    header = node.find(HEADER)
    if header is None:
        return
    _money_beside(builder, header, builder.order, "order")
    for modifications in header.findall("Total/Modifications"):
        unmapped(builder, modifications, "total modifications; the Total is taken as sent")


def read_line(builder: OrderBuilder, node: etree._Element, data: dict[str, Any]) -> None:
    """An ItemOut's price basis, shipping, tax and discount."""
    _money_beside(builder, node, data, "line")
    basis = node.find("ItemDetail/PriceBasisQuantity")
    if basis is not None:
        _price_basis(builder, basis, data)
    for modifications in node.findall("ItemDetail/UnitPrice/Modifications"):
        unmapped(builder, modifications, "price modifications; the UnitPrice is the net price")


def _price_basis(builder: OrderBuilder, basis: etree._Element, data: dict[str, Any]) -> None:
    factor = (basis.get("conversionFactor") or "1").strip()
    if factor not in ("1", "1.0"):
        builder.issue(
            basis.sourceline,
            f'{xml_path(basis)}/@conversionFactor: "{factor}" cannot be expressed (a price '
            "in another unit than the quantity's; expected 1)",
            field="line.price_basis",
            value=factor,
        )
        return
    unit = own_text(basis.find("UnitOfMeasure")) or None
    set_price_basis(builder, basis, unit, data, attribute="quantity")


def _money_beside(
    builder: OrderBuilder, parent: etree._Element, data: dict[str, Any], scope: str
) -> None:
    for shipping in parent.findall("Shipping"):
        _add(builder, shipping, data, scope, "C", "D240", "shipping")
    for discount in parent.findall("Discount"):
        _discount(builder, discount, data, scope)
    for tax in parent.findall("Tax"):
        money = tax.find("Money")
        if money is None:
            builder.issue(tax.sourceline, f"{xml_path(tax)}: Money is required", field=scope)
            continue
        amount = read_amount(builder, money, f"{scope}.taxes")
        if amount is not None:
            data.setdefault("taxes", []).append({"type_code": "TX", "amount": amount})


def _add(
    builder: OrderBuilder,
    element: etree._Element,
    data: dict[str, Any],
    scope: str,
    indicator: str,
    code: str,
    default: str,
) -> None:
    """An allowance or charge from ``element``'s Money and Description."""
    field = f"{scope}.allowances_charges"
    money = element.find("Money")
    if money is None:
        builder.issue(element.sourceline, f"{xml_path(element)}: Money is required", field=field)
        return
    amount = read_amount(builder, money, field)
    if amount is None:
        return
    entry = {
        "indicator": indicator,
        "code": code,
        "amount": amount,
        "description": own_text(element.find("Description")) or default,
        "currency": money.get("currency"),
    }
    data.setdefault("allowances_charges", []).append(entry)


def _discount(
    builder: OrderBuilder, discount: etree._Element, data: dict[str, Any], scope: str
) -> None:
    field = f"{scope}.allowances_charges"
    amount = discount.find("DiscountAmount")
    if amount is not None:
        _add(builder, amount, data, scope, "A", "C310", "discount")
        return
    percent = discount.find("DiscountPercent")
    if percent is None:
        unmapped(builder, discount, "neither DiscountAmount nor DiscountPercent")
        return
    value = read_amount(builder, percent, field, "percent")
    if value is not None:
        entry = {"indicator": "A", "code": "C310", "percent": value, "description": "discount"}
        data.setdefault("allowances_charges", []).append(entry)


BUILTIN = BuiltinLayout(LAYOUT, describe, read_order, read_line)
