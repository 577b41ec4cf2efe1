"""The SFTP server partners upload to and pick up from (paramiko, one thread per connection).

An upload becomes a document at the moment the client commits it, and the client learns
the outcome from that same request:

* a file uploaded under a final name is handed to the :data:`Handler` (stored durably) when
  the client **closes** it; the close answers OK only after the handler returned, and
  ``SFTP_FAILURE`` if it raised (store down, disk full), so nothing is acknowledged that did
  not land;
* a file uploaded under a temp-looking name (dotfile, ``*.tmp``, ``*.part``, ``*.filepart``:
  the convention of WinSCP and of most EDI scripts) is kept aside at close and handed over
  when the client **renames** it to a final name; the rename answers as the close would;
* renaming an already received file is accepted and changes nothing (event
  ``upload_renamed``); a connection that drops before the commit leaves nothing behind: the
  partial or never-renamed file is deleted (event ``upload_discarded``);
* resuming is not supported: every open starts an empty file, so an open for append
  (OpenSSH ``reput``) is refused (``upload_refused``), and a write past what this open has
  written (a seek, then a write) is refused (``upload_write_refused``), the upload discarded
  and its close failed, rather than stored with a hole of NUL bytes;
* a file opened without create or truncate (``r+``) and closed unwritten is no upload
  (``upload_skipped``); one created or truncated and closed empty is an empty document.

Within a session, ``/in`` lists what this session uploaded (so clients that ``stat`` after a
put, as paramiko's ``put()`` does, see their file); nothing uploaded is ever served back.
``/out`` is read and delete only. See :mod:`.sftp_fs` for the confinement rules.

Logins are throttled by :class:`~.sftp_auth.AuthThrottle` (default: 5 failures per username
and address in 10 minutes, 50 per address). Every refused password and every offered key
that is not authorized counts, so a client offering many keys may use up the allowance.

Connections are capped in all (``max_connections``, 100) and per client IP address
(``max_connections_per_address``, 10), so one client or a flood of bare TCP connects cannot
lock every partner out (``connection_refused``). One that has not logged in within
``login_grace_seconds`` is closed; so is a logged-in one that made no SFTP request for
``idle_timeout_seconds`` (600; ``connection_closed``). A request still running (a slow
commit, a download) is never idle.

Events (``on_event(kind, **fields)`` and logger ``edigate.sftp``): ``auth_succeeded``,
``auth_failed``, ``auth_throttled``, ``upload_received``, ``upload_failed``,
``upload_discarded``, ``upload_refused``, ``upload_write_refused``, ``upload_skipped``,
``upload_renamed``, ``pickup_read``, ``pickup_removed``, ``connection_refused``,
``connection_closed``, ``connection_not_ssh`` (a port scan or health check: one WARNING
line, not paramiko's traceback).

Usage::

    server = SftpServer(root=Path("var/sftp"), host_key_path=Path("var/sftp_host_key"),
                        accounts=accounts, handler=store_handler(store), port=2222)
    with server:
        ...   # serving in a background thread until the block ends
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)
from paramiko.sftp import (
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
)

from ..errors import EdigateError
from ..events import Events, EventSink
from ..fsutil import is_hidden_or_partial
from .base import Handler, Inbound
from .host_key import key_fingerprint, load_or_create_host_key
from .sftp_auth import AuthThrottle, SftpAccounts
from .sftp_fs import (
    ROOT,
    PartnerTree,
    PathMissing,
    PathRefused,
    VirtualPath,
    check_partner_id,
    normalize,
    resolve,
)

log = logging.getLogger("edigate.sftp")

DEFAULT_MAX_UPLOAD = 256 * 1024 * 1024
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR
T = TypeVar("T")


class UploadRejected(EdigateError):
    """An upload could not be received; the client's close (or rename) gets SFTP_FAILURE."""


class Unsupported(EdigateError):
    """A request edigate does not serve (appending, resuming): SFTP_OP_UNSUPPORTED."""


class SftpServer:
    """A threaded SFTP server: ``start()``/``stop()`` or use it as a context manager.

    ``root`` holds one folder per partner (``<root>/<partner_id>/in|out``); ``accounts``
    maps logins to partner ids; ``handler`` stores each upload. ``port=0`` picks a free port
    (read it back from :attr:`address`).
    """

    def __init__(
        self,
        *,
        root: Path,
        host_key_path: Path,
        accounts: SftpAccounts,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 2222,
        on_event: EventSink | None = None,
        throttle: AuthThrottle | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
        max_connections: int = 100,
        max_connections_per_address: int = 10,
        idle_timeout_seconds: float = 600.0,
        login_grace_seconds: float = 60.0,
    ) -> None:
        self.root = Path(root)
        self.host_key_path = Path(host_key_path)
        self.accounts = accounts
        self.handler = handler
        self.host = host
        self.port = port
        self.events = Events(log, on_event)
        self.throttle = throttle or AuthThrottle()
        self.max_upload_bytes = max_upload_bytes
        self.max_connections = max_connections
        self.max_connections_per_address = max_connections_per_address
        self.idle_timeout_seconds = idle_timeout_seconds
        self.login_grace_seconds = login_grace_seconds
        self.host_key: paramiko.PKey | None = None
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: dict[paramiko.Transport, _Peer] = {}
        self._sessions: set[_SftpSession] = set()
        self._sessions_done = threading.Condition(self._lock)

    # ------------------------------------------------------------------ life cycle
    @property
    def address(self) -> tuple[str, int]:
        if self._listener is None:
            raise RuntimeError("the SFTP server is not started")
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    @property
    def fingerprint(self) -> str:
        """``SHA256:...`` of the host key, to give to partners."""
        if self.host_key is None:
            self.host_key = load_or_create_host_key(self.host_key_path)
        return key_fingerprint(self.host_key)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the SFTP server is already started")
        self.host_key = load_or_create_host_key(self.host_key_path)
        self.root.mkdir(parents=True, exist_ok=True)
        self._discard_stale_uploads()
        self._stopping.clear()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self.port), family=family)
        listener.settimeout(0.5)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, name="edigate-sftp", daemon=True)
        self._thread.start()
        log.info("sftp listening on %s:%s host key %s", *self.address, self.fingerprint)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every connection, and wait for their uploads to be discarded."""
        if self._thread is None:
            return
        self._stopping.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes a blocked accept() at once on Linux
                self._listener.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout)
        self._thread = None
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            transports = list(self._connections)
            self._connections.clear()
        for transport in transports:
            transport.close()
        deadline = time.monotonic() + timeout
        for transport in transports:
            transport.join(max(0.0, deadline - time.monotonic()))
        with self._sessions_done:
            self._sessions_done.wait_for(
                lambda: not self._sessions, max(0.0, deadline - time.monotonic())
            )
        log.info("sftp stopped")

    def __enter__(self) -> SftpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ connections
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, addr = self._listener.accept()
            except TimeoutError:
                self._reap()
                continue
            except OSError as exc:
                if not self._stopping.is_set():
                    log.error("sftp accept failed: %s", exc)
                    time.sleep(0.2)
                continue
            self._reap()
            remote = _remote(addr)
            refused = self._over_limit(str(addr[0]))
            if refused is not None:
                self.events.emit(
                    "connection_refused", logging.WARNING, remote=remote, reason=refused
                )
                sock.close()
                continue
            try:
                self._serve(sock, addr)
            except Exception:
                log.exception("sftp connection from %s failed to start", remote)
                sock.close()

    def _serve(self, sock: socket.socket, addr: Any) -> None:
        assert self.host_key is not None
        transport = _ServerTransport(sock, self.events, _remote(addr))
        transport.add_server_key(self.host_key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _SftpSession)
        connection = _Connection(self, transport, addr)
        now = time.monotonic()
        with self._lock:
            self._connections[transport] = _Peer(connection, str(addr[0]), now, now)
        transport.start_server(event=threading.Event(), server=connection)

    def _over_limit(self, host: str) -> str | None:
        """Why a new connection from ``host`` is refused, if it is: the total or its share."""
        with self._lock:
            total = len(self._connections)
            mine = sum(1 for peer in self._connections.values() if peer.host == host)
        if total >= self.max_connections:
            return f"too many connections (limit {self.max_connections})"
        if mine >= self.max_connections_per_address:
            return f"too many connections from {host} (limit {self.max_connections_per_address})"
        return None

    def _reap(self) -> None:
        """Forget closed connections; close those that did not log in within the grace time,
        and logged-in ones that made no SFTP request for the idle timeout."""
        now = time.monotonic()
        with self._lock:
            items = [
                (t, p, None if p.busy else now - p.last_active)
                for t, p in self._connections.items()
            ]
        for transport, peer, idle in items:
            remote = peer.connection.remote
            if not transport.is_active():
                with self._lock:
                    self._connections.pop(transport, None)
            elif not transport.is_authenticated():
                if now - peer.since > self.login_grace_seconds:
                    log.warning("sftp login timeout remote=%s", remote)
                    transport.close()
            elif idle is not None and idle > self.idle_timeout_seconds:
                username, partner = peer.connection.account
                self.events.emit(
                    "connection_closed",
                    logging.INFO,
                    partner=partner,
                    username=username,
                    remote=remote,
                    reason=f"idle for {idle:.0f} s (limit {self.idle_timeout_seconds:g} s)",
                )
                transport.close()

    @contextlib.contextmanager
    def _serving(self, transport: paramiko.Transport) -> Iterator[None]:
        """Around each SFTP request: the connection is not idle while it runs, nor just after."""
        with self._lock:
            peer = self._connections.get(transport)
            if peer is not None:
                peer.busy += 1
        try:
            yield
        finally:
            if peer is not None:
                with self._lock:
                    peer.busy -= 1
                    peer.last_active = time.monotonic()

    def _discard_stale_uploads(self) -> None:
        """Temp files left by a crash were never acknowledged: delete them, say so."""
        for partner_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            try:
                tree = PartnerTree(self.root, partner_dir.name)
            except ValueError:
                continue
            for path in tree.stale_uploads():
                size = path.stat().st_size
                path.unlink(missing_ok=True)
                self.events.emit(
                    "upload_discarded",
                    logging.WARNING,
                    partner=partner_dir.name,
                    size=size,
                    reason="left over from a previous run",
                )

    def _session_started(self, session: _SftpSession) -> None:
        with self._lock:
            self._sessions.add(session)

    def _session_ended(self, session: _SftpSession) -> None:
        with self._sessions_done:
            self._sessions.discard(session)
            self._sessions_done.notify_all()


class _ServerTransport(paramiko.Transport):
    """A server-side transport that reports a client sending no SSH banner in one line.

    Port scans and TCP health checks connect and close (or send something else); paramiko
    logs each as an ERROR with a 20-line traceback. Here it is one ``connection_not_ssh``
    WARNING naming the remote, and the transport ends as on a plain EOF. (This overrides
    paramiko's private ``_check_banner``; ``test_sftp_connections`` notices if it goes.)
    """

    def __init__(self, sock: socket.socket, events: Events, remote: str) -> None:
        super().__init__(sock)
        self.events = events
        self.remote = remote

    def _check_banner(self) -> None:
        try:
            super()._check_banner()  # type: ignore[misc]  # paramiko's own, untyped
        except paramiko.SSHException as exc:
            cause = exc.__context__
            reason = str(exc)[:200]  # may quote what the client sent instead
            if cause is not None and reason.startswith("Error reading SSH protocol banner"):
                reason = f"no SSH banner: {_describe(cause)}"
            self.events.emit(
                "connection_not_ssh", logging.WARNING, remote=self.remote, reason=reason
            )
            raise EOFError(reason) from exc  # paramiko's run() ends quietly on EOFError


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "closed before sending one"
    if isinstance(exc, socket.timeout):
        return "none sent in time"
    return str(exc) or type(exc).__name__


@dataclass
class _Peer:
    """A connection as the server tracks it, for the limits and the idle timeout."""

    connection: _Connection
    host: str  # the client's address without the port: the per-address limit counts these
    since: float
    last_active: float  # the end of its last SFTP request (or its start)
    busy: int = 0  # SFTP requests running now: never idle while one is


def _remote(addr: Any) -> str:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


class _Connection(paramiko.ServerInterface):
    """One SSH connection: authentication (with throttling) and which channels it may open."""

    def __init__(self, server: SftpServer, transport: paramiko.Transport, addr: Any) -> None:
        self.server = server
        self.transport = transport
        self.address = str(addr[0])
        self.remote = _remote(addr)
        self.username: str | None = None
        self.partner_id: str | None = None
        self._accepted: tuple[str, str, str] | None = None  # username, partner, method

    @property
    def account(self) -> tuple[str | None, str | None]:
        """Username and partner of the last accepted login (None, None before any)."""
        return (None, None) if self._accepted is None else self._accepted[:2]

    def get_allowed_auths(self, username: str) -> str:
        # The same answer for every username, so it does not tell which accounts exist.
        return "publickey,password"

    def check_auth_none(self, username: str) -> int:
        return AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        if not isinstance(password, str):  # paramiko passes bytes that are not UTF-8
            password = bytes(password).decode("utf-8", "replace")
        return self._check(
            username, "password", lambda: self.server.accounts.check_password(username, password)
        )

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        # Called before paramiko verifies the signature (and for OpenSSH's "would this key
        # do?" query): a match here is not a login yet; see _logged_in.
        return self._check(
            username, "publickey", lambda: self.server.accounts.check_public_key(username, key)
        )

    def _check(self, username: str, method: str, check: Callable[[], str | None]) -> int:
        events, throttle = self.server.events, self.server.throttle
        fields: dict[str, Any] = {"username": username, "remote": self.remote, "method": method}
        wait = throttle.retry_after(username, self.address)
        if wait is not None:
            events.emit("auth_throttled", logging.WARNING, **fields, retry_after=round(wait, 1))
            return AUTH_FAILED
        try:
            partner = check()
            if partner is not None:
                check_partner_id(partner)
        except Exception as exc:  # a broken account entry is not the client's failure
            events.emit("auth_failed", logging.ERROR, **fields, reason=f"account error: {exc}")
            return AUTH_FAILED
        if partner is None:
            failures = throttle.failed(username, self.address)
            known = bool(self.server.accounts.allowed_auths(username))
            events.emit(
                "auth_failed",
                logging.WARNING,
                **fields,
                reason=f"wrong {method}" if known else "unknown user",
                failures=failures,
                limit=throttle.max_failures,
            )
            return AUTH_FAILED
        self._accepted = (username, partner, method)
        return AUTH_SUCCESSFUL

    def _logged_in(self) -> bool:
        """First use of an authenticated connection: the login is now certain, record it."""
        if self.partner_id is not None:
            return True
        if self._accepted is None or not self.transport.is_authenticated():
            return False
        username, partner, method = self._accepted
        self.username, self.partner_id = username, partner
        try:  # before the client's channel opens, so its first request finds them
            PartnerTree(self.server.root, partner).ensure()
        except (OSError, PathRefused, PathMissing) as exc:  # every request will say why
            log.error("sftp folders of partner %s are unusable: %s", partner, exc)
        self.server.throttle.succeeded(username, self.address)
        self.server.events.emit(
            "auth_succeeded",
            logging.INFO,
            partner=partner,
            username=username,
            remote=self.remote,
            method=method,
        )
        return True

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session" and self._logged_in():
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        return (
            name == "sftp"
            and self._logged_in()
            and super().check_channel_subsystem_request(channel, name)
        )


@dataclass
class _Entry:
    """A file this session put in ``/in``: received (document id) or staged (temp path)."""

    size: int
    mtime: int
    document_id: int | None = None
    staged: Path | None = None


class _SftpSession(paramiko.SFTPServerInterface):
    """One SFTP session of a logged-in partner: the virtual tree and the upload commits."""

    def __init__(self, connection: paramiko.ServerInterface, *args: Any, **kwargs: Any) -> None:
        super().__init__(connection, *args, **kwargs)
        assert isinstance(connection, _Connection) and connection.partner_id is not None
        self.connection = connection
        self.server = connection.server
        self.partner_id = connection.partner_id
        self.tree = PartnerTree(self.server.root, self.partner_id)
        self.entries: dict[str, _Entry] = {}
        self.uploads: set[_UploadHandle] = set()
        self.ended = False

    # ------------------------------------------------------------------ session
    def session_started(self) -> None:
        self.server._session_started(self)

    def session_ended(self) -> None:
        """The connection is gone: whatever was not committed is discarded, and said so."""
        self.ended = True
        try:
            for handle in list(self.uploads):
                handle.discard("connection closed before the file was closed")
            for name, entry in list(self.entries.items()):
                if entry.staged is not None:
                    entry.staged.unlink(missing_ok=True)
                    self.event(
                        "upload_discarded",
                        logging.WARNING,
                        filename=name,
                        size=entry.size,
                        reason="never renamed to a final name",
                    )
            self.entries.clear()
        finally:
            self.server._session_ended(self)

    def event(self, kind: str, level: int = logging.INFO, **fields: Any) -> None:
        self.server.events.emit(
            kind,
            level,
            partner=self.partner_id,
            username=self.connection.username,
            remote=self.connection.remote,
            **fields,
        )

    # ------------------------------------------------------------------ paths
    def canonicalize(self, path: str) -> str:
        with self.busy():
            return normalize(path)  # PathRefused -> SFTP_FAILURE for paths above the root

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes] | int:
        return self._guard(lambda: self._list(resolve(path)))

    def _list(self, where: VirtualPath) -> list[paramiko.SFTPAttributes]:
        if where == ROOT:
            return [_folder_attrs("in"), _folder_attrs("out")]
        if where.name is not None:
            raise PathRefused(f"not a folder: {where.text}")
        if where.folder == "in":
            return [_entry_attrs(name, e) for name, e in sorted(self.entries.items())]
        return [paramiko.SFTPAttributes.from_stat(st, name) for name, st in self.tree.list_pickup()]

    def stat(self, path: str) -> paramiko.SFTPAttributes | int:
        return self._guard(lambda: self._stat(resolve(path)))

    def lstat(self, path: str) -> paramiko.SFTPAttributes | int:
        return self.stat(path)  # no links are ever shown, so stat and lstat agree

    def _stat(self, where: VirtualPath) -> paramiko.SFTPAttributes:
        if where.name is None:
            return _folder_attrs(where.folder or "/")
        if where.folder == "in":
            entry = self.entries.get(where.name)
            if entry is None:
                raise PathMissing(f"no such file: {where.text}")
            return _entry_attrs(where.name, entry)
        return paramiko.SFTPAttributes.from_stat(self.tree.stat_pickup(where.name), where.name)

    # ------------------------------------------------------------------ files
    def open(
        self, path: str, flags: int, attr: paramiko.SFTPAttributes
    ) -> paramiko.SFTPHandle | int:
        return self._guard(lambda: self._open(resolve(path), flags))

    def _open(self, where: VirtualPath, flags: int) -> paramiko.SFTPHandle:
        if where.name is None:
            raise PathRefused(f"not a file: {where.text}")
        writing = bool(flags & _WRITE_FLAGS)
        if where.folder == "out":
            if writing:
                raise PathRefused("/out is for pickup only: upload to /in")
            return _ReadHandle(self, where.name, self.tree.open_pickup(where.name))
        if not writing:
            raise PathRefused("files in /in are not served back")
        if flags & os.O_APPEND:  # OpenSSH's reput / put -a: appending to what is there
            self.event(
                "upload_refused",
                logging.WARNING,
                filename=where.name,
                reason="opened for append: resuming is not supported, upload the whole file",
            )
            raise Unsupported(f"appending to /in/{where.name} is not supported")
        # Truncating, or creating a name not uploaded yet, makes an (empty) file by itself;
        # any other open is an upload only once it is written.
        creates = bool(flags & os.O_TRUNC) or (
            bool(flags & os.O_CREAT) and where.name not in self.entries
        )
        fd, temp = self.tree.new_upload()
        handle = _UploadHandle(self, where.name, fd, temp, flags, creates=creates)
        self.uploads.add(handle)
        return handle

    def remove(self, path: str) -> int:
        def run() -> int:
            where = resolve(path)
            if where.name is None:
                raise PathRefused(f"not a file: {where.text}")
            if where.folder == "out":
                self.tree.remove_pickup(where.name)
                self.event("pickup_removed", filename=where.name)
                return SFTP_OK
            entry = self.entries.pop(where.name, None)
            if entry is None:
                raise PathMissing(f"no such file: {where.text}")
            if entry.staged is not None:
                entry.staged.unlink(missing_ok=True)
                self.event(
                    "upload_discarded",
                    logging.WARNING,
                    filename=where.name,
                    size=entry.size,
                    reason="removed by the client before renaming",
                )
            return SFTP_OK  # a received document stays received: removal only hides it

        return self._guard(run)

    def rename(self, oldpath: str, newpath: str) -> int:
        return self._guard(lambda: self._rename(resolve(oldpath), resolve(newpath)))

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        return self.rename(oldpath, newpath)

    def _rename(self, old: VirtualPath, new: VirtualPath) -> int:
        if old.folder != "in" or new.folder != "in" or old.name is None or new.name is None:
            raise PathRefused("renaming is only possible within /in")
        entry = self.entries.get(old.name)
        if entry is None:
            raise PathMissing(f"no such file: {old.text}")
        if entry.staged is not None and not is_hidden_or_partial(Path(new.name)):
            # The client's commit: the temp-named upload becomes a document now.
            staged = entry.staged
            data = staged.read_bytes()
            entry.document_id = self._receive(new.name, data, via="rename")
            entry.staged = None
            staged.unlink(missing_ok=True)
        elif entry.document_id is not None:
            self.event(
                "upload_renamed",
                filename=old.name,
                new_filename=new.name,
                document_id=entry.document_id,
            )
        del self.entries[old.name]
        replaced = self.entries.pop(new.name, None)
        if replaced is not None and replaced.staged is not None:
            replaced.staged.unlink(missing_ok=True)
        self.entries[new.name] = entry
        return SFTP_OK

    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        def run() -> int:
            where = resolve(path)
            if where.folder == "in" and where.name in self.entries:
                return SFTP_OK  # times and modes of an upload do not matter: accept, ignore
            raise PathRefused(f"attributes cannot be changed: {where.text}")

        return self._guard(run)

    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        return SFTP_PERMISSION_DENIED

    def rmdir(self, path: str) -> int:
        return SFTP_PERMISSION_DENIED

    def symlink(self, target_path: str, path: str) -> int:
        return SFTP_PERMISSION_DENIED

    def readlink(self, path: str) -> str | int:
        return SFTP_OP_UNSUPPORTED

    # ------------------------------------------------------------------ commits
    def _receive(self, filename: str, data: bytes, *, via: str) -> int:
        """Hand an upload to the handler; raises UploadRejected (-> SFTP_FAILURE) on failure."""
        try:
            receipt = self.server.handler(
                Inbound(
                    data=data,
                    channel="sftp",
                    partner_id=self.partner_id,
                    filename=filename,
                    meta={
                        "remote": self.connection.remote,
                        "username": self.connection.username,
                        "path": f"/in/{filename}",
                    },
                )
            )
        except Exception as exc:
            self.event(
                "upload_failed",
                logging.ERROR,
                filename=filename,
                size=len(data),
                error=f"{type(exc).__name__}: {exc}",
            )
            raise UploadRejected(f"/in/{filename} was not received: {exc}") from exc
        self.event(
            "upload_received",
            filename=filename,
            size=len(data),
            document_id=receipt.document_id,
            sha256=receipt.sha256,
            commit=via,
        )
        return receipt.document_id

    def busy(self) -> contextlib.AbstractContextManager[None]:
        """Around an SFTP request: the connection is not idle (see the idle timeout)."""
        return self.server._serving(self.connection.transport)

    def _guard(self, action: Callable[[], T]) -> T | int:
        """Run a file-system action; confinement errors become SFTP status codes."""
        try:
            with self.busy():
                return action()
        except PathRefused as exc:
            log.info(
                "sftp refused partner=%s remote=%s: %s",
                self.partner_id,
                self.connection.remote,
                exc,
            )
            return SFTP_PERMISSION_DENIED
        except PathMissing:
            return SFTP_NO_SUCH_FILE
        except UploadRejected:
            return SFTP_FAILURE
        except Unsupported:
            return SFTP_OP_UNSUPPORTED
        except OSError as exc:
            log.warning("sftp i/o error partner=%s: %s", self.partner_id, exc)
            return paramiko.SFTPServer.convert_errno(exc.errno or 0)


class _UploadHandle(paramiko.SFTPHandle):
    """An upload in progress, written to a hidden temp file; committed or discarded once."""

    def __init__(
        self, session: _SftpSession, name: str, fd: int, temp: Path, flags: int, *, creates: bool
    ) -> None:
        super().__init__(flags)
        self.session = session
        self.name = name
        self.fd = fd
        self.temp = temp
        #: Opened with O_TRUNC, or O_CREAT for a new name: closed unwritten, an empty file.
        self.creates = creates
        self.written = False
        self.size = 0
        self.too_big = False
        #: Why a write was refused: it would have left a hole (a resumed upload). Only the
        #: bytes of this open are ever received, so a hole would be stored as NUL bytes.
        self.refused: str | None = None
        #: Why a write failed (disk full, I/O error): the file has a hole, so its close fails
        #: too. Clients go on writing after one failed write and some then close as usual.
        self.write_failed: str | None = None
        self.done = False

    def write(self, offset: int, data: Any) -> int:
        with self.session.busy():
            return self._write(offset, data)

    def _write(self, offset: int, data: Any) -> int:
        if self.refused is not None:
            return SFTP_OP_UNSUPPORTED
        if offset > self.size:
            self.refused = (
                f"write at byte {offset} after only {self.size} bytes: resuming an upload is "
                "not supported, upload the whole file again"
            )
            self.session.event(
                "upload_write_refused",
                logging.WARNING,
                filename=self.name,
                offset=offset,
                size=self.size,
                reason="resuming is not supported: upload the whole file again",
            )
            return SFTP_OP_UNSUPPORTED
        self.written = True
        end = offset + len(data)
        if end > self.session.server.max_upload_bytes:
            self.too_big = True
            return SFTP_FAILURE
        try:
            written = os.pwrite(self.fd, data, offset)
            if written != len(data):  # a short write: the volume filled up under it
                raise OSError(errno.ENOSPC, f"wrote {written} of {len(data)} bytes")
        except OSError as exc:
            if self.write_failed is None:
                self.write_failed = f"writing at byte {offset} failed: {exc.strerror or exc}"
                self.session.event(
                    "upload_write_failed",
                    logging.ERROR,
                    filename=self.name,
                    error=self.write_failed,
                )
            return paramiko.SFTPServer.convert_errno(exc.errno or 0)
        self.size = max(self.size, end)
        return SFTP_OK

    def read(self, offset: int, length: int) -> bytes | int:
        return SFTP_PERMISSION_DENIED

    def stat(self) -> paramiko.SFTPAttributes | int:
        attrs = paramiko.SFTPAttributes.from_stat(os.fstat(self.fd), self.name)
        return attrs

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        return SFTP_OK

    def close(self) -> None:
        """The client closed the file: receive it now (or stage it, for a temp name).

        Raising makes paramiko answer the close with SFTP_FAILURE.
        """
        with self.session.busy():
            self._close()

    def _close(self) -> None:
        if self.done:
            return
        session = self.session
        if session.ended:
            self.discard("connection closed before the file was closed")
            return
        self.done = True
        session.uploads.discard(self)
        os.close(self.fd)
        if self.too_big:
            self.temp.unlink(missing_ok=True)
            limit = session.server.max_upload_bytes
            session.event(
                "upload_failed",
                logging.WARNING,
                filename=self.name,
                error=f"larger than the limit of {limit} bytes",
            )
            raise UploadRejected(f"/in/{self.name} is larger than {limit} bytes")
        if self.write_failed is not None:
            self.temp.unlink(missing_ok=True)
            session.event(
                "upload_failed", logging.ERROR, filename=self.name, error=self.write_failed
            )
            raise UploadRejected(f"/in/{self.name} was not received: {self.write_failed}")
        if self.refused is not None:
            self.temp.unlink(missing_ok=True)
            session.event(
                "upload_discarded",
                logging.WARNING,
                filename=self.name,
                size=self.size,
                reason=self.refused,
            )
            raise UploadRejected(f"/in/{self.name} was not received: {self.refused}")
        if not self.written and not self.creates:
            self.temp.unlink(missing_ok=True)  # opened, never written: no file was made
            session.event(
                "upload_skipped",
                filename=self.name,
                reason="opened without create or truncate and closed unwritten",
            )
            return
        mtime = int(time.time())
        old = session.entries.pop(self.name, None)
        if old is not None and old.staged is not None:
            old.staged.unlink(missing_ok=True)  # overwritten before it was committed
        if is_hidden_or_partial(Path(self.name)):
            session.entries[self.name] = _Entry(self.size, mtime, staged=self.temp)
            return
        try:
            data = self.temp.read_bytes()
            doc_id = session._receive(self.name, data, via="close")
        finally:
            self.temp.unlink(missing_ok=True)
        session.entries[self.name] = _Entry(len(data), mtime, document_id=doc_id)

    def discard(self, reason: str) -> None:
        if self.done:
            return
        self.done = True
        self.session.uploads.discard(self)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.temp.unlink(missing_ok=True)
        self.session.event(
            "upload_discarded", logging.WARNING, filename=self.name, size=self.size, reason=reason
        )


class _ReadHandle(paramiko.SFTPHandle):
    """A pickup file being downloaded."""

    def __init__(self, session: _SftpSession, name: str, fd: int) -> None:
        super().__init__(os.O_RDONLY)
        self.session = session
        self.name = name
        self.fd = fd
        self.sent = 0
        self.closed = False

    def read(self, offset: int, length: int) -> bytes | int:
        with self.session.busy():
            data = os.pread(self.fd, length, offset)
        self.sent += len(data)
        return data

    def write(self, offset: int, data: Any) -> int:
        return SFTP_PERMISSION_DENIED

    def stat(self) -> paramiko.SFTPAttributes | int:
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.fd), self.name)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        return SFTP_PERMISSION_DENIED

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        size = os.fstat(self.fd).st_size
        os.close(self.fd)
        self.session.event("pickup_read", filename=self.name, size=size, bytes_sent=self.sent)


def _folder_attrs(name: str) -> paramiko.SFTPAttributes:
    attrs = paramiko.SFTPAttributes()
    attrs.filename = name
    attrs.st_mode = stat.S_IFDIR | 0o755
    attrs.st_size = 0
    attrs.st_uid = attrs.st_gid = 0
    attrs.st_mtime = attrs.st_atime = int(time.time())
    return attrs


def _entry_attrs(name: str, entry: _Entry) -> paramiko.SFTPAttributes:
    attrs = paramiko.SFTPAttributes()
    attrs.filename = name
    attrs.st_mode = stat.S_IFREG | 0o200  # write-only: what was uploaded is not served back
    attrs.st_size = entry.size
    attrs.st_uid = attrs.st_gid = 0
    attrs.st_mtime = attrs.st_atime = entry.mtime
    return attrs
