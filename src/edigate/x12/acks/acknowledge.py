"""Acknowledge a whole inbound file: read it, plug in a validator, get the ack bytes.

An ISA whose delimiters are broken cannot be read, so the reader skips to the next ISA and
reports it as findings only. To still answer it with a TA1 R, the ISA is split here by the
character after ``ISA``, only when its fields can be located (16 of them, or the fixed
layout) and give an ISA13; nothing inside it can be acknowledged. Every other broken
envelope (IEA missing, control numbers or group count not matching) gives a TA1 R, and no
997/999: the partner sends the whole interchange again, and none of it was taken. Where
the policy sends no TA1, the 997/999 of every group that could be read is the answer.

Usage::

    result = acknowledge(data, "997", validate=lambda tx: validator.check(tx))
    store(result.functional, result.technical)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..events import TransactionSet
from ..findings import Finding, Level
from ..isa import looks_like_isa, parse_isa
from ..reader import ReaderLimits, X12Reader
from .builder import AckBuilder, AckOptions, AckOutput
from .model import AckChoice, ControlNumbers, GroupAck

#: The validator hook: extra findings for one transaction set (the reader's are added anyway).
Validate = Callable[[TransactionSet], Iterable[Finding]]


@dataclass(slots=True)
class Acknowledgements:
    """The answer to one inbound file: one :class:`AckOutput` per inbound interchange.

    ``findings`` are the problems no ack can name (outside any interchange, or an ISA too
    broken to refer to).
    """

    outputs: list[AckOutput] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def functional(self) -> bytes:
        """Every 997/999 interchange, concatenated (empty when there is none)."""
        return b"".join(o.functional for o in self.outputs if o.functional)

    @property
    def technical(self) -> bytes:
        """Every TA1 interchange, concatenated (empty when there is none)."""
        return b"".join(o.technical for o in self.outputs if o.technical)

    @property
    def groups(self) -> list[GroupAck]:
        return [g for o in self.outputs for g in o.groups]


def acknowledge(
    data: bytes,
    kind: AckChoice | None = "997",
    *,
    control_numbers: ControlNumbers | None = None,
    validate: Validate | None = None,
    options: AckOptions | None = None,
    limits: ReaderLimits | None = None,
) -> Acknowledgements:
    """Build the 997 or 999 (``kind``; ``auto`` per interchange; None for TA1 only) and TA1s
    for an inbound file."""
    builder = AckBuilder(kind, control_numbers, options)
    result = Acknowledgements()
    unusable: dict[int, list[Finding]] = {}
    salvaged: list[list[str]] | None = None

    def flush() -> None:
        nonlocal salvaged
        if not unusable:
            return
        if salvaged is None:
            salvaged = salvage_isas(data)
        for position, findings in unusable.items():
            elements = salvaged.pop(0) if salvaged else []
            out = builder.unreadable_interchange(elements, findings, position)
            if out is None:
                result.findings.extend(findings)
            else:
                result.outputs.append(out)
        unusable.clear()

    for event in X12Reader(data, limits=limits).events():
        if isinstance(event, Finding) and not builder.in_interchange:
            if event.code.level is Level.INTERCHANGE:
                unusable.setdefault(event.location.segment or 0, []).append(event)
            else:
                result.findings.append(event)
            continue
        flush()
        extra = list(validate(event)) if validate and isinstance(event, TransactionSet) else []
        out = builder.feed(event, extra)
        if out is not None:
            result.outputs.append(out)
    flush()
    return result


def salvage_isas(data: bytes) -> list[list[str]]:
    """The elements of every ISA in ``data`` whose delimiters make it unusable, in order.

    An ISA whose fields cannot be located (one element too few or too many, not in the fixed
    layout) gives ``[]``: a TA1 built from shifted fields would name the wrong interchange
    and go to the wrong party.
    """
    text = data.decode("utf-8", "surrogateescape")
    out: list[list[str]] = []
    start = text.find("ISA")
    while start >= 0:
        if looks_like_isa(text, start) and _opens_segment(text, start):
            parse = parse_isa(text, start, 0, at_eof=True)
            if parse is not None and parse.separators is None:
                out.append(parse.elements if parse.reliable else [])
        start = text.find("ISA", start + 3)
    return out


def _opens_segment(text: str, start: int) -> bool:
    """True when nothing but blanks stands between the previous segment and this ``ISA``."""
    j = start - 1
    while j >= 0 and text[j] in " \t\r\n\ufeff":
        j -= 1
    return j < 0 or not (text[j].isalnum() or text[j] == text[start + 3])
