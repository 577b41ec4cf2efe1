"""Canonical business documents, independent of X12: Order, OrderAck, Shipment, Invoice.

Amounts and quantities are ``Decimal``, dates are ``date``, identifiers are lists of
(qualifier, value). Nothing a partner sent is dropped: what a translation does not place
stays in ``references`` or ``extra``. Every model round-trips through JSON::

    order = Order.model_validate_json(text)
    text = order.model_dump_json()
"""

from .codes import (
    AckType,
    Indicator,
    LineStatusCode,
    OrderType,
    PartyRole,
    Purpose,
)
from .common import (
    FOB,
    Address,
    AllowanceCharge,
    Carrier,
    Contact,
    DateRef,
    Description,
    Discount,
    Equipment,
    Identifier,
    Marks,
    MonetaryAmount,
    Note,
    Packaging,
    PackDetail,
    Party,
    Price,
    RawSegment,
    Reference,
    SalesRequirement,
    SpecialHandling,
    Summary,
    Tax,
    TaxExemption,
    Terms,
)
from .invoice import Invoice, InvoiceLine, Totals
from .jsonio import dump, dumps, erp_json, load
from .order import (
    AdditionalItemDetail,
    AsSent,
    Order,
    OrderLine,
    RejectedLine,
    Schedule,
    StoreQuantity,
)
from .order_ack import AckLine, LineStatus, OrderAck
from .schema import MODELS, json_schema
from .shipment import Pack, Shipment, ShipmentItem, ShipmentOrder, Tare, gs1_check_digit

__all__ = [
    "FOB",
    "MODELS",
    "AckLine",
    "AckType",
    "AdditionalItemDetail",
    "Address",
    "AllowanceCharge",
    "AsSent",
    "Carrier",
    "Contact",
    "DateRef",
    "Description",
    "Discount",
    "Equipment",
    "Identifier",
    "Indicator",
    "Invoice",
    "InvoiceLine",
    "LineStatus",
    "LineStatusCode",
    "Marks",
    "MonetaryAmount",
    "Note",
    "Order",
    "OrderAck",
    "OrderLine",
    "OrderType",
    "Pack",
    "PackDetail",
    "Packaging",
    "Party",
    "PartyRole",
    "Price",
    "Purpose",
    "RawSegment",
    "Reference",
    "RejectedLine",
    "SalesRequirement",
    "Schedule",
    "Shipment",
    "ShipmentItem",
    "ShipmentOrder",
    "SpecialHandling",
    "StoreQuantity",
    "Summary",
    "Tare",
    "Tax",
    "TaxExemption",
    "Terms",
    "Totals",
    "dump",
    "dumps",
    "erp_json",
    "gs1_check_digit",
    "json_schema",
    "load",
]
