"""The declarative spec format: loading, inheritance, errors, and the compiled checkers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edigate.x12 import ErrorCode, TransactionSet, X12Reader
from edigate.x12.spec import (
    NO_SEPARATOR,
    LoopDef,
    Rule,
    SegmentDef,
    SegmentUse,
    SpecError,
    available_sets,
    compile_loop,
    compile_segment,
    load_dictionary,
    load_transaction,
    parse_rule,
    valid_date,
    valid_time,
)
from edigate.x12.validator import TransactionValidator, segment_problems

ALL_SETS = [(f, s) for f in ("004010", "005010") for s in sorted(available_sets(f))]


def test_both_families_have_the_retail_sets_and_acks() -> None:
    assert available_sets("004010") == {"810", "850", "855", "856", "997"}
    assert available_sets("005010") == {"810", "850", "855", "856", "997", "999"}


@pytest.mark.parametrize(("family", "set_id"), ALL_SETS)
def test_every_spec_loads_and_compiles(family: str, set_id: str) -> None:
    spec = load_transaction(set_id, family)
    assert spec.set_id == set_id and spec.family == family
    assert spec.root.children[0].tag == "ST" and spec.root.children[-1].tag == "SE"
    compiled = compile_loop(spec.root)
    assert compiled.children[0].tag == "ST"
    # Every segment that can appear is in the vocabulary the matcher classifies with.
    assert {"ST", "SE"} <= spec.vocabulary


def test_segments_are_shared_between_sets() -> None:
    po = load_transaction("850", "004010")
    inv = load_transaction("810", "004010")
    ref_po = next(c for c in po.root.children if isinstance(c, SegmentUse) and c.tag == "REF")
    ref_inv = next(c for c in inv.root.children if isinstance(c, SegmentUse) and c.tag == "REF")
    assert ref_po.segment is ref_inv.segment  # one REF definition per family
    assert (ref_po.max_use, ref_inv.max_use) == (None, 12)  # ">1" vs 12: per-set usage


def test_5010_inherits_4010_with_its_changes() -> None:
    d4, d5 = load_dictionary("004010"), load_dictionary("005010")
    assert d4.elements["127"].max == 30 and d5.elements["127"].max == 50
    # REF was not redefined for 5010, yet its REF02 and its C040 use the 5010 element 127.
    ref5 = d5.segments["REF"]
    assert ref5.elements[1].element is not None and ref5.elements[1].element.max == 50
    c040 = ref5.elements[3].composite
    assert c040 is not None and c040.components[1].element is not None
    assert c040.components[1].element.max == 50
    assert len(d4.segments["N4"].elements) == 6 and len(d5.segments["N4"].elements) == 7
    assert d5.segments["CTX"].elements[0].repeat == 10
    assert "IK3" not in d4.segments and "IK3" in d5.segments


def test_code_lists_come_from_the_shared_file() -> None:
    d4, d5 = load_dictionary("004010"), load_dictionary("005010")
    bak02 = d4.segments["BAK"].elements[1].element
    assert bak02 is not None and bak02.codes is not None and {"AC", "AD", "RJ"} <= bak02.codes
    assert "620" not in d4.elements  # a 5010 element
    assert d5.elements["620"].codes is not None and "I4" in d5.elements["620"].codes
    assert d5.elements["353"].codes == d4.elements["353"].codes


def test_loop_structure_of_the_856_is_one_repeating_hl_loop() -> None:
    spec = load_transaction("856", "004010")
    hl = next(c for c in spec.root.children if isinstance(c, LoopDef))
    assert (hl.id, hl.usage, hl.max_repeat) == ("HL", "M", 200000)
    assert spec.hl_numbering and spec.line_count is not None
    assert spec.line_count.tags == ("HL", "LIN")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P0304", Rule("P", (3, 4))),
        ("L010203", Rule("L", (1, 2, 3))),
        ("R0204050612", Rule("R", (2, 4, 5, 6, 12))),
    ],
)
def test_parse_rule(text: str, expected: Rule) -> None:
    assert parse_rule(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["P03", "X0304", "P0303", "P0004", "P03x4", "C030"])
def test_parse_rule_rejects_nonsense(text: str) -> None:
    with pytest.raises(SpecError):
        parse_rule(text, "segments.XX")


@pytest.mark.parametrize(
    ("value", "lengths", "ok"),
    [
        ("20260228", {8}, True),
        ("20240229", {8}, True),
        ("20260229", {8}, False),
        ("20261301", {8}, False),
        ("261120", {8}, False),
        ("261120", {6, 8}, True),
        ("2026112", {6, 8}, False),
        ("2026-1-1", {8}, False),
    ],
)
def test_valid_date(value: str, lengths: set[int], ok: bool) -> None:
    assert valid_date(value, frozenset(lengths)) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0000", True),
        ("2359", True),
        ("235959", True),
        ("23595999", True),
        ("2400", False),
        ("1260", False),
        ("12345", False),
        ("126099", False),
        ("12a0", False),
    ],
)
def test_valid_time(value: str, ok: bool) -> None:
    assert valid_time(value) is ok


# ----------------------------------------------------------- compiled vs explained checker
_DICTS = [load_dictionary("004010"), load_dictionary("005010")]
_SEGMENTS = sorted(
    {
        (d.family, tag): seg
        for d in _DICTS
        for tag, seg in d.segments.items()
        if not seg.permissive
    }.items()
)
_VALUES = st.sampled_from(
    [
        "",
        "",
        "",
        "A",
        "AB",
        "ABC",
        "00",
        "SA",
        "20261120",
        "261120",
        "20261340",
        "1230",
        "2561",
        "12",
        "-5",
        "1.5",
        "-.5",
        "5.",
        ".",
        "1E5",
        "EA",
        "DP",
        "ST",
        "F",
        "0",
        "AC",
        "X" * 31,
        "X" * 81,
        "A\x01",
        "Ü",
        "A:B",
        "A^B",
        "1:2:3",
        "9" * 16,
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(_SEGMENTS),
    st.lists(_VALUES, max_size=30),
    st.booleans(),
    st.sampled_from([(":", "^"), (":", NO_SEPARATOR)]),
)
def test_compiled_check_agrees_with_the_explanation(
    item: tuple[tuple[str, str], SegmentDef], values: list[str], legacy: bool, seps: tuple[str, str]
) -> None:
    """The generated fast path says 'valid' exactly when the explaining path finds nothing."""
    (_, tag), seg = item
    els = [tag, *values[: len(seg.elements) + 2]]
    cs, rs = seps
    assert compile_segment(seg, legacy)(els, cs, rs) == (
        segment_problems(seg, els, cs, rs, legacy) == []
    )


def test_compiled_checks_are_cached_per_definition() -> None:
    seg = load_dictionary("004010").segments["BEG"]
    assert compile_segment(seg) is compile_segment(seg)
    assert compile_segment(seg) is not compile_segment(seg, legacy_dates=True)


# ------------------------------------------------------------------ the format, end to end
def write_specs(root: Path, segments: str, structure: str, codes: str = "codes: {}\n") -> Path:
    (root / "TST").mkdir(parents=True)
    (root / "codes.yaml").write_text(codes)
    (root / "TST" / "elements.yaml").write_text(
        "elements:\n"
        '  "143": [ID, 3, 3, Transaction Set Identifier Code]\n'
        '  "329": [AN, 4, 9, Transaction Set Control Number]\n'
        '  "96": [N0, 1, 10, Number of Included Segments]\n'
        '  "128": [ID, 2, 3, Reference Identification Qualifier]\n'
        '  "127": [AN, 1, 30, Reference Identification]\n'
        '  "1": [ID, 1, 1, Test Code]\n'
        "composites: {}\n"
    )
    (root / "TST" / "segments.yaml").write_text(
        "segments:\n"
        "  ST: {elements: [[143, M], [329, M]]}\n"
        "  SE: {elements: [[96, M], [329, M]]}\n" + segments
    )
    (root / "TST" / "100.yaml").write_text(structure)
    return root


def read_one(text: str) -> TransactionSet:
    isa = (
        "ISA*00*          *00*          *ZZ*S              *ZZ*R              *261120*1200*^*"
        "00501*000000001*0*P*>~GS*XX*S*R*20261120*1200*1*X*005010~"
    )
    return next(
        e
        for e in X12Reader((isa + text + "GE*1*1~IEA*1*000000001~").encode()).events()
        if isinstance(e, TransactionSet)
    )


def test_custom_spec_with_repeating_element_and_codes(tmp_path: Path) -> None:
    root = write_specs(
        tmp_path,
        "  ZZA: {elements: [[128, M], [127, O, {repeat: 3}], [1, O]]}\n",
        'set: "100"\nstructure:\n  - [ST, M, 1]\n  - [ZZA, M, 2]\n  - [SE, M, 1]\n',
        codes='codes:\n  "1": ["Y", "N"]\n',
    )
    validator = TransactionValidator(load_transaction("100", "TST", root=root))
    good = read_one("ST*100*0001~ZZA*AB*X^Y^Z*Y~SE*3*0001~")
    assert validator.validate(good) == []
    bad = read_one("ST*100*0001~ZZA*AB*W^X^Y^Z*Q~ZZA*AB~ZZA*AB~SE*5*0001~")
    got = [
        (f.code, f.location.describe(), f.location.repetition, f.value)
        for f in validator.validate(bad)
    ]
    assert got == [
        (ErrorCode.TOO_MANY_REPETITIONS, "segment 4 ZZA02", 4, "Z"),
        (ErrorCode.INVALID_CODE_VALUE, "segment 4 ZZA03", None, "Q"),
        (ErrorCode.SEGMENT_OVER_MAX_USE, "segment 6 ZZA", None, "ZZA"),
    ]


@pytest.mark.parametrize(
    ("segments", "structure", "message"),
    [
        (
            "  ZZA: {elements: [[999, M]]}\n",
            "[ZZA, M, 1]",
            "data element 999 is not in the dictionary",
        ),
        ("  ZZA: {elements: [[128, Q]]}\n", "[ZZA, M, 1]", "usage must be M, O or X"),
        ("  ZZA: {elements: [[128, M]], rules: [P0102]}\n", "[ZZA, M, 1]", "past 1"),
        ("  ZZA: {elements: [[128, M]]}\n", "[ZZB, M, 1]", "segment 'ZZB' is not defined"),
        ("  ZZA: {elements: [[128, M]]}\n", "[ZZA, M, 0]", "repeat must be a positive integer"),
        ("  ZZA: {}\n", "[ZZA, M, 1]", "mark it permissive"),
        (
            "  ZZA: {elements: [[128, M]]}\n",
            "{loop: L1, body: [{loop: L2, body: [[ZZA, O, 1]]}]}",
            "must start with a segment",
        ),
    ],
)
def test_spec_mistakes_name_the_file_and_key(
    tmp_path: Path, segments: str, structure: str, message: str
) -> None:
    root = write_specs(
        tmp_path,
        segments,
        f'set: "100"\nstructure:\n  - [ST, M, 1]\n  - {structure}\n  - [SE, M, 1]\n',
    )
    with pytest.raises(SpecError, match=message) as err:
        load_transaction("100", "TST", root=root)
    assert err.value.path is not None and err.value.path.endswith(".yaml")


def test_code_list_must_fit_the_element(tmp_path: Path) -> None:
    root = write_specs(
        tmp_path,
        "  ZZA: {elements: [[1, M]]}\n",
        'set: "100"\nstructure:\n  - [ST, M, 1]\n  - [ZZA, M, 1]\n  - [SE, M, 1]\n',
        codes='codes:\n  "1": ["YES"]\n',
    )
    with pytest.raises(SpecError, match="do not fit length"):
        load_transaction("100", "TST", root=root)


def test_missing_spec_is_an_error() -> None:
    with pytest.raises(SpecError, match="no spec for transaction set 123"):
        load_transaction("123", "004010")
