"""SKU cross-reference: both directions, unknown-item policies, duplicates with their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from edigate.partners.loader import parse_yaml, validate
from edigate.partners.mapfile import PartnerMap
from edigate.partners.xref import ItemId, SkuXref, build_xref

CSV = """\
sku,vendor_item,upc,description
WID-100-BLU,WID-100,012345678905,"Widget, blue"
GAD-200-SS,GAD-200,012345678912,Gadget
CLP-050-ST,CLP-050,,Clip without UPC
"""

MAP = """\
format: x12
sku:
  file: skus.csv
  columns: {sku: sku, ids: {VN: vendor_item, UP: upc}}
  unknown: UNKNOWN
"""


def load(
    tmp_path: Path, csv_text: str = CSV, unknown: str = "reject_line"
) -> tuple[SkuXref, list[str]]:
    (tmp_path / "maps").mkdir(exist_ok=True)
    (tmp_path / "maps/skus.csv").write_text(csv_text, encoding="utf-8")
    return from_files(tmp_path, unknown)


def from_files(tmp_path: Path, unknown: str = "reject_line") -> tuple[SkuXref, list[str]]:
    """The map's cross-reference from whatever ``maps/`` holds, and its problems."""
    source = parse_yaml(MAP.replace("UNKNOWN", unknown), "maps/m.yaml")
    pmap, errors = validate(PartnerMap, source)
    assert errors == [] and pmap is not None and pmap.sku is not None
    xref, problems = build_xref(pmap.sku, source, tmp_path / "maps")
    return xref, [str(p) for p in problems]


def test_partner_id_to_sku_and_back(tmp_path: Path) -> None:
    xref, problems = load(tmp_path)
    assert problems == []
    found = xref.to_internal("VN", "GAD-200")
    assert (found.status, found.sku, found.action, found.ok) == (
        "found",
        "GAD-200-SS",
        "accept",
        True,
    )
    assert xref.to_internal("UP", "012345678905").sku == "WID-100-BLU"
    assert xref.to_internal("UP", " 012345678905 ").sku == "WID-100-BLU"
    # outbound: the partner's own IDs, in qualifier preference order (column order here)
    assert xref.to_partner("WID-100-BLU") == [ItemId("VN", "WID-100"), ItemId("UP", "012345678905")]
    assert xref.to_partner("CLP-050-ST") == [ItemId("VN", "CLP-050")]
    assert xref.to_partner("NOPE") == []
    assert len(xref) == 3


def test_qualifier_matters(tmp_path: Path) -> None:
    xref, _ = load(tmp_path)
    assert xref.to_internal("UP", "WID-100").status == "unknown"
    assert xref.to_internal("BP", "WID-100").status == "unknown"


def test_resolve_line_with_several_ids(tmp_path: Path) -> None:
    xref, _ = load(tmp_path)
    # the sample's PO1: UP, VN and the buyer's IN (not in the table: ignored)
    res = xref.resolve([("UP", "012345678912"), ("VN", "GAD-200"), ("IN", "A-100300")])
    assert res.sku == "GAD-200-SS" and res.matched == ItemId("VN", "GAD-200")
    only_upc = xref.resolve([("UP", "012345678905")])
    assert only_upc.sku == "WID-100-BLU" and only_upc.matched == ItemId("UP", "012345678905")


def test_conflicting_ids_are_never_accepted(tmp_path: Path) -> None:
    xref, _ = load(tmp_path, unknown="pass_through")
    res = xref.resolve([("VN", "WID-100"), ("UP", "012345678912")])
    assert res.status == "conflict" and res.sku is None
    assert res.action == "reject_line"
    assert "VN WID-100 -> WID-100-BLU" in (res.message or "")


@pytest.mark.parametrize("policy", ["reject_line", "reject_order", "pass_through"])
def test_unknown_item_follows_policy(tmp_path: Path, policy: str) -> None:
    xref, _ = load(tmp_path, unknown=policy)
    res = xref.resolve([("VN", "XYZ-1"), ("IN", "A-1")])
    assert res.status == "unknown" and res.sku is None and res.action == policy
    assert res.message == "unknown item (VN XYZ-1, IN A-1): not in maps/skus.csv"


def test_duplicate_partner_id_in_csv_names_csv_line(tmp_path: Path) -> None:
    _, problems = load(tmp_path, CSV + "CLP-050-XX,CLP-050,,again\n")
    assert problems == [
        "maps/skus.csv:5: duplicate partner item VN CLP-050 (first on line 4, SKU CLP-050-ST)"
    ]


def test_duplicate_sku_in_csv_names_csv_line(tmp_path: Path) -> None:
    _, problems = load(tmp_path, CSV + "\nWID-100-BLU,WID-999,,again\n")
    assert problems == ["maps/skus.csv:6: duplicate SKU WID-100-BLU (first on line 2)"]


def test_quoted_multiline_cell_keeps_line_numbers_right(tmp_path: Path) -> None:
    text = CSV.replace('"Widget, blue"', '"Widget,\nblue"') + "X-1,GAD-200,,dup\n"
    _, problems = load(tmp_path, text)
    assert problems == [
        "maps/skus.csv:6: duplicate partner item VN GAD-200 (first on line 4, SKU GAD-200-SS)"
    ]


def test_a_stray_quote_is_an_error_at_the_row_it_opens(tmp_path: Path) -> None:
    """Read leniently, a quote left open took the next rows into a description: their
    items were unknown, and `partners check` said ok (review finding)."""
    widget = '"Widget, blue"'
    _, problems = load(tmp_path, CSV.replace(widget, '"Widget, blue').replace("Gadget", '"Gadget"'))
    assert problems == [
        "maps/skus.csv:2: not valid CSV from the row starting here: ',' expected after '\"' "
        "(a stray quote?)"
    ]
    _, problems = load(tmp_path, CSV + 'LAST-1,LAST,,"open\n')
    assert problems == [
        "maps/skus.csv:5: not valid CSV from the row starting here: unexpected end of data "
        "(a stray quote?)"
    ]
    closed_late = CSV.replace(widget, '"Widget, blue').replace(",Gadget\n", ',Gadget"\n')
    _, problems = load(tmp_path, closed_late)
    assert problems == [
        "maps/skus.csv:2: a quoted field runs on to line 3 and holds what reads as rows of "
        "their own (a stray quote?)"
    ]


def test_missing_column_and_bad_rows(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "sku,vendor\nA,B\n")
    assert problems == [
        "maps/skus.csv:1: column(s) vendor_item, upc not found (columns: sku, vendor)"
    ]
    _, problems = load(tmp_path, CSV + ",NEW-1,,\nLONELY,,,\n")
    assert problems == [
        "maps/skus.csv:5: empty SKU in column 'sku'",
        "maps/skus.csv:6: SKU LONELY has no partner item ID",
    ]


def test_a_byte_that_is_not_utf8_is_named_at_its_line(tmp_path: Path) -> None:
    """The decoder's own position is within its read chunk (319 for a byte 41 kB in):
    the message names the file line and column instead, and what to do."""
    rows = "".join(f"S-{n},V-{n},,row {n}\n" for n in range(1, 2000))
    data = (CSV + rows).encode().replace(b"row 1497\n", b"r\xe9sum\xe9 1497\n")
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps/skus.csv").write_bytes(data)
    _, problems = from_files(tmp_path)
    assert problems == [
        "maps/skus.csv:1501: byte 0xE9 (column 17) is not UTF-8: save the file as UTF-8"
    ]


def test_missing_csv_names_the_map_line(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    xref, problems = from_files(tmp_path)
    assert problems == ["maps/m.yaml:3: sku.file: SKU file maps/skus.csv not found"]
    assert not xref.loaded


INLINE = """\
format: csv
sku:
  qualifiers: [BP]
  items:
    - {sku: A-1, ids: {BP: X1, VN: V1}}
    - {sku: A-2, ids: {BP: X2}}
    - {sku: A-3, ids: {BP: X1}}
"""


def test_inline_table_and_its_duplicates(tmp_path: Path) -> None:
    source = parse_yaml(INLINE, "maps/i.yaml")
    pmap, errors = validate(PartnerMap, source)
    assert errors == [] and pmap is not None and pmap.sku is not None
    xref, problems = build_xref(pmap.sku, source, tmp_path)
    assert [str(p) for p in problems] == [
        "maps/i.yaml:7: duplicate partner item BP X1 (first on line 5, SKU A-1)"
    ]
    assert xref.to_internal("BP", "X2").sku == "A-2"
    assert xref.to_partner("A-1") == [ItemId("BP", "X1"), ItemId("VN", "V1")]


def test_sku_section_needs_exactly_one_source() -> None:
    source = parse_yaml("format: x12\nsku:\n  unknown: pass_through\n", "maps/m.yaml")
    _, errors = validate(PartnerMap, source)
    assert [str(e) for e in errors] == [
        "maps/m.yaml:2: sku: give either 'file' (a CSV beside the map) or 'items', not both"
    ]


def test_conflict_names_the_preferred_qualifier_first_and_padding_is_ignored(
    tmp_path: Path,
) -> None:
    xref, _ = load(tmp_path)
    # Sent UP first, VN second: VN is preferred (qualifiers: [VN, UP]) and named first.
    res = xref.resolve([("UP", " 012345678912 "), ("VN", "WID-100  ")])
    assert res.status == "conflict"
    assert res.message == (
        "item IDs name different SKUs: VN WID-100 -> WID-100-BLU, UP 012345678912 -> GAD-200-SS"
    )
    # Agreeing IDs: the answer is the preferred one's, whatever order they came in.
    agreed = xref.resolve([("UP", "012345678905"), ("VN", "WID-100 ")])
    assert agreed.sku == "WID-100-BLU" and agreed.matched == ItemId("VN", "WID-100")
