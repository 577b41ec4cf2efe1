"""The canonical purchase order (what an X12 850 becomes)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from .base import Amount, Canonical, Code, NonNegative, Qualifier, Text
from .codes import ORDER_TYPE_CODES, PURPOSE_CODES, OrderType, Purpose, fill_coded, priced_amount
from .common import (
    FOB,
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
from .lines import ItemIds


class StoreQuantity(Canonical):
    """One SDQ pair: how much of the line goes to one location (store, DC)."""

    location_qualifier: Qualifier = Field(description="SDQ02, e.g. 92 assigned by buyer")
    location: Text = Field(description="SDQ03, 05, ...")
    quantity: NonNegative = Field(description="SDQ04, 06, ...")
    unit: Code | None = Field(None, description="SDQ01")


class Schedule(Canonical):
    """SCH: part of the line's quantity wanted on a date."""

    quantity: NonNegative = Field(description="SCH01")
    unit: Code | None = Field(None, description="SCH02")
    entity_code: Code | None = Field(None, description="SCH03")
    name: Text | None = Field(None, description="SCH04")
    date_qualifier: Qualifier | None = Field(None, description="SCH05")
    date: dt.date | None = Field(None, description="SCH06")
    time: dt.time | None = Field(None, description="SCH07")


class AdditionalItemDetail(Canonical):
    """PO3: additional item detail (a price or quantity variant of the line)."""

    change_reason: Code = Field(description="PO301")
    date: dt.date | None = Field(None, description="PO302")
    price_code: Code | None = Field(None, description="PO303")
    unit_price: NonNegative | None = Field(None, description="PO304")
    price_basis: Code | None = Field(None, description="PO305")
    quantity: NonNegative | None = Field(None, description="PO306")
    unit: Code | None = Field(None, description="PO307")
    description: Text | None = Field(None, description="PO308")


class AsSent(Canonical):
    """A line's quantity, unit and price exactly as the partner sent them.

    The partner map converts ``quantity``/``unit``/``unit_price`` to ours; this keeps the
    original so an 855 or 810 can echo the partner's own figures without rounding.
    """

    quantity: NonNegative | None = None
    unit: Code | None = None
    unit_price: NonNegative | None = None


class OrderLine(ItemIds, Canonical):
    """A PO1 loop: the item, how many, at what price, and everything said about it."""

    sku: Text | None = Field(None, description="our internal SKU, set by the partner map")
    as_sent: AsSent | None = Field(
        None, description="quantity, unit and price as sent, when the map converted them"
    )

    line_number: Text | None = Field(None, description="PO101 as sent (may be absent)")
    quantity: NonNegative | None = Field(None, description="PO102")
    unit: Code | None = Field(None, description="PO103 unit of measure")
    unit_price: NonNegative | None = Field(None, description="PO104")
    price_basis: Code | None = Field(None, description="PO105, e.g. PE per each")
    identifiers: list[Identifier] = Field(
        default_factory=list, description="PO106/07 ... PO124/25 product ID pairs"
    )
    currency: Code | None = Field(None, description="CUR in the PO1 loop")
    descriptions: list[Description] = Field(default_factory=list, description="PID")
    prices: list[Price] = Field(default_factory=list, description="CTP")
    pack: PackDetail | None = Field(None, description="PO4")
    additional_details: list[AdditionalItemDetail] = Field(default_factory=list, description="PO3")
    distribution: list[StoreQuantity] = Field(default_factory=list, description="SDQ")
    schedules: list[Schedule] = Field(default_factory=list, description="SCH")
    dates: list[DateRef] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    amounts: list[MonetaryAmount] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list, description="N1 loops in the line")
    extra: list[RawSegment] = Field(default_factory=list)

    @property
    def description(self) -> str | None:
        """The first description text (PID05)."""
        for d in self.descriptions:
            if d.text:
                return d.text
        return None

    @property
    def extended_amount(self) -> Amount | None:
        """quantity x unit price (per hundred or thousand with HP / TP), when both are known."""
        if self.quantity is None or self.unit_price is None:
            return None
        return priced_amount(self.quantity, self.unit_price, self.price_basis)


class RejectedLine(Canonical):
    """A line the partner map refused (an unknown item, a unit it cannot convert).

    The ERP order leaves it out of ``lines`` and states it here, as the partner sent it
    (their item IDs, units and line number), so an ERP that writes its own 855 can answer
    it IR instead of never hearing of it.
    """

    line: OrderLine = Field(description="the line as the partner sent it")
    code: Text = Field(description="why, as a code: unknown_item, unit_conversion ...")
    reason: Text = Field(description="why, in words")


class Order(Canonical):
    """A purchase order, independent of X12; an 850 translates into this."""

    document_type: Literal["order"] = "order"
    po_number: Text = Field(description="BEG03")
    po_date: dt.date = Field(description="BEG05")
    purpose: Purpose = Field(Purpose.ORIGINAL, description="friendly form of purpose_code")
    purpose_code: Code = Field("00", description="BEG01: 00 original, 01 cancel, 04 change ...")
    order_type: OrderType | None = Field(None, description="friendly form of order_type_code")
    order_type_code: Code | None = Field(None, description="BEG02: SA stand-alone, DS ...")
    release_number: Text | None = Field(None, description="BEG04")
    contract_number: Text | None = Field(None, description="BEG06")
    acknowledgment_type: Code | None = Field(None, description="BEG07 (ack requested)")
    currency: Code | None = Field(None, description="CUR02")
    currency_entity: Code | None = Field(None, description="CUR01, e.g. BY")
    terms: list[Terms] = Field(default_factory=list, description="ITD")
    tax_exemptions: list[TaxExemption] = Field(default_factory=list, description="TAX")
    fob: list[FOB] = Field(default_factory=list)
    prices: list[Price] = Field(default_factory=list, description="header CTP")
    sales_requirements: list[SalesRequirement] = Field(default_factory=list, description="CSH")
    discounts: list[Discount] = Field(default_factory=list, description="DIS")
    parties: list[Party] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list, description="header PER")
    dates: list[DateRef] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list, description="REF and N9")
    notes: list[Note] = Field(default_factory=list, description="NTE, MSG, MTX")
    carriers: list[Carrier] = Field(default_factory=list, description="TD5")
    packaging: list[Packaging] = Field(default_factory=list, description="TD1")
    equipment: list[Equipment] = Field(default_factory=list, description="TD3")
    special_handling: list[SpecialHandling] = Field(default_factory=list, description="TD4")
    marks: list[Marks] = Field(default_factory=list, description="MAN")
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list, description="SAC")
    taxes: list[Tax] = Field(default_factory=list, description="TXI")
    amounts: list[MonetaryAmount] = Field(default_factory=list, description="AMT")
    lines: list[OrderLine] = Field(default_factory=list)
    summary: Summary | None = Field(None, description="CTT as sent")
    extra: list[RawSegment] = Field(default_factory=list)
    rejected_lines: list[RejectedLine] | None = Field(
        None,
        description="lines the partner map refused, as sent (absent when none was): "
        "left out of lines, for the ERP's own 855 to answer",
    )

    @model_validator(mode="before")
    @classmethod
    def _coded(cls, data: Any) -> Any:
        data = fill_coded(data, "purpose", "purpose_code", PURPOSE_CODES, Purpose.OTHER)
        return fill_coded(data, "order_type", "order_type_code", ORDER_TYPE_CODES, OrderType.OTHER)

    def party(self, role_code: str) -> Party | None:
        """The first party with N101 ``role_code`` (e.g. ``ST``)."""
        return next((p for p in self.parties if p.role_code == role_code), None)

    def date(self, qualifier: str) -> dt.date | None:
        """The first DTM date with ``qualifier`` (e.g. ``002`` delivery requested)."""
        return next((d.date for d in self.dates if d.qualifier == qualifier), None)

    def reference(self, qualifier: str) -> str | None:
        """The first REF/N9 value with ``qualifier`` (e.g. ``DP`` department)."""
        return next((r.value for r in self.references if r.qualifier == qualifier), None)
