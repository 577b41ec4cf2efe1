"""What we answer to broken X12 must itself be valid X12.

Fuzzing found 997/999s that failed our own validator (and so a partner's translator): an
``AK1**`` for a GS without elements, an ``AK2*850*12`` for a too-short ST02, undecodable
bytes copied into AK404. Now a group no AK1 can name is reported in the TA1 (024), a
transaction no AK2 can name is counted in AK9 without an AK2, and copied values lose what
cannot be written. Every case is also kept in ``tests/regressions/x12/`` and replayed
through the fuzz target, which checks each 997/999 against our spec.
"""

from __future__ import annotations

from edigate.x12 import validate_transaction
from edigate.x12.acks import AckOutput, acknowledge

from . import targets

KEPT = targets.REGRESSIONS / "x12"


def answer(name: str, kind: str = "997") -> AckOutput:
    data = (KEPT / name).read_bytes()
    (output,) = acknowledge(data, kind, validate=validate_transaction).outputs
    if output.functional is not None:
        targets.check_clean(output.functional)
    return output


def test_a_group_without_gs01_and_gs06_is_rejected_by_the_ta1_not_a_broken_997() -> None:
    output = answer("ack-gs-without-elements.edi")
    assert output.functional is None and output.groups == []
    assert (output.ta1.status, output.ta1.note_code) == ("R", "024")
    assert output.technical is not None and b"TA1*000004211*261120*1405*R*024~" in output.technical
    assert any("cannot be acknowledged" in f.message for f in output.findings)


def test_a_transaction_with_a_short_st02_is_counted_but_not_named() -> None:
    for kind in ("997", "999"):
        output = answer("ack-st02-too-short.edi", kind)
        (group,) = output.groups
        assert group.transactions == []
        assert (group.status, group.received, group.accepted) == ("R", 1, 0)
        assert b"AK2" not in (output.functional or b"")


def test_undecodable_bytes_are_not_copied_into_ak404() -> None:
    output = answer("ack-undecodable-byte-in-a-bad-date.edi")
    assert output.functional is not None
    assert b"\x80" not in output.functional
    assert b"AK4*2*373*8*2026 1204~" in output.functional


def test_an_element_position_past_99_is_not_written_in_ak401() -> None:
    """AK401-1 is 1-2 digits: a finding at element 126 keeps its AK3 and loses its AK4."""
    for kind in ("997", "999"):
        output = answer("ack-element-position-over-99.edi", kind)
        assert output.functional is not None
        ak4s = [s for s in output.functional.split(b"~") if s.strip().startswith((b"AK4", b"IK4"))]
        assert ak4s and all(len(s.split(b"*")[1].split(b">")[0]) <= 2 for s in ak4s)
