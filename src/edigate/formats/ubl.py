"""The built-in layout of a UBL 2.x ``Order`` (OASIS UBL 2.1 to 2.4), as ``xml: {layout: ubl}``.

Parties: ``BuyerCustomerParty`` is the buyer, ``SellerSupplierParty`` the seller,
``AccountingCustomerParty`` the bill-to, and ``Delivery/DeliveryLocation`` (with
``DeliveryParty`` for its name) the ship-to; a ``PartyIdentification`` ID is qualifier
``92``. Items: the seller's item ID is ``VN``, the buyer's ``BP``, the standard (GTIN) one
``EN``. The unit is the quantity's ``unitCode`` (UN/ECE Recommendation 20, e.g. ``EA``,
``C62``, ``BX``), which the map's ``uom:`` section converts like any other unit. The
``CustomerReference`` is reference ``CR``; the requested delivery start date is ``002``.

A ``Price/BaseQuantity`` of 100 or 1000 is price basis ``HP`` or ``TP`` (any other but 1 is
an error). Each ``AllowanceCharge`` of the order or of a ``LineItem`` becomes an allowance
(``ChargeIndicator`` false) or a charge (true) with its ``Amount``, its reason as the
description (reason codes FC freight and 95 discount become SAC codes D240 and C310), and a
``TaxTotal/TaxAmount`` a tax ``TX`` (all taxes). A discount inside a ``Price`` is only warned
about: UBL's ``PriceAmount`` is already the net price.
"""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from ..partners.layouts import XmlLayout
from .build import OrderBuilder
from .xml_order import BuiltinLayout, own_text, read_amount, set_price_basis, unmapped, xml_path

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
    if name.localname == "Order":
        found = f'namespace "{name.namespace}"' if name.namespace else "no namespace"
        return f'not a UBL Order: <Order> has {found}, expected namespace "{ORDER_NS}"'
    if name.namespace and "ubl:schema:xsd" in name.namespace:
        return f"not a UBL Order: the document is a UBL {name.localname}"
    shown = f"{{{name.namespace}}}{name.localname}" if name.namespace else name.localname
    return f"not a UBL Order (root element <{shown}>, expected {{{ORDER_NS}}}Order)"


#: (indicator, UNCL 5189 / 7161 reason code) -> SAC02 code, where the meaning is the same.
REASON_CODES = {("C", "FC"): "D240", ("A", "95"): "C310"}


def _cac(name: str) -> str:
    return f"{{{CAC}}}{name}"


def _cbc(name: str) -> str:
    return f"{{{CBC}}}{name}"


def read_order(builder: OrderBuilder, node: etree._Element) -> None:
    """The order's allowances, charges and tax total."""
    for charge in node.findall(_cac("AllowanceCharge")):
        _allowance_charge(builder, charge, builder.order, "order")
    for total in node.findall(_cac("TaxTotal")):
        amount = total.find(_cbc("TaxAmount"))
        if amount is None:
            unmapped(builder, total, "a TaxTotal without a TaxAmount")
            continue
        value = read_amount(builder, amount, "order.taxes")
        if value is not None:
            tax = {"type_code": "TX", "amount": value}
            builder.order.setdefault("taxes", []).append(tax)


def read_line(builder: OrderBuilder, node: etree._Element, data: dict[str, Any]) -> None:
    """A line's price basis and allowances or charges."""
    item = node.find(_cac("LineItem"))
    if item is None:
        return
    for charge in item.findall(_cac("AllowanceCharge")):
        _allowance_charge(builder, charge, data, "line")
    price = item.find(_cac("Price"))
    if price is None:
        return
    base = price.find(_cbc("BaseQuantity"))
    if base is not None:
        set_price_basis(builder, base, base.get("unitCode"), data)
    for charge in price.findall(_cac("AllowanceCharge")):
        unmapped(builder, charge, "a price discount; the PriceAmount is taken as the net price")


def _allowance_charge(
    builder: OrderBuilder, element: etree._Element, data: dict[str, Any], scope: str
) -> None:
    field = f"{scope}.allowances_charges"
    flag = own_text(element.find(_cbc("ChargeIndicator"))).lower()
    indicator = {"true": "C", "1": "C", "false": "A", "0": "A"}.get(flag)
    if indicator is None:
        builder.issue(
            element.sourceline,
            f'{xml_path(element)}/cbc:ChargeIndicator: "{flag}" is not true (a charge) or '
            "false (an allowance)",
            field=field,
            value=flag or None,
        )
        return
    amount_element = element.find(_cbc("Amount"))
    if amount_element is None:
        builder.issue(
            element.sourceline, f"{xml_path(element)}: cbc:Amount is required", field=field
        )
        return
    amount = read_amount(builder, amount_element, field)
    if amount is None:
        return
    reason_code = own_text(element.find(_cbc("AllowanceChargeReasonCode")))
    reasons = [own_text(r) for r in element.findall(_cbc("AllowanceChargeReason"))]
    description = "; ".join(r for r in reasons if r)
    code = REASON_CODES.get((indicator, reason_code))
    if reason_code and code is None:
        description = f"{description} (reason code {reason_code})".lstrip()
    entry: dict[str, Any] = {
        "indicator": indicator,
        "code": code,
        "amount": amount,
        "description": description or ("charge" if indicator == "C" else "allowance"),
        "currency": amount_element.get("currencyID"),
    }
    data.setdefault("allowances_charges", []).append(entry)


BUILTIN = BuiltinLayout(LAYOUT, describe, read_order, read_line)
