"""MDNs (RFC 3798 as profiled by RFC 4130 §7): build, sign, parse, verify, and judge them.

entity = build_report(original_message_id=..., mic=..., modifier=None, ...)
headers, body = build_mdn(entity, partner, options, message_id=...)
parsed = parse_mdn(entity_from_http(resp_headers, resp_body), partner.their_certs)
verdict = judge(parsed, expected_message_id, mics, require_signed=True)
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography import x509

from .crypto import micalg_name, sign, try_digest, verify_detached
from .errors import (
    AUTHENTICATION_FAILED,
    DECOMPRESSION_FAILED,
    DECRYPTION_FAILED,
    INSUFFICIENT_SECURITY,
    INTEGRITY_CHECK_FAILED,
    MdnError,
    ProcessingError,
)
from .message import (
    AS2_VERSION,
    PKCS7_SIGNATURE,
    bare_message_id,
    base64_lines,
    der_body,
    quote_as2_id,
)
from .mime import MimeEntity, build_entity, build_multipart, split_multipart
from .partner import As2Partner

REPORTING_UA = "edigate AS2"
AUTOMATIC = "automatic-action/MDN-sent-automatically"

# ---------------------------------------------------------------- request options


@dataclass(frozen=True, slots=True)
class MdnRequest:
    """What the sender asked for in Disposition-Notification-* and Receipt-Delivery-Option."""

    wanted: bool  # Disposition-Notification-To present
    signed: bool  # signed-receipt-protocol names pkcs7-signature
    micalgs: tuple[str, ...] = ()  # supported ones, sender's order, normalised
    async_url: str | None = None


def parse_request(headers: Mapping[str, str]) -> MdnRequest:
    """Read the MDN request from the (lower-cased) headers of a message; tolerant of spacing,
    case and algorithm spellings (``sha1``, ``SHA-1``, ``sha-256``...).
    """
    wanted = bool(headers.get("disposition-notification-to", "").strip())
    signed = False
    micalgs: list[str] = []
    for clause in headers.get("disposition-notification-options", "").split(";"):
        name, _, rest = clause.partition("=")
        values = [v.strip().strip('"').lower() for v in rest.split(",")]
        name = name.strip().lower()
        if name == "signed-receipt-protocol":
            signed = any(v in ("pkcs7-signature", "application/pkcs7-signature") for v in values)
        elif name == "signed-receipt-micalg":
            for value in values[1:] if values and values[0] in ("required", "optional") else values:
                digest = try_digest(value)
                if digest and digest not in micalgs:
                    micalgs.append(digest)
    url = headers.get("receipt-delivery-option", "").strip() or None
    return MdnRequest(wanted or url is not None, signed, tuple(micalgs), url)


# ---------------------------------------------------------------- building

_TEXT_OK = (
    "The AS2 message {mid} was received and processed. "
    "This receipt does not vouch for the content of the document."
)
_TEXT_FAILED = "The AS2 message {mid} could not be processed: {modifier}.\r\nReason: {reason}"


def disposition_field(modifier: str | None) -> str:
    if modifier is None:
        return f"{AUTOMATIC}; processed"
    return f"{AUTOMATIC}; processed/error: {modifier}"


def build_report(
    *,
    original_message_id: str,
    recipient: str,
    mic: str | None = None,
    mic_digest: str | None = None,
    modifier: str | None = None,
    reason: str = "",
    text: str | None = None,
    reporting_ua: str = REPORTING_UA,
) -> MimeEntity:
    """The multipart/report entity (human text + machine-readable disposition)."""
    mid = f"<{bare_message_id(original_message_id)}>"
    if text is None:
        template = _TEXT_OK if modifier is None else _TEXT_FAILED
        text = template.format(mid=mid, modifier=modifier, reason=reason or modifier)
    human = build_entity(
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "8bit")],
        text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8") + b"\r\n",
    )
    lines = [
        f"Reporting-UA: {reporting_ua}",
        f"Original-Recipient: rfc822; {recipient}",
        f"Final-Recipient: rfc822; {recipient}",
        f"Original-Message-ID: {mid}",
    ]
    if mic and mic_digest:
        lines.append(f"Received-Content-MIC: {mic}, {micalg_name(mic_digest)}")
    lines.append(f"Disposition: {disposition_field(modifier)}")
    notification = build_entity(
        [
            ("Content-Type", "message/disposition-notification"),
            ("Content-Transfer-Encoding", "7bit"),
        ],
        ("\r\n".join(lines) + "\r\n").encode("utf-8"),
    )
    ctype, body = build_multipart(
        "report", [human.raw, notification.raw], [("report-type", "disposition-notification")]
    )
    return build_entity([("Content-Type", ctype)], body)


def build_mdn(
    report: MimeEntity,
    partner: As2Partner,
    request: MdnRequest,
    *,
    message_id: str,
) -> tuple[list[tuple[str, str]], bytes]:
    """HTTP headers and body of an MDN, signed when the request asks for it.

    The signature digest is the first requested ``signed-receipt-micalg`` we support, else
    SHA-256.
    """
    outer = report
    if request.signed:
        digest = request.micalgs[0] if request.micalgs else "sha256"
        signature = sign(report.raw, partner.our_key, partner.our_cert, digest)
        sig_part = build_entity(
            [
                ("Content-Type", 'application/pkcs7-signature; name="smime.p7s"'),
                ("Content-Transfer-Encoding", "base64"),
                ("Content-Disposition", 'attachment; filename="smime.p7s"'),
            ],
            base64_lines(signature),
        )
        ctype, body = build_multipart(
            "signed",
            [report.raw, sig_part.raw],
            [("protocol", "application/pkcs7-signature"), ("micalg", micalg_name(digest))],
        )
        outer = build_entity([("Content-Type", ctype)], body)
    headers = [
        ("AS2-Version", AS2_VERSION),
        ("AS2-From", quote_as2_id(partner.our_as2_id)),
        ("AS2-To", quote_as2_id(partner.their_as2_id)),
        ("Message-ID", f"<{bare_message_id(message_id)}>"),
        ("Subject", "Message Disposition Notification"),
        ("Date", email.utils.formatdate(usegmt=True)),
        ("MIME-Version", "1.0"),
        *outer.headers,
    ]
    return headers, outer.body


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class ParsedMdn:
    """An MDN as read: its fields, whether its signature verified, and its raw bytes."""

    original_message_id: str | None
    disposition: str
    positive: bool
    modifier: str | None  # e.g. authentication-failed (error/failure/warning text)
    modifier_kind: str | None  # error | failure | warning
    mic: str | None
    mic_digest: str | None
    signed: bool
    text: str
    raw: bytes
    fields: dict[str, str] = field(default_factory=dict)


def is_mdn(entity: MimeEntity) -> bool:
    """Is this HTTP request an (async) MDN rather than a message?"""
    if entity.content_type == "multipart/report":
        return True
    if entity.content_type != "multipart/signed":
        return False
    try:
        return split_multipart(entity)[0].content_type == "multipart/report"
    except ProcessingError:
        return False


def parse_disposition(value: str) -> tuple[bool, str | None, str | None]:
    """``automatic-action/MDN-sent-automatically; processed/error: x`` ->
    (positive, modifier, modifier kind).
    """
    _, _, tail = value.partition(";")
    tail = (tail or value).strip()
    dtype, _, modifier_part = tail.partition("/")
    dtype = dtype.strip().lower()
    kind: str | None = None
    modifier: str | None = None
    if modifier_part:
        kind_text, _, detail = modifier_part.partition(":")
        kind = kind_text.strip().lower()
        modifier = detail.strip() or None
    positive = dtype == "processed" and kind not in ("error", "failure")
    return positive, modifier, kind


def _fields(data: bytes) -> dict[str, str]:
    """Header-style fields, unfolded; blank lines (some senders add them) are skipped."""
    fields: dict[str, str] = {}
    last: str | None = None
    for raw in data.decode("utf-8", "replace").splitlines():
        if raw[:1] in (" ", "\t") and last:
            fields[last] += " " + raw.strip()
        elif ":" in raw:
            name, _, value = raw.partition(":")
            last = name.strip().lower()
            fields.setdefault(last, value.strip())
    return fields


def parse_mdn(entity: MimeEntity, certs: Sequence[x509.Certificate] = ()) -> ParsedMdn:
    """Read an MDN; when it is signed, verify the signature with ``certs`` (MdnError if not)."""
    report = entity
    signed = False
    if entity.content_type == "multipart/signed":
        parts = split_multipart(entity)
        report = parts[0]
        signatures = [p for p in parts[1:] if p.content_type in PKCS7_SIGNATURE]
        if not signatures:
            raise MdnError("signed MDN without a pkcs7-signature part")
        try:
            verify_detached(report.raw, der_body(signatures[0]), list(certs))
        except ProcessingError as exc:
            raise MdnError(f"the MDN signature is not valid: {exc.reason}") from exc
        signed = True
    if report.content_type != "multipart/report":
        raise MdnError(f"not an MDN: Content-Type {report.content_type}")
    fields: dict[str, str] = {}
    text = ""
    for part in split_multipart(report):
        if part.content_type == "message/disposition-notification":
            fields = _fields(part.decoded_body())
        elif part.content_type.startswith("text/") and not text:
            text = part.decoded_body().decode("utf-8", "replace").strip()
    if "disposition" not in fields:
        raise MdnError("the MDN has no Disposition field")
    positive, modifier, kind = parse_disposition(fields["disposition"])
    mic = mic_digest = None
    if fields.get("received-content-mic"):
        value, _, alg = fields["received-content-mic"].partition(",")
        mic, mic_digest = value.strip(), try_digest(alg) if alg.strip() else None
    original = fields.get("original-message-id")
    return ParsedMdn(
        original_message_id=bare_message_id(original) if original else None,
        disposition=fields["disposition"],
        positive=positive,
        modifier=modifier,
        modifier_kind=kind,
        mic=mic,
        mic_digest=mic_digest,
        signed=signed,
        text=text,
        raw=entity.raw,
        fields=fields,
    )


# ---------------------------------------------------------------- judging

# A resend of the same bytes cannot cure these: the sender's setup must change.
PERMANENT = frozenset(
    {
        AUTHENTICATION_FAILED,
        DECRYPTION_FAILED,
        INTEGRITY_CHECK_FAILED,
        INSUFFICIENT_SECURITY,
        DECOMPRESSION_FAILED,
    }
)


_NO_MIC_UNSIGNED = "it carried no MIC (optional: an unsigned receipt was requested)"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Does this MDN settle the message as delivered? ``retryable`` when it does not."""

    delivered: bool
    detail: str
    retryable: bool


def judge(
    mdn: ParsedMdn, message_id: str, mics: Mapping[str, str], *, require_signed: bool
) -> Verdict:
    """Check an MDN against what we sent: signature, Original-Message-ID, disposition, MIC.

    ``require_signed`` means we asked for a signed receipt (Disposition-Notification-Options
    sent). Only then is the MIC required: RFC 4130 §7.4.3 makes it optional for unsigned ones.
    A MIC that is present must match either way.
    """
    if require_signed and not mdn.signed:
        return Verdict(False, "the MDN is not signed although a signed MDN was requested", False)
    if mdn.original_message_id != bare_message_id(message_id):
        return Verdict(
            False,
            f"the MDN answers message <{mdn.original_message_id}>, not <{message_id}>",
            False,
        )
    if not mdn.positive:
        modifier = (mdn.modifier or "").lower()
        retryable = modifier not in PERMANENT
        reason = f" ({mdn.text.splitlines()[-1]})" if mdn.text else ""
        return Verdict(False, f"negative MDN: {mdn.disposition}{reason}", retryable)
    if mdn.mic is None:
        if require_signed:
            return Verdict(False, "the MDN carries no Received-Content-MIC", False)
        return Verdict(True, _delivered(mdn, _NO_MIC_UNSIGNED), False)
    expected = mics.get(mdn.mic_digest or "")
    if expected is None:
        return Verdict(False, f"the MDN's MIC uses an unsupported digest ({mdn.mic})", False)
    if expected != mdn.mic:
        return Verdict(
            False,
            f"MIC mismatch: the partner computed {mdn.mic} ({mdn.mic_digest}), we sent {expected}",
            False,
        )
    return Verdict(True, _delivered(mdn, f"MIC {mdn.mic_digest} matches"), False)


def _delivered(mdn: ParsedMdn, mic_note: str) -> str:
    """The detail of a positive verdict, saying what the MIC check found."""
    warning = f" with {mdn.modifier_kind}: {mdn.modifier}" if mdn.modifier_kind else ""
    signed = "signed" if mdn.signed else "unsigned"
    return f"{signed} MDN: processed{warning}, {mic_note}"
