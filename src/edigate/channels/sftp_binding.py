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
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError
from ..partners import Partner, Registry
from ..partners.profile import SftpPoll, SftpRemote
from .as2_binding import config_dir_of
from .base import Handler
from .events import Events, EventSink
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
    return SftpEndpoint(
        settings.host,
        settings.username,
        settings.host_key_fingerprint,
        port=settings.port,
        private_key_path=sftp_key_file(partner, settings, client_key),
    )


class PartnerSftpPolls:
    """One :class:`SftpPoller` per partner whose profile has ``inbound.sftp_poll``.

    Kept in step with the partner configuration: every ``check_every`` seconds the current
    profiles are compared with the running pollers, so a partner added, changed or removed
    while ``serve`` runs gets its poller started, restarted or stopped without a restart.
    Files are stored as channel ``sftp_poll`` for that partner.
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
        self._refused: dict[str, SftpPoll] = {}  # said once, until the settings change
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

    def stop(self) -> None:
        self._loop.stop()
        with self._lock:
            running, self._running = self._running, {}
        for _, poller in running.values():
            poller.stop()

    def sync(self) -> None:
        """Start, restart or stop pollers to match the partner profiles now."""
        wanted: dict[str, tuple[Partner, SftpPoll]] = {}
        for partner in self.registry():
            settings = partner.profile.inbound.sftp_poll
            if settings is not None:
                wanted[partner.id] = (partner, settings)
        with self._lock:
            for partner_id, (settings, poller) in list(self._running.items()):
                now = wanted.get(partner_id)
                if now is None or now[1] != settings:
                    poller.stop()
                    del self._running[partner_id]
                    log.info("stopped polling %s (%s)", partner_id, poller.endpoint.label)
            for partner_id, (partner, settings) in wanted.items():
                if partner_id not in self._running and self._refused.get(partner_id) != settings:
                    self._start(partner, settings)

    def _start(self, partner: Partner, settings: SftpPoll) -> None:
        try:
            endpoint = sftp_endpoint(partner, settings, self.client_key)
        except ConfigError as exc:
            self._refused[partner.id] = settings
            self.events.emit("poll_not_started", logging.ERROR, partner=partner.id, error=str(exc))
            return
        self._refused.pop(partner.id, None)
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
