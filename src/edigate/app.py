"""The gateway as one object: configuration in, services out.

Every command and server builds one :class:`Gateway` from its configuration and asks it for
what it needs; nothing is opened until first used, so ``edigate partners check`` never
touches the database.
"""

from __future__ import annotations

from functools import cached_property

from .config import GatewayConfig
from .partners import Registry
from .partners.cache import RegistryCache
from .pipeline.dispatch import Dispatcher, Routes
from .pipeline.erp import ErpFolder
from .pipeline.inbound import InboundProcessor
from .pipeline.worker import Lane, Worker
from .store import PENDING_INBOUND, PENDING_OUTBOUND, Direction, Status, Store


class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config

    @cached_property
    def store(self) -> Store:
        return Store.open(self.config.data_dir, self.config.database_url)

    @cached_property
    def erp(self) -> ErpFolder:
        return ErpFolder(self.config.erp_root)

    @cached_property
    def _registry(self) -> RegistryCache:
        return RegistryCache(self.config.config_dir)

    def registry(self) -> Registry:
        """The partners as configured now (reloaded when their files change)."""
        return self._registry.get()

    @cached_property
    def inbound(self) -> InboundProcessor:
        return InboundProcessor(self.store, self.registry)

    @cached_property
    def routes(self) -> Routes:
        return Routes(self.erp, self.registry, sftp_root=self.config.sftp_root)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.store, self.routes)

    def lanes(self) -> list[Lane]:
        return [
            Lane("inbound", PENDING_INBOUND, Direction.INBOUND, self.inbound.process),
            Lane(
                "outbound",
                PENDING_OUTBOUND,
                Direction.OUTBOUND,
                self.dispatcher.process,
                failed_status=Status.DELIVERY_FAILED,
            ),
        ]

    def worker(self, name: str | None = None) -> Worker:
        return Worker(self.store, self.lanes(), self.config.worker, name=name)

    def close(self) -> None:
        if "routes" in self.__dict__:
            self.routes.close()
        if "store" in self.__dict__:
            self.store.close()
