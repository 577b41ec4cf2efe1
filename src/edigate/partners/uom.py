"""Unit-of-measure conversion between a partner's units and ours, exact in both directions.

The partner orders 10 CA at 54.00 per case; we stock EA and one case holds 12: that is
120 EA at 4.50. Quantities are multiplied by the factor and unit prices divided by it, in
:class:`~decimal.Decimal` with traps on inexact results, so a conversion either is exact or
says why not: a quantity that would become fractional in a unit counted whole (``integral``)
is an error, and so is a price that does not divide exactly, unless the map allows rounding
to ``price_decimals``. The factor may differ per SKU (a gadget case holds 6).

Usage::

    uom.to_internal(Decimal("10"), "CA", Decimal("54.00"))     # Converted(120, "EA", 4.50)
    uom.to_partner(Decimal("120"), "EA", Decimal("4.50"), partner_unit="CA")
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, NamedTuple

from .errors import UomError
from .mapfile import UomSection

#: Enough digits that an exact product or quotient is never rounded.
_PRECISION = 60
_TRAPS = [decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
#: The default context at ``_PRECISION`` digits, with inexact results trapped: made once,
#: as entering a ``localcontext`` for every quantity and price costs more than the sums.
_EXACT = decimal.Context(prec=_PRECISION, traps=[*_TRAPS, decimal.Inexact, decimal.Rounded])
#: The same, rounding half up instead, as invoices round to the cent (``price_decimals``).
_ROUNDING = decimal.Context(prec=_PRECISION, rounding=decimal.ROUND_HALF_UP, traps=_TRAPS)


class Converted(NamedTuple):
    quantity: Decimal
    unit: str
    unit_price: Decimal | None


@dataclass(frozen=True, slots=True)
class Conversion:
    """1 ``partner_unit`` = ``factor`` ``internal_unit`` (or ``per_sku[sku]``)."""

    partner_unit: str
    internal_unit: str
    factor: Decimal
    per_sku: Mapping[str, Decimal] = field(default_factory=dict)

    def factor_for(self, sku: str | None) -> Decimal:
        return self.per_sku.get(sku, self.factor) if sku is not None else self.factor


class UomTable:
    """The conversions of one partner, plus which units are counted whole."""

    def __init__(
        self,
        conversions: Iterable[Conversion] = (),
        *,
        integral: Iterable[str] = (),
        unknown: Literal["pass_through", "reject_line"] = "pass_through",
        price_decimals: int | None = None,
        listed: Iterable[str] = (),
    ):
        self.conversions = {c.partner_unit: c for c in conversions}
        self.integral = frozenset(integral)
        #: Units the map names under ``units:``: known, taken as they are (reject_line).
        self.listed = frozenset(listed)
        self.unknown = unknown
        self.price_decimals = price_decimals

    @classmethod
    def from_section(cls, section: UomSection | None) -> UomTable:
        if section is None:
            return cls()
        return cls(
            (
                Conversion(unit, conv.internal, conv.factor, dict(conv.per_sku))
                for unit, conv in section.conversions.items()
            ),
            integral=[unit for unit, info in section.units.items() if info.integral],
            unknown=section.unknown,
            price_decimals=section.price_decimals,
            listed=section.units,
        )

    def to_internal(
        self,
        quantity: Decimal,
        unit: str,
        unit_price: Decimal | None = None,
        *,
        sku: str | None = None,
    ) -> Converted:
        """The partner's quantity, unit and price in ours; :class:`UomError` if not exact."""
        self._whole(quantity, unit)
        conv = self.conversions.get(unit)
        if conv is None:
            if self.unknown == "reject_line" and unit not in self.listed:
                raise UomError(
                    f"unit {unit!r} has no conversion in the map and is not one of its units",
                    reason="unknown_unit",
                    unit=unit,
                )
            return Converted(quantity, unit, unit_price)
        factor = conv.factor_for(sku)
        new_quantity = _exact(_EXACT.multiply, quantity, factor)
        if new_quantity is None:
            raise UomError(
                f"{quantity} x {factor} is too long to be exact", reason="fractional", unit=unit
            )
        if conv.internal_unit in self.integral and new_quantity != new_quantity.to_integral_value():
            self._whole(new_quantity, conv.internal_unit, f"{quantity} {unit} x {factor}")
        price = (
            None if unit_price is None else self._price(unit_price, factor, divide=True, unit=unit)
        )
        return Converted(new_quantity, conv.internal_unit, price)

    def to_partner(
        self,
        quantity: Decimal,
        unit: str,
        unit_price: Decimal | None = None,
        *,
        partner_unit: str | None = None,
        sku: str | None = None,
    ) -> Converted:
        """Our quantity, unit and price in ``partner_unit`` (unchanged when it is ours)."""
        self._whole(quantity, unit)
        if partner_unit is None or partner_unit == unit:
            return Converted(quantity, unit, unit_price)
        conv = self.conversions.get(partner_unit)
        if conv is None or conv.internal_unit != unit:
            raise UomError(
                f"no conversion from our {unit!r} to the partner's {partner_unit!r}",
                reason="wrong_unit",
                unit=partner_unit,
            )
        factor = conv.factor_for(sku)
        new_quantity = _exact(_EXACT.divide, quantity, factor)
        if new_quantity is None:
            raise UomError(
                f"{quantity} {unit} is not a whole number of {partner_unit} ({factor} {unit} each)",
                reason="fractional",
                unit=partner_unit,
            )
        if partner_unit in self.integral and new_quantity != new_quantity.to_integral_value():
            self._whole(new_quantity, partner_unit, f"{quantity} {unit} / {factor}")
        price = (
            None
            if unit_price is None
            else self._price(unit_price, factor, divide=False, unit=partner_unit)
        )
        return Converted(new_quantity, partner_unit, price)

    def _whole(self, quantity: Decimal, unit: str, how: str | None = None) -> None:
        if unit in self.integral and quantity != quantity.to_integral_value():
            made = f" ({how})" if how else ""
            raise UomError(
                f"quantity {quantity} {unit}{made} is fractional, but {unit} is counted whole",
                reason="fractional",
                unit=unit,
            )

    def _price(self, price: Decimal, factor: Decimal, *, divide: bool, unit: str) -> Decimal:
        """The converted price: exact, or with ``price_decimals`` set, at most that many
        places. Into our units (``divide``) an exact 1.00 / 8 = 0.125 is rounded too: the
        ERP was promised N places. Back to the partner's, a product is exact and kept, so
        the lines still add up to the ERP's own amounts."""
        places = self.price_decimals
        result = _exact(_EXACT.divide if divide else _EXACT.multiply, price, factor)
        if result is None:
            if places is None:
                raise UomError(
                    f"unit price {price} / {factor} is not exact; set uom.price_decimals to round",
                    reason="inexact_price",
                    unit=unit,
                )
            ctx = _ROUNDING
            result = ctx.divide(price, factor) if divide else ctx.multiply(price, factor)
        exponent = result.as_tuple().exponent
        exact_enough = not isinstance(exponent, int) or exponent >= -(places or 0)
        if places is None or not divide or exact_enough:
            return result
        # Only places are dropped, so the result keeps within the context's digits (a price
        # of 60 digits is rounded by the division already, and has no places left).
        return result.quantize(_quantum(places), context=_ROUNDING)


@functools.lru_cache(maxsize=32)
def _quantum(places: int) -> Decimal:
    """``10 ** -places``, made once per number of places."""
    return _ROUNDING.scaleb(Decimal(1), -places)


def _exact(
    operation: Callable[[Decimal, Decimal], Decimal], a: Decimal, b: Decimal
) -> Decimal | None:
    """``operation(a, b)`` in :data:`_EXACT`; None when the result is not exact."""
    try:
        return operation(a, b)
    except (decimal.Inexact, decimal.Rounded):
        return None
