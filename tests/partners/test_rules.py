"""The rule language: code mappings, defaults and value rules on plain dicts."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from edigate.partners.loader import parse_yaml, validate
from edigate.partners.mapfile import PartnerMap
from edigate.partners.rules import MapIssue, RuleEngine


def engine(text: str) -> RuleEngine:
    source = parse_yaml("format: x12\n" + text, "maps/m.yaml")
    pmap, errors = validate(PartnerMap, source)
    assert errors == [], [str(e) for e in errors]
    assert pmap is not None
    return RuleEngine.from_map(pmap, source)


def map_errors(text: str) -> list[str]:
    source = parse_yaml("format: x12\n" + text, "maps/m.yaml")
    _, errors = validate(PartnerMap, source)
    return [str(e) for e in errors]


def order() -> dict[str, Any]:
    return {
        "po_number": "4500012345",
        "currency": None,
        "parties": [
            {
                "role": "ship_to",
                "name": "ACME DC",
                "identifiers": [{"qualifier": "92", "value": "0420"}],
            }
        ],
        "dates": [{"qualifier": "002", "date": dt.date(2026, 12, 4)}],
        "carriers": [{"scac": "UPSN", "service_level": "GROUND"}],
        "lines": [
            {"line_number": "1", "unit": "CA", "dates": []},
            {
                "line_number": "2",
                "unit": "BOX",
                "dates": [{"qualifier": "002", "date": dt.date(2026, 12, 1)}],
            },
        ],
    }


STORES = """\
codes:
  - name: ship-to store
    from: party[ship_to].identifiers[92]
    to: party[ship_to].identifiers[LOC]
    table: {"0420": DC-JOLIET, "0101": ST-0101}
"""


def test_code_mapping_inbound_and_outbound() -> None:
    rules = engine(STORES)
    doc = order()
    applied = rules.apply(doc)
    assert applied.issues == []
    ids = applied.document["parties"][0]["identifiers"]
    assert ids == [{"qualifier": "92", "value": "0420"}, {"qualifier": "LOC", "value": "DC-JOLIET"}]
    assert doc == order(), "the input is not modified"
    # outbound: our location back to their store code
    ours = {
        "parties": [{"role": "ship_to", "identifiers": [{"qualifier": "LOC", "value": "ST-0101"}]}]
    }
    out = rules.apply(ours, "outbound").document
    assert out["parties"][0]["identifiers"][1] == {"qualifier": "92", "value": "0101"}
    assert rules.codes[0].to_internal("0420") == "DC-JOLIET"
    assert rules.codes[0].to_partner("DC-JOLIET") == "0420"


def test_unknown_code_policies() -> None:
    doc = order()
    doc["parties"][0]["identifiers"][0]["value"] = "9999"
    error = engine(STORES).apply(doc)
    assert error.issues == [
        MapIssue(
            "error",
            "unknown_code",
            "ship-to store '9999' not in the table",
            "party[ship_to].identifiers[92]",
            None,
            "maps/m.yaml:3",
        )
    ]
    assert len(error.document["parties"][0]["identifiers"]) == 1
    warn = engine(STORES + "    unknown: warn\n").apply(doc)
    assert [i.severity for i in warn.issues] == ["warning"]
    assert warn.document["parties"][0]["identifiers"][1] == {"qualifier": "LOC", "value": "9999"}
    keep = engine(STORES + "    unknown: keep\n").apply(doc)
    assert keep.issues == []
    default = engine(STORES + "    unknown: default\n    default: DC-MAIN\n").apply(doc)
    assert default.document["parties"][0]["identifiers"][1]["value"] == "DC-MAIN"
    assert default.issues[0].message == "ship-to store '9999' not in the table; used 'DC-MAIN'"


def test_line_code_mapping_reports_the_line() -> None:
    rules = engine("codes:\n  - {from: line.unit, table: {BOX: BX, CA: CA}, direction: inbound}\n")
    doc = order()
    doc["lines"].append({"line_number": "3", "unit": "BAG"})
    applied = rules.apply(doc)
    assert [ln["unit"] for ln in applied.document["lines"]] == ["CA", "BX", "BAG"]
    assert [(i.line_index, i.message) for i in applied.issues] == [
        (2, "line.unit code 'BAG' not in the table")
    ]
    # inbound only: the outbound direction does nothing
    assert rules.apply({"lines": [{"unit": "BX"}]}, "outbound").document == {
        "lines": [{"unit": "BX"}]
    }


def test_defaults_fill_only_missing_fields() -> None:
    rules = engine(
        "defaults:\n  order.currency: USD\n  line.unit: EA\n  order.references[IA]: V1\n"
    )
    doc = order()
    doc["lines"][0]["unit"] = ""
    out = rules.apply(doc).document
    assert out["currency"] == "USD"
    assert [ln["unit"] for ln in out["lines"]] == ["EA", "BOX"]
    assert out["references"] == [{"qualifier": "IA", "value": "V1"}]
    doc["currency"] = "CAD"
    assert rules.apply(doc).document["currency"] == "CAD"


def test_value_copy_and_date_rules() -> None:
    rules = engine(
        """\
rules:
  - {set: order.currency, value: EUR}
  - {set: "line.dates[002].date", copy: "order.dates[002].date", if_missing: true}
  - set: order.references[ZZ]
    date: {from: "order.dates[002]", output: "%Y%m%d"}
  - set: order.po_date
    date: {from: "order.references[OD]", input: "%m/%d/%Y"}
  - {set: "order.notes[0].text", value: hello, direction: outbound}
"""
    )
    doc = order()
    doc["currency"] = "USD"
    doc["references"] = [{"qualifier": "OD", "value": "11/20/2026"}]
    applied = rules.apply(doc)
    out = applied.document
    assert applied.issues == []
    assert out["currency"] == "EUR"  # a fixed value overrides
    assert out["lines"][0]["dates"] == [{"qualifier": "002", "date": dt.date(2026, 12, 4)}]
    assert out["lines"][1]["dates"] == [{"qualifier": "002", "date": dt.date(2026, 12, 1)}]
    assert out["references"][1] == {"qualifier": "ZZ", "value": "20261204"}
    assert out["po_date"] == "2026-11-20"
    assert "notes" not in out
    assert rules.apply(doc, "outbound").document["notes"] == [{"text": "hello"}]


def test_copy_does_not_alias() -> None:
    rules = engine("rules:\n  - set: line.dates[002].date\n    copy: order.dates[002].date\n")
    out = rules.apply(order()).document
    assert out["lines"][0]["dates"][0]["date"] == dt.date(2026, 12, 4)
    out2 = copy.deepcopy(out)
    assert out2 == out


def test_bad_date_is_an_issue_not_an_exception() -> None:
    rules = engine(
        "rules:\n  - set: order.po_date\n    date:\n      from: order.references[OD]\n"
        "      input: '%m/%d/%Y'\n"
    )
    doc = order()
    doc["references"] = [{"qualifier": "OD", "value": "2026-11-20"}]
    applied = rules.apply(doc)
    assert applied.errors == [
        MapIssue(
            "error",
            "bad_date",
            "order.references[OD]: '2026-11-20' does not match the date format '%m/%d/%Y'",
            "order.references[OD]",
            None,
            "maps/m.yaml:3",
        )
    ]
    assert "po_date" not in applied.document


def test_cannot_set_past_the_end_is_an_issue() -> None:
    rules = engine('rules:\n  - {set: "order.carriers[3].scac", value: X}\n')
    applied = rules.apply(order())
    assert [i.code for i in applied.issues] == ["cannot_set"]


def test_rule_errors_point_at_their_lines() -> None:
    assert map_errors(
        """\
defaults:
  order.curency: USD
codes:
  - from: line.unit
    to: order.currency
    table: {A: B}
  - from: order.currency
    table: {USD: US, CAD: US}
    unknown: default
rules:
  - {set: order.currency, value: X, copy: order.po_number}
  - {set: order.currency, copy: line.unit}
  - {set: order.po_date, date: {from: order.po_date, output: "YYYYMMDD"}}
"""
    ) == [
        "maps/m.yaml:3: defaults.order.curency: unknown field 'curency' in order "
        "(did you mean 'currency'?)",
        "maps/m.yaml:5: codes[0]: 'from' and 'to' must both be order paths or both line paths",
        "maps/m.yaml:8: codes[1]: 'default' goes with 'unknown: default', and only with it",
        "maps/m.yaml:12: rules[0]: a rule needs exactly one of 'value', 'copy' or 'date'",
        "maps/m.yaml:13: rules[1]: an order field cannot take a line field (line.unit)",
        "maps/m.yaml:14: rules[2].date.output: 'YYYYMMDD' is not a date format "
        "(use strftime codes, e.g. %Y%m%d)",
    ]


def test_ambiguous_reverse_table_is_a_check_problem() -> None:
    from edigate.partners.mapfile import map_problems

    source = parse_yaml(
        "format: x12\ncodes:\n  - from: order.currency\n    table:\n      USD: US\n      CAD: US\n",
        "m",
    )
    pmap, _ = validate(PartnerMap, source)
    assert pmap is not None
    problems = map_problems(pmap)
    assert [(source.line_of(loc), msg) for loc, msg in problems] == [
        (
            6,
            "'US' is also the value of 'USD': the outbound direction would be ambiguous "
            "(set 'direction: inbound' if it is one-way)",
        )
    ]


def test_codes_and_defaults_that_write_what_the_conversion_reads_are_check_problems() -> None:
    """Codes and defaults run after the SKU lookup and the unit conversion: a unit they
    write that uom: converts (BOX -> BX, a default CA) would reach the ERP unconverted, and
    an item ID they write would never be looked up. Mapping to our own unit (PC -> EA), to
    itself (CA -> CA) or an ID the table does not look up (IN) is fine."""
    from edigate.partners.mapfile import map_problems

    text = (
        "format: x12\n"
        "sku:\n  items: [{sku: W-1, ids: {BP: B1}}]\n"
        "uom:\n  conversions: {BX: {internal: EA, factor: 10}, CA: {internal: EA, factor: 12}}\n"
        "defaults: {line.unit: CA}\n"
        "codes:\n"
        "  - {from: line.unit, table: {BOX: BX, PC: EA, CA: CA}, direction: inbound}\n"
        '  - {from: "line.identifiers[BP]", table: {OLD-1: B1}, direction: inbound}\n'
        '  - {from: "line.identifiers[IN]", table: {OLD-2: B2}, direction: inbound}\n'
    )
    source = parse_yaml(text, "m")
    pmap, errors = validate(PartnerMap, source)
    assert errors == [] and pmap is not None
    found = [(source.line_of(loc), msg.split(":")[0]) for loc, msg in map_problems(pmap)]
    assert found == [(8, "BOX -> BX"), (9, "line.identifiers[BP]"), (6, "CA")]
