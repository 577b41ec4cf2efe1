"""AS2 messages (RFC 4130): build an outgoing one, unpack an incoming one layer by layer.

The MIC rules (RFC 4130 §7.3.1, RFC 5402 §4) both sides apply:

- signed: over the signed MIME entity (headers + body) exactly as signed. Compressed then
  signed, that entity is the compressed-data one; signed then compressed, it is the
  payload entity found after decompression. The digest is the signature's.
- unsigned but encrypted and/or compressed: over the innermost payload entity (headers +
  body) after decryption and decompression.
- neither: over the content alone (the HTTP body), without headers.

The unsigned digest is the first ``signed-receipt-micalg`` we support, else SHA-256.
"""

from __future__ import annotations

import base64
import email.utils
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from .crypto import (
    CIPHERS,
    DEFAULT_MAX_DECOMPRESSED,
    all_mics,
    cms_content_type,
    compress,
    compute_mic,
    decompress,
    decrypt,
    encrypt,
    micalg_name,
    sign,
    verify_attached,
    verify_detached,
)
from .errors import (
    AUTHENTICATION_FAILED,
    DECRYPTION_FAILED,
    INSUFFICIENT_SECURITY,
    UNEXPECTED_ERROR,
    ProcessingError,
)
from .mime import (
    MimeEntity,
    build_entity,
    build_multipart,
    decode_base64,
    is_canonical,
    looks_like_base64,
    parse_entity,
    quote_param,
    split_multipart,
)
from .partner import As2Partner

AS2_VERSION = "1.2"
PKCS7_MIME = ("application/pkcs7-mime", "application/x-pkcs7-mime")
PKCS7_SIGNATURE = ("application/pkcs7-signature", "application/x-pkcs7-signature")
MAX_LAYERS = 8

# ---------------------------------------------------------------- header values


def quote_as2_id(as2_id: str) -> str:
    """AS2-From/AS2-To value: quoted when it holds spaces or specials (RFC 4130 §6.2)."""
    if re.fullmatch(r"[!#-\[\]-~]+", as2_id):
        return as2_id
    return '"' + as2_id.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote_as2_id(value: str) -> str:
    """The AS2 id from a header value, quoted or not."""
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def bare_message_id(value: str) -> str:
    """``<abc@host>`` -> ``abc@host`` (whitespace and angle brackets removed)."""
    return value.strip().removeprefix("<").removesuffix(">").strip()


def new_message_id(domain: str, stem: str | None = None) -> str:
    """A Message-ID without brackets: ``<stem or uuid>@<domain>``."""
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", domain).strip(".-") or "edigate"
    return f"{stem or uuid.uuid4().hex}@{host}"


def base64_lines(data: bytes) -> bytes:
    text = base64.b64encode(data)
    return b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + b"\r\n"


# ---------------------------------------------------------------- outgoing


@dataclass(frozen=True)
class OutgoingMessage:
    """A ready-to-POST AS2 message and the MIC its MDN must echo."""

    message_id: str  # without brackets
    headers: list[tuple[str, str]]
    body: bytes
    mic_digest: str
    mics: dict[str, str]  # digest -> base64, for every supported digest
    signed: bool
    encrypted: bool
    compressed: bool

    @property
    def mic(self) -> str:
        return self.mics[self.mic_digest]


def _for_signing(entity: MimeEntity) -> MimeEntity:
    """``entity`` as it can be signed: base64 when its body is not canonical text.

    A verifier in S/MIME text mode (``openssl cms -verify`` without ``-binary``, and others)
    turns every bare LF or CR into CRLF before checking (RFC 5751 §3.1.1), so a binary body
    with them fails; base64 has only CRLF line breaks (§3.1.3). The MIC and the signature
    then cover the base64 entity. A body with no line breaks or only CRLF stays binary.
    """
    if is_canonical(entity.body):
        return entity
    headers = [
        (name, "base64") if name.lower() == "content-transfer-encoding" else (name, value)
        for name, value in entity.headers
    ]
    if entity.get("content-transfer-encoding") is None:
        headers.append(("Content-Transfer-Encoding", "base64"))
    return build_entity(headers, base64_lines(entity.decoded_body()))


def _signed_entity(inner: MimeEntity, partner: As2Partner) -> MimeEntity:
    signature = sign(inner.raw, partner.our_key, partner.our_cert, partner.digest)
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
        [inner.raw, sig_part.raw],
        [("protocol", "application/pkcs7-signature"), ("micalg", micalg_name(partner.digest))],
    )
    return build_entity([("Content-Type", ctype)], body)


def _pkcs7_entity(der: bytes, smime_type: str, name: str) -> MimeEntity:
    return build_entity(
        [
            ("Content-Type", f'application/pkcs7-mime; smime-type={smime_type}; name="{name}"'),
            ("Content-Transfer-Encoding", "binary"),
            ("Content-Disposition", f'attachment; filename="{name}"'),
        ],
        der,
    )


def build_message(
    payload: bytes,
    partner: As2Partner,
    *,
    message_id: str | None = None,
    filename: str | None = None,
    content_type: str | None = None,
    subject: str | None = None,
    disposition_notification_to: str | None = None,
) -> OutgoingMessage:
    """Compress, sign and encrypt ``payload`` as ``partner`` asks; payload bytes stay exact
    (a signed part that is not canonical text travels as base64: see :func:`_for_signing`)."""
    headers = [
        ("Content-Type", content_type or partner.content_type),
        ("Content-Transfer-Encoding", "binary"),
    ]
    if filename:
        headers.append(("Content-Disposition", f"attachment; filename={quote_param(filename)}"))
    payload_entity = build_entity(headers, payload)
    current = payload_entity
    mic_content: bytes | None = None
    compressed = partner.compress
    if compressed and partner.compress_before_sign:
        current = _pkcs7_entity(compress(current.raw), "compressed-data", "smime.p7z")
    if partner.sign:
        current = _for_signing(current)
        mic_content = current.raw
        current = _signed_entity(current, partner)
    if compressed and not partner.compress_before_sign:
        current = _pkcs7_entity(compress(current.raw), "compressed-data", "smime.p7z")
    if partner.encrypt:
        der = encrypt(current.raw, partner.their_certs[0], partner.cipher, partner.key_transport)
        current = _pkcs7_entity(der, "enveloped-data", "smime.p7m")
    if mic_content is None:
        wrapped = compressed or partner.encrypt
        mic_content = payload_entity.raw if wrapped else payload
    mic_digest = partner.digest if partner.sign else partner.mdn_digest

    msg_id = message_id or new_message_id(partner.our_as2_id)
    as2_headers = [
        ("AS2-Version", AS2_VERSION),
        ("AS2-From", quote_as2_id(partner.our_as2_id)),
        ("AS2-To", quote_as2_id(partner.their_as2_id)),
        ("Message-ID", f"<{msg_id}>"),
        ("Subject", subject or partner.subject),
        ("Date", email.utils.formatdate(usegmt=True)),
        ("MIME-Version", "1.0"),
    ]
    if partner.mdn_mode != "none":
        as2_headers.append(
            ("Disposition-Notification-To", disposition_notification_to or partner.our_as2_id)
        )
        if partner.mdn_signed:
            as2_headers.append(
                (
                    "Disposition-Notification-Options",
                    "signed-receipt-protocol=optional, pkcs7-signature; "
                    f"signed-receipt-micalg=optional, {micalg_name(partner.mdn_digest)}",
                )
            )
        if partner.mdn_mode == "async" and partner.async_mdn_url:
            as2_headers.append(("Receipt-Delivery-Option", partner.async_mdn_url))
    return OutgoingMessage(
        message_id=msg_id,
        headers=as2_headers + list(current.headers),
        body=current.body,
        mic_digest=mic_digest,
        mics=all_mics(mic_content),
        signed=partner.sign,
        encrypted=partner.encrypt,
        compressed=compressed,
    )


# ---------------------------------------------------------------- incoming


@dataclass(frozen=True)
class Unpacked:
    """An incoming message with every protection layer removed and checked."""

    payload: bytes
    filename: str | None
    content_type: str
    signed: bool
    encrypted: bool
    compressed: bool
    mic: str
    mic_digest: str
    signer: x509.Certificate | None = None
    cipher: str | None = None
    layers: tuple[str, ...] = ()  # outermost first: encrypted, signed, compressed


#: AES-GCM (RFC 5083/5084) needs an authEnvelopedData reader we do not have. Said as a
#: permanent decryption-failed: the sender's retry would fail the same way forever.
_NO_AUTH_ENVELOPED = (
    "authenticated-enveloped-data (AES-GCM, RFC 5083) is not supported; encrypt with "
    f"enveloped-data and one of {', '.join(CIPHERS)}"
)


def der_body(entity: MimeEntity) -> bytes:
    """The DER inside a pkcs7 entity: binary or base64, with or without a CTE header."""
    data = entity.decoded_body()
    if data[:1] != b"\x30" and looks_like_base64(data):
        data = decode_base64(data)
    return data


def unpack(
    entity: MimeEntity,
    partner: As2Partner,
    *,
    requested_micalgs: Sequence[str] = (),
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    now: datetime | None = None,
) -> Unpacked:
    """Decrypt, verify and decompress ``entity`` (the HTTP message), in whatever order it was
    wrapped. Raises ProcessingError naming the failed step.
    """
    current = entity
    signed = encrypted = compressed = False
    mic_content: bytes | None = None
    mic_digest: str | None = None
    signer: x509.Certificate | None = None
    cipher: str | None = None
    layers: list[str] = []
    for _ in range(MAX_LAYERS):
        ctype = current.content_type
        if ctype in PKCS7_MIME:
            der = der_body(current)
            kind = (current.params.get("smime-type") or "").lower().replace("_", "-")
            if kind not in ("enveloped-data", "compressed-data", "signed-data"):
                kind = (cms_content_type(der) or "").replace("_", "-")
            if kind == "authenticated-enveloped-data":
                raise ProcessingError(DECRYPTION_FAILED, _NO_AUTH_ENVELOPED)
            if kind == "enveloped-data":
                decrypted = decrypt(der, partner.decrypt_keys)
                encrypted, cipher = True, decrypted.cipher
                layers.append("encrypted")
                current = parse_entity(decrypted.content, require_content_type=True)
            elif kind == "compressed-data":
                inflated = decompress(der, max_decompressed)
                compressed = True
                layers.append("compressed")
                current = parse_entity(inflated, require_content_type=True)
            elif kind == "signed-data":
                verified = verify_attached(der, partner.their_certs, now=now)
                signed, signer = True, verified.certificate
                if mic_content is None:
                    mic_content, mic_digest = verified.content, verified.digest
                layers.append("signed")
                current = parse_entity(verified.content, require_content_type=True)
            else:
                raise ProcessingError(UNEXPECTED_ERROR, f"unknown S/MIME type {kind or '?'}")
        elif ctype == "multipart/signed":
            parts = split_multipart(current)
            content = parts[0]
            signatures = [p for p in parts[1:] if p.content_type in PKCS7_SIGNATURE]
            if not signatures:
                raise ProcessingError(
                    AUTHENTICATION_FAILED, "multipart/signed without a pkcs7-signature part"
                )
            if not partner.their_certs:
                raise ProcessingError(
                    AUTHENTICATION_FAILED,
                    f"no certificate configured for {partner.their_as2_id} to verify with",
                )
            try:
                signature = der_body(signatures[0])
            except ProcessingError as exc:
                raise ProcessingError(
                    AUTHENTICATION_FAILED, f"unreadable signature part: {exc.reason}"
                ) from exc
            verified = verify_detached(content.raw, signature, partner.their_certs, now=now)
            signed, signer = True, verified.certificate
            if mic_content is None:
                mic_content, mic_digest = verified.content, verified.digest
            layers.append("signed")
            current = parse_entity(verified.content)
        else:
            break
    else:
        raise ProcessingError(UNEXPECTED_ERROR, f"more than {MAX_LAYERS} nested S/MIME layers")

    if partner.require_encrypted and not encrypted:
        raise ProcessingError(
            INSUFFICIENT_SECURITY, f"{partner.their_as2_id} must encrypt, the message was not"
        )
    if partner.require_signed and not signed:
        raise ProcessingError(
            INSUFFICIENT_SECURITY, f"{partner.their_as2_id} must sign, the message was not"
        )
    if mic_content is None:
        mic_content = current.canonical() if (encrypted or compressed) else entity.body
    if mic_digest is None:
        mic_digest = next(iter(requested_micalgs), "sha256")
    return Unpacked(
        payload=current.decoded_body(),
        filename=current.filename,
        content_type=current.content_type,
        signed=signed,
        encrypted=encrypted,
        compressed=compressed,
        mic=compute_mic(mic_content, mic_digest),
        mic_digest=mic_digest,
        signer=signer,
        cipher=cipher,
        layers=tuple(layers),
    )
