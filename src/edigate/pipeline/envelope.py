"""Envelope outbound X12 for one partner: its identities, separators and control numbers.

Control numbers are drawn from the partner's sequences inside the caller's database
transaction, the one that also stores the document, so a number is used exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..errors import EdigateError
from ..partners import Partner
from ..store import Store
from ..x12 import GroupEnvelope, InterchangeEnvelope, PartyId, Separators, X12Writer
from ..x12.acks import InterchangeAck
from ..x12.writer import Element

_SUFFIX = {"none": "", "lf": "\n", "crlf": "\r\n"}
_ISA_VERSION = {"004010": "00401", "005010": "00501"}


@dataclass(frozen=True, slots=True)
class OutboundTransaction:
    """One transaction to write: its set ID, its segments between ST and SE, and ST03."""

    set_id: str
    body: Sequence[Sequence[Element]]
    convention: str | None = None


@dataclass(frozen=True, slots=True)
class Enveloped:
    data: bytes
    interchange_control: str
    group_control: str
    transaction_controls: tuple[str, ...]


class EnvelopeError(EdigateError):
    """The partner's profile lacks what an X12 envelope needs."""


def _identities(partner: Partner, usage: str) -> tuple[PartyId, PartyId, str, str]:
    """(our ISA ID, their ISA ID, our GS ID, their GS ID) for ISA15 ``usage``."""
    profile = partner.profile
    if profile.identity is None or profile.us is None:
        raise EnvelopeError(
            f"partner {partner.id} has no X12 identity (identity/us) in its profile"
        )
    theirs = profile.identity.test if usage == "T" and profile.identity.test else None
    theirs = theirs or profile.identity.production
    ours = profile.us.test if usage == "T" and profile.us.test else None
    ours = ours or profile.us.production
    return (
        PartyId(ours.qualifier, ours.id),
        PartyId(theirs.qualifier, theirs.id),
        ours.gs,
        theirs.gs,
    )


def partner_separators(partner: Partner, isa_version: str) -> Separators:
    """The delimiters we write ``partner``'s interchanges of ``isa_version`` with."""
    settings = partner.profile.envelope
    seps = settings.separators
    return Separators(
        seps.element,
        seps.component,
        seps.segment,
        (seps.repetition or "^") if isa_version >= "00501" else None,
        _SUFFIX[settings.newline],
    )


def write_for_partner(
    store: Store,
    session: Session,
    partner: Partner,
    functional_id: str,
    transactions: Sequence[OutboundTransaction],
    *,
    version: str | None = None,
    usage: str = "P",
    timestamp: dt.datetime | None = None,
) -> Enveloped:
    """One interchange with one group holding ``transactions``, for ``partner``.

    ``version`` is GS08 (default: the profile's); ISA12 follows it (00401 or 00501).
    ``usage`` is ISA15: test interchanges use the test identities where the profile has them.
    """
    _identities(partner, usage)  # refuse before taking numbers
    isa13 = store.next_control_number(session, partner.id, "isa")
    gs06 = store.next_control_number(session, partner.id, "gs")
    first_st = store.reserve_control_numbers(session, partner.id, "st", max(1, len(transactions)))
    return write_envelope(
        partner,
        functional_id,
        transactions,
        isa13=isa13,
        gs06=gs06,
        first_st=first_st,
        version=version,
        usage=usage,
        timestamp=timestamp,
    )


def write_envelope(
    partner: Partner,
    functional_id: str,
    transactions: Sequence[OutboundTransaction],
    *,
    isa13: int,
    gs06: int,
    first_st: int,
    version: str | None = None,
    usage: str = "P",
    timestamp: dt.datetime | None = None,
) -> Enveloped:
    """:func:`write_for_partner` with the control numbers given: no database.

    For a trial write that our validator reads back before the real numbers are taken.
    """
    gs_version = version or partner.profile.envelope.version
    isa_version = _ISA_VERSION.get(gs_version[:6], "00501" if gs_version >= "005" else "00401")
    ours, theirs, our_gs, their_gs = _identities(partner, usage)
    separators = partner_separators(partner, isa_version)
    stamp = timestamp or dt.datetime.now(dt.UTC)
    writer = X12Writer(separators)
    writer.begin_interchange(
        InterchangeEnvelope(
            ours,
            theirs,
            isa13,
            version=isa_version,
            usage=usage,
            timestamp=stamp,
        )
    )
    writer.begin_group(
        GroupEnvelope(functional_id, our_gs, their_gs, gs06, version=gs_version, timestamp=stamp)
    )
    controls: list[str] = []
    for offset, tx in enumerate(transactions):
        control = f"{(first_st + offset) % 1_000_000_000:04d}"
        writer.begin_transaction(tx.set_id, control, tx.convention)
        writer.segments(tx.body)
        writer.end_transaction()
        controls.append(control)
    writer.end_group()
    writer.end_interchange()
    return Enveloped(writer.getvalue(), f"{isa13:09d}", str(gs06), tuple(controls))


def write_ta1_for_partner(
    store: Store,
    session: Session,
    partner: Partner,
    ta1: InterchangeAck,
    *,
    usage: str = "P",
    timestamp: dt.datetime | None = None,
) -> Enveloped:
    """A TA1 in an interchange of its own (ISA, TA1, IEA with IEA01 = 0)."""
    isa_version = _ISA_VERSION.get(partner.profile.envelope.version, "00401")
    ours, theirs, _, _ = _identities(partner, usage)
    isa13 = store.next_control_number(session, partner.id, "isa")
    writer = X12Writer(partner_separators(partner, isa_version))
    writer.begin_interchange(
        InterchangeEnvelope(
            ours,
            theirs,
            isa13,
            version=isa_version,
            usage=usage,
            timestamp=timestamp or dt.datetime.now(dt.UTC),
        )
    )
    writer.segment(["TA1", ta1.control_number, ta1.date, ta1.time, ta1.status, ta1.note_code or ""])
    writer.end_interchange()
    return Enveloped(writer.getvalue(), f"{isa13:09d}", "", ())
