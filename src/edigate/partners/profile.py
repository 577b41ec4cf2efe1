"""The schema of a partner profile (``partners/<id>.yaml``).

A profile says who the partner is (their ISA/GS identity, separately for test and
production: ISA15 decides which applies), who we are toward them, how we write X12 for them,
which acknowledgements they get, how they reach us (SFTP account, AS2 IDs, email senders)
and how we reach them (one outbound channel), and which map applies.

Annotated example::

    id: acme-retail                  # = the file name
    name: ACME Retail
    identity:                        # theirs: ISA05/06 and GS02
      production: {qualifier: ZZ, id: ACMERETAIL, gs: ACMERETAIL}
      test: {qualifier: ZZ, id: ACMETEST, gs: ACMETEST}   # omitted: same as production
    us:                              # ours toward them: ISA07/08 and GS03 (sender outbound)
      production: {qualifier: ZZ, id: EDIGATEDIST, gs: EDIGATEDIST}
    envelope:                        # how we write X12 to them
      version: "004010"              # 004010 | 005010
      separators: {element: "*", component: ">", segment: "~"}
      newline: lf                    # none | lf | crlf
    ack: {functional: "997", ta1: on_error, "855": auto, duplicate_window_days: 30,
          accept_versions: ["004010"]}   # omitted: every GS08 version
    inbound:
      sftp: {username: acme, public_keys: ["ssh-ed25519 AAAA... acme"]}
      sftp_poll: {host: sftp.acme.example, username: vendor981, folder: outbound,
                  host_key_fingerprint: "SHA256:...", interval_seconds: 60}
      as2: {partner_id: ACME, our_id: EDIGATE, partner_certificate: certs/acme.pem}
      email: {senders: [edi@acme-retail.example]}
    outbound: {type: sftp_pickup, folder: out}
    map: acme-retail                 # maps/acme-retail.yaml
    limits:                          # reading their X12; omitted: the reader's defaults
      max_segment_chars: 1048576     # a longer segment is skipped with a finding
      max_transaction_segments: 500000   # a longer transaction is refused, counted only
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from ..x12.acks import AckOptions
from ..x12.reader import ReaderLimits
from ..x12.separators import Separators
from .configbase import Text
from .mapfile import Strict
from .passwords import parse_hash
from .sshkeys import parse_authorized_key

Usage = Literal["test", "production"]

_PRINTABLE = re.compile(r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _isa_id(value: str) -> str:
    if not _PRINTABLE.match(value) or len(value) > 15:
        raise ValueError(f"{value!r}: an ISA/GS ID is 1-15 printable ASCII characters")
    return value


def _public_key(value: str) -> str:
    parse_authorized_key(value)
    return value


def _password_hash(value: str) -> str:
    parse_hash(value)
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _fingerprint(value: str) -> str:
    digest = value.removeprefix("SHA256:")
    try:
        raw = base64.b64decode(digest + "=" * (-len(digest) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not value.startswith("SHA256:") or len(raw) != 32:
        raise ValueError(
            "host_key_fingerprint must be an OpenSSH SHA256 fingerprint 'SHA256:<43 base64 "
            "characters>' (ssh-keyscan HOST | ssh-keygen -lf -)"
        )
    return value


def _relative(value: str) -> str:
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{value!r} must be a relative path inside the partner's SFTP root")
    return value


IsaId = Annotated[str, AfterValidator(_isa_id)]
Email = Annotated[str, AfterValidator(_email)]


class Identity(Strict):
    """One ISA/GS identity: ISA qualifier and ID, GS application ID."""

    qualifier: Annotated[str, Field(pattern=r"^[0-9A-Z]{2}$")]
    id: IsaId
    gs: IsaId

    def __str__(self) -> str:
        return f"{self.qualifier}:{self.id}"


class Identities(Strict):
    """Production identity, and the test one (same as production when omitted)."""

    production: Identity
    test: Identity | None = None

    def for_usage(self, usage: Usage) -> Identity:
        return (self.test or self.production) if usage == "test" else self.production


class SeparatorSettings(Strict):
    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None

    @field_validator("segment", "element", "component", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError('empty; quote the character, e.g. "~" (a bare ~ is null in YAML)')
        return value


class Envelope(Strict):
    """How we write X12 to this partner."""

    version: Literal["004010", "005010"] = "004010"
    separators: SeparatorSettings = SeparatorSettings()
    newline: Literal["none", "lf", "crlf"] = "lf"
    #: ISA15 of what the ERP sends them (855/856/810): T while a partner is being tested
    #: (with the test identities, where the profile has them). Acknowledgements of their
    #: files echo the ISA15 of the file instead, and an answer to a PO that came in a test
    #: interchange is a test too.
    usage: Literal["P", "T"] = "P"

    @model_validator(mode="after")
    def _check(self) -> Envelope:
        if self.version == "004010" and self.separators.repetition is not None:
            raise ValueError("004010 has no repetition separator (ISA11 is the standards ID U)")
        try:
            self.to_separators().check()
        except ValueError as exc:
            raise ValueError(f"separators: {exc}") from None
        return self

    def to_separators(self) -> Separators:
        """The :class:`~edigate.x12.Separators` the X12 writer takes (5010 default ``^``)."""
        seps = self.separators
        repetition = seps.repetition
        if self.version == "005010" and repetition is None:
            repetition = "^"
        suffix = {"none": "", "lf": "\n", "crlf": "\r\n"}[self.newline]
        return Separators(seps.element, seps.component, seps.segment, repetition, suffix)


def _group_version(value: str) -> str:
    if not (len(value) == 6 and value.isdigit() and value.isascii()):
        raise ValueError(f'{value!r}: a GS08 version and release is 6 digits, e.g. "004010"')
    return value


#: A GS08 version and release: ``004010``, ``005010`` (an industry suffix is not compared).
GroupVersion = Annotated[str, AfterValidator(_group_version)]


class AckPolicy(Strict):
    functional: Literal["997", "999", "none"] = "997"
    ta1: Literal["never", "on_error", "on_request"] = "on_request"
    po_ack: Literal["auto", "erp", "none"] = Field(default="none", alias="855")
    duplicate_window_days: Annotated[int, Field(ge=0, le=3650)] = 30
    #: An original order (BEG01 00) whose PO number the ERP got from this partner within
    #: ``duplicate_window_days`` is held as a duplicate; ``deliver`` for a partner that
    #: reuses PO numbers that soon.
    duplicate_po: Literal["hold", "deliver"] = "hold"
    #: Our 855/856/810 still unacknowledged this long after sending is ``overdue`` (0: never).
    expect_ack_within_hours: Annotated[int, Field(ge=0, le=8760)] = 24
    #: The GS08 versions we take from this partner. A group under another is rejected in the
    #: 997/999 (AK9 R, AK905 2) and its transactions are not delivered. Omitted: every
    #: version; one without a spec of its own is checked against the nearest (a warning).
    accept_versions: Annotated[list[GroupVersion], Field(min_length=1)] | None = None

    def ack_options(self) -> AckOptions:
        """How the 997/999 and TA1 answering this partner's files are written."""
        versions = None if self.accept_versions is None else frozenset(self.accept_versions)
        return AckOptions(ta1=self.ta1, versions=versions)


class SftpAccount(Strict):
    """The partner's account on our SFTP server: keys and/or a password hash."""

    username: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_.-]{0,31}$")]
    public_keys: list[Annotated[str, AfterValidator(_public_key)]] = Field(default_factory=list)
    password_hash: Annotated[str, AfterValidator(_password_hash)] | None = None

    @model_validator(mode="after")
    def _some_credential(self) -> SftpAccount:
        if not self.public_keys and self.password_hash is None:
            raise ValueError("an SFTP account needs public_keys or a password_hash")
        return self


class As2Identity(Strict):
    """AS2 names (AS2-From / AS2-To) and certificate paths, relative to the config dir.

    ``partner_certificate`` may hold several certificates (a rollover: each verifies; the
    first encrypts). ``our_private_key`` / ``our_certificate`` decrypt what they send and
    sign our MDNs and messages (several partners may name the same files). What they send
    must be signed (``require_signed``) and may have to be encrypted (``require_encrypted``);
    a weaker message gets a negative MDN.
    """

    partner_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e ]+$")]
    our_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e ]+$")]
    partner_certificate: Text | None = None
    our_certificate: Text | None = None
    our_private_key: Text | None = None
    require_signed: bool = True
    require_encrypted: bool = False


class EmailInbound(Strict):
    senders: Annotated[list[Email], Field(min_length=1)]


class SftpRemote(Strict):
    """A login to the partner's own SFTP server; its host key must be pinned."""

    host: Text
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    username: Text
    #: Our private key file (relative to the config dir); omitted: the gateway's client key.
    key_path: Text | None = None
    host_key_fingerprint: Annotated[str, AfterValidator(_fingerprint)]


class SftpPoll(SftpRemote):
    """We fetch the partner's files from a folder on its SFTP server, every
    ``interval_seconds``. A file is taken when its size and time held still for
    ``settle_seconds`` and its name is final (no dotfile, ``.tmp``, ``.part``) and matches
    ``pattern``; it is removed there (or moved into ``archive_folder``) only once stored."""

    folder: Text = "."
    pattern: Text = "*"
    archive_folder: Text | None = None
    interval_seconds: Annotated[float, Field(ge=1, le=86400)] = 60.0
    settle_seconds: Annotated[float, Field(ge=0, le=600)] = 1.0


class Inbound(Strict):
    sftp: SftpAccount | None = None
    sftp_poll: SftpPoll | None = None
    as2: As2Identity | None = None
    email: EmailInbound | None = None


class SftpPickup(Strict):
    """We leave files in the partner's own SFTP root; they fetch them."""

    type: Literal["sftp_pickup"]
    folder: Annotated[str, AfterValidator(_relative)] = "out"


class SftpPush(SftpRemote):
    """We upload to the partner's SFTP server."""

    type: Literal["sftp_push"]
    folder: Text = "."


class As2Out(Strict):
    """We POST to the partner's AS2 URL. ``tls_ca`` (relative to the config dir) is the CA
    or self-signed certificate to trust for an https URL instead of the system's CAs."""

    type: Literal["as2"]
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    tls_ca: Text | None = None
    mdn: Literal["sync", "async", "none"] = "sync"
    mdn_url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    mdn_signed: bool = True
    sign: bool = True
    encrypt: bool = True
    compress: bool = False
    sign_algorithm: Literal["sha256", "sha384", "sha512", "sha1"] = "sha256"
    encrypt_algorithm: Literal["aes128_cbc", "aes192_cbc", "aes256_cbc", "des_ede3_cbc"] = (
        "aes256_cbc"
    )

    @model_validator(mode="after")
    def _async_url(self) -> As2Out:
        if self.mdn == "async" and self.mdn_url is None:
            raise ValueError("an async MDN needs mdn_url (where the partner posts it)")
        return self


class EmailOut(Strict):
    type: Literal["email"]
    to: Email
    subject: str | None = None


class FolderOut(Strict):
    type: Literal["folder"]
    path: Text


Outbound = Annotated[
    SftpPickup | SftpPush | As2Out | EmailOut | FolderOut, Field(discriminator="type")
]


_DEFAULT_LIMITS = ReaderLimits()


class ReaderLimitSettings(Strict):
    """How much of one partner's X12 the reader holds (memory bounds against hostile files).

    Lower them for a partner known to send small documents; raise them (up to the caps
    here) for one that really sends huge transactions. Omitted: the reader's defaults.
    """

    #: A segment longer than this is skipped with a finding (the rest of the file is read).
    max_segment_chars: Annotated[int, Field(ge=1024, le=1 << 26)] = (
        _DEFAULT_LIMITS.max_segment_chars
    )
    #: A transaction with more segments is refused (TRANSACTION_TOO_LARGE), only counted.
    max_transaction_segments: Annotated[int, Field(ge=100, le=20_000_000)] = (
        _DEFAULT_LIMITS.max_transaction_segments
    )

    def to_reader_limits(self) -> ReaderLimits:
        return ReaderLimits(
            max_segment_chars=self.max_segment_chars,
            max_transaction_segments=self.max_transaction_segments,
        )


class PartnerProfile(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    name: Text
    identity: Identities | None = None
    us: Identities | None = None
    envelope: Envelope = Envelope()
    ack: AckPolicy = AckPolicy()
    inbound: Inbound = Inbound()
    outbound: Outbound | None = None
    map: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    limits: ReaderLimitSettings = ReaderLimitSettings()

    @property
    def reader_limits(self) -> ReaderLimits:
        """The X12 reader's bounds for this partner's files."""
        return self.limits.to_reader_limits()

    @property
    def map_name(self) -> str:
        """The map file name in ``maps/`` (``.yaml`` added when not given)."""
        return self.map if self.map.endswith((".yaml", ".yml")) else f"{self.map}.yaml"


def profile_problems(p: PartnerProfile) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks across sections, as ``(loc, message)`` so the caller can point at the line."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if (p.identity is None) != (p.us is None):
        where = ("identity",) if p.identity is not None else ("us",)
        problems.append((where, "'identity' (theirs) and 'us' (ours) go together"))
    if p.ack.functional == "999" and p.envelope.version != "005010":
        problems.append((("ack", "functional"), "a 999 needs envelope version 005010"))
    if p.ack.accept_versions is not None and p.ack.functional == "none":
        problems.append(
            (
                ("ack", "accept_versions"),
                "a group under another version is rejected in the 997/999 (AK905 2): "
                "accept_versions needs ack.functional 997 or 999",
            )
        )
    out = p.outbound
    if out is None and (p.ack.functional != "none" or p.ack.po_ack == "auto"):
        problems.append((("ack",), "acknowledgements need an 'outbound' channel"))
    if isinstance(out, SftpPickup) and p.inbound.sftp is None:
        problems.append((("outbound", "type"), "sftp_pickup needs an inbound.sftp account"))
    as2_in = p.inbound.as2
    if as2_in is not None:
        encrypting = isinstance(out, As2Out) and out.encrypt  # reported below already
        if as2_in.require_signed and as2_in.partner_certificate is None and not encrypting:
            problems.append(
                (("inbound", "as2"), "require_signed needs partner_certificate (to verify with)")
            )
        signing = isinstance(out, As2Out) and out.sign  # reported below already
        if (as2_in.our_certificate is None or as2_in.our_private_key is None) and not signing:
            problems.append(
                (
                    ("inbound", "as2"),
                    "our_certificate and our_private_key are needed (to decrypt and sign MDNs)",
                )
            )
    if isinstance(out, As2Out):
        as2 = p.inbound.as2
        if as2 is None:
            problems.append((("outbound", "type"), "as2 needs inbound.as2 (the AS2 IDs)"))
        else:
            if out.encrypt and as2.partner_certificate is None:
                problems.append((("inbound", "as2"), "encrypting needs partner_certificate"))
            if out.sign and (as2.our_certificate is None or as2.our_private_key is None):
                problems.append(
                    (("inbound", "as2"), "signing needs our_certificate and our_private_key")
                )
    return problems
