"""What every benchmark scenario shares: a throwaway gateway, clocks, counters, children.

A scenario builds a :class:`Workspace` (a temp folder with a copy of the example partners
and maps, an ``edigate.toml``, its own data dir and database), feeds it, and reads its
figures back from the store: the database timestamps (``created_at``, audit ``at``) are the
same UTC wall clock in every process, so latencies can be measured across processes.

Instruments observe without changing the product: :class:`Instruments` counts ``os.fsync``
calls (and their time) and SQL commits and statements in this process; a :class:`Child`
(an ``edigate worker`` process) has its own CPU time and peak RSS read by ``wait4``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import aliased

from ..app import Gateway
from ..config import load_config
from ..errors import EdigateError
from ..store import Document, Store
from ..store.schema import AuditEvent
from .measure import ChildPeak

#: ``progress(label, done, total)``: the CLI draws it as a bar; tests pass nothing.
Progress = Callable[[str, int, int], None]


def no_progress(label: str, done: int, total: int) -> None:
    """The default progress sink: silent."""


# ------------------------------------------------------------------------ the workspace
def config_source(given: Path | None = None) -> Path:
    """The folder holding the example ``partners/`` and ``maps/`` (given, the working
    directory, or the checkout this package is installed from)."""
    candidates = [given] if given is not None else []
    candidates += [Path.cwd(), Path(__file__).resolve().parents[3]]
    for candidate in candidates:
        if candidate is not None and all((candidate / n).is_dir() for n in ("partners", "maps")):
            return candidate
    where = given or "the working directory or the edigate checkout"
    raise EdigateError(
        f"no partners/ and maps/ in {where}: the benchmark runs the example partners; run it "
        "from the edigate checkout or pass --config-source"
    )


@dataclass
class Workspace:
    """A gateway of its own under ``root``: config copy, data dir, ``edigate.toml``."""

    root: Path
    source: Path
    database_url: str | None = None
    sftp_port: int | None = None

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config"
        if not config.exists():
            for name in ("partners", "maps"):
                shutil.copytree(self.source / name, config / name)
        lines = [f'data_dir = "{self.data_dir}"', f'config_dir = "{config}"']
        if self.database_url:
            lines.append(f'database_url = "{self.database_url}"')
        lines += ["", "[sftp]", 'host = "127.0.0.1"', f"port = {self.sftp_port or 0}"]
        enabled = "true" if self.sftp_port is not None else "false"
        lines.append(f"enabled = {enabled}")
        self.toml.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def toml(self) -> Path:
        return self.root / "edigate.toml"

    def gateway(self) -> Gateway:
        return Gateway(load_config(self.toml, environ={}))


# ------------------------------------------------------------------------ measuring
@dataclass
class Instruments:
    """Counts fsyncs, SQL statements and commits while installed, and the time each took:
    ``os.fsync`` is wrapped, statements are timed by SQLAlchemy's cursor events, commits by
    wrapping this engine's dialect ``do_commit`` (for SQLite in WAL with synchronous=FULL a
    commit is where the database's own fsync happens, invisible to ``os.fsync``)."""

    fsyncs: int = 0
    fsync_seconds: float = 0.0
    commits: int = 0
    commit_seconds: float = 0.0
    statements: int = 0
    statement_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _started: threading.local = field(default_factory=threading.local, repr=False)

    @contextlib.contextmanager
    def installed(self, engine: Engine) -> Iterator[Instruments]:
        real_fsync = os.fsync
        dialect: Any = engine.dialect
        real_commit = dialect.do_commit

        def counted_fsync(fd: Any) -> None:
            start = time.perf_counter()
            try:
                real_fsync(fd)
            finally:
                spent = time.perf_counter() - start
                with self._lock:
                    self.fsyncs += 1
                    self.fsync_seconds += spent

        def timed_commit(dbapi_connection: Any) -> None:
            start = time.perf_counter()
            try:
                real_commit(dbapi_connection)
            finally:
                spent = time.perf_counter() - start
                with self._lock:
                    self.commits += 1
                    self.commit_seconds += spent

        def before(*_args: Any) -> None:
            self._started.at = time.perf_counter()

        def after(*_args: Any) -> None:
            spent = time.perf_counter() - getattr(self._started, "at", time.perf_counter())
            with self._lock:
                self.statements += 1
                self.statement_seconds += spent

        os.fsync = counted_fsync
        dialect.do_commit = timed_commit
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            yield self
        finally:
            os.fsync = real_fsync
            del dialect.do_commit  # the class's method again
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)

    def per(self, count: int) -> dict[str, float]:
        n = max(count, 1)
        return {
            "fsyncs_per_file": self.fsyncs / n,
            "fsync_ms_per_file": self.fsync_seconds / n * 1e3,
            "commits_per_file": self.commits / n,
            "commit_ms_per_file": self.commit_seconds / n * 1e3,
            "sql_statements_per_file": self.statements / n,
            "sql_ms_per_file": self.statement_seconds / n * 1e3,
        }


# ------------------------------------------------------------------------ the store
def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def tally(store: Store) -> dict[str, int]:
    """Documents by ``direction/doc_type/status`` (e.g. ``out/order/delivered``)."""
    with store.reading() as session:
        rows = session.execute(
            select(Document.direction, Document.doc_type, Document.status, func.count()).group_by(
                Document.direction, Document.doc_type, Document.status
            )
        ).all()
    return {f"{d}/{t or '-'}/{s}": int(n) for d, t, s, n in rows}


def count(tallied: dict[str, int], direction: str, doc_type: str, *statuses: str) -> int:
    """How many documents of ``doc_type`` (any status unless some are named)."""
    total = 0
    for key, n in tallied.items():
        d, t, s = key.split("/")
        if d == direction and t == doc_type and (not statuses or s in statuses):
            total += n
    return total


def inbound_done(store: Store) -> tuple[int, int]:
    """(canonical orders delivered to the ERP outbox, 997s stored)."""
    tallied = tally(store)
    return count(tallied, "out", "order", "delivered"), count(tallied, "out", "997")


def order_deliveries(store: Store, channel: str) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """For each received file on ``channel``: (its name, its receipt, its order's delivery to
    the ERP outbox), from the rows' ``created_at`` and the order's ``delivered`` event."""
    order = aliased(Document)
    child = aliased(Document)
    received = aliased(Document)
    with store.reading() as session:
        rows = session.execute(
            select(received.filename, received.created_at, AuditEvent.at)
            .join(child, child.parent_id == received.id)
            .join(order, order.parent_id == child.id)
            .join(AuditEvent, AuditEvent.document_id == order.id)
            .where(
                received.channel == channel,
                received.parent_id.is_(None),
                order.doc_type == "order",
                AuditEvent.event == "delivered",
            )
        ).all()
    return [(name or "", _utc(r), _utc(d)) for name, r, d in rows]


def last_created(store: Store, doc_type: str) -> dt.datetime | None:
    """When the newest document of ``doc_type`` was stored."""
    with store.reading() as session:
        value = session.execute(
            select(func.max(Document.created_at)).where(Document.doc_type == doc_type)
        ).scalar()
    return _aware(value)


def last_event(store: Store, *events: str, since: dt.datetime | None = None) -> dt.datetime | None:
    with store.reading() as session:
        stmt = select(func.max(AuditEvent.at)).where(AuditEvent.event.in_(events))
        if since is not None:
            stmt = stmt.where(AuditEvent.at >= since)
        value = session.execute(stmt).scalar()
    return _aware(value)


def first_event(store: Store, *events: str, since: dt.datetime | None = None) -> dt.datetime | None:
    with store.reading() as session:
        stmt = select(func.min(AuditEvent.at)).where(AuditEvent.event.in_(events))
        if since is not None:
            stmt = stmt.where(AuditEvent.at >= since)
        value = session.execute(stmt).scalar()
    return _aware(value)


def _utc(value: Any) -> dt.datetime:
    aware = _aware(value)
    assert aware is not None
    return aware


def _aware(value: Any) -> dt.datetime | None:
    """func.max on SQLite returns the stored text; on PostgreSQL an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def wait_for(
    done: Callable[[], tuple[int, int]],
    total: int,
    *,
    label: str,
    progress: Progress,
    timeout: float,
    interval: float = 0.2,
    alive: Callable[[], bool] | None = None,
) -> bool:
    """Poll ``done()`` -> (done, needed) until done >= needed; False on timeout, or when
    ``alive()`` says the processes doing the work have all ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished, needed = done()
        progress(label, min(finished, total), total)
        if finished >= needed:
            return True
        if alive is not None and not alive():
            finished, needed = done()
            return finished >= needed
        time.sleep(interval)
    return False


# ------------------------------------------------------------------------ child processes
def edigate_command(toml: Path, *args: str) -> list[str]:
    """``edigate --config toml <args>`` with this interpreter (no PATH lookup)."""
    return [sys.executable, "-m", "edigate", "--config", str(toml), *args]


@dataclass
class ChildRun:
    returncode: int
    seconds: float
    max_rss_mb: float
    output: str
    #: CPU seconds of the child itself, in user space and in the kernel (wait4).
    user_s: float = 0.0
    system_s: float = 0.0


def run_measured(
    command: list[str], *, timeout: float, env: dict[str, str] | None = None
) -> ChildRun:
    """Run ``command`` to its end; its own CPU comes from ``wait4`` (not RUSAGE_CHILDREN,
    the total over every child ever waited for), its own peak RSS from :class:`ChildPeak`."""
    start = time.perf_counter()
    with open(os.devnull, "rb") as stdin, _captured() as out:
        proc = subprocess.Popen(command, stdin=stdin, stdout=out, stderr=subprocess.STDOUT, env=env)
        peak = ChildPeak(proc.pid)
        status, usage = _wait4(proc, timeout, peak)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    seconds = time.perf_counter() - start
    return ChildRun(
        os.waitstatus_to_exitcode(status),
        seconds,
        peak.of(usage.ru_maxrss),
        text,
        usage.ru_utime,
        usage.ru_stime,
    )


def require_ok(run: ChildRun, what: str) -> None:
    """Stop the benchmark, with the end of its output, when ``what`` (a child) failed."""
    if run.returncode != 0:
        from ..errors import EdigateError

        raise EdigateError(f"benchmark {what} failed:\n{run.output[-3000:]}")


@contextlib.contextmanager
def _captured() -> Iterator[Any]:
    import tempfile

    with tempfile.TemporaryFile() as out:
        yield out


def _wait4(proc: subprocess.Popen[bytes], timeout: float, peak: ChildPeak) -> tuple[int, Any]:
    deadline = time.monotonic() + timeout
    while True:
        peak.sample()
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, usage
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            raise EdigateError(f"{' '.join(proc.args)} ran over {timeout:.0f} s and was killed")  # type: ignore[arg-type]
        time.sleep(0.05)


@dataclass
class Child:
    """A worker process whose own rusage is read by ``wait4``."""

    proc: subprocess.Popen[bytes]
    log: Path
    peak: ChildPeak
    returncode: int | None = None
    cpu_seconds: float = 0.0
    max_rss_mb: float = 0.0

    @classmethod
    def launch(cls, command: list[str], log: Path) -> Child:
        with log.open("wb") as out, open(os.devnull, "rb") as stdin:
            proc = subprocess.Popen(command, stdin=stdin, stdout=out, stderr=subprocess.STDOUT)
        return cls(proc, log, ChildPeak(proc.pid))

    def poll(self) -> bool:
        """True while running; collects the rusage once it ended."""
        if self.returncode is not None:
            return False
        self.peak.sample()
        pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return True
        self.returncode = os.waitstatus_to_exitcode(status)
        self.proc.returncode = self.returncode
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.max_rss_mb = self.peak.of(usage.ru_maxrss)
        return False

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.poll():
            if time.monotonic() > deadline:
                self.proc.kill()
            time.sleep(0.05)

    def stop(self, timeout: float) -> None:
        """SIGTERM (``edigate worker`` finishes the document in hand and exits), then wait."""
        if self.poll():
            self.proc.send_signal(signal.SIGTERM)
        self.wait(timeout)

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]


# ------------------------------------------------------------------------ the machine
def cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def busy_percent(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The machine's CPU use between two :func:`cpu_times` (100 % = every core busy)."""
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1]) * 100
