"""The gateway as one object: configuration in, services out.

Every command and server builds one :class:`Gateway` from its configuration and asks it for
what it needs; nothing is opened until first used, so ``edigate partners check`` never
touches the database.
"""

from __future__ import annotations

from functools import cached_property

from .config import GatewayConfig
from .pipeline.erp import ErpFolder
from .store import Store


class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config

    @cached_property
    def store(self) -> Store:
        return Store.open(self.config.data_dir, self.config.database_url)

    @cached_property
    def erp(self) -> ErpFolder:
        return ErpFolder(self.config.erp_root)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
