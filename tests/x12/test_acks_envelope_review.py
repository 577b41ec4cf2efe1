"""Envelope edge cases of the TA1 and 997/999, against the X12 standard.

ISA05/ISA07 outside the I05 code list (TA105 005/007) and an ack envelope that stays valid
for them; TA102/TA103 never echo an invalid ISA09/ISA10; a GS08 version the receiver does
not support (AK905 2, when it says which it supports); a duplicate interchange (TA105 025).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edigate.x12 import ErrorCode, InterchangeHeader, X12Reader
from edigate.x12.acks import AckBuilder, AckOptions, CounterControlNumbers
from edigate.x12.validator import SPEC_VERSIONS

from .pyx12_maps import prepare_map_copy, pyx12_errors
from .test_acks import STAMP, all_findings, build, group, interchange, lines, tx


@pytest.fixture(scope="module")
def map_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_map_copy(tmp_path_factory.mktemp("pyx12"))


def with_isa(data: bytes, **fields: str) -> bytes:
    """``data`` with ISA fields replaced by position (``isa05="QQ"``), padded to width."""
    text = data.decode()
    end = text.index("~")
    elements = text[:end].split("*")
    for name, value in fields.items():
        index = int(name[3:])
        elements[index] = value.ljust(len(elements[index]))
    return ("*".join(elements) + text[end:]).encode()


def isa_of(data: bytes) -> list[str]:
    return [e.strip() for e in lines(data)[0].split("*")]


# ------------------------------------------------------------------ ISA05 / ISA07 qualifiers
@pytest.mark.parametrize(
    ("field", "code", "note"),
    [
        ("isa05", ErrorCode.INVALID_SENDER_QUALIFIER, "005"),
        ("isa07", ErrorCode.INVALID_RECEIVER_QUALIFIER, "007"),
    ],
)
def test_qualifier_outside_the_code_list_is_rejected(
    field: str, code: ErrorCode, note: str
) -> None:
    data = with_isa(interchange(group(tx("0001"))), **{field: "QQ"})
    assert [f.code for f in all_findings(data) if f.is_error] == [code]
    result = build(data, "997")
    assert lines(result.technical)[1] == f"TA1*000000101*261120*1405*R*{note}"


@pytest.mark.parametrize("qualifier", ["01", "08", "12", "14", "16", "ZZ", "AM", "NR", "SN"])
def test_qualifiers_of_the_code_list_are_accepted(qualifier: str) -> None:
    data = with_isa(interchange(group(tx("0001"))), isa05=qualifier, isa07=qualifier)
    assert [f for f in all_findings(data) if f.is_error] == []


@pytest.mark.parametrize("kind", ["997", "999"])
def test_ack_envelope_never_echoes_an_invalid_qualifier(kind: str, map_path: Path) -> None:
    data = with_isa(interchange(group(tx("0001")), ack="1"), isa05="QQ", isa07="Q1")
    result = build(data, kind)
    # The TA1 R answers alone; a partner sent no TA1 gets the 997/999 instead.
    functional = build(data, kind, ta1="never").functional
    for ack in (functional, result.technical):
        isa = isa_of(ack)
        assert (isa[5], isa[6], isa[7], isa[8]) == ("ZZ", "SELLER", "ZZ", "BUYER")
    if kind == "997":  # pyx12's 999 map has no ISA05 list; its 997 map does
        assert pyx12_errors(functional, map_path) == []


def test_ack_envelope_keeps_a_valid_qualifier() -> None:
    data = with_isa(interchange(group(tx("0001"))), isa05="01", isa07="14")
    isa = isa_of(build(data, "997").functional)
    assert (isa[5], isa[7]) == ("14", "01")


# ------------------------------------------------------------------ TA102 / TA103
def test_ta1_does_not_echo_an_invalid_date_or_time() -> None:
    data = with_isa(interchange(group(tx("0001"))), isa09="261340", isa10="2575")
    result = build(data, "997")
    # Both invalid: ours (the ack's timestamp) stands in; TA105 names the first problem.
    assert lines(result.technical)[1] == "TA1*000000101*261123*0930*R*014"


def test_ta1_keeps_the_valid_half_as_sent() -> None:
    data = with_isa(interchange(group(tx("0001"))), isa10="2575")
    assert lines(build(data, "997").technical)[1] == "TA1*000000101*261120*0930*R*015"


# ------------------------------------------------------------------ GS08 versions
def test_unsupported_group_version_is_rejected_with_ak905_2() -> None:
    data = interchange(group(tx("0001"), version="003040"))
    result = build(data, "997", versions=SPEC_VERSIONS)
    ack = result.groups[0]
    assert (ack.status, ack.codes) == ("R", ("2",))
    assert lines(result.functional)[5:7] == ["AK5*R", "AK9*R*1*1*0*2"]


@pytest.mark.parametrize("version", ["004010", "004010VICS", "005010", "005010X231A1"])
def test_supported_group_versions_are_accepted(version: str) -> None:
    data = interchange(group(tx("0001"), version=version))
    assert build(data, "997", versions=SPEC_VERSIONS).groups[0].status == "A"


def test_every_version_is_supported_unless_the_receiver_says_otherwise() -> None:
    # The design: a version without a spec is validated against the nearest family.
    assert build(interchange(group(tx("0001"), version="003040")), "997").groups[0].status == "A"


# ------------------------------------------------------------------ duplicate interchange
def header_of(data: bytes) -> InterchangeHeader:
    return next(e for e in X12Reader(data).events() if isinstance(e, InterchangeHeader))


@pytest.mark.parametrize("ack", ["0", "1"])
def test_duplicate_interchange_gets_ta1_025(ack: str) -> None:
    header = header_of(interchange(group(tx("0001")), ack=ack))
    builder = AckBuilder("997", CounterControlNumbers(), AckOptions(timestamp=STAMP))
    out = builder.duplicate_interchange(header, "document 7")
    assert out.functional is None and out.groups == []
    assert out.technical is not None
    assert lines(out.technical)[1] == "TA1*000000101*261120*1405*R*025"
    assert [f.code for f in out.findings] == [ErrorCode.DUPLICATE_INTERCHANGE]
    assert "document 7" in out.findings[0].message
    assert builder.kind == "997" and not builder.in_interchange  # usable again
    round_trip_one(out.technical)


def test_duplicate_interchange_follows_the_ta1_policy() -> None:
    header = header_of(interchange(group(tx("0001")), ack="1"))
    never = AckBuilder(None, CounterControlNumbers(), AckOptions(ta1="never"))
    assert never.duplicate_interchange(header).technical is None
    on_request = AckBuilder(None, CounterControlNumbers(), AckOptions(ta1="on_request"))
    assert on_request.duplicate_interchange(header).technical is not None


def round_trip_one(technical: bytes) -> None:
    assert [f for f in all_findings(technical) if f.is_error] == []
