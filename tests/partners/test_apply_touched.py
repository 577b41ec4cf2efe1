"""apply_inbound validates only the fields a map may change (``_touched_model``), declared
as Order and OrderLine declare them: every value must give what the whole Order gives, the
same value or the same error at the same place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from edigate.model import Order, OrderLine
from edigate.partners import load_registry
from edigate.partners.apply import _touched_model, apply_inbound

from .test_apply_partial import sample_order, whole_round_trip

CODED = {"purpose", "purpose_code", "order_type", "order_type_code"}
ORDER_FIELDS = frozenset(f for f in Order.model_fields if f != "lines" and f not in CODED)
LINE_FIELDS = frozenset(OrderLine.model_fields)
VALUES: list[Any] = [
    "",
    "  ",
    "X",
    " AB ",
    "X" * 11,
    "ABCD",
    Decimal(-1),
    Decimal("NaN"),
    Decimal("1.50"),
    "1.5",
    "abc",
    None,
    5,
    -3,
    1.5,
    32,
    [],
    {},
    [{}],
    ["a"],
    [{"qualifier": "92", "value": "1"}],
    [{"qualifier": "DP"}],
    [{"role_code": "ST", "name": "x"}],
    [{"role": "ship_to", "name": "x"}],
    dt.date(2020, 1, 1),
    "2020-01-01",
    True,
    {"quantity": "x"},
    {"quantity": "2", "unit": " CA "},
]
BASE = {"po_number": "1", "po_date": dt.date(2020, 1, 1)}


def outcome(model: type[BaseModel], data: dict[str, Any], name: str, *, line: bool) -> Any:
    """The field's validated value (in the first line if ``line``), or the errors."""
    try:
        validated: Any = model.model_validate(data)
        return getattr(validated.lines[0] if line else validated, name)
    except ValidationError as exc:
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]


def part_outcome(
    touched: TypeAdapter[dict[str, Any]], data: dict[str, Any], name: str, *, line: bool
) -> Any:
    """The same through the touched fields' validator (a dict of what was given)."""
    try:
        validated = touched.validate_python(data)
        return (validated["lines"][0] if line else validated)[name]
    except ValidationError as exc:
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]


def test_touched_fields_validate_as_in_the_whole_order() -> None:
    touched = _touched_model(ORDER_FIELDS, LINE_FIELDS)
    assert touched is not None
    for name in ORDER_FIELDS:
        for value in VALUES:
            whole = outcome(Order, {**BASE, name: value}, name, line=False)
            part = part_outcome(touched, {name: value, "lines": []}, name, line=False)
            assert part == whole, (name, value)
    for name in LINE_FIELDS:
        for value in VALUES:
            whole = outcome(Order, {**BASE, "lines": [{name: value}]}, name, line=True)
            part = part_outcome(touched, {"lines": [{name: value}]}, name, line=True)
            assert part == whole, (name, value)


def test_fields_left_out_are_not_reported_as_set() -> None:
    touched = _touched_model(frozenset({"currency", "dates"}), frozenset({"dates"}))
    assert touched is not None
    part = touched.validate_python({"currency": "USD", "lines": [{"sku": "A"}, {}]})
    assert part == {"currency": "USD", "lines": [{"sku": "A"}, {}]}
    with pytest.raises(ValidationError, match="Extra inputs"):
        touched.validate_python({"po_number": "1", "lines": []})
    with pytest.raises(ValidationError, match="Extra inputs"):
        touched.validate_python({"lines": [{"line_number": "1"}]})


def test_a_map_touching_a_coded_field_validates_the_whole_order(
    config_copy: Path, edit: Callable[[Path, str, str], int]
) -> None:
    assert _touched_model(frozenset({"purpose_code"}), frozenset()) is None
    edit(
        config_copy / "maps/acme-retail.yaml",
        "    if_missing: true\n",
        "    if_missing: true\n  - set: order.purpose_code\n    value: '01'\n",
    )
    partner = load_registry(config_copy).get("acme-retail")
    assert partner is not None
    order = sample_order()
    mapped = apply_inbound(order, partner)
    # The Order's own validator sees the new code against the name: the whole order is
    # checked, as the whole round trip checks it.
    assert mapped.order is None
    assert [e.code for e in mapped.errors] == ["invalid_result"]
    assert "contradicts purpose_code '01'" in mapped.errors[0].message
    assert whole_round_trip(order, partner)[0] is None
