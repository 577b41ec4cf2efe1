"""From rows to segments: the body (AK1..AK9) of one 997 or 999 transaction set.

The inverse of :mod:`edigate.x12.acks.parse`; envelopes are the builder's business. A 997
(004010) has no AK103, no AK203 and a two-part C030; a 999 uses IK3/IK4/IK5 and carries the
group's version in AK103, the acknowledged set's ST03 in AK203 and the repetition in C030-03.
"""

from __future__ import annotations

from ..writer import Element, trim
from .model import GroupAck


def group_segments(group: GroupAck) -> list[list[Element]]:
    """AK1, the AK2 loops and AK9 for ``group``, in order, without ST/SE."""
    is_999 = group.kind == "999"
    seg3, seg4, seg5 = ("IK3", "IK4", "IK5") if is_999 else ("AK3", "AK4", "AK5")
    ak1: list[Element] = ["AK1", group.functional_id, group.control_number]
    if is_999 and group.version:
        ak1.append(group.version)
    out: list[list[Element]] = [ak1]
    for t in group.transactions:
        ak2: list[Element] = ["AK2", t.set_id, t.control_number]
        if is_999 and t.convention:
            ak2.append(t.convention)
        out.append(ak2)
        for s in t.segment_errors:
            out.append(trim([seg3, s.tag, str(s.position), s.loop_id or "", s.code or ""]))
            for e in s.elements:
                c030: tuple[str, ...] = (str(e.position), _num(e.component))
                if is_999:
                    c030 += (_num(e.repetition),)
                out.append(trim([seg4, c030, e.data_element_ref or "", e.code, e.value or ""]))
        out.append([seg5, t.status, *t.codes])
    out.append(
        [
            "AK9",
            group.status,
            _num(group.declared),
            _num(group.received),
            _num(group.accepted),
            *group.codes,
        ]
    )
    return out


def _num(value: int | None) -> str:
    return "" if value is None else str(value)
