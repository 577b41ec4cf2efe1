"""Bulk state changes: :meth:`Store.transition` and :meth:`Store.audit` for a batch of
documents in a few statements over the caller's session.

The rules are those of ``transition``: a row changes only while the worker still holds it
(``claimed_by``), its claim is cleared, and every change gets its audit event. The
dispatcher records a batch of deliveries with them; keeping them here, beside
``transition``, keeps the status and audit rules in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from .schema import Document, utcnow
from .statuses import Status
from .store import Store

#: The table itself: bulk statements skip the ORM's per-object bookkeeping.
_DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]


class Held(NamedTuple):
    """A row the worker still holds: its status and meta before the delivery is recorded."""

    status: str
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Delivered:
    """One delivery to record: the row's new status and meta, and the audit detail."""

    id: int
    from_status: str
    to_status: Status
    meta: dict[str, Any]
    detail: dict[str, Any]
    #: What the log line says of the document (``about_document``; no row at hand here).
    about: dict[str, Any] | None = None
    #: The channel it went out on (None: unchanged).
    channel: str | None = None


def held_by(session: Session, store: Store, ids: Sequence[int], worker: str) -> dict[int, Held]:
    """The rows of ``ids`` that ``worker`` still holds (locked until commit on PostgreSQL,
    so a worker whose lease was taken over cannot record them)."""
    stmt = (
        select(Document.id, Document.status, Document.meta)
        .where(Document.id.in_(list(ids)), Document.claimed_by == worker)
        .order_by(Document.id)
    )
    if store.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return {row.id: Held(row.status, dict(row.meta or {})) for row in session.execute(stmt)}


def record_deliveries(
    session: Session, store: Store, delivered: Sequence[Delivered], worker: str
) -> None:
    """What :meth:`Store.transition` does per document, for a batch in two statements: the
    rows (still fenced by ``claimed_by``) and their audit events."""
    if not delivered:
        return
    table = _DOCUMENTS
    now = utcnow()
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.claimed_by == bindparam("b_worker"))
        .values(
            status=bindparam("b_status"),
            meta=bindparam("b_meta"),
            updated_at=now,
            claimed_by=None,
            claimed_at=None,
            last_error=None,  # an earlier attempt's failure is history now (audit trail)
            channel=func.coalesce(bindparam("b_channel"), table.c.channel),
        ),
        [
            {
                "b_id": d.id,
                "b_worker": worker,
                "b_status": d.to_status.value,
                "b_meta": d.meta,
                "b_channel": d.channel,
            }
            for d in delivered
        ],
    )
    for d in delivered:
        store.audit(
            session, d.id, "delivered", d.from_status, d.to_status.value, d.detail, about=d.about
        )


def orders_delivered(
    session: Session,
    store: Store,
    orders: dict[int, int],
    about: dict[int, dict[str, Any]] | None = None,
) -> None:
    """Mark each translated parent (key) of an order delivered to the ERP (value) delivered;
    ``about`` says what each parent's log line names (its partner, PO, correlation ID)."""
    if not orders:
        return
    table = _DOCUMENTS
    done = session.execute(
        update(table)
        .where(table.c.id.in_(sorted(orders)), table.c.status == Status.TRANSLATED.value)
        .values(
            status=Status.DELIVERED.value, updated_at=utcnow(), claimed_by=None, claimed_at=None
        )
        .returning(table.c.id)
    ).scalars()
    for parent in sorted(done):
        store.audit(
            session,
            parent,
            "delivered_to_erp",
            Status.TRANSLATED.value,
            Status.DELIVERED.value,
            {"order": orders[parent]},
            about=(about or {}).get(parent),
        )
