"""Partner profiles -> SFTP client channels: the endpoint of a partner's own server, and the
pollers that fetch from the partners whose profile has ``inbound.sftp_poll``.

The client in :mod:`.sftp_client` knows nothing of partners; this is where a profile's
settings (host, pinned host key, our key relative to the config folder) become one.

Usage::

    polls = PartnerSftpPolls(gateway.registry, store_handler(store), client_key=key)
    polls.start()      # one poller per partner; profile changes are picked up while running
    polls.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError
from ..events import Events, EventSink
from ..partners import Partner, Registry
from ..partners.profile import SftpPoll, SftpRemote
from .as2_binding import config_dir_of
from .base import Handler
from .polling import PollLoop
from .sftp_client import SftpEndpoint, SftpPoller

log = logging.getLogger("edigate.sftp_poll")


def sftp_key_file(partner: Partner, settings: SftpRemote, client_key: Path | None) -> Path | None:
    """The SSH client key we log in to ``partner``'s server with: the profile's
    ``key_path`` (relative to the config folder, like every profile path), else the
    gateway's own ``[sftp] client_key``; None when neither is set."""
    if settings.key_path:
        return config_dir_of(partner) / settings.key_path
    return client_key


def sftp_endpoint(partner: Partner, settings: SftpRemote, client_key: Path | None) -> SftpEndpoint:
    """Where and how to log in to ``partner``'s server (ConfigError: no key to log in with)."""
    key = sftp_key_file(partner, settings, client_key)
    if key is None:
        raise ConfigError(
            f"partner {partner.id}: no key to log in to {settings.username}@{settings.host} "
            "with: set key_path in its profile, or [sftp] client_key in edigate.toml"
        )
    return SftpEndpoint(
        settings.host,
        settings.username,
        settings.host_key_fingerprint,
        port=settings.port,
        private_key_path=key,
    )


#: How long a sync waits for a poller it stopped (a round ends within moments unless it is
#: connecting or downloading; then its successor starts at a later sync, never beside it).
_RETIRE_WAIT = 0.5


class PartnerSftpPolls:
    """One :class:`SftpPoller` per partner whose profile has ``inbound.sftp_poll``.

    Kept in step with the partner configuration: every ``check_every`` seconds the current
    profiles are compared with the running pollers, so a partner added, changed or removed
    while ``serve`` runs gets its poller started, restarted or stopped without a restart.
    A restarted partner's new poller starts only once the old one's thread has ended, so
    two never take files from one folder at once. Files are stored as channel
    ``sftp_poll`` for that partner.
    """

    def __init__(
        self,
        registry: Callable[[], Registry],
        handler: Handler,
        *,
        client_key: Path | None = None,
        on_event: EventSink | None = None,
        check_every: float = 5.0,
    ) -> None:
        self.registry = registry
        self.handler = handler
        self.client_key = client_key
        self.on_event = on_event
        self.events = Events(log, on_event)
        self._running: dict[str, tuple[SftpPoll, SftpPoller]] = {}
        self._retiring: dict[str, list[SftpPoller]] = {}  # stopped, thread not ended yet
        self._refused: dict[str, SftpPoll] = {}  # said once, until the settings change
        # Files stored whose removal failed, by partner and remote folder: kept across a
        # restart of the partner's poller, so they are removed, not fetched again.
        self._stored: dict[tuple[str, str, int, str], set[tuple[str, int, int]]] = {}
        self._closed = False
        self._lock = threading.Lock()
        self._loop = PollLoop(self.sync, check_every, "sftp-poll partners")

    @property
    def partners(self) -> list[str]:
        """The partners polled now."""
        with self._lock:
            return sorted(self._running)

    def start(self) -> None:
        self.sync()
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every poller (each after the file in hand), waiting ``timeout`` in all."""
        with self._lock:
            self._closed = True
            pollers = [p for _, p in self._running.values()]
            pollers += [p for stopped in self._retiring.values() for p in stopped]
            self._running, self._retiring = {}, {}
        self._loop.stop()
        for poller in pollers:
            poller.loop.request_stop()
        deadline = time.monotonic() + timeout
        for poller in pollers:
            if not poller.loop.join(max(0.0, deadline - time.monotonic())):
                log.warning("poller %s still in a round at stop", poller.endpoint.label)

    def sync(self) -> None:
        """Start, restart or stop pollers to match the partner profiles now."""
        with self._lock:
            if self._closed:
                return
            wanted: dict[str, tuple[Partner, SftpPoll]] = {}
            for partner in self.registry():
                settings = partner.profile.inbound.sftp_poll
                if settings is not None:
                    wanted[partner.id] = (partner, settings)
            for partner_id, (settings, poller) in list(self._running.items()):
                now = wanted.get(partner_id)
                if now is None or now[1] != settings:
                    del self._running[partner_id]
                    poller.loop.request_stop()
                    self._retiring.setdefault(partner_id, []).append(poller)
                    log.info("stopped polling %s (%s)", partner_id, poller.endpoint.label)
            for partner_id, stopped in list(self._retiring.items()):
                alive = [p for p in stopped if not p.loop.join(_RETIRE_WAIT)]
                if alive:
                    self._retiring[partner_id] = alive
                else:
                    del self._retiring[partner_id]
            for partner_id, (partner, settings) in wanted.items():
                if partner_id in self._running or partner_id in self._retiring:
                    continue  # running, or its old poller has not ended yet: next sync
                if self._refused.get(partner_id) != settings:
                    self._start(partner, settings)

    def _start(self, partner: Partner, settings: SftpPoll) -> None:
        try:
            endpoint = sftp_endpoint(partner, settings, self.client_key)
        except ConfigError as exc:
            self._refused[partner.id] = settings
            self.events.emit("poll_not_started", logging.ERROR, partner=partner.id, error=str(exc))
            return
        self._refused.pop(partner.id, None)
        where = (partner.id, settings.host, settings.port, settings.folder)
        poller = SftpPoller(
            endpoint,
            self.handler,
            partner_id=partner.id,
            remote_dir=settings.folder,
            archive_dir=settings.archive_folder,
            pattern=settings.pattern,
            settle_seconds=settings.settle_seconds,
            interval=settings.interval_seconds,
            on_event=self.on_event,
            stored=self._stored.setdefault(where, set()),
        )
        poller.start()
        self._running[partner.id] = (settings, poller)
        log.info(
            "polling %s folder %s every %g s for %s",
            endpoint.label,
            settings.folder,
            settings.interval_seconds,
            partner.id,
        )
