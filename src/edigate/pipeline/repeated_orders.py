"""An original order whose PO number the ERP already has from that partner is held.

Why: a partner resends a PO under a new ISA13 (after our 997 rejected it, or by mistake),
or an operator reprocesses a rejected file after the partner sent a corrected copy. Each
copy passes the interchange checks (another ISA13, other bytes), so without this the ERP
would get the order twice. Only originals are held (BEG01 00, a CSV or XML order's
default): a change, replacement or cancellation repeats its PO number on purpose. A
partner that really reuses PO numbers within its window gets ``ack.duplicate_po: deliver``.

The check runs in the commit, after taking turns on each (partner, PO) on PostgreSQL (the
ERP orders of a transaction that commits first are then seen): against the orders of
every file in the partner's ``duplicate_window_days`` (one query per commit batch,
:class:`GivenOrders`) and those committed earlier in the batch. A file's earlier pieces
and attempts count too (a reprocess attempt, resumed or not, holds a repeat of an order an
earlier run delivered); only the very transaction an earlier attempt ran is not counted
against itself: run again from the start, it is sent again, as ``--from-start`` means.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..partners import Partner
from ..store import Direction, Document, Status
from ..store.statuses import ERP_CHANNEL
from .erp import TEST_KEY
from .runs import family_of

#: The error code of a held order; its child document's status is ``duplicate``.
CODE = "duplicate_po"
#: The ERP order rows and the inbound orders they came from (Core aliases, built once:
#: an ORM alias made per call costs milliseconds of column adaptation each time).
_LEAF = Document.__table__.alias("leaf")
_ORDER = Document.__table__.alias("source")
#: PO numbers per query (one bound parameter each; PostgreSQL takes at most 65,535).
_PER_QUERY = 1000
#: Which transaction of a file an order came from: (ISA13, its index in the interchange)
#: for X12, (None, its index in the file) for a CSV or XML order.
Source = tuple[str | None, int | None]


@dataclass(frozen=True, slots=True)
class EarlierOrder:
    """The inbound order (an 850 transaction, a CSV or XML order) whose ERP order came first;
    ``within``: what it is called (``ST 0001``) when it is earlier in the asking file."""

    document_id: int
    filename: str | None
    within: str | None = None


@dataclass(frozen=True, slots=True)
class _Given:
    created_at: dt.datetime
    test: bool
    order: EarlierOrder
    file_id: int | None  # the file the order came in
    source: Source


class GivenOrders:
    """What one commit batch needs to hold repeated POs: the ERP orders of its POs, read in
    one query before anything is written (a query between the batch's writes would flush
    them one document at a time), and the orders the batch itself commits, noted as it
    goes. The caller has taken turns on each (partner, "order", PO) already.
    """

    def __init__(
        self, session: Session, wanted: Iterable[tuple[str, str]], now: dt.datetime
    ) -> None:
        self.now = now
        self._given: dict[tuple[str, str], list[_Given]] = {}
        # Committed in this batch: (partner, test, PO) -> the order, its file, its name there.
        self._committed: dict[tuple[str, bool, str], tuple[EarlierOrder, int, str]] = {}
        self._runs: dict[int, frozenset[int]] = {}
        keys = set(wanted)
        pos = sorted({po for _, po in keys})
        for start in range(0, len(pos), _PER_QUERY):  # a parameter each: bounded per query
            self._read(session, keys, pos[start : start + _PER_QUERY])

    def _read(self, session: Session, keys: set[tuple[str, str]], pos: list[str]) -> None:
        leaf, order = _LEAF.c, _ORDER.c
        query = (
            select(
                leaf.partner_id,
                leaf.po_number,
                leaf.created_at,
                leaf.meta,
                order.id,
                order.filename,
                order.parent_id,
                order.interchange_control,
                order.meta,
            )
            .select_from(_LEAF.join(_ORDER, leaf.parent_id == order.id))
            .where(
                # By PO number alone (its index): a partner condition here leads SQLite to
                # the partner's index, a scan of its whole history; the rows are few.
                leaf.po_number.in_(pos),
                leaf.channel == ERP_CHANNEL,
                leaf.direction == Direction.OUTBOUND.value,
                leaf.doc_type == "order",
                leaf.status != Status.DEAD.value,
            )
            .order_by(leaf.id)
        )
        for row in session.execute(query):
            partner_id, po, created_at, meta, order_id, filename, file_id, isa13, where = row
            if (partner_id, po) not in keys:
                continue
            self._given.setdefault((partner_id, po), []).append(
                _Given(
                    _aware(created_at),
                    bool((meta or {}).get(TEST_KEY)),
                    EarlierOrder(order_id, filename),
                    file_id,
                    (isa13, (where or {}).get("index")),
                )
            )

    def earlier(
        self,
        session: Session,
        doc: Document,
        partner: Partner,
        po: str,
        source: Source,
        *,
        test: bool = False,
    ) -> EarlierOrder | None:
        """The order of ``partner``'s with PO ``po`` the ERP got first (see the module's
        docstring); ``source`` is the transaction of ``doc`` asking."""
        if partner.profile.ack.duplicate_po != "hold":
            return None
        committed = self._committed.get((partner.id, test, po))
        if committed is not None:
            order, file_id, name = committed
            return dataclasses.replace(order, within=name) if file_id == doc.id else order
        since = self.now - dt.timedelta(days=partner.profile.ack.duplicate_window_days)
        for given in self._given.get((partner.id, po), []):
            if given.test != test or given.created_at < since:
                continue
            if (
                given.source == source
                and given.file_id != doc.id
                and given.file_id in self._other_runs(session, doc)
            ):
                continue  # this transaction, as an earlier attempt ran it
            return given.order
        return None

    def note(
        self,
        partner: Partner,
        doc: Document,
        po: str,
        order_id: int,
        name: str,
        *,
        test: bool = False,
    ) -> None:
        """Order ``order_id`` of ``doc`` (``name`` there: ``ST 0001``, ``order 3``), committed
        in this batch, gave the ERP PO ``po``: later ones, in this file too, repeat it."""
        order = EarlierOrder(order_id, doc.filename)
        self._committed.setdefault((partner.id, test, po), (order, doc.id, name))

    def _other_runs(self, session: Session, doc: Document) -> frozenset[int]:
        if doc.reprocess_of_id is None:
            return frozenset()
        if doc.id not in self._runs:
            self._runs[doc.id] = family_of(session, doc.id, doc.reprocess_of_id) - {doc.id}
        return self._runs[doc.id]


def held_message(partner_id: str, po_number: str, earlier: EarlierOrder) -> str:
    """Why an order is held: the order of the partner's that the ERP got first."""
    if earlier.within is not None:
        where = f"is earlier in this file ({earlier.within})"
    else:
        name = f", file {earlier.filename}" if earlier.filename else ""
        where = f"is in the ERP already (document {earlier.document_id}{name})"
    return (
        f"PO {po_number} of {partner_id} {where}: this original is held as a duplicate, not "
        "delivered (a change order, BEG01 04 or 05, goes through; a partner that reuses "
        "PO numbers gets ack.duplicate_po: deliver)"
    )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
