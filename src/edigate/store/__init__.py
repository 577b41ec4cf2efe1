"""Durable storage: blobs on disk (content-addressed, fsynced), metadata in SQL.

SQLite (WAL) under a data directory by default; PostgreSQL by URL for scale-out.
"""

from .blobs import BlobRef, BlobStore
from .database import make_engine, migrate, normalize_url, sqlite_url
from .schema import AuditEvent, ControlSequence, Document
from .statuses import PENDING_INBOUND, PENDING_OUTBOUND, Direction, Status
from .store import Receipt, RetryBudget, Store

__all__ = [
    "PENDING_INBOUND",
    "PENDING_OUTBOUND",
    "AuditEvent",
    "BlobRef",
    "BlobStore",
    "ControlSequence",
    "Direction",
    "Document",
    "Receipt",
    "RetryBudget",
    "Status",
    "Store",
    "make_engine",
    "migrate",
    "normalize_url",
    "sqlite_url",
]
