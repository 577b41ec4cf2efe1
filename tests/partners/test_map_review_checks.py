"""Map mistakes ``partners check`` must name at their line instead of accepting silently:
a unit converted into itself or into another converted unit, a preferred SKU qualifier
the table does not have, a SKU CSV column named twice in its header."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edigate.partners.registry import check_config

Edit = Callable[[Path, str, str], int]
CONVERSION = "CA: {internal: EA, factor: 12, per_sku: {GAD-200-SS: 6}}"


def problems(config: Path) -> list[str]:
    return [str(p) for p in check_config(config).problems]


def test_the_examples_have_none(config_copy: Path) -> None:
    assert problems(config_copy) == []


def test_a_unit_converted_into_itself(config_copy: Path, edit: Edit) -> None:
    path = config_copy / "maps/acme-retail.yaml"
    line = edit(path, CONVERSION, "CA: {internal: CA, factor: 12}")
    assert problems(config_copy) == [
        f"{path}:{line}: uom.conversions.CA.internal: CA is converted into itself by a factor "
        "other than 1; leave it out, or give factor 1 to take it as it is"
    ]


def test_our_own_unit_taken_as_it_is_beside_a_conversion(config_copy: Path, edit: Edit) -> None:
    """With ``unknown: reject_line`` an identity entry is how a partner may order in EA."""
    edit(
        config_copy / "maps/acme-retail.yaml",
        CONVERSION,
        CONVERSION + "\n    EA: {internal: EA, factor: 1}",
    )
    assert problems(config_copy) == []


def test_a_chain_of_conversions(config_copy: Path, edit: Edit) -> None:
    path = config_copy / "maps/acme-retail.yaml"
    line = edit(
        path, CONVERSION, "CA: {internal: BX, factor: 2}\n    BX: {internal: EA, factor: 6}"
    )
    assert problems(config_copy) == [
        f"{path}:{line}: uom.conversions.CA.internal: BX is also one of the partner's units "
        "(converted to EA): a unit is converted once, so give CA in our final unit directly"
    ]


def test_a_preferred_qualifier_the_table_does_not_have(config_copy: Path, edit: Edit) -> None:
    path = config_copy / "maps/acme-retail.yaml"
    line = edit(path, "qualifiers: [VN, UP]", "qualifiers: [VN, PU]")
    assert problems(config_copy) == [
        f"{path}:{line}: sku.qualifiers[1]: PU is not one of the table's qualifiers (UP, VN)"
    ]


def test_a_sku_column_named_twice(config_copy: Path, edit: Edit) -> None:
    path = config_copy / "maps/acme-retail-skus.csv"
    edit(path, "sku,vendor_item,upc,description", "sku,vendor_item,upc,upc")
    assert problems(config_copy) == [
        f"{path}:1: column(s) upc appear more than once in the header: rename the one the "
        "map should not read"
    ]


def test_a_rule_writing_a_unit_uom_converts(config_copy: Path, edit: Edit) -> None:
    path = config_copy / "maps/acme-retail.yaml"
    line = edit(path, "rules:\n", "rules:\n  - {set: line.unit, value: CA, if_missing: true}\n")
    assert problems(config_copy) == [
        f"{path}:{line + 1}: rules[0].value: CA: rules run after uom: converts units, so CA "
        "would reach the ERP unconverted; set the unit it becomes"
    ]


def test_a_rule_writing_an_item_id_sku_looks_up(config_copy: Path, edit: Edit) -> None:
    path = config_copy / "maps/acme-retail.yaml"
    line = edit(path, "rules:\n", 'rules:\n  - {set: "line.identifiers[VN].value", value: X}\n')
    assert problems(config_copy) == [
        f"{path}:{line + 1}: rules[0].set: line.identifiers[VN].value: rules run after the "
        "sku: lookup, so an item ID written here is never looked up; list the partner's IDs "
        "in sku: instead"
    ]


def test_an_outbound_table_with_an_inbound_only_default(config_copy: Path, edit: Edit) -> None:
    """Its default was accepted and never used: an unknown code went out as it was."""
    path = config_copy / "maps/acme-retail.yaml"
    item = edit(path, "  - name: service level\n", "  - name: service level\n")
    edit(
        path,
        "    unknown: warn\n",
        "    unknown: default\n    default: SG\n    direction: outbound\n",
    )
    assert problems(config_copy) == [
        f"{path}:{item}: codes[1]: 'unknown: default' stands in for a partner's unknown code "
        "inbound; an outbound table never uses it: use warn, keep or error"
    ]
