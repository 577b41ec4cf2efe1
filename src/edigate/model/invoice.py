"""The canonical invoice (what an X12 810 is written from).

The total must reconcile: lines (quantity x price, each rounded to the cent) + charges -
allowances + tax. An invoice whose stated total disagrees is refused with the arithmetic
spelled out, because a partner's accounts-payable system will refuse it later, and later
is more expensive. For the same reason every tax, allowance and charge that changes the
total must state its amount: a rate alone would leave the arithmetic to the partner.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import Amount, Canonical, Code, NonNegative, Text
from .codes import (
    OFF_INVOICE_EXCLUDED_METHODS,
    PURPOSE_CODES,
    Indicator,
    Purpose,
    fill_coded,
    priced_amount,
)
from .common import (
    FOB,
    AllowanceCharge,
    Carrier,
    DateRef,
    Description,
    Identifier,
    Note,
    PackDetail,
    Party,
    Reference,
    Tax,
    Terms,
)
from .lines import ItemIds

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    """Round to the cent, half up (the usual commercial rounding).

    A ValueError, so that validation reports it, for an amount too large to hold to the
    cent (Decimal's 28 digits): never an invoice's, and no X12 amount element holds it.
    """
    try:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"amount {value} is too large to state to the cent") from None


def finer_than_cents(value: Decimal) -> bool:
    """True for an amount with a fraction of a cent (0.125): one no N2 element (SAC05, ITD08)
    can state, and one that TDS, summing to the cent, would silently round."""
    scaled = value.scaleb(2)
    return scaled != scaled.to_integral_value()


def _to_the_cent(items: list[Any], field: str, amounts: tuple[str, ...], elements: str) -> Any:
    """``items`` unchanged, or a ValueError naming each amount finer than a cent by its
    place in the list: an invoice's charges and terms are N2 elements (``elements``), and
    the ERP should hear of all of them at once, not of the first the X12 writer meets."""
    wrong = [
        f"{field}[{index}].{name} {value}"
        for index, item in enumerate(items)
        for name in amounts
        if (value := getattr(item, name)) is not None and finer_than_cents(value)
    ]
    if wrong:
        raise ValueError(
            f"{', '.join(wrong)}: more than 2 decimals; expected an amount to the cent "
            f"({elements}: N2)"
        )
    return items


def affects_total(ac: AllowanceCharge) -> bool:
    """True for allowances and charges settled on the invoice itself (not bill-backs)."""
    return ac.indicator in (Indicator.ALLOWANCE, Indicator.CHARGE) and (
        ac.method_of_handling not in OFF_INVOICE_EXCLUDED_METHODS
    )


def net_of(acs: list[AllowanceCharge]) -> tuple[Decimal, Decimal]:
    """(charges, allowances) that change the total, as positive sums."""
    charges = Decimal(0)
    allowances = Decimal(0)
    for ac in acs:
        if affects_total(ac) and ac.amount is not None:
            if ac.indicator is Indicator.CHARGE:
                charges += ac.amount
            else:
                allowances += ac.amount
    return charges, allowances


class InvoiceTax(Tax):
    """TXI on an invoice: the amount is required, as the ERP must state the tax it bills.

    A rate alone (``TXI*ST**7.5``) would leave the tax out of TDS and the partner to work it
    out on a base we never stated; state ``amount`` 0 for an exempt tax.
    """

    amount: Amount = Field(description="TXI02, required on an invoice (0 when exempt)")

    @model_validator(mode="before")
    @classmethod
    def _has_amount(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("amount") is None:
            rate = data.get("percent")
            given = f" (percent {rate} is given)" if rate is not None else ""
            raise ValueError(
                f"tax {data.get('type_code')} has no amount{given}; an invoice must state the "
                "tax it bills (TXI02 amount) so TDS reconciles"
            )
        return data

    @field_validator("amount")
    @classmethod
    def _to_the_cent(cls, amount: Decimal) -> Decimal:
        if finer_than_cents(amount):
            raise ValueError(
                f"tax amount {amount} has more than 2 decimals; expected an amount to the cent, "
                "as TDS adds the taxes up to the cent"
            )
        return amount


class InvoiceLine(ItemIds, Canonical):
    """An IT1 loop: what was invoiced, how many, at what price."""

    line_number: Text | None = Field(None, description="IT101 (usually the PO line)")
    sku: Text | None = Field(None, description="our internal SKU (the ERP's item number)")
    quantity: NonNegative = Field(description="IT102 quantity invoiced")
    unit: Code = Field(description="IT103")
    unit_price: NonNegative = Field(description="IT104")
    price_basis: Code | None = Field(None, description="IT105, e.g. PE")
    identifiers: list[Identifier] = Field(default_factory=list, description="IT106/07 ...")
    descriptions: list[Description] = Field(default_factory=list, description="PID")
    pack: PackDetail | None = Field(None, description="PO4")
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateRef] = Field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list, description="SAC")
    taxes: list[InvoiceTax] = Field(default_factory=list, description="TXI")

    _charges_to_the_cent = field_validator("allowances_charges")(
        lambda acs: _to_the_cent(acs, "allowances_charges", ("amount",), "SAC05")
    )

    @property
    def extended_amount(self) -> Decimal:
        """quantity x unit price, rounded to the cent; a price per hundred (IT105 HP) or
        per thousand (TP) is for that many units, as fasteners and paper are priced."""
        return cents(priced_amount(self.quantity, self.unit_price, self.price_basis))


class Totals(Canonical):
    """The arithmetic behind TDS01, for people and for the writer."""

    lines: Amount
    charges: Amount
    allowances: Amount
    tax: Amount
    total: Amount


class Invoice(Canonical):
    """An invoice; written as an 810. ``total_amount`` is TDS01, filled in when absent."""

    document_type: Literal["invoice"] = "invoice"
    invoice_number: Text = Field(description="BIG02")
    invoice_date: dt.date = Field(description="BIG01")
    po_number: Text | None = Field(None, description="BIG04")
    po_date: dt.date | None = Field(None, description="BIG03")
    release_number: Text | None = Field(None, description="BIG05")
    transaction_type: Code | None = Field(None, description="BIG07, e.g. DI debit, CR credit")
    purpose: Purpose = Field(Purpose.ORIGINAL, description="friendly form of purpose_code")
    purpose_code: Code = Field("00", description="BIG08")
    currency: Code | None = Field(None, description="CUR02")
    notes: list[Note] = Field(default_factory=list, description="NTE")
    references: list[Reference] = Field(default_factory=list, description="REF")
    parties: list[Party] = Field(default_factory=list, description="N1 loops")
    terms: list[Terms] = Field(default_factory=list, description="ITD")
    dates: list[DateRef] = Field(default_factory=list, description="DTM, e.g. 011 shipped")
    fob: FOB | None = None
    lines: list[InvoiceLine] = Field(min_length=1)
    allowances_charges: list[AllowanceCharge] = Field(
        default_factory=list, description="summary SAC"
    )
    taxes: list[InvoiceTax] = Field(default_factory=list, description="summary TXI")
    carrier: Carrier | None = Field(None, description="CAD (summary carrier detail)")
    shipped_weight: NonNegative | None = Field(None, description="ISS03")
    weight_unit: Code | None = Field(None, description="ISS04")
    total_amount: Amount | None = Field(
        None, description="TDS01; must equal lines + charges - allowances + tax"
    )

    _charges_to_the_cent = field_validator("allowances_charges")(
        lambda acs: _to_the_cent(acs, "allowances_charges", ("amount",), "SAC05")
    )
    _terms_to_the_cent = field_validator("terms")(
        lambda terms: _to_the_cent(
            terms, "terms", ("discount_amount", "deferred_amount"), "ITD08/ITD10"
        )
    )

    @model_validator(mode="before")
    @classmethod
    def _coded(cls, data: Any) -> Any:
        return fill_coded(data, "purpose", "purpose_code", PURPOSE_CODES, Purpose.OTHER, "00")

    @model_validator(mode="after")
    def _reconciles(self) -> Invoice:
        for where, acs in self._all_acs():
            for ac in acs:
                if not affects_total(ac):
                    continue
                label = ac.code or ac.description or ac.agency_code
                if ac.amount is None:
                    raise ValueError(
                        f"{where}: {ac.indicator.value} {label} has no amount; an invoice must "
                        "state it (SAC05) so the total reconciles"
                    )
                if ac.amount < 0:
                    raise ValueError(
                        f"{where}: {ac.indicator.value} {label} amount {ac.amount} is negative; "
                        "state allowances and charges as positive amounts"
                    )
        totals = self.totals()
        if self.total_amount is None:
            self.total_amount = totals.total
        elif cents(self.total_amount) != totals.total or self.total_amount != cents(
            self.total_amount
        ):
            raise ValueError(
                f"total_amount {self.total_amount} does not reconcile: lines {totals.lines} "
                f"+ charges {totals.charges} - allowances {totals.allowances} + tax "
                f"{totals.tax} = {totals.total}"
            )
        return self

    def _all_acs(self) -> list[tuple[str, list[AllowanceCharge]]]:
        out = [("invoice", self.allowances_charges)]
        for index, line in enumerate(self.lines):
            out.append((f"line {line.line_number or index + 1}", line.allowances_charges))
        return out

    def totals(self) -> Totals:
        """Lines, charges, allowances and tax, and the total they make (all to the cent)."""
        lines = sum((ln.extended_amount for ln in self.lines), Decimal(0))
        charges = Decimal(0)
        allowances = Decimal(0)
        tax = Decimal(0)
        for _, acs in self._all_acs():
            c, a = net_of(acs)
            charges += c
            allowances += a
        for t in self.taxes:
            tax += t.amount
        for ln in self.lines:
            for t in ln.taxes:
                tax += t.amount
        lines, charges = cents(lines), cents(charges)
        allowances, tax = cents(allowances), cents(tax)
        return Totals(
            lines=lines,
            charges=charges,
            allowances=allowances,
            tax=tax,
            total=lines + charges - allowances + tax,
        )
