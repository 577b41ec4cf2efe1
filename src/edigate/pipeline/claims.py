"""Which claims a starting worker may take back at once instead of waiting out their lease.

A worker that dies (kill -9, a crash, a power cut) leaves its claims behind; another worker
retakes them when their lease passes (``[worker] lease_seconds``, 5 minutes by default). On
one host that wait is not needed for a claim whose holder is this worker's own name (the
same worker restarted), or a default-named worker of this host and PID namespace whose
process is gone: it is dead for sure. Claims of live processes, of other hosts or
containers (another PID namespace: its pids mean nothing here) and of named workers are left
to their leases, so several workers can share one database (SQLite on one host included)
without one taking back what another is working on. A worker restarted in a new container
takes its claims back at once only under a stable name (``edigate worker --name``,
``edigate serve --name``), which also holds on PostgreSQL, where a starting worker frees
its own name's claims and no others.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..store import Store
from .erp import ErpFolder
from .name_locks import name_lock

#: The names of the workers created in this process (see :func:`holder_is_gone`).
_LIVE: set[str] = set()
_LIVE_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Here:
    """Where this process runs: what a default worker name records."""

    host: str
    namespace: str  # the PID namespace's inode, "0" when unknown
    pid: int

    @classmethod
    def now(cls) -> Here:
        try:
            link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
            namespace = "".join(c for c in link if c.isdigit()) or "0"
        except OSError:
            namespace = "0"
        return cls(socket.gethostname(), namespace, os.getpid())


def default_worker_name(tag: int) -> str:
    """``host:pidns:pid:tag``: a worker name that says where its process runs."""
    here = Here.now()
    return f"{here.host}:{here.namespace}:{here.pid}:{tag & 0xFFFF:x}"


def register(name: str) -> None:
    """Note a worker of this process (its claims are never another's to take back)."""
    with _LIVE_LOCK:
        _LIVE.add(name)


def holder_is_gone(holder: str, me: str, here: Here | None = None) -> bool:
    """True when ``holder`` is ``me`` (restarted) or a default-named worker of this host and
    PID namespace whose process no longer runs (or, with this process's pid, is not one of
    this process's workers: an earlier process with the same pid, such as a container's
    pid 1 after a restart)."""
    if holder == me:
        return True
    here = here or Here.now()
    parts = holder.split(":")
    if len(parts) != 4 or here.namespace == "0":
        return False
    host, namespace, pid = parts[0], parts[1], parts[2]
    if (host, namespace) != (here.host, here.namespace) or not pid.isdigit():
        return False
    if int(pid) == here.pid:
        with _LIVE_LOCK:
            return holder not in _LIVE
    return not _process_runs(int(pid))


def release_dead_claims(store: Store, me: str) -> int:
    """Free the claims of the workers :func:`holder_is_gone` says are gone; how many."""
    here = Here.now()
    gone = [holder for holder in store.claim_holders() if holder_is_gone(holder, me, here)]
    return store.release_claims(gone)


def release_gateway_claims(store: Store, name: str) -> int:
    """Free what a predecessor of ``edigate serve --name NAME`` held: NAME (its worker
    thread) and NAME/1, NAME/2 ... (its worker processes), whatever its worker count was.
    Called before serve starts its own workers; a name a live process still holds (a worker
    of a serve killed a moment ago, finishing its batch) keeps its claims (``name_locks``)."""
    return _release_gateway(
        store, name, store.claim_holders(), lambda holder: store.release_claims([holder])
    )


def release_gateway_files(store: Store, erp: ErpFolder, name: str) -> int:
    """:func:`release_gateway_claims` for the ERP inbox: the files NAME and NAME/… were
    taking when they died are given back at once."""
    return _release_gateway(
        store, name, erp.takers(), lambda holder: erp.release_taken_by([holder])
    )


def _release_gateway(
    store: Store, name: str, holders: Iterable[str], release: Callable[[str], int]
) -> int:
    """``release`` each of ``holders`` that is NAME or NAME/… and no live process holds."""
    prefix = name + "/"
    freed = 0
    for holder in holders:
        if holder != name and not holder.startswith(prefix):
            continue
        lock = name_lock(store, holder)
        if lock.try_acquire():
            try:
                freed += release(holder)
            finally:
                lock.release()
    return freed


def _process_runs(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: running
    return True
