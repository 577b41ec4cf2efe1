"""Every 810/850/855/856/997/999 of the shared corpus, validated against our specs.

``EXPECTED`` lists, per file, the findings the validator reports (``"<ack label> <where>"``),
each with the reason: a real deviation in the file, or a version approximation (a pre-4010
or 4030/4060 file validated against the nearest spec we have). Gaps found in our specs
while building this list were fixed in the specs, not recorded here; any file not listed
must validate with no finding at all. The samples shipped in ``samples/x12`` must be clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edigate.x12 import Finding, TransactionSet, X12Reader
from edigate.x12.validator import validate_transaction

DIRS = ("x12-850", "x12-855", "x12-856", "x12-810", "x12-997", "x12-999")

EXPECTED: dict[str, list[str]] = {
    # deviation: CTT*1*1 in each of the four POs, but PO102 sums to 4.
    "x12-850/bots__850-004010-02.x12": ["AK4-7 CTT02"] * 4,
    # deviation (several bots files): DTM*xxx*date***19, a pre-4010 century in DTM05; in 4010
    # DTM05 is the period format qualifier and must be paired with DTM06 (P0506).
    "x12-850/bots__850-004010-03.x12": ["AK4-2 DTM06"],
    "x12-850/bots__850-004010-05.x12": ["AK4-2 DTM06"],
    "x12-850/bots__850-004010-07.x12": ["AK4-2 DTM06"],
    "x12-850/bots__850-004010-08.x12": ["AK4-2 DTM06"],
    "x12-850/bots__850-004010-09.x12": ["AK4-2 DTM06"],
    "x12-850/bots__850-004010.16.x12": ["AK4-2 DTM06"],
    # deviation: CTT*1 but six PO1 lines.
    "x12-850/bots__850-004010-06.x12": ["AK4-7 CTT01"],
    # deviation: CTT02 456/504/504 while PO102 sums to 60, 294 and 324.
    "x12-850/bots__850-004010-12.x12": ["AK4-7 CTT02"] * 3,
    # approximation: 004030VICS validated as 004010, whose N9 loop carries MSG, not MTX.
    "x12-850/bots__850-004030VICS-01.x12": ["AK3-2 MTX"] * 5,
    # deviation: a segment terminator is missing, so "DTM*038*20190309PO1*30*..." swallows a
    # PO1; the following PO1 segments are out of sequence and CTT01 (10) counts 9 lines.
    "x12-850/edi.net__x12.850.issue135.edi": [
        "AK4-8 DTM02",
        "AK4-9 DTM03",
        "AK4-5 DTM04",
        "AK4-3 DTM08",
        "AK4-2 DTM06",
        "AK3-7 CUR",
        "AK3-7 PID",
        "AK3-7 PO4",
        "AK3-7 REF",
        "AK3-7 REF",
        "AK4-7 CTT01",
    ],
    # deviation: N4*City*State*64116 (placeholder "State" in a 2-character state code).
    "x12-850/edi.net__x12.850a.edi": ["AK4-5 N402"],
    # deviation: the component separator is "@" and PER04 is an e-mail address;
    # approximation: 003040 NTE lines, a segment the 4010 850 no longer has.
    "x12-850/oboe__5-850.x12": ["AK4-13 PER04", "AK3-6 NTE", "AK3-6 NTE", "AK3-6 NTE"],
    # deviation: every segment ends in a space before the terminator ("20090421 ~").
    "x12-850/oopfactory__Example4_Adobe_ShrinkWrapped.txt": [
        "AK4-8 BEG05",
        "AK4-5 CUR02",
        "AK4-8 DTM02",
        "AK4-8 DTM02",
        "AK4-6 CTT01",
        "AK4-6 AMT02",
    ],
    # deviation: the 003010 850 has N1*ST*CARGO LIMITED #112*92, a qualifier without an ID
    # (its two 810s are clean).
    "x12-850/staedi__invoice810_po850_dual.edi": ["AK4-2 N104"],
    # deviation: CTT*1 but two PO1 lines.
    "x12-850/stupidedi__003010_PO850_1.edi": ["AK4-7 CTT01"],
    # approximation: 003050 NTE (not in the 4010 850) and DTM05 as a century (3050 style).
    "x12-850/stupidedi__003050_PO850_1.edi": ["AK3-6 NTE", "AK4-2 DTM06"],
    # deviation: CTT02 5 is the sum of the ACK02 quantities; the standard hashes PO102 (8).
    "x12-855/node-x12__855.edi": ["AK4-7 CTT02"],
    # deviation: ISA11 declares "-" as the repetition separator, and REF02/N403 hold
    # "999999-001" and "31139-0020".
    "x12-856/node-x12__856.edi": ["AK4-12 REF02", "AK4-12 N403"],
    # deviation: N4*LOCCITY*LOCSTATE (placeholder state code).
    "x12-856/oopfactory__Example4.txt": ["AK4-5 N402"],
    # deviation: three segments end with "~" although the terminator is "$", so N1, N3, N4
    # and HL*2 become one N1 segment; HL numbering then jumps from 1 to 3.
    "x12-856/stupidedi__004010_SH856_2.edi": [
        "AK4-5 N105",
        "AK4-5 N106",
        "AK4-3 N107",
        "AK3-7 PRF",
        "AK4-7 HL01",
        "AK4-7 HL02",
    ],
    # deviation: ISS comes before TDS (the summary order is TDS, TXI, CAD, AMT, SAC, ISS, CTT),
    # so TDS is missing where expected and then out of sequence (twice: two invoices).
    "x12-810/oopfactory__Example3_MultiInvoice.txt": ["AK3-3 TDS", "AK3-7 TDS"] * 2,
    "x12-810/oopfactory__Example5_Walmart.txt": ["AK3-3 TDS", "AK3-7 TDS", "AK3-7 CAD"],
    # deviation: IT1||4||70 lines: quantity and unit price without the unit of measure
    # (IT102, IT103 and IT104 go together, P020304).
    "x12-810/stupidedi__004010_IN810_1.edi": ["AK4-2 IT103", "AK4-2 IT103"],
    # deviation: an empty 997 (ST and SE only): AK1 and AK9 are mandatory.
    "x12-997/staedi__empty997.edi": ["AK3-3 AK1", "AK3-3 AK9"],
    # deviation: a StAEDI test file that puts repetitions into non-repeating elements.
    "x12-997/staedi__extraDelimiter997.edi": ["AK4-12 AK302", "AK4-12 AK304", "AK4-12 AK404"],
    # deviation: AK202 "002" (control numbers are 4-9 characters) and CTX06-1 "C023"
    # (data element reference numbers are numeric; composites have none).
    "x12-999/oopfactory__DHS_Wisconsin_Sample.txt": ["AK4-4 AK202", "AK4-6 CTX06-1"],
}


def label(f: Finding) -> str:
    loc = f.location
    where = loc.tag or ""
    if loc.element is not None:
        where += f"{loc.element:02d}" + (f"-{loc.component}" if loc.component else "")
    return f"{f.code.label} {where}"


def corpus_files(corpus: Path) -> list[Path]:
    return [p for d in DIRS for p in sorted((corpus / d).iterdir()) if p.is_file()]


def validate_file(path: Path) -> tuple[list[str], int]:
    labels: list[str] = []
    count = 0
    for event in X12Reader(path).events():
        if isinstance(event, TransactionSet):
            count += 1
            labels.extend(label(f) for f in validate_transaction(event))
    return labels, count


def test_corpus_findings_are_all_explained(corpus_dir: Path) -> None:
    files = corpus_files(corpus_dir)
    assert len(files) >= 70  # the corpus really is there
    got: dict[str, list[str]] = {}
    transactions = 0
    for path in files:
        labels, count = validate_file(path)
        transactions += count
        if labels:
            got[f"{path.parent.name}/{path.name}"] = labels
    assert transactions > 100
    assert got == EXPECTED


def test_expected_entries_name_existing_files(corpus_dir: Path) -> None:
    for name in EXPECTED:
        assert (corpus_dir / name).is_file(), name


def test_samples_validate_clean(samples_dir: Path) -> None:
    samples = sorted((samples_dir / "x12").glob("*"))
    assert samples
    seen = 0
    for path in samples:
        for event in X12Reader(path).events():
            if isinstance(event, TransactionSet):
                seen += 1
                assert event.findings == [], path.name
                assert validate_transaction(event) == [], (
                    path.name,
                    [str(f) for f in validate_transaction(event)],
                )
    assert seen >= 1


@pytest.mark.parametrize("name", ["x12-850/bots__850-004010VICS-01.x12", "x12-856/bots__856_1.x12"])
def test_large_corpus_documents_are_clean(corpus_dir: Path, name: str) -> None:
    labels, count = validate_file(corpus_dir / name)
    assert count >= 1 and labels == []
