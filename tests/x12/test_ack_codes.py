"""A partner's ack codes read with their X12 meaning, never with our finding names."""

from __future__ import annotations

from collections import defaultdict

import pytest

from edigate.pipeline.reconcile import _rejection
from edigate.x12.acks import GroupAck, SegmentError, TransactionAck
from edigate.x12.acks.codes import CODE_LISTS, meaning
from edigate.x12.findings import ErrorCode, Level


def group(functional_id: str, control: str) -> GroupAck:
    return GroupAck("997", "0001", functional_id, control, "R", 1, 1, 0)


def test_ak5_5_is_one_or_more_segments_in_error() -> None:
    assert meaning(Level.TRANSACTION, "5") == "one or more segments in error"


def test_a_partners_ak5_5_on_our_810_reads_as_segments_in_error() -> None:
    tx = TransactionAck(set_id="810", control_number="0001", status="R", codes=("5",))
    (error,) = _rejection("997", "acme-retail", group("IN", "17"), tx, 9)
    assert error["code"] == "AK5-5"
    assert error["message"] == (
        "acme-retail's 997 rejected 810 0001: one or more segments in error"
    )


def test_every_code_we_emit_has_its_standard_meaning() -> None:
    """Each (level, code) our ErrorCode carries is in the X12 list; where several of our
    kinds share a code, at least one of them states the standard meaning."""
    shared: dict[tuple[Level, str], list[ErrorCode]] = defaultdict(list)
    for code in ErrorCode:
        if code.level is not Level.FILE:
            shared[(code.level, code.x12)].append(code)
    collisions = {key: kinds for key, kinds in shared.items() if len(kinds) > 1}
    # A new one needs a look: our size limits report as the standard codes nearest to them,
    # GS elements the 004010/005010 AK905 lists have no code for as 1, a bad TA1 as 024.
    assert set(collisions) == {
        (Level.TRANSACTION, "5"),
        (Level.SEGMENT, "8"),
        (Level.GROUP, "1"),
        (Level.INTERCHANGE, "024"),
    }
    for (level, x12), kinds in shared.items():
        standard = meaning(level, x12)
        assert standard is not None, (level, x12)
        if len(kinds) > 1:
            assert standard in {k.description for k in kinds}, (level, x12, standard)


@pytest.mark.parametrize(
    ("level", "code", "expected"),
    [
        (Level.INTERCHANGE, "000", "no error"),
        (Level.INTERCHANGE, "9", "unknown interchange receiver ID"),  # unpadded TA105
        (Level.GROUP, "19", "functional group control number not unique within interchange"),
        (Level.TRANSACTION, "05", "one or more segments in error"),
        (Level.TRANSACTION, "I5", "implementation: one or more segments in error"),
        (Level.SEGMENT, "I4", "implementation: 'not used' segment present"),
        (Level.ELEMENT, "I12", "implementation: pattern match failure"),
        (Level.ELEMENT, "11", None),  # not in element 723
        (Level.FILE, "1", None),
    ],
)
def test_meaning(level: Level, code: str, expected: str | None) -> None:
    assert meaning(level, code) == expected


def test_segment_errors_read_with_the_standard_list() -> None:
    tx = TransactionAck(
        set_id="856",
        control_number="0002",
        status="R",
        codes=("I5",),
        segment_errors=(SegmentError(tag="HL", position=5, code="I7"),),
    )
    segment, transaction = _rejection("999", "globex-dist", group("SH", "3"), tx, 1)
    assert segment["message"].endswith("implementation: loop occurs under minimum times")
    assert transaction["message"].endswith("implementation: one or more segments in error")


def test_code_lists_cover_every_ack_level() -> None:
    assert set(CODE_LISTS) == {level for level in Level if level is not Level.FILE}
