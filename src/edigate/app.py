"""The gateway as one object: configuration in, services out.

Every command and server builds one :class:`Gateway` from its configuration and asks it for
what it needs; nothing is opened until first used, so ``edigate partners check`` never
touches the database.
"""

from __future__ import annotations

from functools import cached_property

from .channels.as2_binding import StorePendingMdns
from .config import GatewayConfig
from .partners import Registry
from .partners.cache import RegistryCache
from .pipeline.dispatch import Dispatcher, Routes
from .pipeline.erp import ErpFolder
from .pipeline.erp_inbox import ErpInbox
from .pipeline.inbound import InboundProcessor
from .pipeline.outbound import OutboundProcessor
from .pipeline.reconcile import mark_overdue
from .pipeline.worker import Lane, Periodic, Worker
from .store import PENDING_INBOUND, PENDING_OUTBOUND, Direction, RetryBudget, Status, Store
from .store.statuses import ERP_CHANNEL


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
    def outbound(self) -> OutboundProcessor:
        """The ERP's acks, shipments and invoices -> the partner's 855, 856 and 810."""
        return OutboundProcessor(self.store, self.registry, erp=self.erp)

    @cached_property
    def erp_inbox(self) -> ErpInbox:
        return ErpInbox(self.store, self.erp, self.registry)

    @cached_property
    def routes(self) -> Routes:
        return Routes(
            self.erp,
            self.registry,
            sftp_root=self.config.sftp_root,
            client_key=self.config.sftp.client_key,
            smtp_out=self.config.smtp_out,
            pending_mdns=StorePendingMdns(self.store, retry=self.delivery_retry),
        )

    @property
    def delivery_retry(self) -> RetryBudget:
        """How often, and how far apart, a delivery is tried before it is dead: a failed
        send and a negative AS2 MDN count against the same budget."""
        worker = self.config.worker
        return RetryBudget(worker.delivery_max_attempts, worker.delivery_backoff_seconds)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.store, self.routes, retry=self.delivery_retry)

    def lanes(self) -> list[Lane]:
        return [
            Lane(
                "inbound",
                PENDING_INBOUND,
                Direction.INBOUND,
                self.inbound.process,
                exclude_channels=(ERP_CHANNEL,),
                process_batch=self.inbound.process_batch,
            ),
            Lane(
                "erp",
                PENDING_INBOUND,
                Direction.INBOUND,
                self.outbound.process,
                channels=(ERP_CHANNEL,),
            ),
            Lane(
                "outbound",
                PENDING_OUTBOUND,
                Direction.OUTBOUND,
                self.dispatcher.process,
                failed_status=Status.DELIVERY_FAILED,
                process_batch=self.dispatcher.process_batch,
                retry=self.delivery_retry,
                # Each inbound document makes about three to deliver (order, 997, 855):
                # claim as many per round, or deliveries fall behind the inbound lane.
                batch=self.config.worker.batch * 3,
            ),
        ]

    def periodic(self, name: str | None = None) -> list[Periodic]:
        """Work that is no stored document: take ERP files in (as the worker ``name``, when
        it has a stable one), mark unanswered documents."""
        inbox = self.erp_inbox
        return [
            Periodic("erp-inbox", lambda: inbox.poll(name), release=inbox.release),
            Periodic("overdue", lambda: mark_overdue(self.store, self.registry()), interval=60.0),
        ]

    def worker(self, name: str | None = None) -> Worker:
        return Worker(
            self.store, self.lanes(), self.config.worker, name=name, periodic=self.periodic(name)
        )

    def close(self) -> None:
        if "routes" in self.__dict__:
            self.routes.close()
        if "store" in self.__dict__:
            self.store.close()
