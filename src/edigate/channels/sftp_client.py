"""SFTP as a client: push documents to a partner's server, or poll documents from it.

The partner's host key is pinned, never learned: :class:`SftpEndpoint` requires it, as an
OpenSSH public key line or a ``SHA256:`` fingerprint (what ``ssh-keygen -lf`` prints), and
the key is checked before any credential is sent. A mismatch is not retried: it needs a
person to confirm that the partner really changed its key.

* :class:`SftpPush` (an OutboundChannel) uploads under a temp name and renames it to the
  final name, so the partner's pollers never take a partial file. Connection problems raise
  ``DeliveryError(retryable=True)``; the dispatcher retries with backoff, then ``dead``.
* :class:`SftpPoller` takes files from a remote folder on a schedule. A file is deleted (or
  moved to an archive folder) only after the handler stored it; temp names are skipped, and
  so is a file whose size or time changes between two looks.

Usage::

    partner = SftpEndpoint("sftp.acme.example", "edigate", "SHA256:abc...",
                           private_key_path=Path("keys/acme_ed25519"))
    SftpPush(partner, remote_dir="/inbound").send(outbound)
    SftpPoller(partner, store_handler(store), partner_id="acme", remote_dir="/outbound").poll_once()
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fnmatch
import hmac
import io
import logging
import posixpath
import socket
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import paramiko

from ..errors import ConfigError, EdigateError
from ..events import Events, EventSink
from ..fsutil import is_hidden_or_partial
from ..secret_files import check_private_file
from ..store import Receipt
from .base import Delivery, DeliveryError, Handler, Inbound, Outbound
from .host_key import blob_fingerprint, key_fingerprint
from .outfiles import outbound_name
from .polling import PollLoop
from .sftp_auth import KEY_TYPES

log = logging.getLogger("edigate.sftp_client")

#: Host key algorithms to ask for, given the type of the pinned key.
_HOST_KEY_ALGORITHMS = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
}


class SftpConnectionError(EdigateError):
    """Connecting or logging in to a partner's SFTP server failed."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class HostKeyMismatch(SftpConnectionError):
    """The server presented another host key than the one pinned: possibly an impostor."""

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message, retryable=False)
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True, slots=True)
class KnownHostKey:
    """A pinned host key: its SHA256 fingerprint, and its type when a key line was given."""

    fingerprint: str
    key_type: str | None = None

    @classmethod
    def parse(cls, text: str) -> KnownHostKey:
        """Accept ``SHA256:...`` (alone or in an ``ssh-keygen -lf`` line), an OpenSSH public
        key line, or a ``known_hosts`` line (``host type base64``)."""
        tokens = text.split()
        for token in tokens:
            if token.startswith("SHA256:"):
                digest = token[len("SHA256:") :]
                try:
                    raw = base64.b64decode(digest + "=" * (-len(digest) % 4), validate=True)
                except (binascii.Error, ValueError):
                    raw = b""
                if len(raw) != 32:
                    raise ConfigError(f"not a SHA256 host key fingerprint: {token!r}")
                return cls(token.rstrip("="))
        for i, token in enumerate(tokens[:-1]):
            if token in KEY_TYPES:
                try:
                    blob = base64.b64decode(tokens[i + 1], validate=True)
                    paramiko.PKey.from_type_string(token, blob)
                except (binascii.Error, ValueError, paramiko.SSHException) as exc:
                    raise ConfigError(f"host key {token} does not decode: {exc}") from None
                return cls(blob_fingerprint(blob), token)
        raise ConfigError(
            "known_host_key must be an OpenSSH public key line ('ssh-ed25519 AAAA...') or a "
            f"fingerprint ('SHA256:...' as ssh-keygen -lf prints it), got {text[:60]!r}"
        )


@dataclass(frozen=True)
class SftpEndpoint:
    """Where and how to log in to a partner's SFTP server."""

    host: str
    username: str
    known_host_key: str
    port: int = 22
    private_key_path: Path | None = None
    private_key_passphrase: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    timeout: float = 15.0

    def __post_init__(self) -> None:
        if self.private_key_path is None and self.password is None:
            raise ConfigError(f"sftp {self.username}@{self.host}: give a private key or a password")
        KnownHostKey.parse(self.known_host_key)  # fail at configuration time, not at 3 a.m.

    @property
    def label(self) -> str:
        return f"sftp://{self.username}@{self.host}:{self.port}"


class SftpConnection:
    """A logged-in SFTP session to a verified server; close it (or use ``with``)."""

    def __init__(self, transport: paramiko.Transport, sftp: paramiko.SFTPClient, fp: str) -> None:
        self.transport = transport
        self.sftp = sftp
        self.host_fingerprint = fp

    def alive(self) -> bool:
        return self.transport.is_active()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sftp.close()
        self.transport.close()

    def __enter__(self) -> SftpConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(endpoint: SftpEndpoint) -> SftpConnection:
    """Connect, verify the host key, then log in. Raises :class:`SftpConnectionError`."""
    known = KnownHostKey.parse(endpoint.known_host_key)
    where = endpoint.label
    if endpoint.private_key_path is not None:  # before the partner sees us: it cannot heal
        try:
            check_private_file(endpoint.private_key_path, "SFTP client key")
        except ConfigError as exc:
            raise SftpConnectionError(f"{where}: {exc}", retryable=False) from exc
    try:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=endpoint.timeout)
    except OSError as exc:
        raise SftpConnectionError(f"{where}: cannot connect: {exc}") from exc
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = endpoint.timeout
        transport.handshake_timeout = endpoint.timeout
        transport.auth_timeout = endpoint.timeout
        if known.key_type is not None:
            wanted = _HOST_KEY_ALGORITHMS.get(known.key_type, (known.key_type,))
            options = transport.get_security_options()
            options.key_types = [k for k in options.key_types if k in wanted] or list(wanted)
        transport.start_client(timeout=endpoint.timeout)
        server_key = transport.get_remote_server_key()
        actual = key_fingerprint(server_key)
        if not hmac.compare_digest(actual.encode(), known.fingerprint.encode()):
            raise HostKeyMismatch(
                f"{where}: host key mismatch: expected {known.fingerprint}, the server presented "
                f"{actual} ({server_key.get_name()}); not connecting. If the partner really "
                "changed its key, confirm the new one with them and update the pinned key (a "
                "profile's host_key_fingerprint)",
                expected=known.fingerprint,
                actual=actual,
            )
        _login(transport, endpoint)
        sftp = paramiko.SFTPClient.from_transport(transport)
        if sftp is None:
            raise SftpConnectionError(f"{where}: the server refused the sftp subsystem")
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(endpoint.timeout)
        return SftpConnection(transport, sftp, actual)
    except SftpConnectionError:
        transport.close()
        raise
    except paramiko.AuthenticationException as exc:
        transport.close()
        raise SftpConnectionError(f"{where}: login refused: {exc}", retryable=False) from exc
    except (paramiko.SSHException, OSError, EOFError) as exc:
        transport.close()
        raise SftpConnectionError(f"{where}: {type(exc).__name__}: {exc}") from exc


def _login(transport: paramiko.Transport, endpoint: SftpEndpoint) -> None:
    if endpoint.private_key_path is not None:
        try:
            key = paramiko.PKey.from_path(
                endpoint.private_key_path, endpoint.private_key_passphrase
            )
        except (paramiko.SSHException, OSError, ValueError, TypeError) as exc:
            # TypeError: paramiko's answer to an encrypted OpenSSH key without a passphrase
            raise SftpConnectionError(
                f"cannot load private key {endpoint.private_key_path}: {exc}", retryable=False
            ) from exc
        transport.auth_publickey(endpoint.username, key)
        if transport.is_authenticated() or endpoint.password is None:
            return
    if endpoint.password is not None:
        transport.auth_password(endpoint.username, endpoint.password)


def _retryable(exc: BaseException) -> bool:
    """A missing folder or a permission problem will not fix itself; the rest may."""
    return not (isinstance(exc, OSError) and exc.errno in (errno.ENOENT, errno.EACCES, errno.EPERM))


def _rename(sftp: paramiko.SFTPClient, temp: str, final: str, data: bytes) -> None:
    """Commit the upload by its rename. A plain SFTP rename never replaces a file: when
    ``final`` holds ``data`` already, an earlier attempt's rename went through and only its
    answer was lost (a dropped connection, a crash before the outcome was saved), so the
    document is delivered and this attempt's copy is removed. Anything else there is
    another file of that name, which the partner may yet pick up: the error says so."""
    try:
        sftp.rename(temp, final)
    except OSError as exc:
        there = _remote_size(sftp, final)
        if there is None:
            raise
        if there == len(data) and _remote_equals(sftp, final, data):
            with contextlib.suppress(OSError):
                sftp.remove(temp)
            log.info("sftp_push: %s holds these bytes already (an earlier attempt)", final)
            return
        raise OSError(exc.errno, f"{final} exists already and holds another file") from exc


def _remote_size(sftp: paramiko.SFTPClient, path: str) -> int | None:
    try:
        return sftp.stat(path).st_size
    except OSError:
        return None


def _remote_equals(sftp: paramiko.SFTPClient, path: str, data: bytes) -> bool:
    """Whether ``path`` holds ``data``; a drop box that cannot be read back has the
    name and size to go by (the name is the document's own)."""
    try:
        with sftp.open(path, "rb") as remote:
            return bool(remote.read(len(data) + 1) == data)
    except OSError:
        return True


class SftpPush:
    """OutboundChannel: upload each document to ``remote_dir`` on the partner's server.

    ``temp_name`` (``{name}`` is the final name) is where the bytes are written first; the
    file is then renamed, never overwriting a file of that name. ``temp_name=None`` writes
    the final name directly, for servers that forbid renames.
    """

    def __init__(
        self,
        endpoint: SftpEndpoint,
        remote_dir: str = ".",
        *,
        temp_name: str | None = ".{name}.part",
    ) -> None:
        self.endpoint = endpoint
        self.remote_dir = remote_dir
        self.temp_name = temp_name
        self._connection: SftpConnection | None = None
        self._lock = threading.Lock()

    def send(self, document: Outbound) -> Delivery:
        name = outbound_name(document)
        final = posixpath.join(self.remote_dir, name)
        target = final
        if self.temp_name is not None:
            target = posixpath.join(self.remote_dir, self.temp_name.format(name=name))
        with self._lock:
            conn = self._connect()
            try:
                conn.sftp.putfo(io.BytesIO(document.data), target, len(document.data), confirm=True)
                if target != final:
                    _rename(conn.sftp, target, final, document.data)
            except (OSError, paramiko.SSHException, EOFError) as exc:
                if target != final and conn.alive():
                    with contextlib.suppress(Exception):
                        conn.sftp.remove(target)
                self._drop()
                raise DeliveryError(
                    f"{self.endpoint.label}: upload of {final} failed: {exc}",
                    retryable=_retryable(exc),
                ) from exc
        log.info(
            "sftp_push delivered %s to %s as %s", document.document_id, self.endpoint.label, final
        )
        return Delivery(
            f"uploaded to {self.endpoint.label} as {final}",
            meta={"remote_path": final, "host_key": conn.host_fingerprint},
        )

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _connect(self) -> SftpConnection:
        if self._connection is not None and self._connection.alive():
            return self._connection
        self._drop()
        try:
            self._connection = connect(self.endpoint)
        except SftpConnectionError as exc:
            raise DeliveryError(str(exc), retryable=exc.retryable) from exc
        return self._connection

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class SftpPoller:
    """Inbound: take complete files from a folder on a partner's server, on a schedule.

    ``poll_once()`` looks twice, ``settle_seconds`` apart, and takes only files whose size
    and time did not change, whose names are final (not dotfiles, ``*.tmp``, ``*.part``) and
    that match ``pattern``. Each is handed to the handler; only once stored is it removed,
    or moved into ``archive_dir`` when one is set.
    """

    def __init__(
        self,
        endpoint: SftpEndpoint,
        handler: Handler,
        *,
        partner_id: str | None,
        remote_dir: str = ".",
        archive_dir: str | None = None,
        pattern: str = "*",
        settle_seconds: float = 1.0,
        interval: float = 60.0,
        on_event: EventSink | None = None,
        channel: str = "sftp_poll",
        stored: set[tuple[str, int, int]] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.handler = handler
        self.partner_id = partner_id
        self.remote_dir = remote_dir
        self.archive_dir = archive_dir
        self.pattern = pattern
        self.settle_seconds = settle_seconds
        self.channel = channel
        self.events = Events(log, on_event)
        self.loop = PollLoop(self._round, interval, f"sftp-poll {endpoint.label}")
        # Stored, but not yet removed remotely (shared with a poller that replaces this one).
        self._stored: set[tuple[str, int, int]] = set() if stored is None else stored

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()

    def _round(self) -> None:
        """One round of the background loop. A server that cannot be reached was reported
        (``poll_failed``); one that fails while listing (a folder that does not exist, a
        dropped connection) is reported here, once a round, without a traceback."""
        try:
            self.poll_once()
        except SftpConnectionError:
            pass
        except (OSError, paramiko.SSHException, EOFError) as exc:
            self.events.emit(
                "poll_failed", logging.WARNING, **self._fields(), error=f"{self.remote_dir}: {exc}"
            )

    def poll_once(self) -> list[Receipt]:
        """One round; raises SftpConnectionError when the server cannot be reached."""
        try:
            conn = connect(self.endpoint)
        except SftpConnectionError as exc:
            self.events.emit("poll_failed", logging.WARNING, **self._fields(), error=str(exc))
            raise
        with conn:
            first = self._look(conn)
            if not first:
                return []
            if self.settle_seconds > 0 and self.loop.pause(self.settle_seconds):
                return []  # stopping: the files wait for the next poller
            second = self._look(conn)
            receipts = []
            for name, sig in sorted(first.items()):
                if self.loop.stopping:
                    break
                receipt = self._take(conn, name, sig, second.get(name))
                if receipt is not None:
                    receipts.append(receipt)
            return receipts

    def _take(
        self,
        conn: SftpConnection,
        name: str,
        sig: tuple[int, int],
        again: tuple[int, int] | None,
    ) -> Receipt | None:
        path = posixpath.join(self.remote_dir, name)
        fields = self._fields(filename=name, path=path)
        if (name, *sig) in self._stored:
            self._cleanup(conn, name, sig, fields)  # stored last time; only the removal failed
            return None
        if again != sig:
            self.events.emit("file_skipped", logging.INFO, **fields, reason="still changing")
            return None
        try:
            with conn.sftp.open(path, "rb") as remote:
                remote.prefetch(sig[0])
                data = remote.read()
        except (OSError, paramiko.SSHException, EOFError) as exc:
            self.events.emit("file_failed", logging.WARNING, **fields, error=f"download: {exc}")
            return None
        if len(data) != sig[0]:
            self.events.emit("file_skipped", logging.INFO, **fields, reason="changed while read")
            return None
        try:
            receipt = self.handler(
                Inbound(
                    data=data,
                    channel=self.channel,
                    partner_id=self.partner_id,
                    filename=name,
                    meta={"remote": self.endpoint.label, "path": path},
                )
            )
        except Exception as exc:  # left in place: the next round tries again
            self.events.emit("file_failed", logging.ERROR, **fields, error=f"store: {exc}")
            return None
        self.events.emit(
            "file_received", logging.INFO, **fields, size=len(data), document_id=receipt.document_id
        )
        self._stored.add((name, *sig))
        self._cleanup(conn, name, sig, fields)
        return receipt

    def _cleanup(
        self, conn: SftpConnection, name: str, sig: tuple[int, int], fields: dict[str, Any]
    ) -> None:
        path = posixpath.join(self.remote_dir, name)
        try:
            if self.archive_dir is None:
                conn.sftp.remove(path)
            else:
                target = posixpath.join(self.archive_dir, name)
                try:
                    conn.sftp.stat(target)
                    target = f"{target}.{time.strftime('%Y%m%d%H%M%S')}"
                except FileNotFoundError:
                    pass
                conn.sftp.rename(path, target)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            self.events.emit("cleanup_failed", logging.WARNING, **fields, error=str(exc))
            return
        self._stored.discard((name, *sig))

    def _look(self, conn: SftpConnection) -> dict[str, tuple[int, int]]:
        found = {}
        for attrs in conn.sftp.listdir_attr(self.remote_dir):
            name = attrs.filename
            if is_hidden_or_partial(Path(name)) or not fnmatch.fnmatchcase(name, self.pattern):
                continue
            if attrs.st_mode is not None and not stat.S_ISREG(attrs.st_mode):
                continue
            found[name] = (attrs.st_size or 0, attrs.st_mtime or 0)
        return found

    def _fields(self, **extra: Any) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "partner": self.partner_id,
            "remote": self.endpoint.label,
            **extra,
        }
