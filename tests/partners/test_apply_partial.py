"""apply_inbound re-validates only what the map can touch: the result must be exactly what
the whole-order round trip (dump everything, run the map on a deep copy, validate it all)
gives, and what the map cannot touch is carried over, not rebuilt."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edigate.model import Order
from edigate.partners import load_registry
from edigate.partners.apply import apply_inbound
from edigate.partners.errors import UomError
from edigate.partners.registry import Partner
from edigate.translate import translate_850
from edigate.x12 import TransactionSet, X12Reader

SAMPLE = Path(__file__).resolve().parents[2] / "samples/x12/850-004010-retailer.edi"

#: Rules on fields the example map leaves alone: whole objects, keyed and positional lists.
EXTRA_RULES = """
  - set: line.references[IA]
    copy: order.references[IA].value
  - set: line.notes[0].text
    value: mapped by the test
  - set: order.release_number
    value: R-1
    if_missing: true
  - set: line.price_basis
    copy: order.currency
"""


def sample_order() -> Order:
    (tx,) = [e for e in X12Reader(SAMPLE.read_bytes()).events() if isinstance(e, TransactionSet)]
    result = translate_850(tx)
    assert result.document is not None, result.findings
    return result.document


def whole_round_trip(order: Order, partner: Partner) -> tuple[str | None, list[Any]]:
    """The map as it ran before: every line and the order dumped whole, the rules on a deep
    copy, the whole result validated. The reference the faster path must match."""
    issues: list[Any] = []
    lines = []
    assert partner.xref is not None
    for line in order.lines:
        data = line.model_dump(exclude_none=True)
        found = partner.xref.resolve([(i.qualifier, i.value) for i in line.identifiers])
        if not found.ok:
            return None, issues
        data["sku"] = found.sku
        if line.quantity is not None and line.unit is not None:
            try:
                conv = partner.uom.to_internal(
                    line.quantity, line.unit, line.unit_price, sku=found.sku
                )
            except UomError:
                return None, issues
            if (conv.quantity, conv.unit, conv.unit_price) != (
                line.quantity,
                line.unit,
                line.unit_price,
            ):
                data["as_sent"] = {
                    k: v
                    for k, v in (
                        ("quantity", line.quantity),
                        ("unit", line.unit),
                        ("unit_price", line.unit_price),
                    )
                    if v is not None
                }
                data["quantity"], data["unit"] = conv.quantity, conv.unit
                if conv.unit_price is not None:
                    data["unit_price"] = conv.unit_price
        lines.append(data)
    document = order.model_dump(exclude_none=True)
    document["lines"] = lines
    applied = partner.rules.apply(document, "inbound")
    issues.extend(applied.issues)
    if applied.errors:
        return None, issues
    try:
        mapped = Order.model_validate(applied.document)
    except ValidationError:
        return None, issues
    return mapped.model_dump_json(exclude_none=True, indent=2), issues


def with_extra_rules(config_copy: Path, edit: Callable[[Path, str, str], int]) -> Partner:
    map_file = config_copy / "maps/acme-retail.yaml"
    edit(map_file, "    if_missing: true\n", "    if_missing: true\n" + EXTRA_RULES)
    partner = load_registry(config_copy).get("acme-retail")
    assert partner is not None
    return partner


def test_the_example_map_gives_what_the_whole_round_trip_gives(example_dir: Path) -> None:
    partner = load_registry(example_dir).get("acme-retail")
    assert partner is not None
    order = sample_order()
    mapped = apply_inbound(order, partner)
    assert mapped.order is not None
    expected, issues = whole_round_trip(order, partner)
    assert mapped.order.model_dump_json(exclude_none=True, indent=2) == expected
    assert mapped.issues == issues
    # What validation reports as set is what validating the whole dump reported.
    assert expected is not None
    reference = Order.model_validate_json(expected)
    assert mapped.order.model_fields_set == reference.model_fields_set
    assert [line.model_fields_set for line in mapped.order.lines] == [
        line.model_fields_set for line in reference.lines
    ]


def test_rules_on_other_fields_give_what_the_whole_round_trip_gives(
    config_copy: Path, edit: Callable[[Path, str, str], int]
) -> None:
    partner = with_extra_rules(config_copy, edit)
    order = sample_order()
    mapped = apply_inbound(order, partner)
    assert mapped.order is not None, mapped.issues
    expected, issues = whole_round_trip(order, partner)
    assert mapped.order.model_dump_json(exclude_none=True, indent=2) == expected
    assert mapped.issues == issues
    first = mapped.order.lines[0]
    assert [(r.qualifier, r.value) for r in first.references] == [("IA", "VEND-00981")]
    assert [n.text for n in first.notes] == ["mapped by the test"]
    assert first.price_basis == "USD"
    assert mapped.order.release_number == "R-1"


def test_a_rule_writing_an_invalid_value_is_reported_on_its_field(
    config_copy: Path, edit: Callable[[Path, str, str], int]
) -> None:
    # price_basis is a code of at most 10 characters: the long value must fail validation.
    with_extra_rules(config_copy, edit)
    edit(
        config_copy / "maps/acme-retail.yaml",
        "copy: order.currency\n",
        "value: FAR-TOO-LONG-FOR-A-CODE\n",
    )
    partner = load_registry(config_copy).get("acme-retail")
    assert partner is not None
    mapped = apply_inbound(sample_order(), partner)
    assert mapped.order is None
    assert whole_round_trip(sample_order(), partner)[0] is None
    paths = {i.path for i in mapped.errors if i.code == "invalid_result"}
    assert paths == {f"lines.{n}.price_basis" for n in range(3)}


def test_what_the_map_cannot_touch_is_carried_over_and_the_input_is_unchanged(
    example_dir: Path,
) -> None:
    partner = load_registry(example_dir).get("acme-retail")
    assert partner is not None
    order = sample_order()
    before = order.model_dump_json()
    mapped = apply_inbound(order, partner)
    assert mapped.order is not None
    assert order.model_dump_json() == before
    # Descriptions and pack details are named by no rule: the validated objects are reused.
    assert mapped.order.lines[0].descriptions[0] is order.lines[0].descriptions[0]
    assert mapped.order.lines[0].pack is order.lines[0].pack
    # The ship-to party is rewritten by the store code table: a new object.
    assert mapped.order.parties is not order.parties
    assert mapped.order.lines[0].quantity == Decimal(120)


def test_touched_fields_name_every_field_a_rule_reads_or_writes(example_dir: Path) -> None:
    partner = load_registry(example_dir).get("acme-retail")
    assert partner is not None
    order_fields, line_fields = partner.rules.touched_fields("inbound")
    assert order_fields == {"parties", "carriers", "currency", "dates"}
    assert line_fields == {"dates"}
    # Outbound, the line rule (inbound only) is not run; the codes and the default are.
    assert partner.rules.touched_fields("outbound") == (
        frozenset({"parties", "carriers", "currency"}),
        frozenset(),
    )
