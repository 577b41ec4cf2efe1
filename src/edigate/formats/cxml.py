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

The rest takes the shape an 850 gives it, so the ERP sees one convention: the header
``Total`` is amount ``TT`` (AMT*TT); an address's ``Email``, ``Phone``, ``Fax`` and ``URL``
are the party's contact ``IC`` (a PER in the N1 loop: EM, TE, FX, then EX extension and UR
in ``other``); a header ``Contact`` is an order contact (BD for a purchasing agent, else IC,
with a warning naming the role); a ``Comments`` ``Attachment`` URL is a note after the
comment text. A line's ``Classification`` is reference ``ZZ`` described
``cXML Classification <domain>``, and each ``Distribution/Accounting/Segment`` reference
``ZZ`` described ``cXML Accounting <name>: <type> (<description>)``; the ``Charge`` of a
single Distribution is the line's amount ``1`` (line item total).

Whatever in the OrderRequest nothing read (an ``Extrinsic``, ``Payment``, an element of a
later cXML version) is warned about with its path and line: the order is walked, not
checked against a list, so nothing new is dropped silently. What carries nothing is
skipped (:data:`IGNORED`). The ``Header`` and ``Request`` around the OrderRequest are not
walked: their credentials identify the partner and are not order data.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from ..partners.layouts import XmlLayout
from .xml_order import BuiltinLayout, own_text, read_amount, set_price_basis, unmapped, xml_path
from .xml_reads import Ignored, XmlOrderBuilder

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
        # Both say the country; read both, so that two different ones are warned about.
        f"party[{role}].address.country": (
            f"{address}/@isoCountryCode | {postal}/Country/@isoCountryCode"
        ),
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


#: What carries nothing to read: a text's language, the label of an address's e-mail, phone
#: or fax ("default", "work"), a country's name beside its code (the code is read), the
#: country a dial code belongs to, and a ShortName (the short form of its Description).
IGNORED: Ignored = frozenset(
    {
        ("*", "@xml:lang"),
        *((name, "@name") for name in ("PostalAddress", "Email", "Phone", "Fax", "URL")),
        ("Country", "text()"),
        ("CountryCode", "@isoCountryCode"),
        ("ShortName", "text()"),
    }
)

#: cXML Contact roles with an X12 contact function (PER01); any other is kept as IC.
CONTACT_ROLES = {"purchasingAgent": "BD", "buyer": "BD"}


def read_order(builder: XmlOrderBuilder, node: etree._Element) -> None:
    """The header's total, shipping, tax, discount, contacts and comment attachments; price
    modifications are warned about."""
    header = node.find(HEADER)
    if header is None:
        return
    _money_beside(builder, header, builder.order, "order")
    _total(builder, header)
    for modifications in header.findall("Total/Modifications"):
        unmapped(builder, modifications, "total modifications; the Total is taken as sent")
    for role, element in (("ship_to", "ShipTo"), ("bill_to", "BillTo")):
        _party_contact(builder, header.find(f"{element}/Address"), role)
    for contact in header.findall("Contact"):
        _contact(builder, contact)
    _attachments(builder, header, builder.order)


def read_line(builder: XmlOrderBuilder, node: etree._Element, data: dict[str, Any]) -> None:
    """An ItemOut's price basis, shipping, tax, discount, classifications, accounting and
    comment attachments."""
    description = node.find("ItemDetail/Description")
    if description is not None:  # read by the concat() of line.descriptions[0].text
        builder.reads.text(description)
    _money_beside(builder, node, data, "line")
    basis = node.find("ItemDetail/PriceBasisQuantity")
    if basis is not None:
        _price_basis(builder, basis, data)
    for modifications in node.findall("ItemDetail/UnitPrice/Modifications"):
        unmapped(builder, modifications, "price modifications; the UnitPrice is the net price")
    _classifications(builder, node, data)
    _distributions(builder, node, data)
    _attachments(builder, node, data)


def _total(builder: XmlOrderBuilder, header: etree._Element) -> None:
    """The Total as AMT TT (total transaction amount), the shape an 850's AMT*TT takes."""
    money = header.find("Total/Money")
    if money is None:
        return
    amount = _money(builder, money, "order.amounts", builder.order.get("currency"))
    if amount is not None:
        builder.order.setdefault("amounts", []).append({"qualifier": "TT", "amount": amount})


def _money(
    builder: XmlOrderBuilder, money: etree._Element, field: str, currency: str | None
) -> Decimal | None:
    """The amount of a Money; its currency counts as read when it is the one already known
    (the order's or line's), else it is left for the unread-parts warning."""
    amount = read_amount(builder, money, field)
    if amount is None:
        return None
    builder.reads.text(money)
    if money.get("currency") in (None, currency):
        builder.reads.attribute(money, "currency")
    return amount


def _party_contact(builder: XmlOrderBuilder, address: etree._Element | None, role: str) -> None:
    """An Address's Email, Phone, Fax and URL as the party's contact (a PER IC in its N1
    loop). Without a party (no Name, no addressID) they stay unread and are warned about."""
    if address is None:
        return
    party = next((p for p in builder.order.get("parties", []) if p.get("role") == role), None)
    if party is None:
        return
    reach = _reach(builder, address)
    if reach:
        party.setdefault("contacts", []).append({"function": "IC", **reach})


def _contact(builder: XmlOrderBuilder, contact: etree._Element) -> None:
    """A header Contact as an order contact (header PER): name, e-mail, phone, fax, URL."""
    entry: dict[str, Any] = {}
    name = contact.find("Name")
    if name is not None and own_text(name):
        entry["name"] = own_text(name)
        builder.reads.text(name)
    entry.update(_reach(builder, contact))
    if not entry:
        return  # nothing to place: the unread-parts warning names it
    role = contact.get("role")
    entry["function"] = CONTACT_ROLES.get(role or "", "IC")
    if role is not None and role not in CONTACT_ROLES:
        unmapped(
            builder,
            contact,
            f'role "{role}" has no X12 contact function; the contact is kept as IC, '
            "information contact",
            part="@role",
        )
    builder.reads.attribute(contact, "role")
    builder.order.setdefault("contacts", []).append(entry)


#: cXML element -> (Contact field for the first one, X12 communication qualifier for more).
_REACH = (("Email", "email", "EM"), ("Phone", "phone", "TE"), ("Fax", "fax", "FX"))


def _reach(builder: XmlOrderBuilder, element: etree._Element) -> dict[str, Any]:
    """``email``, ``phone``, ``fax`` and ``other`` (EX extension, UR URL, a second e-mail EM
    ...) from an Address's or Contact's children, as an X12 PER's numbers are read."""
    found: dict[str, Any] = {}
    other: list[dict[str, str]] = []
    for tag, field, qualifier in _REACH:
        for child in element.findall(tag):
            if tag == "Email":
                number, extension = own_text(child), ""
                if number:
                    builder.reads.text(child)
            else:
                number, extension = _telephone(builder, child.find("TelephoneNumber"))
            if not number:
                continue
            if field in found:
                other.append({"qualifier": qualifier, "value": number})
            else:
                found[field] = number
            if extension:
                other.append({"qualifier": "EX", "value": extension})
    for url in element.findall("URL"):
        if own_text(url):
            other.append({"qualifier": "UR", "value": own_text(url)})
            builder.reads.text(url)
    if other:
        found["other"] = other
    return found


def _telephone(builder: XmlOrderBuilder, number: etree._Element | None) -> tuple[str, str]:
    """``+1 800 5551212`` and the extension from a TelephoneNumber (empty when none)."""
    if number is None or not own_text(number.find("Number")):
        return "", ""
    parts = []
    for tag, prefix in (("CountryCode", "+"), ("AreaOrCityCode", ""), ("Number", "")):
        child = number.find(tag)
        if child is not None and own_text(child):
            parts.append(prefix + own_text(child))
            builder.reads.text(child)
    extension = number.find("Extension")
    if extension is not None and own_text(extension):
        builder.reads.text(extension)
        return " ".join(parts), own_text(extension)
    return " ".join(parts), ""


def _attachments(builder: XmlOrderBuilder, parent: etree._Element, data: dict[str, Any]) -> None:
    """A Comments' Attachment URL as a note after the comment text: the file itself is a
    part of the message we do not keep, but the ERP learns it exists and its name."""
    for url in parent.findall("Comments/Attachment/URL"):
        if own_text(url):
            data.setdefault("notes", []).append({"text": f"Attachment: {own_text(url)}"})
            builder.reads.text(url)


def _classifications(builder: XmlOrderBuilder, node: etree._Element, data: dict[str, Any]) -> None:
    """A Classification (UNSPSC commodity code ...) as a line reference ZZ described
    ``cXML Classification <domain>``. Not an item identifier: it names a class many items
    share (the SKU cross-reference must never match on it), and its domain, which can be any
    word, needs the description an identifier pair does not have."""
    for classification in node.findall("ItemDetail/Classification"):
        text = own_text(classification)
        code = classification.get("code") or text
        if not code:
            continue
        described = " ".join(
            part for part in ("cXML Classification", classification.get("domain")) if part
        )
        if classification.get("code") and text:  # cXML 1.2.040+: the text names the code
            described += f": {text}"
        data.setdefault("references", []).append(
            {"qualifier": "ZZ", "value": code, "description": described}
        )
        builder.reads.element(classification)


def _distributions(builder: XmlOrderBuilder, node: etree._Element, data: dict[str, Any]) -> None:
    """Distribution/Accounting Segments as line references ZZ (value: the segment's id,
    described ``cXML Accounting <name>: <type> (<description>)``). The Charge of the only
    Distribution is what the line costs that account, the whole line: an amount ``1`` (line
    item total). Charges of a line split over several accounts have no place and are warned
    about."""
    distributions = node.findall("Distribution")
    for distribution in distributions:
        accounting = distribution.find("Accounting")
        if accounting is not None:
            _accounting(builder, accounting, data)
        money = distribution.find("Charge/Money")
        if money is None:
            continue
        if len(distributions) > 1:
            unmapped(
                builder,
                money.getparent(),
                f"the line is split over {len(distributions)} accounts; a charge per "
                "account cannot be expressed",
            )
            continue
        currency = data.get("currency") or builder.order.get("currency")
        amount = _money(builder, money, "line.amounts", currency)
        if amount is not None:
            data.setdefault("amounts", []).append({"qualifier": "1", "amount": amount})


def _accounting(builder: XmlOrderBuilder, accounting: etree._Element, data: dict[str, Any]) -> None:
    name = accounting.get("name")
    builder.reads.attribute(accounting, "name")
    for segment in accounting.findall("Segment"):
        value = segment.get("id")
        if not value:
            continue
        kind, text = segment.get("type"), segment.get("description")
        described = "cXML Accounting" + (f" {name}" if name else "")
        what = " ".join(p for p in (kind, f"({text})" if text else None) if p)
        data.setdefault("references", []).append(
            {
                "qualifier": "ZZ",
                "value": value,
                "description": f"{described}: {what}" if what else described,
            }
        )
        for attribute in ("id", "type", "description"):
            builder.reads.attribute(segment, attribute)


def _price_basis(builder: XmlOrderBuilder, basis: etree._Element, data: dict[str, Any]) -> None:
    for attribute in ("quantity", "conversionFactor"):
        builder.reads.attribute(basis, attribute)
    unit_element = basis.find("UnitOfMeasure")
    if unit_element is not None:
        builder.reads.text(unit_element)
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
    unit = own_text(unit_element) or None
    set_price_basis(builder, basis, unit, data, attribute="quantity")


def _money_beside(
    builder: XmlOrderBuilder, parent: etree._Element, data: dict[str, Any], scope: str
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
        # A tax has no currency of its own: one other than the order's is warned about.
        currency = data.get("currency") or builder.order.get("currency")
        amount = _money(builder, money, f"{scope}.taxes", currency)
        if amount is not None:
            data.setdefault("taxes", []).append({"type_code": "TX", "amount": amount})


def _add(
    builder: XmlOrderBuilder,
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
    builder.reads.element(money)
    description = element.find("Description")
    if description is not None:
        builder.reads.text(description)
    entry = {
        "indicator": indicator,
        "code": code,
        "amount": amount,
        "description": own_text(description) or default,
        "currency": money.get("currency"),
    }
    data.setdefault("allowances_charges", []).append(entry)


def _discount(
    builder: XmlOrderBuilder, discount: etree._Element, data: dict[str, Any], scope: str
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
    builder.reads.attribute(percent, "percent")
    if value is not None:
        entry = {"indicator": "A", "code": "C310", "percent": value, "description": "discount"}
        data.setdefault("allowances_charges", []).append(entry)


BUILTIN = BuiltinLayout(LAYOUT, describe, read_order, read_line, IGNORED)
