"""Password hashes for partner SFTP accounts: scrypt, never plaintext.

A profile holds only the hash, in the encoding ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` where
``n`` (CPU/memory cost, a power of two), ``r`` (block size) and ``p`` (parallelism) are
decimal and ``salt`` and ``hash`` are standard base64 without padding. scrypt is in the
standard library (:func:`hashlib.scrypt`), memory-hard, and its parameters travel with the
hash so they can be raised later without breaking old entries.

Usage::

    encoded = hash_password("demo-initech")      # store this in the profile
    verify_password("demo-initech", encoded)      # -> True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

SCHEME = "scrypt"
DEFAULT_N = 2**15
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
#: Weaker hashes are refused; larger ones are refused too (a hostile profile must not make
#: every login allocate gigabytes).
MIN_N, MAX_N = 2**14, 2**20
MAX_R, MAX_P = 32, 16
#: The example partners' passwords, published in the README and used by ``edigate demo``:
#: an account still taking one must never face the network (see ``server.py``).
DEMO_PASSWORDS = {"initech-csv": "demo-initech", "contoso-cxml": "demo-contoso"}


@dataclass(frozen=True, slots=True)
class ScryptHash:
    n: int
    r: int
    p: int
    salt: bytes
    hash: bytes

    def encode(self) -> str:
        return "$".join(
            [SCHEME, str(self.n), str(self.r), str(self.p), _b64(self.salt), _b64(self.hash)]
        )


def hash_password(
    password: str,
    *,
    n: int = DEFAULT_N,
    r: int = DEFAULT_R,
    p: int = DEFAULT_P,
    salt: bytes | None = None,
) -> str:
    """Hash ``password`` with a fresh random salt; returns the ``scrypt$...`` encoding."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    _check_params(n, r, p)
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    if len(salt) < SALT_BYTES:
        raise ValueError(f"salt must be at least {SALT_BYTES} bytes")
    digest = _scrypt(password, salt, n, r, p, HASH_BYTES)
    return ScryptHash(n, r, p, salt, digest).encode()


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded``; compared in constant time.

    A malformed ``encoded`` raises ``ValueError`` (a broken profile is not a wrong password).
    """
    parsed = parse_hash(encoded)
    digest = _scrypt(password, parsed.salt, parsed.n, parsed.r, parsed.p, len(parsed.hash))
    return hmac.compare_digest(digest, parsed.hash)


def parse_hash(encoded: str) -> ScryptHash:
    """Decode and check a ``scrypt$n$r$p$salt$hash`` string; ``ValueError`` says what is wrong."""
    parts = encoded.split("$")
    if parts[0] != SCHEME or len(parts) != 6:
        raise ValueError(
            "password_hash must be a scrypt hash 'scrypt$n$r$p$salt$hash' (make one with "
            "'edigate partners hash-password'); plaintext passwords are refused"
        )
    try:
        n, r, p = (int(x) for x in parts[1:4])
    except ValueError:
        raise ValueError("scrypt parameters n, r and p must be integers") from None
    _check_params(n, r, p)
    try:
        salt = _unb64(parts[4])
        digest = _unb64(parts[5])
    except (binascii.Error, ValueError):
        raise ValueError("scrypt salt and hash must be base64") from None
    if len(salt) < SALT_BYTES:
        raise ValueError(f"scrypt salt must be at least {SALT_BYTES} bytes, got {len(salt)}")
    if len(digest) < HASH_BYTES:
        raise ValueError(f"scrypt hash must be at least {HASH_BYTES} bytes, got {len(digest)}")
    return ScryptHash(n, r, p, salt, digest)


def _check_params(n: int, r: int, p: int) -> None:
    if n < MIN_N or n > MAX_N or n & (n - 1):
        raise ValueError(f"scrypt n must be a power of two from {MIN_N} to {MAX_N}, got {n}")
    if not 1 <= r <= MAX_R or not 1 <= p <= MAX_P:
        raise ValueError(f"scrypt r must be 1..{MAX_R} and p 1..{MAX_P}, got r={r} p={p}")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
