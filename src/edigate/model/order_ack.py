"""The canonical purchase order acknowledgment (what an X12 855 is written from)."""

from __future__ import annotations

import datetime as dt
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
        if self.ack_type is AckType.ACCEPTED:
            for index, line in enumerate(self.lines):
                for st in line.statuses:
                    if st.status not in ACCEPTING_STATUSES:
                        raise ValueError(
                            f"ack type AD (accepted, no change) but line "
                            f"{line.line_number or index + 1} has status {st.status_code} "
                            f"({st.status.value}); use AC (accepted_with_changes)"
                        )
        return self
