"""Engines and schema migrations for SQLite (the embedded default) and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL``: a committed row survives power loss, which
is what "stored before the sender is told" needs. Its transactions begin IMMEDIATE, so
concurrent writers queue on the busy timeout instead of failing. PostgreSQL URLs may be given as
``postgresql://...``; they are run through psycopg 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url

from ..errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"
#: SQLite reads the first 64 MiB of the database through a memory map instead of read().
#: Why: in WAL mode a connection drops its whole page cache each time another connection
#: has committed, which with serve's worker processes and its channels is before almost
#: every transaction; read() then copies the same index pages in again and again, while a
#: mapped page costs nothing to "re-read". Measured in 4 alternating pairs of
#: ``edigate bench --only small-files``: serve --workers 2 gained 12-24 % in files/s at
#: 9-20 % less worker CPU per file (their databases stay under 64 MiB). Bounded, because
#: mapped pages count in a process's RSS (the large-file target is about RSS: 100 MB took
#: it from 221 to 243 MB). A database grows at its end, so once it is much larger than the
#: map, its busiest pages lie beyond it and are read as before.
MMAP_BYTES = 64 * 1024 * 1024


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and pick the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


#: The embedded database's file in the data directory.
DATABASE_FILE = "edigate.db"


def sqlite_url(data_dir: Path | str) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / DATABASE_FILE}"


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # READ COMMITTED, PostgreSQL's default, said here because the store relies on it: a
    # check made after taking a lock (an advisory lock, a sequence row) must see what the
    # transaction that held the lock before committed (pipeline/outbound.py).
    kwargs.setdefault("isolation_level", "READ COMMITTED")
    try:
        return create_engine(url, pool_pre_ping=True, **kwargs)
    except ImportError as exc:  # the driver is an extra: say which, not a traceback
        raise ConfigError(
            f"{make_url(url).render_as_string(hide_password=True)}: PostgreSQL needs the "
            "psycopg driver: python3 -m pip install 'edigate[postgres]' (in a checkout: "
            f"python3 -m pip install -e '.[postgres]') ({exc})"
        ) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event start transactions (pysqlite would BEGIN DEFERRED).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cursor.close()


#: Execution option of a connection that only reads (``Store.reading``).
READ_ONLY = "edigate_read_only"


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock when a transaction starts, not at its first write.

    In WAL mode a read transaction cannot become a write transaction once another writer has
    committed (SQLITE_BUSY_SNAPSHOT, raised at once whatever the busy timeout); beginning
    IMMEDIATE makes every transaction wait its turn instead. A transaction that only reads
    (``READ_ONLY``) begins DEFERRED: it never writes, and it does not queue behind, or
    hold up, the writers.
    """
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


#: PostgreSQL advisory lock key the processes migrating one database take turns on
#: ("edigate" in ASCII).
MIGRATION_LOCK_KEY = 0x65646967617465


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent).

    On PostgreSQL the upgrade runs under an advisory lock held until its transaction ends:
    processes starting together on a fresh or older database (serve's workers, several
    hosts) would otherwise each create the same tables and all but one fail. The others wait,
    then find the schema current. (SQLite's migration begins IMMEDIATE: its writers queue.)
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
