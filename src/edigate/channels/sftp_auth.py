"""Who may log in to the SFTP server, and how hard a stranger may keep trying.

The server asks an :class:`SftpAccounts` (one account per partner, mapped to its partner id);
partner profiles implement it in production, :class:`StaticAccounts` in tests and small
setups. :class:`AuthThrottle` counts failed logins per (username, client address) in a
sliding window; once over the limit, further attempts are refused without even checking the
credentials, so a password cannot be guessed faster than the window allows.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import paramiko

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)
MIN_RSA_BITS = 2048


class SftpAccounts(Protocol):
    """The server's view of partner accounts; every method must be safe to call from threads."""

    def check_password(self, username: str, password: str) -> str | None:
        """The partner id when the password is right, else None (also for unknown users)."""
        ...

    def check_public_key(self, username: str, key: paramiko.PKey) -> str | None:
        """The partner id when ``key`` is one of the account's authorized keys, else None."""
        ...

    def allowed_auths(self, username: str) -> list[str]:
        """``"password"`` and/or ``"publickey"``; empty for an unknown user."""
        ...


def parse_public_key(line: str) -> paramiko.PKey:
    """One OpenSSH ``authorized_keys`` line, ``type base64 [comment]``, as a paramiko key.

    Options before the key (``from=``, ``command=``) are refused: the gateway decides what a
    partner may do. ``ValueError`` says what is wrong.
    """
    fields = line.strip().split(None, 2)
    if len(fields) < 2 or fields[0] not in KEY_TYPES:
        raise ValueError(
            f"not an OpenSSH public key line: {line.strip()[:40]!r}; expected "
            f"'<type> <base64> [comment]' with type one of {', '.join(KEY_TYPES)}"
        )
    try:
        blob = base64.b64decode(fields[1], validate=True)
        key = paramiko.PKey.from_type_string(fields[0], blob)
    except (binascii.Error, ValueError, paramiko.SSHException) as exc:
        raise ValueError(f"{fields[0]} key does not decode: {exc}") from None
    if isinstance(key, paramiko.RSAKey) and key.get_bits() < MIN_RSA_BITS:
        raise ValueError(f"RSA key has {key.get_bits()} bits; at least {MIN_RSA_BITS} required")
    return key


@dataclass(frozen=True)
class Account:
    """One partner's SFTP login: a password hash (``scrypt$...``) and/or public keys."""

    username: str
    partner_id: str
    password_hash: str | None = None
    authorized_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Parsed:
    account: Account
    keys: tuple[bytes, ...] = field(default=())


class StaticAccounts:
    """Accounts held in memory, checked when built (a bad key or hash fails at start)."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self._accounts: dict[str, _Parsed] = {}
        for account in accounts:
            if account.username in self._accounts:
                raise ValueError(f"SFTP username {account.username!r} is used twice")
            if account.password_hash is not None:
                _check_hash(account.password_hash)
            blobs = tuple(parse_public_key(line).asbytes() for line in account.authorized_keys)
            self._accounts[account.username] = _Parsed(account, blobs)

    def allowed_auths(self, username: str) -> list[str]:
        parsed = self._accounts.get(username)
        if parsed is None:
            return []
        methods = []
        if parsed.keys:
            methods.append("publickey")
        if parsed.account.password_hash is not None:
            methods.append("password")
        return methods

    def check_password(self, username: str, password: str) -> str | None:
        parsed = self._accounts.get(username)
        encoded = parsed.account.password_hash if parsed else None
        if parsed is None or encoded is None:
            # Same work as a real check, so timing does not tell which usernames exist.
            _verify(password, _dummy_hash())
            return None
        return parsed.account.partner_id if _verify(password, encoded) else None

    def check_public_key(self, username: str, key: paramiko.PKey) -> str | None:
        parsed = self._accounts.get(username)
        if parsed is None:
            return None
        blob = key.asbytes()
        match = False
        for known in parsed.keys:
            match |= hmac.compare_digest(known, blob)
        return parsed.account.partner_id if match else None


# The scrypt format is owned by edigate.partners.passwords; it is imported late so that this
# module (and the server) load without the rest of the partners package.
def _verify(password: str, encoded: str) -> bool:
    from ..partners.passwords import verify_password

    return verify_password(password, encoded)


def _check_hash(encoded: str) -> None:
    from ..partners.passwords import parse_hash

    parse_hash(encoded)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        from ..partners.passwords import hash_password

        _DUMMY.append(hash_password("edigate-no-such-user"))
    return _DUMMY[0]


class AuthThrottle:
    """Failed logins per (username, address) and per address, in a sliding window.

    ``max_failures`` failures for one username from one address within ``window_seconds``
    block that pair; ``max_failures_per_address`` (over all usernames) blocks the address,
    which stops username spraying. A success clears the pair's count. Blocked attempts are
    not counted, so the block ends when the window has passed the oldest failure.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window_seconds: float = 600.0,
        *,
        max_failures_per_address: int | None = 50,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 100_000,
    ) -> None:
        if max_failures < 1 or window_seconds <= 0:
            raise ValueError("max_failures must be >= 1 and window_seconds > 0")
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.max_failures_per_address = max_failures_per_address
        self._clock = clock
        self._max_tracked = max_tracked
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, username: str, address: str) -> float | None:
        """Seconds until ``username`` may try again from ``address``; None when not blocked."""
        now = self._clock()
        with self._lock:
            waits = [
                self._blocked_for(key, limit, now)
                for key, limit in self._keys(username, address)
                if limit is not None
            ]
        blocked = [w for w in waits if w is not None]
        return max(blocked) if blocked else None

    def failed(self, username: str, address: str) -> int:
        """Record a failure; returns the pair's failure count within the window."""
        now = self._clock()
        with self._lock:
            counts = []
            for key, _limit in self._keys(username, address):
                times = self._failures.pop(key, None) or deque()
                self._prune(times, now)
                times.append(now)
                self._failures[key] = times  # most recently used last
                counts.append(len(times))
            while len(self._failures) > self._max_tracked:
                self._failures.popitem(last=False)
            return counts[0]

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username, address), None)

    def _keys(self, username: str, address: str) -> list[tuple[tuple[str, str], int | None]]:
        # "\0" cannot appear in an SSH username, so the per-address key never collides.
        return [
            ((username, address), self.max_failures),
            (("\0", address), self.max_failures_per_address),
        ]

    def _blocked_for(self, key: tuple[str, str], limit: int | None, now: float) -> float | None:
        times = self._failures.get(key)
        if not times or limit is None:
            return None
        self._prune(times, now)
        if len(times) < limit:
            return None
        # Unblocked when enough of the oldest failures have left the window.
        return times[len(times) - limit] + self.window_seconds - now

    def _prune(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
