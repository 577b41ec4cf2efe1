"""Canonical field paths: parsing, checking against a schema, reading and writing dicts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from edigate.partners.fields import (
    Indexed,
    Keyed,
    Leaf,
    get_value,
    parse_path,
    schema_from_model,
    set_value,
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("currency", "must start with 'order.', 'line.' or 'party[ROLE].'"),
        ("order", "names no field"),
        ("order.curency", "unknown field 'curency' in order (did you mean 'currency'?)"),
        ("line.unit_of_measure", "unknown field 'unit_of_measure' in line"),
        ("order.lines", "address line fields as 'line.<field>'"),
        ("order.references", "order.references is a list: select one with"),
        ("party[ship_to]", "party[ship_to] needs a field, e.g. party[ship_to].name"),
        ("party[ship_to].address", "is a group; name a field in it: lines, city"),
        ("order.currency[X]", "order.currency is not a list"),
        ("order.currency.code", "order.currency has no fields"),
        ("order.carriers[first].scac", "select one by position, e.g. order.carriers[0]"),
        ("order.carriers[0]", "order.carriers[0] needs a field"),
        ("party[bil_to].name", "party[bil_to]: unknown role 'bil_to' (did you mean 'bill_to'?)"),
        ("line.parties[x].name", "line.parties[x]: unknown role 'x' (known: bill_and_ship_to,"),
        ("order..currency", "malformed at character 7"),
        ("order.currency ", "malformed"),
    ],
)
def test_bad_paths(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_path(text)


def test_good_paths() -> None:
    assert parse_path("order.currency").scope == "order"
    assert parse_path("line.unit").scope == "line"
    party = parse_path("party[ship_to].identifiers[92]")
    assert party.scope == "order"
    assert [(s.name, s.key, s.key_field, s.implicit) for s in party.steps] == [
        ("parties", "ship_to", "role", None),
        ("identifiers", "92", "qualifier", "value"),
    ]
    assert parse_path("order.parties[bill_to].address.city").steps[-1].name == "city"
    assert parse_path("order.dates[002]").steps[-1].implicit == "date"
    assert parse_path("order.carriers[0].scac").steps[0].index == 0


ORDER: dict[str, Any] = {
    "po_number": "4500012345",
    "currency": None,
    "parties": [
        {"role": "bill_to", "identifiers": [{"qualifier": "92", "value": "0001"}]},
        {"role": "ship_to", "identifiers": [{"qualifier": "92", "value": "0420"}]},
    ],
    "dates": [{"qualifier": "002", "date": "2026-12-04"}],
    "lines": [{"quantity": "10", "identifiers": [{"qualifier": "VN", "value": "WID-100"}]}],
}


def test_get_value() -> None:
    assert get_value(parse_path("order.po_number"), ORDER) == "4500012345"
    assert get_value(parse_path("party[ship_to].identifiers[92]"), ORDER) == "0420"
    assert get_value(parse_path("party[bill_to].identifiers[92]"), ORDER) == "0001"
    assert get_value(parse_path("party[vendor].identifiers[92]"), ORDER) is None
    assert get_value(parse_path("order.dates[002]"), ORDER) == "2026-12-04"
    assert get_value(parse_path("order.carriers[0].scac"), ORDER) is None
    line = ORDER["lines"][0]
    assert get_value(parse_path("line.identifiers[VN]"), ORDER, line) == "WID-100"
    with pytest.raises(ValueError, match="line path"):
        get_value(parse_path("line.unit"), ORDER)


def test_set_value_creates_what_is_missing() -> None:
    doc: dict[str, Any] = {"parties": []}
    set_value(parse_path("party[ship_to].identifiers[LOC]"), "DC-1", doc)
    set_value(parse_path("party[ship_to].address.city"), "JOLIET", doc)
    set_value(parse_path("order.carriers[0].scac"), "UPSN", doc)
    set_value(parse_path("order.carriers[1].scac"), "FDEG", doc)
    assert doc == {
        "parties": [
            {
                "role": "ship_to",
                "identifiers": [{"qualifier": "LOC", "value": "DC-1"}],
                "address": {"city": "JOLIET"},
            }
        ],
        "carriers": [{"scac": "UPSN"}, {"scac": "FDEG"}],
    }
    with pytest.raises(ValueError, match="has 2 item"):
        set_value(parse_path("order.carriers[5].scac"), "X", doc)


class Identifier(BaseModel):
    qualifier: str
    value: str


class DateRef(BaseModel):
    qualifier: str
    date: dt.date | None = None


class Party(BaseModel):
    role: str
    name: str | None = None
    identifiers: list[Identifier] = []


class Note(BaseModel):
    text: str


class Line(BaseModel):
    quantity: Decimal
    unit: str
    identifiers: list[Identifier] = []
    extra: dict[str, str] = {}


class Order(BaseModel):
    po_number: str
    parties: list[Party] = []
    dates: list[DateRef] = []
    notes: list[Note] = []
    tags: list[str] = []
    lines: list[Line] = []


def test_schema_from_model_by_convention() -> None:
    schema = schema_from_model(Order)
    assert set(schema.order.fields) == {"po_number", "parties", "dates", "notes", "tags"}
    assert isinstance(schema.order.fields["parties"], Keyed)
    assert schema.order.fields["parties"].key == "role"
    assert isinstance(schema.order.fields["notes"], Indexed)
    assert isinstance(schema.order.fields["tags"], Leaf)
    assert parse_path("party[ship_to].identifiers[92]", schema).steps[-1].implicit == "value"
    assert parse_path("order.dates[002]", schema).steps[-1].implicit == "date"
    assert parse_path("line.extra.anything", schema).scope == "line"
    with pytest.raises(ValueError, match="unknown field 'currency' in order"):
        parse_path("order.currency", schema)
    # the dumped model is what the rules read
    order = Order(
        po_number="1",
        parties=[Party(role="ship_to", identifiers=[Identifier(qualifier="92", value="0420")])],
    )
    assert (
        get_value(parse_path("party[ship_to].identifiers[92]", schema), order.model_dump())
        == "0420"
    )


def test_a_key_of_enum_type_takes_only_its_values() -> None:
    """From the canonical models, a party's role is the PartyRole enum: a misspelt role is
    refused where the path is written, as in the hand-written default schema."""
    from edigate.model import Order as CanonicalOrder

    schema = schema_from_model(CanonicalOrder)
    assert parse_path("party[bill_to].name", schema).steps[0].key == "bill_to"
    with pytest.raises(ValueError, match=re.escape("unknown role 'bil_to' (did you mean")):
        parse_path("party[bil_to].name", schema)
    assert parse_path("order.dates[ZZZ]", schema).steps[0].key == "ZZZ"  # qualifiers are open
