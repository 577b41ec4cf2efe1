"""Every run of one received file: the original and the attempts reprocessing made of it.

A reprocess is a new document holding the same bytes, linked to what it runs again
(``reprocess_of_id``). The duplicate checks must not count the file's own runs (an attempt
would always repeat its original) but must count every other file: a duplicate reprocessed
is still a duplicate of the file that was processed first.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store import Document


def original_of(session: Session, doc_id: int, reprocess_of_id: int | None) -> int:
    """The file ``doc_id`` was first received as: up the attempt links to their start."""
    root, seen = doc_id, {doc_id}
    above = reprocess_of_id
    while above is not None and above not in seen:
        root = above
        seen.add(root)
        above = session.scalar(select(Document.reprocess_of_id).where(Document.id == root))
    return root


def family_of(session: Session, doc_id: int, reprocess_of_id: int | None) -> frozenset[int]:
    """``doc_id``, the original it is an attempt of, and every attempt made from either."""
    if reprocess_of_id is None:
        return frozenset({doc_id})
    root = original_of(session, doc_id, reprocess_of_id)
    family = {root}
    frontier = [root]
    while frontier:
        below = set(
            session.scalars(select(Document.id).where(Document.reprocess_of_id.in_(frontier)))
        )
        frontier = sorted(below - family)
        family |= below
    return frozenset(family | {doc_id})
