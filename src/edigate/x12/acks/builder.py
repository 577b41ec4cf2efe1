"""The streaming 997/999/TA1 builder: feed it reader events, get ack interchanges back.

One ack interchange answers one inbound interchange. Inside it, one FA group per pair of
application codes (GS02/GS03 swapped from the inbound group) holds one 997 or 999 per
inbound functional group; groups of acks (GS01 ``FA``) are never acknowledged. The TA1 goes
in an interchange of its own (ISA, TA1, IEA with IEA01 = 0): its verdict is only known at
the IEA, while the 997/999 for each group is written as soon as that group ends, and a
partner policy may want a TA1 without a 997 or the reverse.

Memory: each transaction leaves one small :class:`TransactionAck` row; the ack bytes grow by
a few dozen bytes per transaction.

Usage::

    builder = AckBuilder("997", CounterControlNumbers())
    for event in X12Reader(data).events():
        extra = validate(event) if isinstance(event, TransactionSet) else ()
        if (out := builder.feed(event, extra)) is not None:
            send(out.functional, out.technical)
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from ...errors import X12Error
from ..events import (
    Event,
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    PartyId,
    TransactionSet,
)
from ..findings import ErrorCode, Finding, Level, Location
from ..isa import (
    INTERCHANGE_ID_QUALIFIERS,
    NO_COMPONENT,
    header_of,
    is_control_version,
    valid_hhmm,
    valid_yymmdd,
)
from ..separators import LINE_BREAKS, Separators
from ..writer import GroupEnvelope, InterchangeEnvelope, X12Writer
from .assess import GROUP_CODES_4010, MAX_CODES, assess_transaction, dedupe
from .model import (
    AckChoice,
    AckKind,
    ControlNumbers,
    CounterControlNumbers,
    GroupAck,
    InterchangeAck,
    TransactionAck,
)
from .render import group_segments

#: When a TA1 is sent: ``on_error_or_request`` (default) sends one for interchange errors and
#: whenever ISA14 is 1.
Ta1Policy = Literal["never", "on_error", "on_request", "on_error_or_request", "always"]

#: Envelope versions per ack kind: (ISA12, GS08). The 999 is the 005010X231A1 errata
#: version, which the 999 implementation guide requires in GS08 and ST03.
VERSIONS: dict[str, tuple[str, str]] = {
    "997": ("00401", "004010"),
    "999": ("00501", "005010X231A1"),
}

_HIGHER = (Level.INTERCHANGE, Level.FILE)
_COMPONENT_CHOICES = ":>^!|`{}"
_REPETITION_CHOICES = "^|!`{}\\"


@dataclass(frozen=True, slots=True)
class AckOptions:
    """How acks are written. Every ``None`` means: derive it from the inbound interchange.

    ``separators`` default to the inbound ones (a repetition separator is added for 00501
    and dropped for 00401); ``usage`` (ISA15) defaults to the inbound ISA15; the versions to
    :data:`VERSIONS`. ``note_warnings`` lists warnings in AK3/AK4 with status E; when False
    they are left out and the status is A.

    ``versions`` are the GS08 versions the receiver supports, compared on the version and
    release (the first six characters: ``004010VICS`` is ``004010``). A group under another
    is rejected with AK905 2. None, the default, supports every version: the validator
    checks one it has no spec for against the nearest family (see
    :func:`edigate.x12.validator.spec_version`), so rejecting is the receiver's choice.
    """

    separators: Separators | None = None
    usage: str | None = None
    interchange_version: str | None = None
    group_version: str | None = None
    ta1: Ta1Policy = "on_error_or_request"
    note_warnings: bool = True
    timestamp: _dt.datetime | None = None
    versions: frozenset[str] | None = None


@dataclass(slots=True)
class AckOutput:
    """Everything that answers one inbound interchange.

    ``functional`` is the 997/999 interchange (None when no group was acknowledged),
    ``technical`` the TA1 interchange (None when the policy asks for none). ``ta1`` is the
    TA1 verdict, computed even when not sent; ``findings`` the interchange-level findings
    (errors, then warnings; the TA1 notes the warnings only with ``note_warnings``), and
    ``group_errors`` the errors that made a 997/999 reject a group (AK9 R), by its GS's
    place in the file: what an operator needs to be told, beyond the codes the partner gets.
    """

    control_number: str
    functional: bytes | None
    technical: bytes | None
    groups: list[GroupAck]
    ta1: InterchangeAck
    findings: list[Finding] = field(default_factory=list)
    group_errors: dict[int, list[Finding]] = field(default_factory=dict)

    def rejection(self, group_position: int | None) -> str | None:
        """Why these acks reject a transaction of the group whose GS is at
        ``group_position`` in the file (a TA1 rejecting the interchange, sent; an AK9 R for
        its group), or None: the partner is told to send it again, so it must not be
        delivered. The group is known by its place, not its GS06: of two groups sharing a
        GS06 (AK905 19), our 997 accepts the first and rejects the second."""
        if self.technical is not None and self.ta1.status == "R":
            return f"the interchange was rejected by our TA1 (TA105 {self.ta1.note_code})"
        if group_position is None:
            return None
        for ack in self.groups:
            if ack.status == "R" and ack.position == group_position:
                codes = " ".join(ack.codes)
                why = "".join(f"; {f}" for f in self.group_errors.get(group_position, [])[:3])
                return (
                    f"its functional group {ack.control_number} was rejected by our "
                    f"{ack.kind} (AK9 R {codes}){why}"
                )
        return None


@dataclass(slots=True)
class _OpenGroup:
    header: GroupHeader
    skip: bool  # an FA group: acks are not acknowledged
    rows: list[TransactionAck] = field(default_factory=list)
    unreferenced: int = 0  # transactions no AK2 can name (ST01/ST02 unusable): counted only
    accepted: int = 0
    noted: bool = False
    escalated: list[Finding] = field(default_factory=list)


class AckBuilder:
    """Builds the 997 or 999 (``kind``; None for TA1 only) for a stream of reader events.

    ``auto`` picks the kind per interchange (:func:`auto_ack_kind`): a file may hold a 004010
    interchange and a 005010 one, and each partner reads the ack of its own version. Call
    :meth:`feed` with each event, or the specific methods. Control numbers come from
    ``control_numbers`` in the order ISA13, GS06, ST02 as the ack is written, then ISA13 of
    the TA1 interchange.
    """

    def __init__(
        self,
        kind: AckChoice | None = "997",
        control_numbers: ControlNumbers | None = None,
        options: AckOptions | None = None,
    ) -> None:
        if kind not in ("997", "999", "auto", None):
            raise X12Error(f"ack kind must be '997', '999', 'auto' or None, not {kind!r}")
        self._auto = kind == "auto"
        self.kind: AckKind | None = "997" if kind == "auto" else kind
        self.numbers = control_numbers or CounterControlNumbers()
        self.options = options or AckOptions()
        default_isa, default_gs = VERSIONS[self.kind or "997"]
        self.group_version = self.options.group_version or default_gs
        self._default_isa = default_isa
        self._isa: InterchangeHeader | None = None
        self._group: _OpenGroup | None = None
        self._pending: list[Finding] = []
        self._groups: list[GroupAck] = []
        self._group_errors: dict[int, list[Finding]] = {}
        self._writer: X12Writer | None = None
        self._fa_key: tuple[str, str] | None = None
        self._seps = Separators()
        self._table: dict[int, str] = {}
        self._version = default_isa

    @property
    def in_interchange(self) -> bool:
        return self._isa is not None

    # ------------------------------------------------------------------ events
    def feed(self, event: Event, findings: Sequence[Finding] = ()) -> AckOutput | None:
        """Dispatch one reader event; returns the output when an interchange ends.

        ``findings`` are the validator's for that event (same shape as the reader's).
        """
        if isinstance(event, TransactionSet):
            self.transaction(event, findings)
        elif isinstance(event, GroupHeader):
            self.start_group(event)
        elif isinstance(event, GroupTrailer):
            self.end_group(event, findings)
        elif isinstance(event, InterchangeHeader):
            self.start_interchange(event)
        elif isinstance(event, InterchangeTrailer):
            return self.end_interchange(event, findings)
        elif isinstance(event, Finding) and self._isa is not None:
            self._pending.append(event)
        return None

    def start_interchange(self, header: InterchangeHeader) -> None:
        if self._isa is not None:
            raise X12Error("start_interchange: the previous interchange was not ended")
        self._isa = header
        self._pending = []
        self._groups = []
        self._group_errors = {}
        self._writer = None
        self._fa_key = None
        if self._auto and self.kind is not None:
            self._use_kind(auto_ack_kind(header.version, ""))
        self._envelope_for(header)

    def _use_kind(self, kind: AckKind) -> None:
        self.kind = kind
        default_isa, default_gs = VERSIONS[kind]
        self.group_version = self.options.group_version or default_gs
        self._default_isa = default_isa

    def _envelope_for(self, header: InterchangeHeader) -> None:
        """The ack interchange's ISA12 and separators, from ``header`` and the kind."""
        version = self.options.interchange_version
        if version is None:
            inbound = header.version
            version = self._default_isa if self.kind or not is_control_version(inbound) else inbound
        self._version = version
        seps = self.options.separators or mirror_separators(header.separators, version)
        seps.check()
        self._seps = seps
        bad = set(seps.delimiters()) | set(LINE_BREAKS) | {chr(c) for c in range(32)} | {"\x7f"}
        self._table = {ord(c): " " for c in bad}

    def start_group(self, header: GroupHeader) -> None:
        if self._isa is None:
            raise X12Error("start_group: no interchange was started")
        if self._group is not None:
            raise X12Error("start_group: the previous group was not ended")
        group = self._group = _OpenGroup(header, skip=header.functional_id == "FA")
        isa = self._isa
        undecided = self._writer is None and not is_control_version(isa.version)
        if self._auto and self.kind and undecided:
            # ISA12 names no version (a TA1 017 warning): the first group's GS08 decides,
            # before anything of the ack interchange is written.
            kind = auto_ack_kind(isa.version, header.version)
            if kind != self.kind:
                self._use_kind(kind)
                self._envelope_for(isa)
        versions = self.options.versions
        if versions is not None and header.version.strip()[:6] not in versions:
            group.escalated.append(
                Finding(
                    ErrorCode.GROUP_VERSION_NOT_SUPPORTED,
                    Location(segment=header.position, tag="GS", element=8),
                    f"GS08 version {header.version!r} is not supported "
                    f"(supported: {', '.join(sorted(versions))})",
                    value=header.version,
                )
            )

    def transaction(
        self, tx: TransactionSet, findings: Sequence[Finding] = ()
    ) -> TransactionAck | None:
        """Assess one transaction set; returns its AK2 row (None when it is not acked)."""
        if self._isa is None:
            raise X12Error("transaction: no interchange was started")
        group = self._group
        outside = group is None or tx.group is None
        if outside:
            self._pending.append(
                Finding(
                    ErrorCode.INVALID_INTERCHANGE_CONTENT,
                    Location(segment=tx.position, tag="ST", transaction_control=tx.control_number),
                    f"transaction set {tx.set_id} {tx.control_number} is outside a functional "
                    "group, so no 997/999 can acknowledge it",
                    value=tx.set_id,
                )
            )
        if outside or group is None or group.skip or self.kind is None:
            self._pending.extend(f for f in [*tx.findings, *findings] if f.code.level in _HIGHER)
            return None
        row, higher = assess_transaction(
            tx, findings, self.kind, self._clean, note_warnings=self.options.note_warnings
        )
        for f in higher:
            (self._pending if f.code.level in _HIGHER else group.escalated).append(f)
        if not _referable_transaction(row):
            # AK201 is 3 characters, AK202 4 to 9: an AK2 naming anything else would make the
            # whole 997/999 invalid. The transaction is counted in AK9 (received, not accepted).
            group.unreferenced += 1
            return None
        group.rows.append(row)
        if row.accepted:
            group.accepted += 1
        if row.status != "A":
            group.noted = True
        return row

    def end_group(self, trailer: GroupTrailer, findings: Sequence[Finding] = ()) -> GroupAck | None:
        """Close the group: compute AK9 and write the 997/999. None when it is not acked."""
        group = self._group
        if group is None or self._isa is None:
            raise X12Error("end_group: no group was started")
        self._group = None
        all_findings = [*trailer.header.findings, *trailer.findings, *findings, *group.escalated]
        self._pending.extend(f for f in all_findings if f.code.level in _HIGHER)
        if group.skip or self.kind is None:
            return None
        header = trailer.header
        functional_id = self._clean(header.functional_id, 2)
        group_control = self._clean(header.control_number, 9)
        if not (len(functional_id) == 2 and functional_id.isalnum() and group_control.isdigit()):
            # AK101 (2 characters) and AK102 (1 to 9 digits) cannot name this group: no 997
            # can acknowledge it. The TA1 says so instead (024, invalid interchange content).
            self._pending.append(
                Finding(
                    ErrorCode.INVALID_INTERCHANGE_CONTENT,
                    Location(segment=header.position, tag="GS"),
                    f"functional group at segment {header.position} (GS01 "
                    f"{header.functional_id!r}, GS06 {header.control_number!r}) cannot be "
                    "acknowledged: a 997/999 names a group by GS01 and GS06",
                )
            )
            return None
        note = self.options.note_warnings
        own = [f for f in all_findings if f.code.level is Level.GROUP and (note or f.is_error)]
        # A caller's element-level finding on the GS/GE has no AK905 code of its own.
        other = [f for f in all_findings if f.code.level not in (*_HIGHER, Level.GROUP)]
        received, accepted = len(group.rows) + group.unreferenced, group.accepted
        rows = group.rows
        envelope_errors = [f for f in own + other if f.is_error]
        if envelope_errors:
            status, accepted, rows = "R", 0, _rejected_with_group(rows)
        elif received and not accepted:
            status = "R"
        elif accepted < received:
            status = "P"
        elif group.noted or own or (note and other):
            status = "E"
        else:
            status = "A"
        codes = dedupe(f.code.x12 for f in sorted(own, key=lambda f: not f.is_error))
        if self.kind == "997" and self.group_version[:6] < "005010":
            codes = dedupe(GROUP_CODES_4010.get(code, code) for code in codes)
        if envelope_errors and not any(f.is_error for f in own):
            codes = (ErrorCode.GROUP_NOT_SUPPORTED.x12, *codes)[:MAX_CODES]
        declared = received
        if trailer.segment is not None and len(trailer.segment) > 1:
            ge01 = trailer.segment[1].strip()
            if ge01.isdigit() and len(ge01) <= 6:
                declared = int(ge01)
        is_999 = self.kind == "999"
        writer = self._open_fa_group(trailer.header)
        control = self.numbers.next_transaction()
        ack = GroupAck(
            kind=self.kind,
            ack_control_number=str(control).zfill(4),
            functional_id=functional_id,
            control_number=group_control,
            status=status,
            declared=declared,
            received=received,
            accepted=accepted,
            codes=codes,
            transactions=rows,
            version=self._group_version(trailer.header) if is_999 else None,
            position=trailer.header.position,
        )
        convention = self.group_version if self.kind == "999" else None
        writer.begin_transaction(self.kind, control, convention)
        writer.segments(group_segments(ack))
        writer.end_transaction()
        self._groups.append(ack)
        if envelope_errors:
            self._group_errors.setdefault(trailer.header.position, []).extend(envelope_errors)
        return ack

    def end_interchange(
        self, trailer: InterchangeTrailer, findings: Sequence[Finding] = ()
    ) -> AckOutput:
        """Close the interchange: finish the 997/999 interchange and decide the TA1."""
        header = self._isa
        if header is None:
            raise X12Error("end_interchange: no interchange was started")
        if self._group is not None:
            raise X12Error("end_interchange: a group is still open (call end_group first)")
        functional = None
        if self._writer is not None:
            self._writer.end_group()
            self._writer.end_interchange()
            functional = self._writer.getvalue()
        candidates = [*header.findings, *trailer.findings, *findings, *self._pending]
        relevant = [f for f in candidates if f.code.level is Level.INTERCHANGE]
        errors = [f for f in relevant if f.is_error]
        warnings = [f for f in relevant if not f.is_error]
        if errors:
            status, note = "R", errors[0].code.x12
        elif warnings and self.options.note_warnings:
            status, note = "E", warnings[0].code.x12
        else:
            status, note = "A", "000"
        control = header.control_number
        date, time = self._sent_at(header)
        ta1 = InterchangeAck(
            control.zfill(9) if control.isdigit() else self._clean(control, 9),
            date,
            time,
            status,
            note,
        )
        policy = self.options.ta1
        send = (
            policy == "always"
            or (policy in ("on_error", "on_error_or_request") and bool(errors))
            or (policy in ("on_request", "on_error_or_request") and header.ack_requested)
        )
        technical = self._technical(ta1) if send else None
        groups, group_errors = self._groups, self._group_errors
        if technical is not None and status == "R":
            # The partner must send the interchange again, and none of it is delivered: a
            # 997/999 accepting its sets beside the TA1 would tell a partner that reconciles
            # by 997 that they were taken. The TA1 answers alone.
            functional, groups, group_errors = None, [], {}
        out = AckOutput(
            header.control_number,
            functional,
            technical,
            groups,
            ta1,
            errors + warnings,
            group_errors,
        )
        self._isa = None
        self._writer = None
        self._groups = []
        self._group_errors = {}
        self._pending = []
        return out

    def duplicate_interchange(self, header: InterchangeHeader, seen: str = "") -> AckOutput:
        """The TA1 for an interchange whose ISA13 was processed before (TA105 025, R).

        Only the caller can tell a duplicate (it needs a store of what was received), so it
        asks here instead of feeding the events: nothing inside is acknowledged again, so no
        997/999 comes with it. The TA1 policy applies as to any interchange error. ``seen``
        says where it was seen first, for the finding's message.
        """
        finding = Finding(
            ErrorCode.DUPLICATE_INTERCHANGE,
            Location(
                segment=header.position,
                tag="ISA",
                element=13,
                interchange_control=header.control_number,
            ),
            f"interchange {header.control_number} was received before"
            + (f" ({seen})" if seen else ""),
            value=header.control_number,
        )
        kind, self.kind = self.kind, None  # nothing inside is acknowledged
        try:
            self.start_interchange(header)
            trailer = InterchangeTrailer(header, None, header.position, 0)
            return self.end_interchange(trailer, [finding])
        finally:
            self.kind = kind

    def unreadable_interchange(
        self, elements: Sequence[str], findings: Iterable[Finding], position: int = 0
    ) -> AckOutput | None:
        """A TA1 for an ISA the reader could not use (its delimiters are broken).

        ``elements`` is the ISA split by its element separator, tag first. Returns None when
        they do not even give an ISA13 to refer to, or hold more than ISA16 (then every field
        may be shifted: the TA1 would name another interchange, to the wrong party). Nothing
        inside such an interchange can be read, so no 997/999 comes with it.
        """
        header = salvaged_header(elements, position)
        if header is None:
            return None
        kind, self.kind = self.kind, None  # nothing inside can be acknowledged
        try:
            self.start_interchange(header)
            trailer = InterchangeTrailer(header, None, position, 0, list(findings))
            return self.end_interchange(trailer)
        finally:
            self.kind = kind

    # ------------------------------------------------------------------ writing
    def _clean(self, value: str, limit: int) -> str:
        """A value safe to write: delimiters, control and undecodable characters become spaces.

        Undecodable bytes (read as lone surrogates) would be written back as the same bytes,
        and our own 997/999 would then fail validation (AK4-6, invalid character).
        """
        if value.isalnum() and value.isascii():  # the usual ID or number: nothing to replace
            return value[:limit]
        value = value.translate(self._table)
        if not value.isprintable():
            value = "".join(c if c.isprintable() else " " for c in value)
        return value[:limit].rstrip()

    def _sent_at(self, header: InterchangeHeader) -> tuple[str, str]:
        """TA102/TA103: ISA09/ISA10 as sent when each is a valid date/time, else our own.

        Both are DT/TM elements, so echoing ``261340`` would make the TA1 itself invalid
        (pyx12 flags it, and a strict translator may drop the TA1 before reading TA105). The
        partner matches a TA1 by TA101, its control number; TA105 014/015 tells it the date
        or time was bad, and ours (when the ack was built, as in our ISA09/ISA10) is the
        nearest true value.
        """
        stamp = self.options.timestamp or _dt.datetime.now(_dt.UTC)
        date = header.date if valid_yymmdd(header.date) else stamp.strftime("%y%m%d")
        time = header.time if valid_hhmm(header.time) else stamp.strftime("%H%M")
        return date, time

    def _group_version(self, header: GroupHeader) -> str:
        """AK103 (required in the 999): GS08, else the version the ISA12 implies."""
        return self._clean(header.version, 12) or self._clean(header.interchange.version, 5) + "0"

    def _envelope(self, control: int) -> InterchangeEnvelope:
        header = self._isa
        assert header is not None
        usage = self.options.usage or (header.usage if header.usage in ("P", "T", "I") else "P")
        return InterchangeEnvelope(
            sender=self._party(header.receiver),
            receiver=self._party(header.sender),
            control_number=control,
            version=self._version,
            usage=usage,
            timestamp=self.options.timestamp,
        )

    def _party(self, party: PartyId) -> PartyId:
        """The inbound party for our envelope, its ID as sent (so the ack can be routed back).

        A qualifier that is no I05 code (the TA1 may be saying exactly that, 005/007) becomes
        ZZ, "mutually defined", valid with any ID: echoed, it would make our own ack invalid.
        A partner profile that knows the right qualifier re-envelopes the ack with it.
        """
        qualifier = party.qualifier if party.qualifier in INTERCHANGE_ID_QUALIFIERS else "ZZ"
        return PartyId(qualifier, self._clean(party.id, 15))

    def _open_fa_group(self, inbound: GroupHeader) -> X12Writer:
        writer = self._writer
        if writer is None:
            header = self._isa
            assert header is not None
            writer = X12Writer(self._seps, encoding=ack_encoding(header.encoding))
            writer.begin_interchange(self._envelope(self.numbers.next_interchange()))
            self._writer = writer
        isa = inbound.interchange
        sender = self._clean(inbound.receiver, 15) or self._clean(isa.receiver.id, 15)
        receiver = self._clean(inbound.sender, 15) or self._clean(isa.sender.id, 15)
        key = (sender, receiver)
        if key != self._fa_key:
            if self._fa_key is not None:
                writer.end_group()
            writer.begin_group(
                GroupEnvelope(
                    "FA",
                    sender,
                    receiver,
                    self.numbers.next_group(),
                    version=self.group_version,
                    timestamp=self.options.timestamp,
                )
            )
            self._fa_key = key
        return writer

    def _technical(self, ta1: InterchangeAck) -> bytes:
        header = self._isa
        assert header is not None
        writer = X12Writer(self._seps, encoding=ack_encoding(header.encoding))
        writer.begin_interchange(self._envelope(self.numbers.next_interchange()))
        writer.segment(
            ["TA1", ta1.control_number, ta1.date, ta1.time, ta1.status, ta1.note_code or ""]
        )
        writer.end_interchange()
        return writer.getvalue()


def _rejected_with_group(rows: list[TransactionAck]) -> list[TransactionAck]:
    """The AK2 rows of a group rejected for its envelope (a GS/GE error: AK9 R with its
    AK905): every set of it is rejected with the group, so none says A or E.

    One rule for every such group (GS06 invalid or used twice, GE01 or GE02 wrong, GE
    missing, a bad GS element, a GS08 not taken): AK904 is 0 and a set with no error of its
    own is AK5 R with no AK502 code (no AK502 code means "rejected with its group"; the
    AK905 says why). Before, these groups said AK9 R beside AK5 A and AK904 = received,
    which told a partner reconciling by AK5 that sets we will not deliver were taken.
    """
    return [replace(r, status="R") if r.accepted else r for r in rows]


def auto_ack_kind(isa_version: str, group_version: str) -> AckKind:
    """999 for a 005010 interchange, else 997: by ISA12, or by GS08 when ISA12 is no
    interchange control version (then ``group_version``, the first GS08, is asked)."""
    if is_control_version(isa_version):
        return "999" if isa_version >= "00501" else "997"
    return "999" if group_version.strip()[:6] >= "005010" else "997"


def _referable_transaction(row: TransactionAck) -> bool:
    """Can an AK2 name this transaction (AK201 ID 3/3, AK202 AN 4/9)?"""
    return len(row.set_id) == 3 and row.set_id.isalnum() and 4 <= len(row.control_number) <= 9


def ack_encoding(inbound: str) -> str:
    """The encoding of our ack for an interchange the reader decoded from ``inbound``.

    EBCDIC is an X12 encoding, answered in kind. UTF-16 is not (X12 characters are single
    bytes): it is answered in UTF-8, as the pipeline answers it (its acks are written in the
    partner's envelope, always UTF-8).
    """
    return "utf-8" if inbound.startswith("utf-16") else inbound


def mirror_separators(inbound: Separators, version: str) -> Separators:
    """The inbound delimiters, made valid for an outbound interchange of ``version``.

    A missing ISA16 gets a component separator; a 00402+ interchange needs a repetition
    separator (ISA11) and a 00401 one has none.
    """
    used = {inbound.element, inbound.segment}
    component = inbound.component
    if component == NO_COMPONENT or component in used:
        component = _pick(_COMPONENT_CHOICES, used)
    used.add(component)
    repetition = None
    if version >= "00402":
        repetition = inbound.repetition
        if repetition is None or repetition in used:
            repetition = _pick(_REPETITION_CHOICES, used)
    return Separators(inbound.element, component, inbound.segment, repetition, inbound.suffix)


def _pick(choices: str, used: set[str]) -> str:
    return next(c for c in choices if c not in used)


def salvaged_header(elements: Sequence[str], position: int = 0) -> InterchangeHeader | None:
    """The header an unusable ISA (``elements``: split by its element separator, tag
    first) still gives: parties, ISA13, ISA14, ISA15 from their fixed places. None when
    there is no ISA13 to refer to, or more than ISA16 (every field may be shifted: a TA1
    would name another interchange, to the wrong party)."""
    values = [v.strip(" \u00a0") for v in elements] + [""] * (17 - len(elements))
    if len(elements) > 17 or values[0] != "ISA":
        return None
    if not (values[13].isdigit() and len(values[13]) <= 9):
        return None
    return header_of(list(elements), values, position, Separators())
