"""Taking turns on what was sent (PostgreSQL advisory locks): a transaction that needs
several numbers takes them in one order, so two never deadlock over overlapping sets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from edigate.pipeline.sent import take_turns, take_turns_in_order

pytestmark = pytest.mark.postgres

KEYS = [("acme-retail", "855", "PO-A"), ("acme-retail", "855", "PO-B")]


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


def _hash(session: Session, key: tuple[str, str, str]) -> int:
    return int(
        session.execute(
            select(func.hashtextextended(f"edigate sent {' '.join(key)}", 0))
        ).scalar_one()
    )


def _advisory(engine: Engine, pid: int) -> list[bool]:
    """Whether each advisory lock the backend ``pid`` holds or waits for is granted."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT granted FROM pg_locks WHERE locktype = 'advisory' AND pid = :pid"),
            {"pid": pid},
        )
        return [bool(granted) for (granted,) in rows]


def test_several_numbers_are_locked_smallest_key_first_whatever_order_they_are_given(
    engine: Engine,
) -> None:
    with Session(engine) as holder:
        first, second = sorted(KEYS, key=lambda k: _hash(holder, k))
        take_turns(holder, *first)  # another worker holds the lock every order takes first
        pid: list[int] = []
        done = threading.Event()

        def attempt() -> None:
            with Session(engine) as session:
                pid.append(session.execute(select(func.pg_backend_pid())).scalar_one())
                take_turns_in_order(session, [second, first, second])
                take_turns(session, *second)  # again in the same transaction: at once
                done.set()
                session.commit()

        thread = threading.Thread(target=attempt)
        thread.start()
        deadline = time.monotonic() + 10
        while not (pid and _advisory(engine, pid[0]) == [False]):
            assert time.monotonic() < deadline, "the attempt never waited for the first lock"
            time.sleep(0.02)
        # It waits for the first key and holds nothing: a worker that holds the first and
        # then asks for the second cannot be waiting on it.
        time.sleep(0.1)
        assert _advisory(engine, pid[0]) == [False] and not done.is_set()
        holder.commit()
    thread.join(10)
    assert done.is_set()


def test_no_numbers_take_no_lock_and_sqlite_takes_none(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        take_turns_in_order(session, [])
        mine = session.execute(select(func.pg_backend_pid())).scalar_one()
        assert _advisory(engine, mine) == []
        take_turns_in_order(session, KEYS)
        assert _advisory(engine, mine) == [True, True]
    sqlite = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with Session(sqlite) as session:
        take_turns_in_order(session, KEYS)  # SQLite's write lock already orders commits
        assert session.in_transaction() is False


def test_thousands_of_numbers_are_locked_in_one_statement(engine: Engine) -> None:
    """A key per column stopped at PostgreSQL's 1,664 columns: a file of 1,700 TA1-only
    interchanges then looked like a database outage forever (review finding)."""
    keys = [("acme-retail", "interchange", f"{n:09d}") for n in range(2_000)]
    with Session(engine) as session:
        take_turns_in_order(session, keys)
        mine = session.execute(select(func.pg_backend_pid())).scalar_one()
        assert _advisory(engine, mine) == [True] * 2_000
