"""The document store: the one place where documents become durable and change state.

``receive()`` is the single entry point of every channel: it inserts the row, its first audit
event and, for a small document, its bytes (``inline_blobs.py``; a larger one is written to
the blob store and fsynced first), commits, and only then returns. A channel may tell the
sender "accepted" only after that.

Work is claimed with one atomic ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING id`` (SKIP LOCKED on PostgreSQL; SQLite serialises writers, and there a worker
first asks in a read whether anything is due, so an idle one never queues for the write
lock), with a lease so a worker killed mid-document gives the document back when its
lease expires. Finishing a document is fenced by the claim: a worker whose lease was taken
over cannot commit twice.

Usage::

    store = Store.open("var/data")                      # SQLite under var/data
    receipt = store.receive(b"ISA*...", channel="cli", filename="po.edi")
    for doc_id in store.claim("worker-1", PENDING_INBOUND):
        ...
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import io
import logging
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import (
    Engine,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached, sessionmaker

from ..errors import StoreConflictError, StoreError, StoreUnavailableError
from ..events import Events
from ..wakeups import Wakeup
from . import inline_blobs
from .blobs import BlobRef, BlobStore
from .database import READ_ONLY, make_engine, migrate, sqlite_url
from .schema import AuditEvent, ControlSequence, Document, utcnow
from .statuses import ERP_CHANNEL, Direction, Status

MAX_CONTROL_NUMBER = 999_999_999
#: The longest wait between two attempts of a document.
MAX_RETRY_DELAY = 3600.0


@dataclass(frozen=True, slots=True)
class RetryBudget:
    """How often a document is tried before it is ``dead``, and how long apart: from
    ``backoff_seconds``, doubling, at most :data:`MAX_RETRY_DELAY`."""

    max_attempts: int
    backoff_seconds: float

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        return min(self.backoff_seconds * 2.0 ** (attempts - 1), MAX_RETRY_DELAY)


#: How long a thread waits for its turn to write before going on to SQLite's own lock
#: (which has the same busy timeout).
WRITE_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a channel gets back once a document is durable."""

    document_id: int
    sha256: str
    size: int
    correlation_id: str


class Store:
    """Documents, their bytes, their audit trail and the control-number sequences."""

    def __init__(self, engine: Engine, blobs: BlobStore, *, actor: str = "edigate") -> None:
        self.engine = engine
        self.blobs = blobs
        self.actor = actor
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(
            engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        event.listen(self._sessions, "before_commit", _write_sequences)
        # What happened to documents is logged once it is true: after the commit.
        event.listen(self._sessions, "after_commit", _log_events)
        event.listen(self._sessions, "after_rollback", _drop_log_events)
        self._writers: contextlib.AbstractContextManager[Any] = (
            _WriterTurns() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        #: Set when ``receive()`` commits a document: a worker in this process waiting for
        #: work wakes at once instead of at its next poll.
        self.wakeup: Wakeup = threading.Event()

    @classmethod
    def open(cls, data_dir: Path | str, url: str | None = None, **kwargs: Any) -> Store:
        """Open (and migrate) the store: SQLite under ``data_dir`` unless ``url`` is given.

        Small blobs live in the database; larger ones under ``data_dir/blobs`` (a shared
        path when workers on several hosts receive or process large files).
        """
        data = Path(data_dir)
        data.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url or sqlite_url(data))
        with _unavailable("open the database"):
            migrate(engine)
        return cls(engine, BlobStore(data / "blobs"), **kwargs)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ sessions
    @contextmanager
    def session(self) -> Iterator[Session]:
        """One database transaction: committed on success, rolled back on any error.

        On SQLite the threads of this process take turns here, before SQLite's write lock:
        a thread waiting for that lock polls it with sleeps that grow to 100 ms, so a
        ``receive()`` queued behind the worker's commit would wait far longer than the
        commit takes; this lock hands over the moment it is released. (Other processes
        still meet at SQLite's lock.)"""
        with self._writers, _unavailable("use the database"), self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it takes no write lock, so a worker's
        lookups neither wait for nor delay a channel's ``receive()``. Never write in it."""
        with _unavailable("read the database"), self._readers.begin() as session:
            yield session

    # ------------------------------------------------------------------ receiving
    def receive(
        self,
        data: bytes | BinaryIO,
        *,
        channel: str,
        partner_id: str | None = None,
        filename: str | None = None,
        fmt: str | None = None,
        doc_type: str | None = None,
        meta: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        direction: Direction = Direction.INBOUND,
        status: Status = Status.RECEIVED,
        po_number: str | None = None,
        invoice_number: str | None = None,
        shipment_id: str | None = None,
    ) -> Receipt:
        """Store bytes and their row durably, then return. Raises StoreError if it cannot.

        The business keys are known up front for documents from the ERP (its JSON says them).
        """
        # Its keyword arguments as one set of options: receive_many takes them per document.
        options = {name: value for name, value in locals().items() if name not in ("self", "data")}
        return self.receive_many([(data, options)])[0]

    def receive_many(
        self, documents: Sequence[tuple[bytes | BinaryIO, Mapping[str, Any]]]
    ) -> list[Receipt]:
        """:meth:`receive` for documents that arrived together, each given as its data and
        :meth:`receive`'s keyword arguments: all are durable when this returns, or (it
        raised) none is. Their receipts come back in their order.

        Why: an email's attachments are one delivery. Stored one by one, a failure at the
        second gets the whole message sent again, and the first would be stored twice.
        The large blobs are fsynced together (``BlobStore.group``) before the one
        transaction that inserts every row."""
        with self.blobs.group():
            staged = [inline_blobs.stage(data, self.blobs) for data, _ in documents]
        with self.session() as session:
            receipts = [
                self._insert_received(session, one, options)
                for one, (_, options) in zip(staged, documents, strict=True)
            ]
        self.wakeup.set()
        return receipts

    def _insert_received(
        self, session: Session, staged: inline_blobs.Staged, options: Mapping[str, Any]
    ) -> Receipt:
        """The row, first audit event and (small) bytes of a received document, in
        ``session``'s transaction; ``staged``'s file, if any, is durable already.
        ``options``: :meth:`receive`'s keyword arguments (``channel`` required)."""
        unknown = set(options) - _RECEIVE_OPTIONS
        if unknown:
            raise TypeError(f"receive: unknown option(s) {', '.join(sorted(unknown))}")
        channel: str = options["channel"]
        partner_id: str | None = options.get("partner_id")
        filename: str | None = options.get("filename")
        status: Status = options.get("status", Status.RECEIVED)
        direction: Direction = options.get("direction", Direction.INBOUND)
        correlation_id: str | None = options.get("correlation_id")
        meta: dict[str, Any] | None = options.get("meta")
        blob = staged.ref
        correlation = correlation_id or uuid.uuid4().hex
        fields = {
            "partner_id": partner_id,
            "format": options.get("fmt"),
            "doc_type": options.get("doc_type"),
            "filename": filename,
            "meta": meta or {},
            "correlation_id": correlation,
            "po_number": options.get("po_number"),
            "invoice_number": options.get("invoice_number"),
            "shipment_id": options.get("shipment_id"),
        }
        inline_blobs.pend(session, staged)
        # A plain INSERT ... RETURNING, as add_document: an ORM object and its flush
        # were half of receive()'s CPU, which a channel spends on every file.
        values = self._new_row(session, blob, direction, status, channel, None, fields)
        doc_id = session.connection().execute(_INSERT_DOCUMENT, values).scalar_one()
        # The partner the channel authenticated, if any: processing may later fill in
        # partner_id from the file's first interchange, and a reprocess must not take
        # that for the account the file came in on (see pipeline/operations.py).
        detail = {"channel": channel, "partner": partner_id}
        about = {"file": filename, "size": blob.size, "correlation": correlation}
        self.audit(session, doc_id, "received", None, status, detail, about=about)
        return Receipt(doc_id, blob.sha256, blob.size, correlation)

    def add_document(
        self,
        session: Session,
        data: bytes | BlobRef,
        *,
        direction: Direction,
        status: Status,
        channel: str,
        parent: Document | None = None,
        **fields: Any,
    ) -> Document:
        """Create a document inside a running transaction (split children, outbound docs).

        ``data`` may be an existing blob (a split child points into its parent's bytes).

        The row is inserted at once with a plain INSERT ... RETURNING (no ORM flush, which
        would also push out everything else pending); the returned object is a persistent
        member of ``session`` with every column set, so changing it later is saved as usual.
        Its audit event waits in the session and is written with the others at the next
        flush, in one statement.
        """
        values = self._new_row(session, data, direction, status, channel, parent, fields)
        doc_id = session.connection().execute(_INSERT_DOCUMENT, values).scalar_one()
        doc = Document(id=doc_id, **values)
        make_transient_to_detached(doc)
        session.add(doc)
        self.audit(session, doc, "created", None, status, {"parent": doc.parent_id})
        return doc

    def add_leaf(
        self,
        session: Session,
        data: bytes | BlobRef,
        *,
        direction: Direction,
        status: Status,
        channel: str,
        parent: Document,
        **fields: Any,
    ) -> None:
        """:meth:`add_document` for a row that nothing in the transaction refers to again
        (an order for the ERP, a 997, an 855): it waits in the session and is inserted with
        the others, in one statement, before the commit or any ORM query.

        Why: a statement and an ORM object of its own cost about three quarters of
        ``add_document``, and a worker's batch stores three such rows per file.
        """
        values = self._new_row(session, data, direction, status, channel, parent, fields)
        session.info.setdefault(_LEAVES, []).append((values, self.actor))

    def _new_row(
        self,
        session: Session,
        data: bytes | BlobRef,
        direction: Direction,
        status: Status,
        channel: str,
        parent: Document | None,
        fields: dict[str, Any],
    ) -> dict[str, Any]:
        """Every column of a new document row but its id (``data`` stored on the way)."""
        blob = data if isinstance(data, BlobRef) else self.put_blob(session, data)
        now = utcnow()
        values: dict[str, Any] = dict.fromkeys(_DOCUMENT_COLUMNS)
        values.update(
            direction=direction.value,
            status=status.value,
            channel=channel,
            blob_sha256=blob.sha256,
            size=blob.size,
            parent_id=parent.id if parent is not None else None,
            correlation_id=fields.pop("correlation_id", None)
            or (parent.correlation_id if parent is not None else uuid.uuid4().hex),
            partner_id=fields.pop("partner_id", parent.partner_id if parent else None),
            attempts=0,
            meta=fields.pop("meta", {}),
            created_at=now,
            updated_at=now,
        )
        unknown = set(fields) - set(values)
        if unknown:
            raise TypeError(f"unknown document fields: {', '.join(sorted(unknown))}")
        values.update(fields)
        del values["id"]
        return values

    # ------------------------------------------------------------------ state
    def audit(
        self,
        session: Session,
        doc: Document | int,
        event: str,
        from_status: Status | str | None,
        to_status: Status | str | None,
        detail: dict[str, Any] | None = None,
        *,
        about: Mapping[str, Any] | None = None,
    ) -> None:
        """Record an event of ``doc`` (a row, or its id) in the caller's transaction.

        Events wait in the session and are inserted together (one executemany) before the
        commit and before any ORM query in the session. Once committed, each is also a log
        line (``edigate.documents``) naming the document's partner, type, channel, file
        and correlation ID: from the row, or ``about`` when only its id is at hand."""
        doc_id = doc if isinstance(doc, int) else doc.id
        pending: list[dict[str, Any]] = session.info.setdefault(_AUDITS, [])
        pending.append(
            _audit_row(doc_id, utcnow(), event, from_status, to_status, self.actor, detail)
        )
        _queue_log(session, event, doc_id, from_status, to_status, detail, about, doc)

    def record_event(self, event: str, detail: dict[str, Any]) -> None:
        """An audit event that belongs to no document (a refused login, a discarded upload)."""
        safe = {
            k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in detail.items()
        }
        with self.session() as session:
            session.add(
                AuditEvent(document_id=None, event=event[:40], actor=self.actor, detail=safe)
            )

    def transition(
        self,
        session: Session,
        doc: Document,
        to_status: Status,
        event: str,
        *,
        detail: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        """Change a document's state and write the audit event, in the caller's transaction.

        :mod:`.transitions` does the same for a batch of held rows in a few statements."""
        before = doc.status
        doc.status = to_status.value
        doc.updated_at = utcnow()
        doc.claimed_by = None
        doc.claimed_at = None
        if errors is not None:
            doc.errors = errors
        self.audit(session, doc, event, before, to_status, detail)

    def get(self, session: Session, doc_id: int) -> Document:
        doc = session.get(Document, doc_id)
        if doc is None:
            raise StoreError(f"no document {doc_id}")
        return doc

    # ------------------------------------------------------------------ bytes
    def put_blob(self, session: Session, data: bytes | BinaryIO) -> BlobRef:
        """Store bytes for a row of ``session``'s transaction: a small blob is inserted with
        it (durable at its commit), a larger one written to the blob store (durable before
        the commit; see ``BlobStore.group``)."""
        staged = inline_blobs.stage(data, self.blobs)
        inline_blobs.pend(session, staged)
        return staged.ref

    def put_large_blob(self, data: bytes) -> BlobRef | None:
        """Write ``data`` to the blob store now when it is too large for the database (so
        a caller can do it before its transaction, and SQLite's write lock is not held for
        the fsyncs); None for small data, which goes in with its row."""
        return self.blobs.put(data) if len(data) > inline_blobs.INLINE_MAX else None

    def blob_bytes(self, sha256: str, size: int | None = None) -> bytes:
        """A blob's bytes, wherever it is kept. Raises StoreError when it is nowhere.

        ``size`` (the row's) says where to look first: a small blob is in the database,
        unless it was written before migration 0002 (then it is a file); a large one is a
        file. Looking in the right place first spares a failed open per read (a network
        round trip on a shared data_dir). Without a size, the database first: most blobs
        are small."""
        small = size is None or size <= inline_blobs.INLINE_MAX
        if not small:
            with contextlib.suppress(StoreError):
                return self.blobs.get(sha256)
        data = self._database_bytes(sha256)
        if data is not None:
            return data
        if small:
            with contextlib.suppress(StoreError):
                return self.blobs.get(sha256)
        raise self._missing(sha256)

    def _missing(self, sha256: str) -> StoreError:
        return StoreError(f"blob {sha256} is missing from the database and {self.blobs.root}")

    def _database_bytes(self, sha256: str) -> bytes | None:
        with self.reading() as session:
            data = inline_blobs.read(session, sha256)
        return None if data is None else bytes(data)

    def blobs_bytes(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The bytes of each of ``shas`` that is kept anywhere (one query for those in the
        database); a missing one is left out."""
        wanted = set(shas)
        with self.reading() as session:
            found = inline_blobs.read_many(session, wanted)
        for sha in wanted - found.keys():
            with contextlib.suppress(StoreError):
                found[sha] = self.blobs.get(sha)
        return found

    def open_blob(self, sha256: str, size: int | None = None) -> BinaryIO:
        """A binary stream of a blob: a large one is read from its file, not held whole."""
        if size is not None and size <= inline_blobs.INLINE_MAX:
            return io.BytesIO(self.blob_bytes(sha256, size))
        try:
            return self.blobs.open(sha256)
        except StoreError:
            data = self._database_bytes(sha256)  # the file was looked for already
        if data is None:
            raise self._missing(sha256)
        return io.BytesIO(data)

    def content(self, doc: Document) -> bytes:
        return self.blob_bytes(doc.blob_sha256, doc.size)

    # ------------------------------------------------------------------ work queue
    def claim(
        self,
        worker: str,
        statuses: Sequence[Status],
        *,
        direction: Direction | None = None,
        limit: int = 10,
        lease_seconds: float = 300.0,
        channels: Sequence[str] | None = None,
        exclude_channels: Sequence[str] = (),
    ) -> list[int]:
        """Claim up to ``limit`` due documents for ``worker``; returns their ids in order.

        ``channels`` / ``exclude_channels`` split one direction between lanes (the ERP's
        documents are inbound too, but another lane processes them).
        """
        now = utcnow()
        params: dict[str, Any] = {
            "now": now,
            "stale": now - dt.timedelta(seconds=lease_seconds),
            "worker": worker,
        }
        claims = _claim_statements(
            self.engine.dialect.name,
            tuple(statuses),
            direction,
            None if channels is None else tuple(channels),
            tuple(exclude_channels),
            limit,
        )
        if claims.peek is not None:
            # SQLite: look first, without the write lock. An idle worker (or one woken
            # for a file another worker took) then costs one read, not a write
            # transaction per lane that every receive() would queue behind. What the
            # peek saw may be claimed by another worker meanwhile: the UPDATE decides.
            with self.reading() as session:
                if session.connection().execute(claims.peek, params).first() is None:
                    return []
        # Statements on the session's connection run as plain SQL: the ORM's bulk UPDATE
        # would first look for the rows among the session's objects.
        with self.session() as session:
            ids = sorted(session.connection().execute(claims.claim, params).scalars().all())
        return ids

    @contextmanager
    def claimed(self, doc_id: int, worker: str) -> Iterator[tuple[Session, Document] | None]:
        """A transaction on a document this worker still holds; None if the claim was lost."""
        with self.session() as session:
            stmt = select(Document).where(
                and_(Document.id == doc_id, Document.claimed_by == worker)
            )
            if self.engine.dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            doc = session.execute(stmt).scalar_one_or_none()
            yield (session, doc) if doc is not None else None

    @contextmanager
    def claimed_many(
        self, doc_ids: Sequence[int], worker: str
    ) -> Iterator[tuple[Session, dict[int, Document]]]:
        """One transaction over the documents this worker still holds, by id (one fenced
        SELECT for all; those whose claim was lost are absent). Commit several documents'
        results at once, each still fenced by its own claim.

        Control numbers taken in this transaction are counted in memory after the first of
        each sequence (which locks its row) and written once at commit."""
        with self.session() as session:
            session.info[_SEQUENCES] = None
            held: dict[int, Document] = {}
            if doc_ids:
                stmt = (
                    select(Document)
                    .where(Document.id.in_(list(doc_ids)), Document.claimed_by == worker)
                    .order_by(Document.id)
                )
                if self.engine.dialect.name == "postgresql":
                    stmt = stmt.with_for_update()
                held = {doc.id: doc for doc in session.execute(stmt).scalars()}
            yield session, held

    def release(self, doc_id: int, worker: str) -> None:
        with self.session() as session:
            session.execute(
                update(Document)
                .where(Document.id == doc_id, Document.claimed_by == worker)
                .values(claimed_by=None, claimed_at=None)
            )

    def renew_claims(self, doc_ids: Sequence[int], worker: str) -> int:
        """Start the lease of ``worker``'s claims on ``doc_ids`` again (those it still
        holds): a batch that takes longer than a lease, such as slow deliveries one by one,
        keeps its documents instead of another worker taking and sending them again."""
        if not doc_ids:
            return 0
        with self.session() as session:
            result = session.execute(
                update(Document)
                .where(Document.id.in_(list(doc_ids)), Document.claimed_by == worker)
                .values(claimed_at=utcnow())
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def claim_holders(self) -> list[str]:
        """The workers holding a claim now (live or not: their leases say nothing here)."""
        with self.reading() as session:
            return list(
                session.scalars(
                    select(Document.claimed_by).where(Document.claimed_by.is_not(None)).distinct()
                )
            )

    def release_claims(self, holders: Sequence[str]) -> int:
        """Free the claims of ``holders``, workers known to be gone: their documents are due
        again at once instead of when their leases pass."""
        if not holders:
            return 0
        with self.session() as session:
            result = session.execute(
                update(Document)
                .where(Document.claimed_by.in_(list(holders)))
                .values(claimed_by=None, claimed_at=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def fail(
        self,
        doc_id: int,
        worker: str,
        error: str,
        *,
        max_attempts: int = 5,
        base_delay: float = 2.0,
        failed_status: Status = Status.FAILED,
    ) -> Status:
        """Record a failed attempt: retry later with exponential backoff, or ``dead``.
        The row is read locked (PostgreSQL; SQLite's write lock is held already), so a claim
        another worker took since is seen and left alone."""
        with self.session() as session:
            postgres = self.engine.dialect.name == "postgresql"
            doc = session.get(Document, doc_id, with_for_update=postgres)
            if doc is None or doc.claimed_by != worker:
                return Status(doc.status) if doc else Status.DEAD
            doc.attempts = (doc.attempts or 0) + 1
            doc.last_error = error
            if doc.attempts >= max_attempts:
                status = Status.DEAD
                doc.next_attempt_at = None
            else:
                status = failed_status
                delay = RetryBudget(max_attempts, base_delay).delay(doc.attempts)
                doc.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
            self.transition(
                session,
                doc,
                status,
                "attempt_failed",
                detail={"attempt": doc.attempts, "error": error},
            )
            return status

    # ------------------------------------------------------------------ control numbers
    def next_control_number(self, session: Session, partner_id: str, kind: str) -> int:
        """Take the next ISA13/GS06/ST02 for a partner inside the caller's transaction.

        The row stays locked until that transaction ends, so concurrent workers never share a
        number; a rolled-back document gives its number back. In a :meth:`claimed_many`
        transaction the first number of a sequence locks its row, the next ones are counted
        in memory and the last is written when the transaction commits: a commit storing
        many documents pays one statement per sequence, not one per number.
        """
        cache = _sequence_cache(session)
        key = (partner_id, kind)
        if cache is not None and key in cache:
            value = cache[key] % MAX_CONTROL_NUMBER + 1
            cache[key] = value
            return value
        value = self._bump(session, partner_id, kind)
        if cache is not None:
            cache[key] = value
        return value

    def _bump(self, session: Session, partner_id: str, kind: str) -> int:
        bump = (
            update(ControlSequence)
            .where(ControlSequence.partner_id == partner_id, ControlSequence.kind == kind)
            .values(value=ControlSequence.value % MAX_CONTROL_NUMBER + 1)
            .returning(ControlSequence.value)
        )
        value = session.connection().execute(bump).scalar_one_or_none()
        if value is None:
            insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
            session.connection().execute(
                insert(ControlSequence)
                .values(partner_id=partner_id, kind=kind, value=0)
                .on_conflict_do_nothing()
            )
            value = session.connection().execute(bump).scalar_one()
        return int(value)

    def reserve_control_numbers(
        self, session: Session, partner_id: str, kind: str, count: int
    ) -> int:
        """Reserve ``count`` consecutive numbers in one statement; returns the first.

        A block never straddles the wrap-around at 999,999,999: it restarts from 1 instead.
        """
        if count < 1:
            raise StoreError(f"cannot reserve {count} control numbers")
        if count == 1:
            return self.next_control_number(session, partner_id, kind)
        first = self.next_control_number(session, partner_id, kind)  # the row is locked
        last = count if first + count - 1 > MAX_CONTROL_NUMBER else first + count - 1
        cache = _sequence_cache(session)
        if cache is not None:
            cache[(partner_id, kind)] = last
        else:
            session.connection().execute(
                update(ControlSequence)
                .where(ControlSequence.partner_id == partner_id, ControlSequence.kind == kind)
                .values(value=last)
            )
        return last - count + 1

    # ------------------------------------------------------------------ queries
    def count_by_status(self) -> dict[str, int]:
        with self.session() as session:
            rows = session.execute(
                select(Document.status, func.count()).group_by(Document.status)
            ).all()
        return {status: count for status, count in rows}


_DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]
_DOCUMENT_COLUMNS = tuple(column.key for column in _DOCUMENTS.columns)
_INSERT_DOCUMENT = insert(_DOCUMENTS).returning(_DOCUMENTS.c.id)
#: Many rows in one statement, their ids returned in the order of the rows (PostgreSQL).
_INSERT_DOCUMENTS = insert(_DOCUMENTS).returning(_DOCUMENTS.c.id, sort_by_parameter_order=True)
#: Many rows, each id returned with what tells its row apart (SQLite: see _insert_documents).
_INSERT_DOCUMENTS_CHECKED = insert(_DOCUMENTS).returning(
    _DOCUMENTS.c.id, _DOCUMENTS.c.parent_id, _DOCUMENTS.c.blob_sha256
)


@dataclass(frozen=True, slots=True)
class _ClaimStatements:
    """A lane's claim, built once: ``peek`` (SQLite only) asks whether anything is due
    without taking the write lock; ``claim`` marks the due documents claimed."""

    peek: Select[int] | None
    claim: Update


@functools.lru_cache(maxsize=64)
def _claim_statements(
    dialect: str,
    statuses: tuple[Status, ...],
    direction: Direction | None,
    channels: tuple[str, ...] | None,
    exclude_channels: tuple[str, ...],
    limit: int,
) -> _ClaimStatements:
    """The statements of one claim shape, built once (a lane claims with the same shape
    every round), with ``now``, ``stale`` and ``worker`` as parameters: one UPDATE over the
    due ids (SKIP LOCKED on PostgreSQL; SQLite's writers take turns anyway, so the subquery
    sees what the worker before committed)."""
    due_now = [
        Document.status.in_([s.value for s in statuses]),
        or_(Document.next_attempt_at.is_(None), Document.next_attempt_at <= bindparam("now")),
        or_(Document.claimed_at.is_(None), Document.claimed_at < bindparam("stale")),
    ]
    if direction is not None:
        due_now.append(Document.direction == direction.value)
    if channels is not None:
        due_now.append(Document.channel.in_(list(channels)))
    if exclude_channels:
        due_now.append(Document.channel.not_in(list(exclude_channels)))
    due = select(Document.id).where(*due_now)
    chosen = due.order_by(Document.id).limit(limit)
    peek: Select[int] | None = None
    if dialect == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    else:
        peek = due.limit(1)
    claim = (
        update(Document)
        .where(Document.id.in_(chosen.scalar_subquery()))
        .values(claimed_by=bindparam("worker"), claimed_at=bindparam("now"))
        .returning(Document.id)
    )
    return _ClaimStatements(peek, claim)


#: session.info key: audit events not inserted yet (see Store.audit).
_AUDITS = "edigate_pending_audits"
_AUDIT_TABLE: Table = AuditEvent.__table__  # type: ignore[assignment]
#: session.info key: rows add_leaf keeps for the next write, with the actor of each.
_LEAVES = "edigate_pending_leaves"
_SEQUENCES = "edigate_control_sequences"


def _sequence_cache(session: Session) -> dict[tuple[str, str], int] | None:
    """This transaction's control numbers taken so far, by (partner, kind); None when the
    session does not count in memory (every number is then written at once)."""
    if _SEQUENCES not in session.info:
        return None
    cache: dict[tuple[str, str], int] | None = session.info[_SEQUENCES]
    if cache is None:
        cache = session.info[_SEQUENCES] = {}
    return cache


def _write_sequences(session: Session) -> None:
    """Before commit: write the last control number taken from each sequence."""
    cache = session.info.get(_SEQUENCES)
    if not cache:
        return
    session.info[_SEQUENCES] = None
    for (partner_id, kind), value in cache.items():
        written = session.connection().execute(
            update(ControlSequence)
            .where(ControlSequence.partner_id == partner_id, ControlSequence.kind == kind)
            .values(value=value)
        )
        if not written.rowcount:  # taken from it in this transaction, so it is there
            raise StoreError(f"control number sequence {partner_id}/{kind} vanished")


class _WriterTurns:
    """The turns of this process's threads at SQLite's write lock (see Store.session).

    Re-entrant (a thread's nested transaction goes on to SQLite as before); a thread that
    waited as long as SQLite's busy timeout goes on to SQLite's lock regardless, so this
    never blocks where SQLite alone would not have, only orders who asks first.
    """

    def __init__(self, timeout: float = WRITE_WAIT_SECONDS) -> None:
        self._lock = threading.RLock()
        self._timeout = timeout
        self._held = threading.local()

    def __enter__(self) -> None:
        held: list[bool] = self._held.__dict__.setdefault("stack", [])
        held.append(self._lock.acquire(timeout=self._timeout))

    def __exit__(self, *exc: object) -> None:
        if self._held.stack.pop():
            self._lock.release()


def _audit_row(
    doc_id: int,
    at: dt.datetime,
    event: str,
    from_status: Status | str | None,
    to_status: Status | str | None,
    actor: str,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "document_id": doc_id,
        "at": at,
        "event": event,
        "from_status": str(from_status) if from_status is not None else None,
        "to_status": str(to_status) if to_status is not None else None,
        "actor": actor,
        "detail": detail or {},
    }


def write_pending(session: Session) -> None:
    """Insert the blobs, the leaf rows and the audit events waiting in ``session`` (a
    statement each)."""
    inline_blobs.write_pending(session)
    leaves: list[tuple[dict[str, Any], str]] | None = session.info.pop(_LEAVES, None)
    if leaves:
        ids = _insert_documents(session, [values for values, _ in leaves])
        audits: list[dict[str, Any]] = session.info.setdefault(_AUDITS, [])
        for doc_id, (values, actor) in zip(ids, leaves, strict=True):
            created = values["created_at"]
            detail = {"parent": values["parent_id"]}
            audits.append(
                _audit_row(doc_id, created, "created", None, values["status"], actor, detail)
            )
            _queue_log(session, "created", doc_id, None, values["status"], detail, None, values)
    pending = session.info.pop(_AUDITS, None)
    if pending:
        session.connection().execute(insert(_AUDIT_TABLE), pending)


def _insert_documents(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert document rows; their ids, in the order of ``rows``."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return list(connection.execute(_INSERT_DOCUMENTS, rows).scalars())
    # On SQLite, sort_by_parameter_order makes SQLAlchemy send one INSERT per row. Without
    # it, its "insertmanyvalues" sends the rows as multi-row INSERT ... VALUES statements
    # (compiled once and cached, unlike ``insert().values(rows)``, whose compilation cost
    # about 0.3 ms per row), in the order of the rows, one after the other. SQLite gives a
    # statement's rows ascending INTEGER PRIMARY KEY ids in VALUES order (under its write
    # lock), and each statement's above the last: sorted, the ids are the rows' own. That
    # order is SQLite's behaviour, not its promise: each row's parent and content, returned
    # with its id, are checked, so a change would stop the commit instead of mixing rows.
    returned = sorted(connection.execute(_INSERT_DOCUMENTS_CHECKED, rows).all())
    for (_, parent_id, sha256), row in zip(returned, rows, strict=True):
        if parent_id != row["parent_id"] or sha256 != row["blob_sha256"]:
            raise StoreError("SQLite returned the new documents' ids out of row order")
    return [doc_id for doc_id, _, _ in returned]


@event.listens_for(Session, "before_commit")
def _pending_before_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _pending_before_query(state: ORMExecuteState) -> None:
    """Whatever the session runs next sees its own audit events and blobs."""
    info = state.session.info
    if _AUDITS in info or _LEAVES in info or inline_blobs.has_pending(state.session):
        write_pending(state.session)


@contextmanager
def _unavailable(action: str) -> Iterator[None]:
    """Map driver-level connection failures into StoreUnavailableError (and a lost race
    with another transaction into StoreConflictError).

    A full connection pool counts as unavailable too: every connection is waiting on a slow
    (or locked) database, and callers such as the worker wait and retry on
    StoreUnavailableError instead of failing the document or their round."""
    try:
        yield
    except PoolTimeoutError as exc:
        raise StoreUnavailableError(
            f"cannot {action}: every database connection of this process is in use"
            f" (connection pool exhausted: {exc.args[0] if exc.args else exc});"
            " the database is slow or holds locks:"
            " check it for long-running transactions, or run fewer transfers at once"
        ) from exc
    except DisconnectionError as exc:
        raise StoreUnavailableError(f"cannot {action}: connection lost ({exc})") from exc
    except OperationalError as exc:
        if str(getattr(exc.orig, "sqlstate", "") or "").startswith("40"):
            # Class 40, transaction rollback: another transaction won, the server is fine.
            raise StoreConflictError(f"cannot {action}: {exc.orig}") from exc
        raise StoreUnavailableError(f"cannot {action}: {exc.orig}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailableError(f"cannot {action}: connection lost") from exc
        raise


#: The logger of what happens to documents (one line per audit event, after its commit).
doc_log = logging.getLogger("edigate.documents")
_LOGS = "edigate_log_events"
#: Events logged at another level than INFO: a piece of a large file committed (hundreds
#: per file) at DEBUG, a failed attempt (retried, or dead) at WARNING.
_EVENT_LEVELS = {"piece_committed": logging.DEBUG, "attempt_failed": logging.WARNING}
_doc_events = Events(doc_log)


def _status_text(status: Status | str | None) -> str:
    return "-" if status is None else str(status.value if isinstance(status, Status) else status)


def about_document(doc: Document) -> dict[str, Any]:
    """What a log line says about ``doc`` besides its id: who, what, how, which thread."""
    return {name: value for column, name in _ABOUT.items() if (value := getattr(doc, column))}


#: Log field names of the document columns a line names.
_ABOUT = {
    "partner_id": "partner",
    "doc_type": "type",
    "channel": "channel",
    "filename": "file",
    "po_number": "po",
    "correlation_id": "correlation",
}


def _about_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: values[column] for column, name in _ABOUT.items() if values.get(column)}


def _queue_log(
    session: Session,
    event: str,
    doc_id: int,
    from_status: Status | str | None,
    to_status: Status | str | None,
    detail: Mapping[str, Any] | None,
    about: Mapping[str, Any] | None,
    doc: Document | int | Mapping[str, Any],
) -> None:
    """Queue the log line of an audit event, written once the transaction commits.

    A document rejected is a WARNING with its first error (``reason``): a log kept at
    WARNING still shows every file and transaction refused, and why. So is an ERP document
    held as a duplicate (an invoice number the partner has: nothing goes out until someone
    acts); a partner's duplicate interchange, answered by its TA1, stays INFO."""
    level = _EVENT_LEVELS.get(event, logging.INFO)
    status = _status_text(to_status)
    rejected = from_status != to_status and (
        status == Status.REJECTED.value
        or (
            status == Status.DUPLICATE.value
            and isinstance(doc, Document)
            and doc.channel == ERP_CHANNEL
        )
    )
    if rejected:
        level = max(level, logging.WARNING)
    if not doc_log.isEnabledFor(level):
        return
    fields: dict[str, Any] = {"document": doc_id}
    if from_status is None and to_status is not None:
        fields["status"] = _status_text(to_status)
    elif from_status != to_status:
        fields["status"] = f"{_status_text(from_status)}->{_status_text(to_status)}"
    if about is not None:
        fields.update((k, v) for k, v in about.items() if v is not None)
    elif isinstance(doc, Document):
        fields.update(about_document(doc))
    elif isinstance(doc, Mapping):
        fields.update(_about_values(doc))
    for key, value in (detail or {}).items():
        if value is not None:
            fields[f"detail_{key}" if key in fields else key] = value
    if rejected and isinstance(doc, Document) and "reason" not in fields:
        first = next((e for e in doc.errors or [] if e.get("severity", "error") == "error"), None)
        if first is not None:
            fields["reason"] = _shortened(str(first.get("message", "")))
    session.info.setdefault(_LOGS, []).append((level, event, fields))


def _shortened(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _log_events(session: Session) -> None:
    """After a commit: write the lines of what it committed. Never raises: the commit
    happened, and a caller told otherwise would redo it (a sender resending a file)."""
    if session.in_nested_transaction():
        return  # a savepoint released: its lines wait for the real commit
    for level, kind, fields in session.info.pop(_LOGS, ()):
        try:
            _doc_events.emit(kind, level, **fields)
        except Exception:
            doc_log.exception("could not log %s of document %s", kind, fields.get("document"))


def _drop_log_events(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_LOGS, None)


#: The keyword arguments of :meth:`Store.receive`, each document's options in
#: :meth:`Store.receive_many`.
_RECEIVE_OPTIONS = frozenset(inspect.signature(Store.receive).parameters) - {"self", "data"}
