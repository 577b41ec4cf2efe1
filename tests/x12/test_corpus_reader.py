"""The reader on every X12 file of the shared corpus (real files from open-source projects).

``FINDINGS`` is the reviewed table of every corpus file that yields a finding, with what it
yields and whether that is a real deviation in the file (each was checked by hand against
the file). Any file not in the table must read with no finding at all, so a change in what
the reader reports on real files shows up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edigate.x12 import Finding, InterchangeHeader, X12Reader, encode_segments
from edigate.x12.summary import summarize
from tests.conftest import CORPUS
from tests.x12.test_reader import findings

SKIPPED_DIRS = {"edifact", "cxml", "csv", "oagis"}

Row = tuple[str, int | None, int | None, str]  # label, segment, element, "e"rror/"w"arning

# fmt: off
#: file -> (findings the reader yields, why: is each a real deviation in the file?)
FINDINGS: dict[str, tuple[list[Row], str]] = {
    "malformed/edi.net__x12.Issue101.edi": (
        [("TA1-022", 1, 8, "w"), ("AK5-4", 7, 1, "e"), ("TA1-001", 9, 2, "e")],
        "real: ISA08 11 chars; SE01=50 for 5 segments; IEA02 000000001 vs ISA13 000000055",
    ),
    "malformed/edi.net__x12.Issue91.edi": (
        [("TA1-022", 1, 8, "w"), ("AK5-4", 9, 1, "e"), ("TA1-001", 11, 2, "e")],
        "real: ISA08 short; SE01 wrong; IEA02 does not match ISA13",
    ),
    "malformed/ediengine__ControlNumbersMismatch.edi": (
        [("AK5-3", 7, 2, "e"), ("AK9-4", 8, 2, "e"), ("TA1-001", 9, 2, "e")],
        "real: SE02, GE02 and IEA02 each differ from their header (GS07 'T' is issue 3's)",
    ),
    "malformed/ediengine__NonEdi.edi": (
        [("FILE", 1, None, "e")],
        "real: not X12 at all",
    ),
    "malformed/ediengine__WrongGroupsAndTranCount.edi": (
        [("AK9-5", 8, 1, "e"), ("TA1-021", 9, 1, "e"), ("TA1-001", 9, 2, "w")],
        "real: GE01=2 for 1 ST, IEA01=2 for 1 GS; IEA02 '3438' same number, other padding",
    ),
    "malformed/staedi__invalid997_min.edi": (
        [("AK9-1", 2, 4, "e"), ("AK9-1", 2, 5, "e"), ("AK9-4", 7, 2, "e")],
        "real: GS04 BAD_DATE, GS05 295335 (hour 29); GE02 is not GS06 (AK1 codes are issue "
        "3's)",
    ),
    "malformed/staedi__invalid999.edi": (
        [("AK5-4", 20, 1, "e")],
        "real: SE01=16, the set has 18 segments (the IK5/AK2 order is issue 3's)",
    ),
    "malformed/stupidedi__004010_PR855_2.edi": (
        [("TA1-022", 1, 2, "w"), ("TA1-022", 1, 4, "w"), ("TA1-022", 1, 6, "w"),
         ("TA1-022", 1, 8, "w")],
        "real, warnings by design: unpadded ISA02/04/06/08 (a line break inside ISA10 is "
        "formatting); the interchange is otherwise sound, so it is read",
    ),
    "malformed/vscode-edi__bad-header.edi": (
        [("TA1-022", 1, 6, "w"), ("TA1-022", 1, 8, "w"), ("TA1-022", 1, 13, "w"),
         ("TA1-014", 1, 9, "e"), ("TA1-018", 1, 13, "e"), ("AK9-6", 2, 6, "e"),
         ("AK9-1", 2, 4, "e"), ("AK5-4", 117, 1, "e")],
        "real: 14-char IDs, ISA09 000000, ISA13 11 digits, GS06 11 digits, GS04 000000, "
        "SE01=0",
    ),
    "x12-810/edi.net__x12.810a.edi": (
        [("TA1-022", 1, 2, "w"), ("TA1-022", 1, 4, "w"), ("TA1-022", 1, 8, "w")],
        "real: unpadded ISA02/04/08",
    ),
    "x12-810/edi.net__x12.810b.edi": (
        [("TA1-022", 1, 2, "w"), ("TA1-022", 1, 4, "w"), ("TA1-022", 1, 8, "w")],
        "real: unpadded ISA02/04/08",
    ),
    "x12-810/oopfactory__Example5_Walmart.txt": (
        [("TA1-017", 1, 12, "w")], "real: ISA12 '00040' is no I11 version (a digit short)",
    ),
    "x12-850/bots__850-004010-02.x12": (
        [("AK5-23", 23, 2, "e"), ("AK9-19", 44, 6, "e"), ("AK5-23", 65, 2, "e")],
        "real: three 850s in one group all with ST02 000000001; the second group reuses "
        "GS06 5",
    ),
    "x12-850/bots__850-004010-05.x12": ([("TA1-016", 1, 11, "w")], "real: 'U' in 00403 ISA11"),
    "x12-850/bots__850-004010-07.x12": ([("TA1-016", 1, 11, "w")], "real: 'U' in 00403 ISA11"),
    "x12-850/bots__850-004010-08.x12": ([("TA1-016", 1, 11, "w")], "real: 'U' in 00403 ISA11"),
    "x12-850/bots__850-004010-09.x12": ([("TA1-016", 1, 11, "w")], "real: 'U' in 00403 ISA11"),
    "x12-850/bots__850-004010.16.x12": ([("TA1-016", 1, 11, "w")], "real: 'U' in 00403 ISA11"),
    "x12-850/edi.net__x12.850.edi": (
        [("TA1-001", 15, 2, "e")],
        "real: IEA02 000000001 vs ISA13 000000055",
    ),
    "x12-850/edi.net__x12.850.issue135.edi": (
        [("TA1-027", 1, 16, "w"), ("AK5-4", 88, 1, "e"), ("AK5-23", 89, 2, "e")],
        "real: ISA16 missing ('*T*~'); SE01=87 for 86 segments; ST02 0001 twice in the group",
    ),
    "x12-850/edi.net__x12.850a.edi": (
        [("TA1-022", 1, 8, "w"), ("TA1-001", 54, 2, "e")],
        "real: ISA08 11 chars; IEA02 does not match ISA13",
    ),
    "x12-850/oopfactory__Example3_Adobe_CLP.txt": (
        [("TA1-022", 1, 6, "w")], "real: ISA06 is 14 characters",
    ),
    "x12-850/oopfactory__Example4_Adobe_ShrinkWrapped.txt": (
        [("TA1-022", 1, 6, "w")], "real: ISA06 is 14 characters",
    ),
    "x12-850/stedi-bootstrap__input.edi": (
        [("TA1-016", 1, 11, "w"), ("AK5-6", 3, 1, "e")],
        "real: 'U' in 00501 ISA11; an 850 in a GS01 OW group (850s go in PO groups)",
    ),
    "x12-850/stupidedi__003010_PO850_1.edi": (
        [("TA1-022", 1, 2, "w"), ("TA1-022", 1, 4, "w"), ("TA1-022", 1, 6, "w"),
         ("TA1-022", 1, 8, "w"), ("AK5-4", 29, 1, "e")],
        "real (a stupidedi 'fail' fixture): unpadded ISA; SE01=28 for 27 segments",
    ),
    "x12-850/stupidedi__003050_PO850_1.edi": (
        [("TA1-022", 1, 2, "w"), ("TA1-022", 1, 4, "w"), ("TA1-022", 1, 6, "w"),
         ("TA1-022", 1, 8, "w")],
        "real: unpadded ISA02/04/06/08",
    ),
    "x12-855/stupidedi__X358_855_rejected.edi": (
        [("AK5-6", 3, 1, "e")], "real: an 855 in a GS01 SC group (855s go in PR groups)",
    ),
    "x12-856/stupidedi__002001_SH856_1.edi": (
        [("TA1-022", 1, 2, "w"), ("TA1-022", 1, 4, "w"), ("TA1-022", 1, 6, "w"),
         ("TA1-022", 1, 8, "w")],
        "real: unpadded ISA02/04/06/08",
    ),
    "x12-856/stupidedi__004010_SH856_2.edi": (
        [("AK5-4", 24, 1, "e")],
        "real (a stupidedi 'fail' fixture): SE01=25 for 22 segments",
    ),
    "x12-997/stupidedi__004010_FA997_1.edi": (
        [("TA1-022", 1, 6, "w")], "real: ISA06 is 12 characters",
    ),
    "x12-other/ediengine__MultipleInterchangesAndGroups.edi": (
        [("TA1-001", 21, 2, "w"), ("TA1-001", 42, 2, "w")],
        "real: IEA02 '3438'/'3439' unpadded (same numbers as ISA13)",
    ),
    "x12-other/oboe__justTA1TestCase.edi": (
        [("TA1-021", 3, 1, "w")], "real: IEA01=1 counts the TA1, not groups (0)",
    ),
    "x12-other/oopfactory__Example3_HomeDepot.txt": (
        [("AK9-6", 2, 6, "e"), ("AK9-4", 27, 2, "e")],
        "real: GS06 is placeholder text '44 (Group Control Number)', so GE02 '44' differs",
    ),
    "x12-other/oopfactory__Steinmart_Example1.txt": (
        [("TA1-007", 1, 7, "e"), ("TA1-001", 31, 2, "e")],
        "real: ISA07 XX is no I05 qualifier; IEA02 00000000 (8 digits) vs ISA13 000000001",
    ),
    "x12-other/oopfactory__TechnicalAcknowledgment_Sample1.txt": (
        [("TA1-024", 2, 1, "e"), ("TA1-024", 2, 2, "e"), ("TA1-024", 2, 5, "e"),
         ("TA1-024", 3, 1, "e"), ("TA1-024", 3, 2, "e"), ("TA1-024", 3, 5, "e")],
        "real: each TA1 has a 4-digit TA101 (9 required), a CCYYMMDD TA102 (YYMMDD) and no "
        "TA105",
    ),
    "x12-other/oopfactory__TechnicalAcknowledgment_SampleFromJeffN825.txt": (
        [("TA1-024", 2, 6, "w")], "real: a sixth element '+' after TA105 (ISA16, doubled)",
    ),
    "x12-other/oopfactory__UnicodeExample.txt": (
        [("AK5-2", 6, None, "e"), ("AK9-3", 6, None, "e"), ("TA1-023", 6, None, "e")],
        "real: UTF-16 file cut off after NM1*41: no SE, GE or IEA",
    ),
    "x12-other/pyx12__multiple_st_loops.txt": (
        [("TA1-016", 1, 11, "w")], "real: 'U' in 00501 ISA11",
    ),
    "x12-other/staedi__x12_interchange_ack.txt": (
        [("TA1-021", 3, 1, "w")], "real: IEA01=1 counts the TA1, not groups (0)",
    ),
    "x12-other/vscode-edi__odd-separator.edi": (
        [("AK5-2", 47, None, "e"), ("AK9-3", 47, None, "e"), ("TA1-023", 47, None, "e")],
        "real: the file ends after PRV, without SE, GE or IEA",
    ),
    "x12-other/x12-types__005010_824.edi": (
        [("TA1-016", 1, 11, "w")], "real: 'U' in 00501 ISA11",
    ),
}
# fmt: on

#: Malformed files whose problem the reader cannot see: it is in the content, which the
#: transaction-set validator of issue 3 checks.
SEMANTIC_ONLY = {
    "malformed/ediengine__850.SyntaxNotes.ERR.edi": (
        "PO106 'CB' without PO107 breaks the PO1 paired syntax note P0607: issue-3 "
        "validation reports AK4-2 (conditional required element missing)"
    ),
    "malformed/staedi__invalid997.edi": (
        "AK101 'HC NOT IN CODESET' and AK402 '66 NON NUMERIC' are bad code values and "
        "types: issue-3 validation of the 997 reports AK4-7 / AK4-5 / AK4-6"
    ),
}

#: Malformed files whose only deviations the reader reports as warnings on purpose.
READ_LENIENTLY = {
    "malformed/stupidedi__004010_PR855_2.edi": (
        "unpadded ISA fields are read with TA1-022 warnings (README: 'ISAs ... not padded')"
    ),
}


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(
        p
        for d in corpus.iterdir()
        if d.is_dir() and d.name not in SKIPPED_DIRS
        for p in d.iterdir()
        if p.is_file()
    )


def rows(found: list[Finding]) -> list[Row]:
    ordered = sorted(found, key=lambda f: f.location.segment or 0)
    return [
        (f.code.label, f.location.segment, f.location.element, "e" if f.is_error else "w")
        for f in ordered
    ]


def _rel_paths() -> list[str]:
    """File names for parametrizing, from where the ``corpus_dir`` fixture looks (the tests
    then open them through the fixture, which skips when the corpus is absent)."""
    if not CORPUS.is_dir():
        return ["(corpus missing)"]
    return [p.relative_to(CORPUS).as_posix() for p in corpus_files(CORPUS)]


ALL = _rel_paths()
# Without the corpus, one placeholder: the fixture then skips saying the corpus is missing
# (an empty list would skip as "got empty parameter set", naming no reason).
MALFORMED = [rel for rel in ALL if rel.startswith("malformed/")] or ["(corpus missing)"]


def _path(corpus_dir: Path, rel: str) -> Path:
    path = corpus_dir / rel
    assert path.is_file(), rel
    return path


@pytest.mark.parametrize("rel", ALL)
def test_every_corpus_x12_file_is_read_without_an_unexpected_exception(
    corpus_dir: Path, rel: str
) -> None:
    data = _path(corpus_dir, rel).read_bytes()
    events = list(X12Reader(data).events())
    assert events
    assert list(X12Reader(data, chunk_size=7).events()) == events
    summary = summarize(data)
    assert len(summary["interchanges"]) == sum(isinstance(e, InterchangeHeader) for e in events)
    assert len(summary["errors"]) == len(findings(events))


@pytest.mark.parametrize("rel", ALL)
def test_corpus_findings_are_exactly_the_reviewed_table(corpus_dir: Path, rel: str) -> None:
    events = list(X12Reader(_path(corpus_dir, rel)).events())
    expected, _why = FINDINGS.get(rel, ([], "well-formed"))
    assert rows(findings(events)) == expected


@pytest.mark.parametrize("rel", MALFORMED)
def test_every_malformed_file_yields_an_error(corpus_dir: Path, rel: str) -> None:
    """The reader finds an error in each malformed file, except where the fault is content.

    Content faults (SEMANTIC_ONLY) are read without an envelope error here; the validator
    finds them (tests/cli/test_validate.py checks reader + validator on every file and
    these two in detail below).
    """
    found = findings(X12Reader(_path(corpus_dir, rel)).events())
    if rel in READ_LENIENTLY:
        assert found and all(not f.is_error for f in found), READ_LENIENTLY[rel]
        return
    if rel in SEMANTIC_ONLY:
        assert not any(f.is_error for f in found), SEMANTIC_ONLY[rel]
        return
    assert any(f.is_error for f in found), [str(f) for f in found]


def test_content_faults_are_the_validators(corpus_dir: Path) -> None:
    from edigate.x12.check import check_file

    syntax = check_file(
        _path(corpus_dir, "malformed/ediengine__850.SyntaxNotes.ERR.edi").read_bytes()
    )
    assert ("PO1", 7, "AK4-2") in {
        (f.location.tag, f.location.element, f.code.label) for f in syntax.errors
    }
    codes = check_file(_path(corpus_dir, "malformed/staedi__invalid997.edi").read_bytes())
    tags = {(f.location.tag, f.location.element) for f in codes.errors}
    assert ("AK1", 1) in tags and ("AK4", 2) in tags


def test_the_reviewed_tables_name_real_corpus_files(corpus_dir: Path) -> None:
    for rel in [*FINDINGS, *SEMANTIC_ONLY, *READ_LENIENTLY]:
        assert (corpus_dir / rel).is_file(), rel
    assert len(ALL) > 100  # 111 X12 files at the time of writing


def test_control_numbers_mismatch_file_in_detail(corpus_dir: Path) -> None:
    path = _path(corpus_dir, "malformed/ediengine__ControlNumbersMismatch.edi")
    by_label = {f.code.label: f for f in findings(X12Reader(path).events())}
    assert by_label["AK5-3"].location.segment == 7
    assert "SE02 '0002' does not match ST02 '0001'" in by_label["AK5-3"].message
    assert by_label["AK9-4"].location.segment == 8
    assert "GE02 '3315' does not match GS06 '3314'" in by_label["AK9-4"].message
    assert by_label["TA1-001"].location.segment == 9
    assert "'000003439'" in by_label["TA1-001"].message


# ---------------------------------------------------------------------- round trips
def _uniform(text: str, end: str, breaks: str) -> bool:
    """Every segment followed by the same terminator + suffix, no indentation or stray
    line breaks: then writing the segments back must give the same bytes."""
    if not (text.startswith("ISA") and text.endswith(end)):  # no BOM, ends like the rest
        return False
    return all(
        seg and seg[0] not in " \t\r\n" and not any(b in seg for b in breaks)
        for seg in text[: -len(end)].split(end)
    )


def test_well_formed_corpus_files_round_trip_through_the_writer(corpus_dir: Path) -> None:
    exact = 0
    for rel in ALL:
        if rel.startswith("malformed/"):
            continue
        data = _path(corpus_dir, rel).read_bytes()
        reader = X12Reader(data)
        headers = [e for e in reader.events() if isinstance(e, InterchangeHeader)]
        seps = headers[0].separators
        if any(h.separators != seps for h in headers):
            continue  # one call of encode_segments writes one set of separators
        segments = [seg for _, seg in X12Reader(data).segments()]
        written = encode_segments(segments, seps, encoding=reader.encoding)
        assert [seg for _, seg in X12Reader(written).segments()] == segments, rel
        text = data.decode(reader.encoding, "surrogateescape")
        breaks = "".join(b for b in "\r\n" if b not in seps.delimiters())
        if _uniform(text, seps.segment + seps.suffix, breaks):
            assert written == data, rel
            exact += 1
    assert exact >= 30  # 38 corpus files are laid out uniformly
