"""Building blocks shared by the business documents: parties, references, dates, money.

Field names are business terms; the X12 element each one comes from is named in the field
description (so the JSON Schema tells the ERP team where a value lives in the EDI).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from .base import (
    Amount,
    Canonical,
    Code,
    Count,
    NonNegative,
    Percent,
    Qualifier,
    Text,
    optional_in_schema,
)
from .codes import INDICATOR_CODES, PARTY_ROLE_CODES, Indicator, PartyRole, fill_coded


class Identifier(Canonical):
    """A (qualifier, value) pair: product IDs, party IDs, marks and numbers."""

    qualifier: Qualifier = Field(description="What kind of ID (PO106, N103, LIN02 ...)")
    value: Text = Field(description="The ID itself")


class RawSegment(Canonical):
    """A segment the translation did not place (or placed only in part), kept as sent.

    ``elements`` holds each element after the tag as its list of components, so the
    segment can be written back with any separators. ``partial`` marks a segment whose
    leading elements were placed in the model and whose trailing ones were not.
    """

    position: int | None = Field(None, description="Position in the transaction (ST = 1)")
    tag: str = Field(pattern=r"^[A-Z0-9]{2,3}$")
    elements: list[list[str]] = Field(default_factory=list)
    partial: bool = False


class Address(Canonical):
    """N3/N4: street lines, city, state or region, postal code, country."""

    lines: list[Text] = Field(default_factory=list, description="N301/N302, each N3")
    city: Text | None = Field(None, description="N401")
    state: Text | None = Field(None, description="N402 state or province (region) code")
    postal_code: Text | None = Field(None, description="N403")
    country: Text | None = Field(None, description="N404")
    location_qualifier: Qualifier | None = Field(None, description="N405")
    location_id: Text | None = Field(None, description="N406")


class Contact(Canonical):
    """PER: a contact function, a name and how to reach them."""

    function: Qualifier = Field(description="PER01, e.g. BD buyer, IC information contact")
    name: Text | None = Field(None, description="PER02")
    phone: Text | None = Field(None, description="PER03/04 with qualifier TE")
    fax: Text | None = Field(None, description="qualifier FX")
    email: Text | None = Field(None, description="qualifier EM")
    other: list[Identifier] = Field(
        default_factory=list, description="other communication numbers (EX, UR, ...)"
    )


class Reference(Canonical):
    """REF or N9: a qualified reference number, with N9's free-form messages (MSG)."""

    qualifier: Qualifier = Field(description="REF01 / N901, e.g. DP department, IA vendor")
    value: Text | None = Field(None, description="REF02 / N902")
    description: Text | None = Field(None, description="REF03 / N903")
    date: dt.date | None = Field(None, description="N904")
    related: list[Identifier] = Field(default_factory=list, description="REF04 / N907 pairs")
    messages: list[str] = Field(default_factory=list, description="MSG/MTX under an N9")

    @model_validator(mode="before")
    @classmethod
    def _says_something(cls, data: Any) -> Any:
        # Checked on the input (not after): an instance passed on is not checked again.
        if isinstance(data, dict) and data.get("value") is None and data.get("description") is None:
            raise ValueError(f"reference {data.get('qualifier')!r} needs a value or a description")
        return data


class Party(Canonical):
    """An N1 loop: who (role), name, identifiers, address, contacts, references."""

    model_config = ConfigDict(json_schema_extra=optional_in_schema("role"))

    role: PartyRole = Field(description="friendly form of role_code (either may be given)")
    role_code: Qualifier = Field(description="N101 entity identifier, e.g. ST, BT, VN")
    name: Text | None = Field(None, description="N102")
    additional_names: list[Text] = Field(default_factory=list, description="N2 names")
    identifiers: list[Identifier] = Field(
        default_factory=list, description="N103/N104 (qualifier 92 = assigned by buyer)"
    )
    address: Address | None = None
    contacts: list[Contact] = Field(default_factory=list, description="PER in the N1 loop")
    references: list[Reference] = Field(default_factory=list, description="REF in the loop")
    extra: list[RawSegment] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _coded(cls, data: Any) -> Any:
        data = fill_coded(data, "role", "role_code", PARTY_ROLE_CODES, PartyRole.OTHER)
        if isinstance(data, dict) and data.get("name") is None and not data.get("identifiers"):
            raise ValueError(f"party {data.get('role_code')!r} needs a name or an identifier")
        return data

    @property
    def id(self) -> str | None:
        """The first identifier's value (N104), the usual key for a store or DC."""
        return self.identifiers[0].value if self.identifiers else None


class DateRef(Canonical):
    """DTM: a qualified date (e.g. 002 delivery requested, 010 ship, 011 shipped)."""

    qualifier: Qualifier = Field(description="DTM01")
    date: dt.date | None = Field(None, description="DTM02")
    time: dt.time | None = Field(None, description="DTM03")
    time_code: Code | None = Field(None, description="DTM04 time zone code")
    period_format: Code | None = Field(None, description="DTM05, e.g. RD8")
    period: Text | None = Field(None, description="DTM06 as sent")

    @model_validator(mode="before")
    @classmethod
    def _has_a_date(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("date") is None and data.get("period") is None:
            raise ValueError(f"date {data.get('qualifier')!r} needs a date or a period")
        return data


class AllowanceCharge(Canonical):
    """SAC: an allowance, a charge, or an informational (``none``) service entry."""

    indicator: Indicator = Field(description="SAC01 A / C / N / P")
    code: Code | None = Field(None, description="SAC02, e.g. C310 discount, D240 freight")
    agency_qualifier: Code | None = Field(None, description="SAC03")
    agency_code: Code | None = Field(None, description="SAC04")
    amount: Amount | None = Field(None, description="SAC05 (written as cents, N2)")
    percent_qualifier: Code | None = Field(None, description="SAC06")
    percent: Amount | None = Field(None, description="SAC07")
    rate: Amount | None = Field(None, description="SAC08")
    unit: Code | None = Field(None, description="SAC09")
    quantity: Amount | None = Field(None, description="SAC10")
    quantity2: Amount | None = Field(None, description="SAC11")
    method_of_handling: Code | None = Field(
        None, description="SAC12: 02 off invoice, 06 paid by customer, 01 bill back ..."
    )
    reference: Text | None = Field(None, description="SAC13")
    option_number: Text | None = Field(None, description="SAC14")
    description: Text | None = Field(None, description="SAC15")
    language: Code | None = Field(None, description="SAC16")
    currency: Code | None = Field(None, description="CUR in the SAC loop")

    @model_validator(mode="before")
    @classmethod
    def _letter(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if all(data.get(k) is None for k in ("code", "description", "agency_code")):
            raise ValueError("allowance/charge needs a code (SAC02), agency code or description")
        # Accept the X12 letter (A/C/N/P) as well as the word.
        ind = data.get("indicator")
        if isinstance(ind, str) and ind in INDICATOR_CODES:
            return {**data, "indicator": INDICATOR_CODES[ind]}
        return data


class Note(Canonical):
    """NTE, MSG or MTX free text; ``code`` is NTE01 / MTX01 when sent."""

    code: Code | None = None
    text: Text


class Carrier(Canonical):
    """TD5: who carries the goods and how (SCAC, mode, service level, routing text)."""

    routing_sequence: Code | None = Field(None, description="TD501, e.g. O origin carrier")
    id_qualifier: Code | None = Field(None, description="TD502; 2 = SCAC")
    scac: Text | None = Field(None, description="TD503 (the SCAC when TD502 = 2)")
    mode: Code | None = Field(None, description="TD504 transport method: M motor, A air ...")
    routing: Text | None = Field(None, description="TD505 free-form routing")
    status_code: Code | None = Field(None, description="TD506")
    location_qualifier: Code | None = Field(None, description="TD507")
    location: Text | None = Field(None, description="TD508")
    transit_direction: Code | None = Field(None, description="TD509")
    transit_time_qualifier: Code | None = Field(None, description="TD510")
    transit_time: Amount | None = Field(None, description="TD511")
    service_level: Code | None = Field(None, description="TD512, e.g. ND next day")


class Equipment(Canonical):
    """TD3: trailer or container."""

    code: Code = Field(description="TD301, e.g. TL trailer")
    initial: Text | None = Field(None, description="TD302")
    number: Text | None = Field(None, description="TD303")


class SpecialHandling(Canonical):
    """TD4: special handling and hazardous material."""

    code: Code | None = Field(None, description="TD401")
    hazmat_qualifier: Code | None = Field(None, description="TD402")
    hazmat_code: Text | None = Field(None, description="TD403")
    description: Text | None = Field(None, description="TD404")
    flag: Code | None = Field(None, description="TD405")


class Packaging(Canonical):
    """TD1: packaging, lading quantity, weight and volume."""

    packaging_code: Code | None = Field(None, description="TD101, e.g. CTN25, PLT94")
    lading_quantity: Count | None = Field(None, description="TD102")
    commodity_qualifier: Code | None = Field(None, description="TD103")
    commodity_code: Text | None = Field(None, description="TD104")
    description: Text | None = Field(None, description="TD105")
    weight_qualifier: Code | None = Field(None, description="TD106, G gross, N net")
    weight: NonNegative | None = Field(None, description="TD107")
    weight_unit: Code | None = Field(None, description="TD108, LB or KG")
    volume: NonNegative | None = Field(None, description="TD109")
    volume_unit: Code | None = Field(None, description="TD110")


class Terms(Canonical):
    """ITD: terms of sale (e.g. 2% 30, net 60)."""

    type_code: Code | None = Field(None, description="ITD01, e.g. 01 basic, 08 basic discount")
    basis_date_code: Code | None = Field(None, description="ITD02, e.g. 3 invoice date")
    discount_percent: Percent | None = Field(None, description="ITD03")
    discount_due_date: dt.date | None = Field(None, description="ITD04")
    discount_days: Count | None = Field(None, description="ITD05")
    net_due_date: dt.date | None = Field(None, description="ITD06")
    net_days: Count | None = Field(None, description="ITD07")
    discount_amount: Amount | None = Field(None, description="ITD08 (N2)")
    deferred_due_date: dt.date | None = Field(None, description="ITD09")
    deferred_amount: Amount | None = Field(None, description="ITD10 (N2)")
    percent_of_invoice_payable: Percent | None = Field(None, description="ITD11")
    description: Text | None = Field(None, description="ITD12")
    day_of_month: Count | None = Field(None, le=31, description="ITD13")


class FOB(Canonical):
    """FOB: shipment method of payment and where title passes."""

    payment_method: Code = Field(description="FOB01: PP prepaid, CC collect, ...")
    location_qualifier: Code | None = Field(None, description="FOB02")
    location: Text | None = Field(None, description="FOB03")
    terms_qualifier: Code | None = Field(None, description="FOB04")
    terms_code: Code | None = Field(None, description="FOB05")
    location2_qualifier: Code | None = Field(None, description="FOB06")
    location2: Text | None = Field(None, description="FOB07")
    risk_of_loss_qualifier: Code | None = Field(None, description="FOB08")
    risk_of_loss: Text | None = Field(None, description="FOB09")


class Tax(Canonical):
    """TXI: a tax amount or rate."""

    type_code: Code = Field(description="TXI01, e.g. ST state sales tax, GS GST")
    amount: Amount | None = Field(None, description="TXI02")
    percent: Percent | None = Field(None, description="TXI03")
    jurisdiction_qualifier: Code | None = Field(None, description="TXI04")
    jurisdiction: Text | None = Field(None, description="TXI05")
    exempt_code: Code | None = Field(None, description="TXI06")
    relationship_code: Code | None = Field(None, description="TXI07")
    basis_amount: Amount | None = Field(None, description="TXI08")
    tax_id: Text | None = Field(None, description="TXI09")
    assigned_id: Text | None = Field(None, description="TXI10")


class TaxExemption(Canonical):
    """TAX: the buyer's tax registration or exemption."""

    tax_id: Text | None = Field(None, description="TAX01")
    locations: list[Identifier] = Field(default_factory=list, description="TAX02/03 ... 10/11")
    exempt_code: Code | None = Field(None, description="TAX12")


class Price(Canonical):
    """CTP: a pricing statement (e.g. UCP unit cost, RES resale, MSR suggested retail)."""

    class_of_trade: Code | None = Field(None, description="CTP01")
    price_code: Code | None = Field(None, description="CTP02")
    unit_price: Amount | None = Field(None, description="CTP03")
    quantity: Amount | None = Field(None, description="CTP04")
    unit: Code | None = Field(None, description="CTP05-1")
    multiplier_qualifier: Code | None = Field(None, description="CTP06")
    multiplier: Amount | None = Field(None, description="CTP07")
    amount: Amount | None = Field(None, description="CTP08")
    basis: Code | None = Field(None, description="CTP09")
    condition_value: Text | None = Field(None, description="CTP10")
    multiple_price_quantity: Count | None = Field(None, description="CTP11")


class MonetaryAmount(Canonical):
    """AMT: a qualified amount (TT total transaction amount, 1 line item total, ...)."""

    qualifier: Qualifier = Field(description="AMT01")
    amount: Amount = Field(description="AMT02")
    credit_debit: Code | None = Field(None, description="AMT03")


class Marks(Canonical):
    """MAN: marks and numbers, e.g. GM SSCC-18, CP carrier-assigned package ID."""

    qualifier: Qualifier = Field(description="MAN01 / MAN04")
    number: Text = Field(description="MAN02 / MAN05")
    number_end: Text | None = Field(None, description="MAN03 / MAN06, end of a range")


class SalesRequirement(Canonical):
    """CSH: sales requirements (e.g. SC ship complete, N no back order)."""

    code: Code | None = Field(None, description="CSH01")
    action_code: Code | None = Field(None, description="CSH02 do-not-exceed action")
    amount: Amount | None = Field(None, description="CSH03")


class Discount(Canonical):
    """DIS: discount detail."""

    terms_type: Code = Field(description="DIS01")
    base_qualifier: Code = Field(description="DIS02")
    base_value: Amount = Field(description="DIS03")
    control_indicator: Code = Field(description="DIS04")
    amount_low: Amount | None = Field(None, description="DIS05")
    amount_high: Amount | None = Field(None, description="DIS06")


class Description(Canonical):
    """PID: a product description, free-form (type F) or structured (type S)."""

    type: Code = Field("F", description="PID01: F free-form, S structured")
    characteristic: Code | None = Field(None, description="PID02, e.g. 08 product")
    agency: Code | None = Field(None, description="PID03")
    code: Text | None = Field(None, description="PID04")
    text: Text | None = Field(None, description="PID05")

    @model_validator(mode="before")
    @classmethod
    def _says_something(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("text") is None and data.get("code") is None:
            raise ValueError("a description needs text (PID05) or a code (PID04)")
        return data


class PackDetail(Canonical):
    """PO4: how the item is packed (e.g. 12 eaches per case)."""

    pack: Count | None = Field(None, description="PO401 inner units per outer pack")
    size: NonNegative | None = Field(None, description="PO402")
    size_unit: Code | None = Field(None, description="PO403")
    packaging_code: Code | None = Field(None, description="PO404")
    weight_qualifier: Code | None = Field(None, description="PO405")
    gross_weight: NonNegative | None = Field(None, description="PO406 per pack")
    weight_unit: Code | None = Field(None, description="PO407")
    gross_volume: NonNegative | None = Field(None, description="PO408 per pack")
    volume_unit: Code | None = Field(None, description="PO409")
    length: NonNegative | None = Field(None, description="PO410")
    width: NonNegative | None = Field(None, description="PO411")
    height: NonNegative | None = Field(None, description="PO412")
    dimension_unit: Code | None = Field(None, description="PO413")
    inner_pack: Count | None = Field(None, description="PO414")


class Summary(Canonical):
    """CTT: the totals the sender stated (kept as sent; writers compute their own)."""

    line_count: Count | None = Field(None, description="CTT01")
    hash_total: Amount | None = Field(None, description="CTT02")
    weight: NonNegative | None = Field(None, description="CTT03")
    weight_unit: Code | None = Field(None, description="CTT04")
    volume: NonNegative | None = Field(None, description="CTT05")
    volume_unit: Code | None = Field(None, description="CTT06")
    description: Text | None = Field(None, description="CTT07")


def first_id(identifiers: list[Identifier], *qualifiers: str) -> str | None:
    """The value of the first identifier whose qualifier is one of ``qualifiers``."""
    for q in qualifiers:
        for ident in identifiers:
            if ident.qualifier == q:
                return ident.value
    return None


def gtin14(identifiers: list[Identifier]) -> str | None:
    """A GTIN-14 from the first numeric UK / EN / UP / UA / EO identifier, zero-padded."""
    for q in ("UK", "EN", "UP", "UA", "EO"):
        for ident in identifiers:
            v = ident.value
            if ident.qualifier == q and v.isdigit() and 8 <= len(v) <= 14:
                return v.zfill(14)
    return None
