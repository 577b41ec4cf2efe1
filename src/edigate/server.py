"""``edigate serve``: the channels, the worker and the dispatcher in one process.

:class:`GatewayServer` starts what the configuration enables: the partners' SFTP server
(accounts from the partner profiles), watched folders, and a worker thread running every
lane (inbound processing, outbound delivery), or, with ``worker_processes``, that many
supervised worker processes (``worker_processes.py``). ``stop()`` finishes the document in hand,
refuses new connections, and discards unfinished uploads, which were never acknowledged, so
nothing in flight is lost: its sender sees the failure and sends again.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any

import paramiko

from .app import Gateway
from .channels.as2 import As2Server, MdnOutcome
from .channels.as2_binding import (
    RegistryAs2Lookup,
    StoreMessageIds,
    StorePendingMdns,
    as2_handler,
    certificate_checks,
    mdn_delivery_recorder,
)
from .channels.base import Handler, store_handler
from .channels.email import SmtpInbound, store_many_handler
from .channels.folder import FolderInbound
from .channels.polling import PollLoop
from .channels.sftp_auth import Account, StaticAccounts
from .channels.sftp_binding import PartnerSftpPolls
from .channels.sftp_pickup import SftpPickup
from .channels.sftp_server import SftpServer
from .errors import ConfigError, EdigateError, StoreUnavailableError
from .interrupts import wait_for
from .key_checks import key_checks, require_keys
from .partners import Registry
from .partners.passwords import DEMO_PASSWORDS, verify_password
from .partners.profile import EmailOut
from .pipeline.claims import release_gateway_claims, release_gateway_files
from .pipeline.worker import Worker
from .wakeups import WorkerWakers
from .worker_processes import WorkerProcesses

log = logging.getLogger("edigate.serve")

#: How often serve deletes pickup files past ``[sftp] retention_days``.
RETENTION_CHECK_SECONDS = 3600.0


class RegistryAccounts:
    """SFTP accounts from the partner profiles, rebuilt whenever the profiles change."""

    def __init__(self, registry: Callable[[], Registry]) -> None:
        self.registry = registry
        self._seen: Registry | None = None
        self._accounts = StaticAccounts([])
        self._lock = threading.Lock()

    def _current(self) -> StaticAccounts:
        registry = self.registry()
        with self._lock:
            if registry is not self._seen:
                accounts = []
                for partner in registry:
                    sftp = partner.profile.inbound.sftp if partner.profile.inbound else None
                    if sftp is not None:
                        accounts.append(
                            Account(
                                sftp.username,
                                partner.id,
                                sftp.password_hash,
                                tuple(sftp.public_keys),
                            )
                        )
                self._accounts = StaticAccounts(accounts)
                self._seen = registry
            return self._accounts

    def check_password(self, username: str, password: str) -> str | None:
        return self._current().check_password(username, password)

    def check_public_key(self, username: str, key: paramiko.PKey) -> str | None:
        return self._current().check_public_key(username, key)

    def allowed_auths(self, username: str) -> list[str]:
        return self._current().allowed_auths(username)


class GatewayServer:
    def __init__(
        self,
        gateway: Gateway,
        *,
        run_worker: bool = True,
        run_channels: bool = True,
        worker_processes: int | None = None,
        worker_name: str | None = None,
        log_level: str = "INFO",
    ) -> None:
        self.gateway = gateway
        self.run_worker = run_worker
        self.run_channels = run_channels
        #: None: ``[worker] processes`` of the configuration (read by ``start``).
        self.worker_processes = worker_processes
        #: The worker's stable name (processes: ``NAME/1`` ...); None: host:pidns:pid:tag.
        self.worker_name = worker_name
        self.log_level = log_level
        self.processes: WorkerProcesses | None = None
        self.sftp: SftpServer | None = None
        self.as2: As2Server | None = None
        self.smtp: SmtpInbound | None = None
        self.folders: list[FolderInbound] = []
        self.sftp_polls: PartnerSftpPolls | None = None
        self.retention: PollLoop | None = None  # deletes what partners leave in out/
        self.worker: Worker | None = None
        self._worker_thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._stop_requested = threading.Event()

    def start(self) -> None:
        gw = self.gateway
        config = gw.config
        registry = gw.registry()  # fail now, with file:line, if the configuration is broken
        for check in certificate_checks(registry):
            level = logging.ERROR if check.severity == "error" else logging.WARNING
            log.log(level, "certificate: %s", check)
        require_keys(
            key_checks(config, registry, deliveries=self.run_worker, listeners=self.run_channels)
        )
        handler = store_handler(gw.store)
        # Outbound AS2 and email need what only the running gateway knows.
        pending = StorePendingMdns(gw.store, retry=gw.delivery_retry)
        gw.routes.configure(smtp_out=config.smtp_out, pending_mdns=pending)
        if self.run_channels:
            for section, enabled, key in (
                ("as2", config.as2.enabled, "as2"),
                ("smtp", config.smtp.enabled, "email"),
            ):
                users = [p.id for p in registry if getattr(p.profile.inbound, key) is not None]
                if users and not enabled:
                    log.info("[%s] is off: %s cannot send over it", section, ", ".join(users))
        if self.run_channels and config.sftp.enabled:
            _warn_of_demo_passwords(registry, config.sftp.host)
        if self.run_worker:
            mailed = [p.id for p in registry if isinstance(p.profile.outbound, EmailOut)]
            if mailed and not config.smtp_out.host:
                log.warning(
                    "%s %s documents by email, but [smtp_out] host is not set: they go "
                    "dead until it is",
                    ", ".join(mailed),
                    "gets its" if len(mailed) == 1 else "get their",
                )
        if self.run_channels and config.sftp.enabled:
            self.sftp = SftpServer(
                root=config.sftp_root,
                host_key_path=config.sftp_host_key,
                accounts=RegistryAccounts(gw.registry),
                handler=handler,
                host=config.sftp.host,
                port=config.sftp.port,
                on_event=self._event,
                max_connections=config.sftp.max_connections,
                max_connections_per_address=config.sftp.max_connections_per_address,
                idle_timeout_seconds=config.sftp.idle_timeout_seconds,
            )
            _ = self.sftp.fingerprint  # its host key, loaded (or refused) before any listener
        if self.run_channels and config.as2.enabled:
            self._start_as2(pending)
        if self.run_channels and config.smtp.enabled:
            self._start_smtp(handler)
        if self.sftp is not None:
            try:
                self.sftp.start()
            except OSError as exc:
                raise EdigateError(
                    f"cannot listen for SFTP on {config.sftp.host}:{config.sftp.port}: {exc}; "
                    "set [sftp] port (or stop what holds it)"
                ) from exc
            host, port = self.sftp.address
            log.info("sftp listening on %s:%s (host key %s)", host, port, self.sftp.fingerprint)
        if self.run_channels:
            for folder in config.folders:
                watcher = FolderInbound(
                    folder.path,
                    handler,
                    partner_id=folder.partner,
                    pattern=folder.pattern,
                    settle_seconds=folder.settle_seconds,
                    archive_dir=folder.archive,
                    delete=folder.delete,
                    interval=folder.interval,
                    on_event=self._event,
                )
                watcher.start()
                self.folders.append(watcher)
                log.info("watching %s for %s", folder.path, folder.partner or "any partner")
            self.sftp_polls = PartnerSftpPolls(
                gw.registry, handler, client_key=config.sftp.client_key, on_event=self._event
            )
            self.sftp_polls.start()
            if config.sftp.retention_days is not None:
                pickup = SftpPickup(config.sftp_root, retention_days=config.sftp.retention_days)
                self.retention = PollLoop(pickup.purge, RETENTION_CHECK_SECONDS, "sftp retention")
                self.retention.start()
        processes = self.worker_processes
        if processes is None:
            processes = config.worker.processes
        if self.run_worker and self.worker_name is not None:
            freed = release_gateway_claims(gw.store, self.worker_name)
            if freed:
                log.info("took back %d document(s) a previous %s held", freed, self.worker_name)
            files = release_gateway_files(gw.store, gw.erp, self.worker_name)
            if files:
                log.info("took back %d ERP file(s) a previous %s held", files, self.worker_name)
        if self.run_worker and processes > 0:
            wakers = WorkerWakers()
            gw.store.wakeup = wakers  # receive() here wakes the worker processes
            self.processes = WorkerProcesses(
                config, processes, wakers, name=self.worker_name, log_level=self.log_level
            )
            if self._stopped.is_set():
                self.processes.stop_restarting()  # stopped before they existed: none start
            self.processes.start()
        elif self.run_worker:
            worker = self.worker = gw.worker(self.worker_name)

            def run() -> None:
                # In the thread: a named worker may wait for its name (name_locks), and
                # serve must answer SIGTERM meanwhile.
                try:
                    worker.release_dead_claims()
                except Exception:  # a database down at start: leases free the claims
                    log.exception("worker %s: could not free dead workers' claims", worker.name)
                if not worker.stopping:
                    log.info("worker %s running", worker.name)
                    worker.run()

            self._worker_thread = threading.Thread(target=run, name="edigate-worker", daemon=True)
            self._worker_thread.start()

    def _start_smtp(self, handler: Handler) -> None:
        config = self.gateway.config.smtp
        smtp = SmtpInbound(
            handler,
            self.gateway.registry,
            addresses=config.addresses,
            host=config.host,
            port=config.port,
            hostname=config.hostname,
            max_message_size=int(config.max_message_mb * 1024 * 1024),
            on_event=self._event,
            store_many=store_many_handler(self.gateway.store),  # a message's files at once
        )
        try:
            self.smtp = smtp.start()
        except OSError as exc:
            raise EdigateError(
                f"cannot listen for SMTP on {config.host}:{config.port}: {exc}"
            ) from exc

    def _start_as2(self, pending: StorePendingMdns) -> None:
        gw = self.gateway
        config = gw.config.as2
        context = None
        if config.tls_certificate is not None and config.tls_private_key is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            try:
                context.load_cert_chain(config.tls_certificate, config.tls_private_key)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"[as2] tls_certificate {config.tls_certificate} and tls_private_key "
                    f"{config.tls_private_key} cannot be used together (is it the key of "
                    f"that certificate?): {exc}"
                ) from exc
        try:
            server = As2Server(
                RegistryAs2Lookup(gw.registry, gw.routes.as2.partners, on_event=self._event),
                as2_handler(gw.store, on_event=self._event),
                host=config.host,
                port=config.port,
                path=config.path,
                ssl_context=context,
                message_ids=StoreMessageIds(
                    gw.store, window_days=config.duplicate_window_days, on_event=self._event
                ),
                pending_mdns=pending,
                on_mdn=self._mdn_settled,
                on_mdn_delivery=mdn_delivery_recorder(gw.store),
                max_body=int(config.max_body_mb * 1024 * 1024),
                max_connections=config.max_connections,
                async_mdn_attempts=config.async_mdn_attempts,
                async_mdn_backoff=config.async_mdn_backoff_seconds,
            )
        except OSError as exc:
            raise EdigateError(
                f"cannot listen for AS2 on {config.host}:{config.port}: {exc}"
            ) from exc
        self.as2 = server.start()
        log.info("as2 listening on %s", server.url)

    def _mdn_settled(self, outcome: MdnOutcome) -> None:
        """The document was updated by the pending-MDN log; this is the log line."""
        level = logging.INFO if outcome.delivered else logging.WARNING
        log.log(
            level,
            "async MDN for document %s (%s): %s",
            outcome.document_id,
            outcome.partner_id,
            outcome.detail,
        )

    def stop(self) -> None:
        """Stop taking input first, then let the worker finish the document in hand."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._stop_requested.set()
        if self.processes is not None:
            self.processes.stop_restarting()
        if self.sftp is not None:
            self.sftp.stop()
        if self.as2 is not None:
            self.as2.close()
        if self.smtp is not None:
            self.smtp.stop()
        for watcher in self.folders:
            watcher.stop()
        if self.sftp_polls is not None:
            self.sftp_polls.stop()
        if self.retention is not None:
            self.retention.stop()
        if self.worker is not None:
            self.worker.stop()
        if self._worker_thread is not None:
            self._worker_thread.join(timeout=60)
        if self.processes is not None:
            self.processes.stop()
        log.info("stopped")

    def request_stop(self) -> None:
        """For a signal handler: :meth:`wait` returns, and its caller calls :meth:`stop`.
        Stopping inside the handler could run in the middle of :meth:`start` (a signal
        while the workers launch) and miss what start() does next."""
        self._stop_requested.set()

    def wait(self) -> None:
        """Until :meth:`request_stop` or :meth:`stop` (in steps: see ``interrupts``)."""
        wait_for(self._stop_requested)

    def _event(self, kind: str, /, **fields: Any) -> None:
        """Channel events become audit events (no document exists for a refused upload).

        With the database down every login would otherwise print a traceback: an outage is
        expected and already said elsewhere, so it is one warning line naming the event
        (the channel's own log line, just before, holds its fields). Anything else is a
        bug and keeps its traceback.
        """
        try:
            self.gateway.store.record_event(kind, fields)
        except StoreUnavailableError as exc:
            text = str(exc).strip()
            reason = text.splitlines()[0] if text else type(exc).__name__
            log.warning(
                "could not record the %s event%s in the audit trail: %s",
                kind,
                _about(fields),
                reason,
            )
        except Exception:  # an audit write must never break a channel thread
            log.exception("could not record %s", kind)


#: Event fields that say whose event it was, in the order they are named.
_WHO = ("partner", "username", "as2_from", "as2_to", "message_id", "remote")


def _about(fields: dict[str, Any]) -> str:
    """`` (partner=acme, remote=10.0.0.7:51000)``: enough to find the channel's log line."""
    named = [f"{key}={fields[key]}" for key in _WHO if fields.get(key) not in (None, "")]
    return f" ({', '.join(named)})" if named else ""


def _warn_of_demo_passwords(registry: Registry, host: str) -> None:
    """An example partner still taking its published demo password, on an SFTP port others
    can reach (``host`` not loopback: the Docker image binds 0.0.0.0), lets anyone drop
    orders that reach the ERP: said loudly at start."""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        if host == "localhost":
            return
    for partner_id, password in DEMO_PASSWORDS.items():
        partner = registry.get(partner_id)
        sftp = partner.profile.inbound.sftp if partner is not None else None
        taken = sftp.password_hash if sftp is not None else None
        if taken is not None and verify_password(password, taken):
            log.warning(
                "partner %s logs in over SFTP with the published demo password %r and SFTP "
                "listens on %s: set its own password_hash (edigate partners hash-password) "
                "before partners can reach this port",
                partner_id,
                password,
                host,
            )
