"""One AS2 trading relationship as the AS2 code needs it, independent of partner profiles.

The partner registry builds :class:`As2Partner` values and answers the server's
:class:`PartnerLookup`; this package never imports the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ...errors import ConfigError
from .crypto import normalize_cipher, normalize_digest, normalize_key_transport

MdnMode = Literal["sync", "async", "none"]


@dataclass(frozen=True)
class As2Partner:
    """Who we are to this partner, who they are, and how messages are protected both ways.

    ``their_certs``: every certificate accepted for their signatures (two during a rollover);
    the first one is used to encrypt what we send them. Inbound, ``require_signed`` and
    ``require_encrypted`` refuse weaker messages; with both False a plain message is accepted.
    """

    partner_id: str
    our_as2_id: str
    their_as2_id: str
    our_key: rsa.RSAPrivateKey
    our_cert: x509.Certificate
    their_certs: tuple[x509.Certificate, ...]
    url: str | None = None
    # the CA file (or self-signed certificate) trusted for HTTPS to them; None: the system's
    tls_ca: Path | None = None
    # outbound protection
    sign: bool = True
    encrypt: bool = True
    compress: bool = False
    compress_before_sign: bool = True
    digest: str = "sha256"
    cipher: str = "aes128-cbc"
    key_transport: str = "rsa-pkcs1v15"
    # inbound policy
    require_signed: bool = True
    require_encrypted: bool = False
    # MDNs for what we send
    mdn_mode: MdnMode = "sync"
    mdn_signed: bool = True
    mdn_digest: str = "sha256"
    async_mdn_url: str | None = None
    # the payload entity
    content_type: str = "application/edi-x12"
    subject: str = "EDI document"
    # older keys of ours still able to decrypt (our own certificate rollover)
    extra_decrypt_keys: tuple[tuple[rsa.RSAPrivateKey, x509.Certificate], ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("our_as2_id", "their_as2_id"):
            value = getattr(self, name)
            if not value or len(value) > 128 or any(ord(c) < 32 for c in value):
                raise ConfigError(f"{name} must be 1-128 printable characters, got {value!r}")
        object.__setattr__(self, "their_certs", tuple(self.their_certs))
        object.__setattr__(self, "digest", normalize_digest(self.digest))
        object.__setattr__(self, "mdn_digest", normalize_digest(self.mdn_digest))
        object.__setattr__(self, "cipher", normalize_cipher(self.cipher))
        object.__setattr__(self, "key_transport", normalize_key_transport(self.key_transport))
        if self.mdn_mode not in ("sync", "async", "none"):
            raise ConfigError(f"mdn_mode must be sync, async or none, not {self.mdn_mode!r}")
        if self.mdn_mode == "async" and not self.async_mdn_url:
            raise ConfigError(f"partner {self.partner_id}: mdn_mode async needs async_mdn_url")
        if (self.encrypt or self.sign or self.require_signed) and not self.their_certs:
            raise ConfigError(f"partner {self.partner_id}: no certificate for {self.their_as2_id}")

    @property
    def decrypt_keys(self) -> tuple[tuple[rsa.RSAPrivateKey, x509.Certificate], ...]:
        return ((self.our_key, self.our_cert), *self.extra_decrypt_keys)


class PartnerLookup(Protocol):
    """How the server finds the relationship a request belongs to."""

    def partner_for(self, as2_from: str, as2_to: str) -> As2Partner | None: ...


class StaticPartners:
    """A fixed set of partners keyed by (their AS2 id, our AS2 id): exact, case-sensitive."""

    def __init__(self, partners: Iterable[As2Partner]) -> None:
        self._by_ids: dict[tuple[str, str], As2Partner] = {}
        for partner in partners:
            key = (partner.their_as2_id, partner.our_as2_id)
            if key in self._by_ids:
                raise ConfigError(f"two partners share AS2 ids {key[0]!r} -> {key[1]!r}")
            self._by_ids[key] = partner

    def partner_for(self, as2_from: str, as2_to: str) -> As2Partner | None:
        return self._by_ids.get((as2_from, as2_to))
