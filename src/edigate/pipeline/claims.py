"""Which claims a starting worker may take back at once instead of waiting out their lease.

A worker that dies (kill -9, a crash, a power cut) leaves its claims behind; another worker
retakes them when their lease passes (``[worker] lease_seconds``, 5 minutes by default). On
one host that wait is not needed: a claim whose holder is this worker's own name (the same
worker restarted) or a default-named worker of this host whose process is gone is dead
for sure. Claims of live processes, of other hosts and of named workers are left to their
leases, so several workers can share one database (SQLite on one host included) without
one taking back what another is working on.
"""

from __future__ import annotations

import os
import socket

from ..store import Store


def default_worker_name(tag: int) -> str:
    """``host:pid:tag``: a worker name that says where its process runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{tag & 0xFFFF:x}"


def holder_is_gone(holder: str, me: str, host: str | None = None) -> bool:
    """True when ``holder`` is ``me`` (restarted) or a default-named worker of ``host`` (this
    host by default) whose process no longer runs."""
    if holder == me:
        return True
    parts = holder.split(":")
    if len(parts) != 3 or parts[0] != (host or socket.gethostname()) or not parts[1].isdigit():
        return False
    return not _process_runs(int(parts[1]))


def release_dead_claims(store: Store, me: str) -> int:
    """Free the claims of the workers :func:`holder_is_gone` says are gone; how many."""
    host = socket.gethostname()
    gone = [holder for holder in store.claim_holders() if holder_is_gone(holder, me, host)]
    return store.release_claims(gone)


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
