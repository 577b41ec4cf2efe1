"""YAML with line numbers, and pydantic errors turned into ``file:line: where: what``."""

from __future__ import annotations

from pathlib import Path

import pytest

from edigate.partners.errors import ConfigErrors
from edigate.partners.loader import parse_yaml, read_yaml, validate
from edigate.partners.mapfile import PartnerMap
from edigate.partners.profile import PartnerProfile

PROFILE = """\
id: acme
name: ACME
identity:
  production: {qualifier: ZZ, id: ACME, gs: ACME}
us:
  production: {qualifier: ZZ, id: US, gs: US}
envelope:
  version: "004010"
inbound:
  sftp:
    username: acme
    password_hash: HASH
ack:
  functional: "997"
  ta1: on_error
outbound:
  type: sftp_pickup
map: acme
"""


def profile_errors(text: str, demo_hash: str) -> list[str]:
    source = parse_yaml(text.replace("HASH", demo_hash), "partners/acme.yaml")
    obj, errors = validate(PartnerProfile, source)
    assert (obj is None) == bool(errors)
    return [str(e) for e in errors]


def test_valid_profile_loads(demo_hash: str) -> None:
    source = parse_yaml(PROFILE.replace("HASH", demo_hash), "partners/acme.yaml")
    profile, errors = validate(PartnerProfile, source)
    assert errors == []
    assert profile is not None
    assert profile.ack.functional == "997" and profile.ack.ta1 == "on_error"
    assert str(profile.identity.production) == "ZZ:ACME"  # type: ignore[union-attr]


def test_wrong_enum_value_names_file_line_and_choices(demo_hash: str) -> None:
    text = PROFILE.replace('functional: "997"', 'functional: "998"')
    assert profile_errors(text, demo_hash) == [
        "partners/acme.yaml:14: ack.functional: input should be '997', '999' or 'none' (got '998')"
    ]


def test_unquoted_997_is_text_not_a_number(demo_hash: str) -> None:
    """Every scalar is text, so ``functional: 997`` means the string '997'."""
    source = parse_yaml(
        PROFILE.replace('functional: "997"', "functional: 997").replace("HASH", demo_hash), "p"
    )
    profile, errors = validate(PartnerProfile, source)
    assert errors == [] and profile is not None and profile.ack.functional == "997"


def test_scalars_stay_text() -> None:
    source = parse_yaml("a: 0420\nb: NO\nc: 1.50\nd: ~\ne:\nf: ''\ng: 'null'\n", "x.yaml")
    assert source.data == {
        "a": "0420",
        "b": "NO",
        "c": "1.50",
        "d": None,
        "e": None,
        "f": "",
        "g": "null",
    }


def test_unknown_key_with_suggestion(demo_hash: str) -> None:
    text = PROFILE.replace("    username: acme", "    usrname: acme")
    assert profile_errors(text, demo_hash) == [
        "partners/acme.yaml:10: inbound.sftp.username: required",
        "partners/acme.yaml:11: inbound.sftp.usrname: unknown key 'usrname' "
        "(did you mean 'username'?)",
    ]


def test_unknown_top_level_key_lists_known_keys(demo_hash: str) -> None:
    errors = profile_errors(PROFILE + "zzz: 1\n", demo_hash)
    assert len(errors) == 1
    assert errors[0].startswith("partners/acme.yaml:19: zzz: unknown key 'zzz' (expected one of ")
    assert "identity" in errors[0] and "outbound" in errors[0]


def test_wrong_type(demo_hash: str) -> None:
    text = PROFILE.replace("  ta1: on_error", "  ta1: on_error\n  duplicate_window_days: [1]")
    assert profile_errors(text, demo_hash) == [
        "partners/acme.yaml:16: ack.duplicate_window_days: input should be a valid integer"
    ]


def test_all_errors_of_a_file_are_collected(demo_hash: str) -> None:
    text = (
        PROFILE.replace('functional: "997"', "functional: often")
        .replace("ta1: on_error", "ta1: sometimes")
        .replace("type: sftp_pickup", "type: sftp_pikup")
        .replace("id: acme\n", "id: ACME!\n")
    )
    errors = profile_errors(text, demo_hash)
    assert [e.split(": ")[0] for e in errors] == [
        "partners/acme.yaml:1",
        "partners/acme.yaml:14",
        "partners/acme.yaml:15",
        "partners/acme.yaml:17",
    ]
    assert errors[3] == (
        "partners/acme.yaml:17: outbound.type: unknown type 'sftp_pikup' "
        "(did you mean 'sftp_pickup'?)"
    )


def test_missing_required_key_points_at_its_parent(demo_hash: str) -> None:
    text = PROFILE.replace(
        "  production: {qualifier: ZZ, id: US, gs: US}\n",
        "  test: {qualifier: ZZ, id: US, gs: US}\n",
    )
    assert profile_errors(text, demo_hash) == ["partners/acme.yaml:5: us.production: required"]


def test_yaml_syntax_error_has_its_line() -> None:
    with pytest.raises(ConfigErrors) as info:
        parse_yaml("format: x12\nsku:\n  items: [\n    {sku: A\n", "maps/bad.yaml")
    (error,) = info.value.errors
    assert error.path == "maps/bad.yaml"
    assert error.line == 5
    assert str(error).startswith("maps/bad.yaml:5: YAML syntax: ")


def test_yaml_bad_indentation() -> None:
    with pytest.raises(ConfigErrors) as info:
        parse_yaml("a: 1\n b: 2\nc: 3\n", "x.yaml")
    assert info.value.errors[0].line == 2


def test_duplicate_key_is_an_error_with_both_lines() -> None:
    with pytest.raises(ConfigErrors) as info:
        parse_yaml("format: x12\ndefaults:\n  order.currency: USD\n  order.currency: EUR\n", "m")
    assert [str(e) for e in info.value.errors] == [
        "m:4: defaults.order.currency: duplicate key (first on line 3)"
    ]


def test_empty_file_is_an_error() -> None:
    with pytest.raises(ConfigErrors) as info:
        parse_yaml("# nothing\n", "maps/empty.yaml")
    assert str(info.value) == "maps/empty.yaml:1: empty file: expected a mapping"


def test_not_a_mapping_at_top() -> None:
    source = parse_yaml("- a\n- b\n", "maps/list.yaml")
    pmap, errors = validate(PartnerMap, source)
    assert pmap is None
    assert [str(e) for e in errors] == [
        "maps/list.yaml:1: input should be a valid dictionary or instance of PartnerMap"
    ]


def test_sequence_items_have_their_own_lines() -> None:
    text = (
        "format: x12\nrules:\n  - set: order.currency\n    value: USD\n"
        "  - set: order.bogus\n    value: X\n"
    )
    source = parse_yaml(text, "maps/m.yaml")
    assert source.line_of(("rules", 1)) == 5
    assert source.line_of(("rules", 1, "value")) == 6
    _, errors = validate(PartnerMap, source)
    assert [str(e) for e in errors] == [
        "maps/m.yaml:5: rules[1].set: unknown field 'bogus' in order (known: "
        + ", ".join(
            [
                "po_number",
                "po_date",
                "purpose",
                "purpose_code",
                "order_type",
                "order_type_code",
                "release_number",
                "contract_number",
                "acknowledgment_type",
                "currency",
                "currency_entity",
                "parties",
                "contacts",
                "dates",
                "references",
                "notes",
                "carriers",
                "allowances_charges",
                "taxes",
            ]
        )
        + ")"
    ]


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ConfigErrors) as info:
        parse_yaml("a: &x [1, *x]\n", "x.yaml")
    assert "recursive alias" in str(info.value)


def test_brackets_in_flow_mappings_get_a_hint() -> None:
    with pytest.raises(ConfigErrors) as info:
        parse_yaml("rules:\n  - {set: order.carriers[0].scac, value: X}\n", "maps/m.yaml")
    assert str(info.value) == (
        "maps/m.yaml:2: YAML syntax: expected ',' or '}', but got '[' (while parsing a flow "
        'mapping from line 2); inside { } quote a path with brackets: "party[ship_to].name"'
    )


def test_a_profile_in_latin1_names_the_line_of_the_first_byte_that_is_not_utf8(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes("id: p\nname: Société Générale\nmap: p\n".encode("latin-1"))
    with pytest.raises(ConfigErrors) as caught:
        read_yaml(path, "partners/p.yaml")
    assert str(caught.value) == (
        "partners/p.yaml:2: byte 0xE9 (column 11) is not UTF-8: save the file as UTF-8"
    )
