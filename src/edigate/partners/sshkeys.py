"""OpenSSH public keys as written in ``authorized_keys``, checked when a profile loads.

A typo in a pasted key otherwise shows up only as a refused login on the partner's side.
We parse the line with :mod:`cryptography`, so the key itself must decode, not just look
right, and we keep its ``SHA256:`` fingerprint (what ``ssh-keygen -lf`` prints) for display.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)
MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class AuthorizedKey:
    """One public key: its type, raw blob (the SSH wire form), comment and fingerprint."""

    key_type: str
    blob: bytes
    comment: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    def line(self) -> str:
        text = f"{self.key_type} {base64.b64encode(self.blob).decode('ascii')}"
        return f"{text} {self.comment}" if self.comment else text


def fingerprint(blob: bytes) -> str:
    """OpenSSH's ``SHA256:`` fingerprint of a key blob (base64, no padding)."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return f"SHA256:{digest}"


def parse_authorized_key(line: str) -> AuthorizedKey:
    """Parse ``type base64 [comment]``; ``ValueError`` says what is wrong.

    ``authorized_keys`` options (``from=...``, ``command=...``) are refused: the gateway
    decides what a partner may do, not the key line.
    """
    fields = line.strip().split(None, 2)
    if len(fields) < 2:
        raise ValueError("a public key is 'type base64 [comment]', e.g. 'ssh-ed25519 AAAA... name'")
    key_type, b64 = fields[0], fields[1]
    if key_type not in KEY_TYPES:
        raise ValueError(
            f"unsupported key type {key_type!r} (options before the key are not allowed); "
            f"expected one of {', '.join(KEY_TYPES)}"
        )
    try:
        blob = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{key_type} key data is not valid base64") from None
    try:
        key = load_ssh_public_key(f"{key_type} {b64}".encode("ascii"))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{key_type} key does not decode: {exc}") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise ValueError(f"RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} required")
    return AuthorizedKey(key_type=key_type, blob=blob, comment=fields[2] if len(fields) > 2 else "")
