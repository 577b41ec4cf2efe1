"""The built-in layout of a UBL 2.x ``Order`` (OASIS UBL 2.1 to 2.4), as ``xml: {layout: ubl}``.

Parties: ``BuyerCustomerParty`` is the buyer, ``SellerSupplierParty`` the seller,
``AccountingCustomerParty`` the bill-to, and ``Delivery/DeliveryLocation`` (with
``DeliveryParty`` for its name) the ship-to; a ``PartyIdentification`` ID is qualifier
``92``. Items: the seller's item ID is ``VN``, the buyer's ``BP``, the standard (GTIN) one
``EN``. The unit is the quantity's ``unitCode`` (UN/ECE Recommendation 20, e.g. ``EA``,
``C62``, ``BX``), which the map's ``uom:`` section converts like any other unit. The
``CustomerReference`` is reference ``CR``; the requested delivery start date is ``002``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from ..partners.layouts import XmlLayout
from .xml_order import BuiltinLayout

ORDER_NS = "urn:oasis:names:specification:ubl:schema:xsd:Order-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _address(prefix: str, address: str) -> dict[str, Any]:
    return {
        f"{prefix}.address.lines": (
            f"{address}/cbc:StreetName | {address}/cbc:AdditionalStreetName"
            f" | {address}/cac:AddressLine/cbc:Line"
        ),
        f"{prefix}.address.city": f"{address}/cbc:CityName",
        f"{prefix}.address.state": f"{address}/cbc:CountrySubentity",
        f"{prefix}.address.postal_code": f"{address}/cbc:PostalZone",
        f"{prefix}.address.country": f"{address}/cac:Country/cbc:IdentificationCode",
    }


def _party(role: str, party: str) -> dict[str, Any]:
    return {
        f"party[{role}].name": f"{party}/cac:PartyName/cbc:Name",
        f"party[{role}].identifiers[92]": f"{party}/cac:PartyIdentification/cbc:ID",
        **_address(f"party[{role}]", f"{party}/cac:PostalAddress"),
    }


DELIVERY = "cac:Delivery"
FIELDS: dict[str, Any] = {
    "order.po_number": "cbc:ID",
    "order.po_date": "cbc:IssueDate",
    "order.order_type_code": "cbc:OrderTypeCode",
    "order.currency": "cbc:DocumentCurrencyCode",
    "order.contract_number": "cac:Contract/cbc:ID",
    "order.references[CR]": "cbc:CustomerReference",
    "order.notes[0].text": "cbc:Note",
    "order.dates[002]": f"{DELIVERY}/cac:RequestedDeliveryPeriod/cbc:StartDate",
    **_party("buyer", "cac:BuyerCustomerParty/cac:Party"),
    **_party("seller", "cac:SellerSupplierParty/cac:Party"),
    **_party("bill_to", "cac:AccountingCustomerParty/cac:Party"),
    "party[ship_to].name": f"{DELIVERY}/cac:DeliveryParty/cac:PartyName/cbc:Name",
    "party[ship_to].identifiers[92]": f"{DELIVERY}/cac:DeliveryLocation/cbc:ID",
    **_address("party[ship_to]", f"{DELIVERY}/cac:DeliveryLocation/cac:Address"),
    "line.line_number": "cac:LineItem/cbc:ID",
    "line.quantity": "cac:LineItem/cbc:Quantity",
    "line.unit": "cac:LineItem/cbc:Quantity/@unitCode",
    "line.unit_price": "cac:LineItem/cac:Price/cbc:PriceAmount",
    "line.currency": "cac:LineItem/cac:Price/cbc:PriceAmount/@currencyID",
    "line.identifiers[VN]": "cac:LineItem/cac:Item/cac:SellersItemIdentification/cbc:ID",
    "line.identifiers[BP]": "cac:LineItem/cac:Item/cac:BuyersItemIdentification/cbc:ID",
    "line.identifiers[EN]": "cac:LineItem/cac:Item/cac:StandardItemIdentification/cbc:ID",
    "line.descriptions[0].text": "cac:LineItem/cac:Item/cbc:Name",
    "line.dates[002]": f"cac:LineItem/{DELIVERY}/cac:RequestedDeliveryPeriod/cbc:StartDate",
    "line.notes[0].text": "cbc:Note",
}

LAYOUT = XmlLayout.model_validate(
    {
        "namespaces": {"ord": ORDER_NS, "cac": CAC, "cbc": CBC},
        "order": "/ord:Order",
        "line": "cac:OrderLine",
        "date_formats": ["iso"],
        "decimal": ".",
        "fields": FIELDS,
    }
)


def describe(root: etree._Element) -> str:
    """Why a document is no UBL Order: what it is instead."""
    name = etree.QName(root)
    if name.namespace == ORDER_NS:
        return "no UBL Order found"
    if name.namespace and "ubl:schema:xsd" in name.namespace:
        return f"not a UBL Order: the document is a UBL {name.localname}"
    shown = f"{{{name.namespace}}}{name.localname}" if name.namespace else name.localname
    return f"not a UBL Order (root element <{shown}>, expected {{{ORDER_NS}}}Order)"


BUILTIN = BuiltinLayout(LAYOUT, describe)
