"""Small blobs in the database, written in the transaction of the row that names them.

Why: a small document kept as a file costs a file creation, a rename and two fsyncs (the
file, then its folder) when it is received, and again for every order, 997 and 855 the
worker stores; on ext4 that costs more CPU than translating the document. Bytes up to
:data:`INLINE_MAX` go into ``blob_data`` instead, so the one commit that makes the row
durable (SQLite's WAL with ``synchronous=FULL``, or PostgreSQL's WAL) makes its bytes durable
too, and workers on other hosts read them without a shared folder. Larger blobs stay files,
streamed and never held whole (``blobs.py``).

The bytes wait in the session (like the audit events) and are inserted together, in one
statement, before the commit or any ORM query. Same content, same row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .blobs import BlobRef, BlobStore
from .schema import BlobData

#: Blobs up to this size live in the database. An order, a 997 or an 855 is a few KB; a
#: partner's batch of hundreds of POs goes past it and is streamed to a file.
INLINE_MAX = 128 * 1024

_TABLE: Table = BlobData.__table__  # type: ignore[assignment]
#: session.info key: {sha256: bytes} not inserted yet.
_PENDING = "edigate_pending_blobs"


@dataclass(frozen=True, slots=True)
class Staged:
    """A blob ready to be named by a row: ``inline`` holds the bytes the transaction must
    insert, or is None when they are a file of the blob store already."""

    ref: BlobRef
    inline: bytes | None


def stage(data: bytes | BinaryIO, files: BlobStore) -> Staged:
    """Small data is hashed and kept for the transaction; larger data is written to
    ``files`` (durable when ``put`` returns, or when its ``group`` closes)."""
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data) <= INLINE_MAX:
            small = bytes(data)
            return Staged(BlobRef(hashlib.sha256(small).hexdigest(), len(small)), small)
        return Staged(files.put(data), None)
    head = _read_up_to(data, INLINE_MAX + 1)
    if len(head) <= INLINE_MAX:
        return Staged(BlobRef(hashlib.sha256(head).hexdigest(), len(head)), head)
    return Staged(files.put(data, head=head), None)


def _read_up_to(stream: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes: fewer only at the end of the stream (a raw stream, a pipe or a
    socket may return fewer from one read long before its end)."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        part = stream.read(limit - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def pend(session: Session, staged: Staged) -> None:
    """Insert ``staged``'s bytes with the transaction (nothing to do for a file)."""
    if staged.inline is not None:
        session.info.setdefault(_PENDING, {})[staged.ref.sha256] = staged.inline


def write_pending(session: Session) -> None:
    """Insert the bytes waiting in ``session`` (one statement; known content is skipped)."""
    pending: dict[str, bytes] | None = session.info.pop(_PENDING, None)
    if pending:
        connection = session.connection()
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        statement = insert(_TABLE).on_conflict_do_nothing(index_elements=["sha256"])
        # In the order of their keys: two PostgreSQL transactions storing the same contents
        # then wait for each other in one order, never in a cycle (a deadlock).
        rows = [{"sha256": k, "data": v} for k, v in sorted(pending.items())]
        connection.execute(statement, rows)


def has_pending(session: Session) -> bool:
    return _PENDING in session.info


def read(session: Session, sha256: str) -> bytes | None:
    data: bytes | None = session.execute(
        select(_TABLE.c.data).where(_TABLE.c.sha256 == sha256)
    ).scalar_one_or_none()
    return data


def read_many(session: Session, shas: Iterable[str]) -> dict[str, bytes]:
    """The bytes of those of ``shas`` kept in the database, in one query."""
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    rows: Any = session.execute(
        select(_TABLE.c.sha256, _TABLE.c.data).where(_TABLE.c.sha256.in_(wanted))
    )
    return {sha: bytes(data) for sha, data in rows}
