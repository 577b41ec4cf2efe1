"""Unit conversion: exact Decimal in both directions, integral units, per-SKU factors."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edigate.partners.errors import UomError
from edigate.partners.mapfile import UomSection
from edigate.partners.uom import Conversion, Converted, UomTable

SECTION = UomSection.model_validate(
    {
        "conversions": {
            "CA": {"internal": "EA", "factor": "12", "per_sku": {"GAD-200-SS": "6"}},
            "DZ": {"internal": "EA", "factor": "12"},
            "KG": {"internal": "LB", "factor": "2.20462"},
        },
        "units": {"EA": {"integral": "true"}, "CA": {"integral": "true"}},
    }
)
UOM = UomTable.from_section(SECTION)


def test_case_to_each_and_back_exactly() -> None:
    inbound = UOM.to_internal(D("10"), "CA", D("54.00"))
    assert inbound == Converted(D("120"), "EA", D("4.50"))
    assert str(inbound.unit_price) == "4.50"
    back = UOM.to_partner(inbound.quantity, "EA", inbound.unit_price, partner_unit="CA")
    assert back == Converted(D("10"), "CA", D("54.00"))
    assert str(back.unit_price) == "54.00"


def test_per_sku_factor() -> None:
    assert UOM.to_internal(D("5"), "CA", D("96.00"), sku="GAD-200-SS") == Converted(
        D("30"), "EA", D("16.00")
    )
    assert UOM.to_internal(D("5"), "CA", D("96.00"), sku="OTHER") == Converted(
        D("60"), "EA", D("8.00")
    )
    assert UOM.to_partner(D("30"), "EA", D("16"), partner_unit="CA", sku="GAD-200-SS") == (
        Converted(D("5"), "CA", D("96"))
    )


def test_units_without_conversion_pass_through() -> None:
    assert UOM.to_internal(D("3"), "EA", D("1.25")) == Converted(D("3"), "EA", D("1.25"))
    assert UOM.to_internal(D("2.5"), "PL", None) == Converted(D("2.5"), "PL", None)
    assert UOM.to_partner(D("3"), "EA", None) == Converted(D("3"), "EA", None)


def test_unknown_unit_rejected_when_configured() -> None:
    strict = UomTable.from_section(UomSection.model_validate({"unknown": "reject_line"}))
    with pytest.raises(UomError) as info:
        strict.to_internal(D("1"), "PL")
    assert info.value.reason == "unknown_unit" and info.value.unit == "PL"


def test_a_unit_the_map_lists_is_known_without_a_conversion() -> None:
    """With ``unknown: reject_line``, a unit named under ``units:`` (ours, taken as it is)
    is known: a map need not convert EA into itself to accept it."""
    strict = UomTable.from_section(
        UomSection.model_validate({"unknown": "reject_line", "units": {"EA": {"integral": True}}})
    )
    assert strict.to_internal(D("3"), "EA", D("1.25")) == Converted(D("3"), "EA", D("1.25"))
    with pytest.raises(UomError, match="unit 'BX' has no conversion in the map and is not one"):
        strict.to_internal(D("1"), "BX")


def test_fraction_of_an_integral_unit_is_an_error_both_ways() -> None:
    with pytest.raises(UomError, match=r"2.5 CA \(30 EA / 12\) is fractional") as info:
        UOM.to_partner(D("30"), "EA", D("4.50"), partner_unit="CA")
    assert info.value.reason == "fractional"
    with pytest.raises(UomError, match="is not a whole number of CA"):
        UOM.to_partner(D("1"), "EA", None, partner_unit="CA", sku="GAD-200-SS")  # 1/6
    with pytest.raises(UomError, match=r"1.2 EA \(0.1 DZ x 12\) is fractional, but EA is"):
        UOM.to_internal(D("0.1"), "DZ")  # DZ may be fractional, EA may not
    assert UOM.to_internal(D("0.25"), "DZ").quantity == D("3")
    with pytest.raises(UomError, match=r"2\.5 CA is fractional"):
        UOM.to_internal(D("2.5"), "CA")  # the partner's own unit is whole too
    # a non-integral unit may be fractional
    assert UOM.to_internal(D("1.5"), "KG").quantity == D("3.306930")


def test_inexact_price_is_an_error_unless_rounding_is_allowed() -> None:
    with pytest.raises(UomError, match=r"not exact; set uom\.price_decimals") as info:
        UOM.to_internal(D("5"), "CA", D("96.50"), sku="GAD-200-SS")
    assert info.value.reason == "inexact_price"
    rounding = UomTable.from_section(SECTION.model_copy(update={"price_decimals": 4}))
    got = rounding.to_internal(D("5"), "CA", D("96.50"), sku="GAD-200-SS")
    assert got == Converted(D("30"), "EA", D("16.0833"))
    assert str(got.unit_price) == "16.0833"


def test_price_decimals_bounds_every_converted_price_even_a_huge_one() -> None:
    """price_decimals promises the ERP N places: an exact 1.00 / 8 = 0.125 is rounded too
    (half up, as invoices round); a price of more digits than the context holds is rounded,
    not a decimal.InvalidOperation traceback."""
    two = UomTable([_conv(D("8"))], integral=[], price_decimals=2)
    assert two.to_internal(D("1"), "CA", D("1.00")).unit_price == D("0.13")
    assert two.to_internal(D("1"), "CA", D("1.04")).unit_price == D("0.13")
    assert two.to_internal(D("1"), "CA", D("16.00")).unit_price == D("2.00")
    # Back to the partner's unit the product is exact and kept: 10 CA at 14.814 are the
    # ERP's own 120 EA at 1.2345 (148.14), where 14.81 would make 148.10.
    back = two.to_partner(D("80"), "EA", D("1.2345"), partner_unit="CA")
    assert back == Converted(D("10"), "CA", D("9.8760"))
    huge = UomTable([_conv(D("12"))], integral=[], price_decimals=2)
    for digits in (57, 59, 61):  # was decimal.InvalidOperation from quantize past 60 digits
        price = huge.to_internal(D("1"), "CA", D("1" + "0" * digits + ".01")).unit_price
        assert price is not None and price.as_tuple().exponent >= -2


def test_wrong_partner_unit() -> None:
    with pytest.raises(UomError, match="no conversion from our 'LB' to the partner's 'CA'"):
        UOM.to_partner(D("1"), "LB", None, partner_unit="CA")
    with pytest.raises(UomError, match="no conversion"):
        UOM.to_partner(D("1"), "EA", None, partner_unit="PL")


@settings(max_examples=200, deadline=None)
@given(
    cases=st.integers(min_value=0, max_value=10**9),
    cents=st.integers(min_value=0, max_value=10**9),
    factor=st.sampled_from(
        [D("1"), D("2"), D("4"), D("5"), D("6"), D("8"), D("10"), D("12"), D("24"), D("100")]
    ),
)
def test_round_trip_is_exact(cases: int, cents: int, factor: D) -> None:
    """Whole cases and any price: in and back out gives the same numbers, when exact."""
    table = UomTable([_conv(factor)], integral=["CA", "EA"], price_decimals=None)
    price = D(cents).scaleb(-2)
    try:
        inbound = table.to_internal(D(cases), "CA", price)
    except UomError as exc:
        assert exc.reason == "inexact_price"
        assert not _terminates(Fraction(price) / Fraction(factor))
        return
    assert inbound.quantity == D(cases) * factor
    assert inbound.unit_price is not None and inbound.unit_price * factor == price
    back = table.to_partner(inbound.quantity, "EA", inbound.unit_price, partner_unit="CA")
    assert back.quantity == D(cases) and back.unit_price == price


def _conv(factor: D) -> Conversion:
    return Conversion("CA", "EA", factor)


def _terminates(value: Fraction) -> bool:
    """A fraction has a finite decimal expansion iff its denominator is 2^a * 5^b."""
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1
