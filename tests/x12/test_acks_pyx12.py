"""pyx12 4.0.0 as the oracle: every 997 and 999 we build must validate without one error.

The map copy (see :mod:`tests.x12.pyx12_maps`) widens only the AK101 and AK201 code lists;
everything else pyx12 checks (ISA layout, GS08/ST03 versions, loop structure, AK304/AK403/
AK502/AK905 code lists, element types and lengths, SE and GE counts) applies as shipped.
The negative tests prove the helper does report what pyx12 finds.

TA1 interchanges are not given to pyx12: its control maps make the GS loop mandatory, so it
rejects every TA1-only interchange (and a TA1 before a GS too), which X12 allows. Our reader
and parser check those instead (``test_acks.round_trip``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import pyx12
from lxml import etree

from edigate.x12 import (
    ErrorCode,
    Finding,
    GroupHeader,
    InterchangeHeader,
    Location,
    Separators,
    Severity,
    TransactionSet,
    X12Reader,
)
from edigate.x12.acks import AckKind, AckOptions, CounterControlNumbers, acknowledge

from .pyx12_maps import prepare_map_copy, pyx12_errors
from .test_acks import element, group, interchange, round_trip, segment, three_pos, tx

STAMP = dt.datetime(2026, 11, 23, 9, 30)
KINDS: tuple[AckKind, ...] = ("997", "999")


@pytest.fixture(scope="session")
def map_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_map_copy(tmp_path_factory.mktemp("pyx12"))


def _with_loop(f: Finding, loop: str) -> Finding:
    return replace(f, extra={**f.extra, "loop_id": loop})


_ALL_SEGMENT_CODES = [
    segment(code, position, tag)
    for code, position, tag in [
        (ErrorCode.UNRECOGNIZED_SEGMENT, 2, "BEG"),
        (ErrorCode.UNEXPECTED_SEGMENT, 3, "PO1"),
        (ErrorCode.MANDATORY_SEGMENT_MISSING, 4, "CTT"),
        (ErrorCode.LOOP_OVER_MAX, 3, "PO1"),
        (ErrorCode.SEGMENT_OVER_MAX_USE, 2, "BEG"),
        (ErrorCode.SEGMENT_NOT_IN_SET, 4, "ZZZ"),
        (ErrorCode.SEGMENT_OUT_OF_SEQUENCE, 4, "CTT"),
    ]
]
_ALL_ELEMENT_CODES = [
    element(code, 3, "PO1", index + 1, f"v{index}", ref="330", component=1 + index % 2)
    for index, code in enumerate(c for c in ErrorCode if c.level.value == "element")
]

SCENARIOS: dict[str, tuple[bytes, dict[str, list[Finding]]]] = {
    "clean": (three_pos(), {}),
    "one bad of three": (
        three_pos(),
        {"0002": [_with_loop(element(ErrorCode.INVALID_CODE_VALUE, 3, "PO1", 3, "XX"), "PO1")]},
    ),
    "all rejected": (
        three_pos(),
        {
            c: [element(ErrorCode.MANDATORY_ELEMENT_MISSING, 2, "BEG", 3, ref="324")]
            for c in ("0001", "0002", "0003")
        },
    ),
    "group trailer missing": (interchange(group(tx("0001"), tx("0002"), ge=False)), {}),
    "group count and control mismatch": (
        three_pos().replace(b"GE*3*101", b"GE*4*102"),
        {},
    ),
    "warnings only": (
        three_pos(),
        {
            "0001": [
                element(ErrorCode.INVALID_CODE_VALUE, 3, "PO1", 3, "ZZ", severity=Severity.WARNING)
            ]
        },
    ),
    "nasty AK404": (
        three_pos(),
        {"0003": [element(ErrorCode.ELEMENT_TOO_LONG, 2, "BEG", 3, "A*B~C>D\nE" + "x" * 200)]},
    ),
    "every segment code": (three_pos(), {"0001": _ALL_SEGMENT_CODES}),
    "every element code": (three_pos(), {"0002": _ALL_ELEMENT_CODES}),
    "reader transaction errors": (
        three_pos().replace(b"SE*5*0002", b"SE*9*0002").replace(b"SE*5*0003", b"SE*5*0033"),
        {},
    ),
    "five transaction codes": (
        three_pos(),
        {
            "0001": [
                Finding(c, Location(segment_in_transaction=1, tag="ST"), "x")
                for c in ErrorCode
                if c.level.value == "transaction"
            ]
        },
    ),
    "several groups and kinds": (
        interchange(
            group(tx("0001"), gs06="1"),
            group(tx("0001", set_id="855"), gs06="2", functional="PR"),
            group(tx("0001", set_id="856"), gs06="3", functional="SH", sender="DC2"),
            group(tx("0001", set_id="810"), tx("0002", set_id="810"), gs06="4", functional="IN"),
            group("ST*997*0001~\nAK1*PO*7~\nAK9*A*1*1*1~\nSE*4*0001~\n", gs06="5", functional="FA"),
        ),
        {"0002": [element(ErrorCode.INVALID_DATE, 2, "BEG", 5, "20261399", ref="373")]},
    ),
    "5010 inbound": (
        interchange(
            group(tx("0001", st03="005010"), tx("0002"), version="005010"),
            version="00501",
            ack="1",
        ),
        {
            "0001": [
                element(ErrorCode.TOO_MANY_REPETITIONS, 3, "PO1", 7, "W1", repetition=3),
                element(ErrorCode.TOO_MANY_COMPONENTS, 3, "PO1", 6, "VN", component=4),
            ]
        },
    ),
    "groups rejected whole": (
        interchange(
            group(tx("0001"), tx("0002")).replace("*20261120*", "*BADDATE*"),
            group(tx("0001"), gs06="102").replace("GE*1*102", "GE*1*103"),
        ),
        {"0002": [element(ErrorCode.INVALID_DATE, 2, "BEG", 5, "20261399", ref="373")]},
    ),
    "broken envelope": (
        interchange(group(tx("0001"), tx("0002")), iea_control="000000999", iea_count=2),
        {},
    ),
}


def _lookup(findings: dict[str, list[Finding]]) -> Callable[[TransactionSet], list[Finding]]:
    return lambda t: findings.get(t.control_number, [])


def _build(data: bytes, kind: str, findings: dict[str, list[Finding]], **options: object) -> bytes:
    result = acknowledge(
        data,
        kind,  # type: ignore[arg-type]
        control_numbers=CounterControlNumbers(),
        validate=_lookup(findings),
        options=AckOptions(timestamp=STAMP, **options),  # type: ignore[arg-type]
    )
    round_trip(result)
    assert result.functional
    return result.functional


@pytest.mark.parametrize("kind", ["997", "999"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_generated_acks_validate_with_pyx12(map_path: Path, name: str, kind: str) -> None:
    data, findings = SCENARIOS[name]
    ack = _build(data, kind, findings, ta1="never")  # with a TA1 R sent, it answers alone
    assert pyx12_errors(ack, map_path) == []


def test_scenarios_cover_every_status() -> None:
    """The scenarios above exercise A, E, P and R at both levels (so pyx12 sees them all)."""
    seen_tx, seen_group = set(), set()
    for data, findings in SCENARIOS.values():
        result = acknowledge(data, "999", validate=_lookup(findings))
        seen_group |= {g.status for g in result.groups}
        seen_tx |= {t.status for g in result.groups for t in g.transactions}
    assert seen_tx == {"A", "E", "R"}
    assert seen_group == {"A", "E", "P", "R"}


# ---------------------------------------------------------------------- the oracle can fail
@pytest.mark.parametrize(
    ("kind", "old", "new", "expect"),
    [
        ("997", b"AK9*A*3*3*3", b"AK9*Q*3*3*3", "AK9"),  # AK901 not a valid code
        ("997", b"AK1*PO*101~\n", b"", "HEADER"),  # AK1 missing (SE01 fixed below)
        ("997", b"AK5*A~\nAK2*850*0003", b"AK5*A*99~\nAK2*850*0003", "AK502"),  # bad AK502
        ("999", b"ST*999*0001*005010X231A1", b"ST*999*0001*005010X231", "ST03"),
        ("999", b"IK5*A~\nAK9", b"IK5*Z~\nAK9", "IK5"),
    ],
)
def test_pyx12_reports_a_broken_ack(
    map_path: Path, kind: str, old: bytes, new: bytes, expect: str
) -> None:
    good = _build(three_pos(), kind, {})
    assert old in good
    broken = good.replace(old, new)
    if old.startswith(b"AK1"):
        broken = broken.replace(b"SE*8*0001", b"SE*7*0001")
    errors = pyx12_errors(broken, map_path)
    assert errors, "pyx12 accepted a broken ack"
    assert any(expect in e for e in errors), errors


def test_unwidened_maps_reject_retail_codes() -> None:
    """Why the copy exists: pyx12's own maps refuse ``AK1*PO`` and ``AK2*850``."""
    ack = _build(three_pos(), "997", {})
    shipped = Path(str(pyx12.__file__)).parent / "map"
    errors = pyx12_errors(ack, shipped)
    assert any("AK1*PO" in e for e in errors), errors


def test_map_copy_is_widened_and_indexed(map_path: Path) -> None:
    for name in ("997.4010.xml", "999.5010.xml", "999.5010X231.A1.xml"):
        tree = etree.parse(str(map_path / name))
        for xid, code in (("AK101", "PO"), ("AK101", "FA"), ("AK201", "856"), ("AK201", "999")):
            codes = tree.xpath(f"//element[@xid='{xid}']/valid_codes/code/text()")
            assert code in codes, (name, xid)
    index = etree.parse(str(map_path / "maps.xml"))
    assert index.xpath("//version[@icvn='00501']/map[@vriic='005010'][@fic='FA']/text()") == [
        "999.5010X231.A1.xml"
    ]


# ---------------------------------------------------------------------- the corpus
def _vocabulary(map_path: Path) -> dict[str, set[str]]:
    tree = etree.parse(str(map_path / "997.4010.xml"))
    return {
        xid: set(tree.xpath(f"//element[@xid='{xid}']/valid_codes/code/text()"))
        for xid in ("ISA05", "AK101", "AK201")
    }


def _within(data: bytes, vocab: dict[str, set[str]]) -> bool:
    """True when the inbound file stays inside what pyx12's 997 map can express.

    pyx12 knows only HIPAA's ISA05/07 qualifiers (not 08, 12, 16) and the AK101/AK201 codes
    of the copy; AK102 is N0 and we echo GS06, so a non-numeric GS06 cannot pass; and its
    character set is ASCII. None of these is about how we build the ack.
    """
    groups = 0
    for event in X12Reader(data).events():
        if isinstance(event, InterchangeHeader):
            parties = (event.sender, event.receiver)
            if any(p.qualifier not in vocab["ISA05"] or not p.id.isascii() for p in parties):
                return False
        elif isinstance(event, GroupHeader):
            groups += 1
            ids = (event.sender, event.receiver)
            if event.functional_id not in vocab["AK101"] or not event.control_number.isdigit():
                return False
            if any(not (2 <= len(i) <= 15 and i.isascii()) for i in ids):
                return False
        elif isinstance(event, TransactionSet) and event.set_id not in vocab["AK201"]:
            return False
    return groups > 0


def test_corpus_acks_validate_with_pyx12(corpus_dir: Path, map_path: Path) -> None:
    """Acks for every corpus file pyx12's vocabulary covers, with the reader's findings.

    Separators are fixed here: several partners use ISA16 characters (``^``, `````) outside
    the 004010 character set, which pyx12 refuses in our mirrored ISA16.
    """
    vocab = _vocabulary(map_path)
    seps = Separators("*", ":", "~", "^", "\n")
    checked: list[tuple[str, str]] = []
    for path in sorted(corpus_dir.glob("x12-*/*")) + sorted(corpus_dir.glob("malformed/*")):
        data = path.read_bytes()
        if not _within(data, vocab):
            continue
        for kind in KINDS:
            result = acknowledge(data, kind, options=AckOptions(separators=seps, timestamp=STAMP))
            round_trip(result)
            for out in result.outputs:
                if out.functional is not None:
                    errors = pyx12_errors(out.functional, map_path)
                    assert errors == [], (path.name, kind, errors)
                    checked.append((path.name, kind))
    assert len(checked) >= 40, checked
