"""The canonical purchase order acknowledgment (what an X12 855 is written from).

An ack that contradicts itself is refused here, before an 855 tells a buyer two things at
once (the rules retail 855 guides state, checked on every OrderAck the ERP or a JSON file
gives; the automatic 855 is built to satisfy them):

- **Quantities** (ACK02): the statuses of a line share out its ordered quantity (PO102):
  ``IA 4 + IB 6`` for 10 ordered. The sum is checked only when it can be: the line has an
  ordered quantity and every status states a quantity in the line's unit (ACK03, or none,
  which the 855 writes as the line's unit). A line with IQ (quantity changed) or IC (changes
  made) is not checked: their ACK02 is the new quantity, so the line's ACK02s add up to what
  will ship, not to what was ordered; nor is one with a code we do not know. A line rejected
  in full (every status IR, ID or R1-R4) may state 0 or the ordered quantity.
- **Prices** (PO104, which carries the first status price): IP (price changed) states the
  new price, different from the ordered one; a status that does not change the price (IA,
  IB, IQ ...: anything but IP, IC, IS and unknown codes) may not state another one, and the
  statuses of a line agree on one price. IQ states its new quantity.
- **BAK02 against the lines**: AD and AK (no change) only with accepting statuses (IA, AC,
  AR); RJ and RD (rejected) only with rejected lines, each stating its rejection (codes we
  do not know pass). AC (with changes) takes any status: the change may be one the ack does
  not show as a status (a header date, a quantity the ERP restated on the line).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from .base import Canonical, Code, NonNegative, Qualifier, Text, optional_in_schema
from .codes import (
    ACCEPTING_STATUSES,
    ACK_TYPE_CODES,
    LINE_STATUS_CODES,
    PURPOSE_CODES,
    AckType,
    LineStatusCode,
    Purpose,
    fill_coded,
)
from .common import DateRef, Description, Identifier, Note, Party, RawSegment, Reference
from .lines import ItemIds

_S = LineStatusCode
#: ACK02 is the line's new quantity, not a share of the ordered one: no sum rule.
NEW_QUANTITY_STATUSES = frozenset({_S.QUANTITY_CHANGED, _S.ITEM_CHANGED})
#: Statuses that may state a price other than the ordered one.
PRICE_STATUSES = frozenset({_S.PRICE_CHANGED, _S.ITEM_CHANGED, _S.SUBSTITUTED, _S.OTHER})
#: Statuses that reject (all or part of) the line, for BAK02 RJ / RD.
REJECTING_STATUSES = frozenset(
    {
        _S.REJECTED,
        _S.DELETED,
        _S.REJECTED_NOT_CONTRACT_ITEM,
        _S.REJECTED_INVALID_ITEM,
        _S.REJECTED_INVALID_UNIT,
        _S.REJECTED_NOT_AVAILABLE,
    }
)
_REJECTING_OR_UNKNOWN = REJECTING_STATUSES | {_S.OTHER}
#: BAK02 codes that say nothing changed, and those that reject the order.
_NO_CHANGE = frozenset({AckType.ACCEPTED, AckType.ACCEPTED_NO_DETAIL})
_REJECTED = frozenset({AckType.REJECTED, AckType.REJECTED_WITH_DETAIL})


class LineStatus(Canonical):
    """One ACK: what the seller does with (part of) a line."""

    model_config = ConfigDict(json_schema_extra=optional_in_schema("status"))

    status: LineStatusCode = Field(description="friendly form of status_code (either)")
    status_code: Qualifier = Field(description="ACK01: IA accepted, IR rejected, IB ...")
    quantity: NonNegative | None = Field(None, description="ACK02")
    unit: Code | None = Field(None, description="ACK03")
    date_qualifier: Qualifier | None = Field(
        None, description="ACK04: 068 current schedule ship, 067 current schedule delivery"
    )
    date: dt.date | None = Field(None, description="ACK05: the scheduled date")
    unit_price: NonNegative | None = Field(
        None, description="the changed price (status price_changed); written in PO104"
    )
    identifiers: list[Identifier] = Field(
        default_factory=list, description="ACK07/08 ...: the item actually supplied"
    )

    @model_validator(mode="before")
    @classmethod
    def _coded(cls, data: Any) -> Any:
        data = fill_coded(data, "status", "status_code", LINE_STATUS_CODES, LineStatusCode.OTHER)
        dated = isinstance(data, dict) and data.get("date") is not None
        if dated and data.get("date_qualifier") is None:
            data = {**data, "date_qualifier": "068"}
        return data


class AckLine(ItemIds, Canonical):
    """An acknowledged line: the line as ordered plus what happens to it."""

    line_number: Text | None = Field(None, description="PO101 echoed")
    sku: Text | None = Field(None, description="our internal SKU (the ERP's item number)")
    quantity: NonNegative | None = Field(None, description="PO102 as ordered")
    unit: Code | None = Field(None, description="PO103")
    unit_price: NonNegative | None = Field(None, description="PO104 as ordered")
    price_basis: Code | None = Field(None, description="PO105")
    identifiers: list[Identifier] = Field(default_factory=list)
    descriptions: list[Description] = Field(default_factory=list)
    statuses: list[LineStatus] = Field(default_factory=list, description="ACK segments")
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateRef] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    extra: list[RawSegment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> AckLine:
        where = f"line {self.line_number}" if self.line_number else "a line without line_number"
        problem = self._price_problem() or self._quantity_problem()
        if problem:
            raise ValueError(f"{where}: {problem}")
        return self

    def _price_problem(self) -> str | None:
        """Why PO104 would say something the statuses do not (it carries one price)."""
        ordered = self.unit_price
        prices: set[Decimal] = set()
        for st in self.statuses:
            code = f"ACK {st.status_code} ({st.status.value})"
            price = st.unit_price
            if st.status is _S.PRICE_CHANGED and (price is None or price == ordered):
                stated = "no new price" if price is None else f"the ordered price {price}"
                return f"{code} states {stated}: give the new price in its unit_price"
            if st.status is _S.QUANTITY_CHANGED and st.quantity is None:
                return f"{code} states no quantity: give the new quantity (ACK02)"
            if price is None:
                continue
            if st.status not in PRICE_STATUSES and ordered is not None and price != ordered:
                return (
                    f"{code} states unit price {price}, not the ordered {ordered}: a new price "
                    "is stated with IP (price_changed)"
                )
            prices.add(price)
        if len(prices) > 1:
            listed = ", ".join(str(p) for p in sorted(prices))
            return f"the statuses state different prices ({listed}); PO104 carries one"
        return None

    def _quantity_problem(self) -> str | None:
        """Why the statuses' ACK02s do not share out the ordered PO102 (see the module)."""
        ordered, unit = self.quantity, self.unit
        if ordered is None or not self.statuses:
            return None
        for st in self.statuses:
            if st.status in NEW_QUANTITY_STATUSES or st.status is _S.OTHER:
                return None
            if st.quantity is None or (st.unit or unit) != unit:
                return None
        total = sum((st.quantity or Decimal(0) for st in self.statuses), Decimal(0))
        rejected = all(st.status in REJECTING_STATUSES for st in self.statuses)
        if total == ordered or (rejected and total == 0):
            return None
        in_unit = f" {unit}" if unit else ""
        parts = " + ".join(f"{st.quantity} {st.status_code}" for st in self.statuses)
        hint = " (a line rejected in full states 0 or the ordered quantity)" if rejected else ""
        return (
            f"the ACK quantities ({parts} = {total}{in_unit}) do not add up to the ordered "
            f"{ordered}{in_unit}{hint}"
        )


class OrderAck(Canonical):
    """A purchase order acknowledgment; written as an 855."""

    model_config = ConfigDict(json_schema_extra=optional_in_schema("ack_type"))

    document_type: Literal["order-ack"] = "order-ack"
    purpose: Purpose = Field(Purpose.ORIGINAL, description="friendly form of purpose_code")
    purpose_code: Code = Field("00", description="BAK01")
    ack_type: AckType = Field(description="friendly form of ack_type_code (either)")
    ack_type_code: Code = Field(description="BAK02: AD accepted, AC with changes, RJ ...")
    po_number: Text = Field(description="BAK03")
    po_date: dt.date = Field(description="BAK04")
    release_number: Text | None = Field(None, description="BAK05")
    contract_number: Text | None = Field(None, description="BAK07")
    seller_order_number: Text | None = Field(None, description="BAK08")
    ack_date: dt.date | None = Field(None, description="BAK09")
    currency: Code | None = Field(None, description="CUR02")
    references: list[Reference] = Field(default_factory=list, description="REF, echoed")
    dates: list[DateRef] = Field(default_factory=list, description="DTM")
    parties: list[Party] = Field(default_factory=list, description="N1 loops")
    notes: list[Note] = Field(default_factory=list)
    lines: list[AckLine] = Field(default_factory=list)
    extra: list[RawSegment] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _coded(cls, data: Any) -> Any:
        data = fill_coded(data, "purpose", "purpose_code", PURPOSE_CODES, Purpose.OTHER, "00")
        return fill_coded(data, "ack_type", "ack_type_code", ACK_TYPE_CODES, AckType.OTHER)

    @model_validator(mode="after")
    def _consistent(self) -> OrderAck:
        """BAK02 agrees with the line statuses (see the module)."""
        kind = f"ack type {self.ack_type_code} ({self.ack_type.value})"
        for index, line in enumerate(self.lines):
            where = f"line {line.line_number or index + 1}"
            if self.ack_type in _REJECTED and not line.statuses:
                raise ValueError(
                    f"{kind} but {where} has no status: a rejected order has no lines, or "
                    "every line rejected (IR)"
                )
            for st in line.statuses:
                has = f"{where} has status {st.status_code} ({st.status.value})"
                if self.ack_type in _NO_CHANGE and st.status not in ACCEPTING_STATUSES:
                    raise ValueError(f"{kind} but {has}; use AC (accepted_with_changes)")
                if self.ack_type in _REJECTED and st.status not in _REJECTING_OR_UNKNOWN:
                    raise ValueError(
                        f"{kind} but {has}: a rejected order has no lines, or every line "
                        "rejected (IR); use AC (accepted_with_changes) for a partial one"
                    )
        return self
