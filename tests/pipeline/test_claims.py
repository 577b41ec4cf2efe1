"""Several workers on one database: a starting worker frees the claims of dead workers of
its host (and its own name's), never those of a live one."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from edigate.app import Gateway
from edigate.config import load_config
from edigate.pipeline.claims import Here, default_worker_name, holder_is_gone, register
from edigate.store import Document, Status

from .test_crash import RETAILER, ROOT, edigate, many_orders

HOST = socket.gethostname()
HERE = Here.now()
NS = HERE.namespace


def name_of(pid: int | str, tag: str = "1a2b", host: str = HOST, ns: str = NS) -> str:
    """A default worker name (``host:pidns:pid:tag``)."""
    return f"{host}:{ns}:{pid}:{tag}"


@pytest.fixture
def gone_pid() -> int:
    """The pid of a process that ran and was reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of a process that runs for the whole test."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc.pid
    proc.kill()
    proc.wait(timeout=30)


def test_a_dead_worker_of_this_host_and_the_workers_own_name_are_gone(
    gone_pid: int, live_pid: int
) -> None:
    assert NS != "0", "this machine shows no PID namespace (/proc/self/ns/pid)"
    assert holder_is_gone(name_of(gone_pid), "me", HERE)
    assert holder_is_gone("w1", "w1", HERE)  # the same worker, restarted under its name


@pytest.mark.parametrize(
    "holder",
    [
        "{host}:{ns}:{live}:1a2b",  # a live process of this host
        "other-host:{ns}:{gone}:1a2b",  # another host's processes cannot be seen from here
        "{host}:1{ns}:{gone}:1a2b",  # nor another container's (PID namespace)
        "w2",  # a named worker: its lease frees it
        "{host}:{ns}:x{gone}:1a2b",  # not a pid
        "{host}:{gone}:1a2b",  # not a default name (the format before PID namespaces)
    ],
)
def test_a_live_named_or_foreign_worker_is_not_gone(
    holder: str, gone_pid: int, live_pid: int
) -> None:
    name = holder.format(host=HOST, ns=NS, live=live_pid, gone=gone_pid)
    assert not holder_is_gone(name, "me", HERE)


def test_a_worker_of_this_process_is_not_gone_but_an_earlier_process_with_its_pid_is() -> None:
    """A container's pid 1 restarted has the pid of the serve that died: its old workers'
    claims are free, those of workers living in this process are not."""
    mine = name_of(os.getpid(), "beef")
    register(mine)
    assert not holder_is_gone(mine, "me", HERE)
    assert holder_is_gone(name_of(os.getpid(), "dead"), "me", HERE)


def test_the_default_worker_name_says_host_namespace_and_pid() -> None:
    assert default_worker_name(0x1234ABCD) == name_of(os.getpid(), "abcd")


def _claim_as(gateway: Gateway, holders: list[str]) -> list[int]:
    """One received document claimed by each of ``holders``; their ids."""
    ids = []
    for n, holder in enumerate(holders):
        doc = gateway.store.receive(RETAILER.read_bytes() + b" " * n, channel="cli")
        with gateway.store.session() as session:
            session.execute(
                update(Document)
                .where(Document.id == doc.document_id)
                .values(claimed_by=holder, claimed_at=Document.created_at)
            )
        ids.append(doc.document_id)
    return ids


def _holders(gateway: Gateway, ids: list[int]) -> list[str | None]:
    with gateway.store.session() as session:
        return [gateway.store.get(session, i).claimed_by for i in ids]


def test_a_starting_worker_frees_only_dead_claims_on_sqlite_and_its_own_on_postgres(
    gateway: Gateway, gone_pid: int, live_pid: int
) -> None:
    holders = [name_of(gone_pid, "1"), name_of(live_pid, "2"), "other-host:1:1:3", "w1", "w2"]
    ids = _claim_as(gateway, holders)
    freed = gateway.worker("w1").release_dead_claims()
    if gateway.store.engine.dialect.name == "sqlite":
        assert freed == 2
        assert _holders(gateway, ids) == [None, holders[1], holders[2], None, "w2"]
    else:  # workers on other hosts share the database: only its own name, by name
        assert freed == 1
        assert _holders(gateway, ids) == [*holders[:3], None, "w2"]


def _workspace(tmp_path: Path) -> None:
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / "config" / name)


def _gateway(tmp_path: Path) -> Gateway:
    return Gateway(
        load_config(None, environ={}, data_dir=tmp_path / "data", config_dir=tmp_path / "config")
    )


def test_edigate_worker_leaves_a_live_workers_claim_alone(tmp_path: Path, live_pid: int) -> None:
    """The regression: a worker starting on SQLite used to free every claim, so a second
    worker took over documents the first was working on."""
    _workspace(tmp_path)
    gateway = _gateway(tmp_path)
    try:
        live = name_of(live_pid, "1")
        held, dead = _claim_as(gateway, [live, name_of(999_999_999, "2")])
    finally:
        gateway.close()
    done = subprocess.run(
        edigate(tmp_path, "worker", "--until-idle"), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    gateway = _gateway(tmp_path)
    try:
        with gateway.store.session() as session:
            kept, freed = gateway.store.get(session, held), gateway.store.get(session, dead)
            assert (kept.status, kept.claimed_by) == (Status.RECEIVED.value, live)
            assert (freed.status, freed.claimed_by) == (Status.TRANSLATED.value, None)
    finally:
        gateway.close()


def test_two_worker_processes_share_a_sqlite_store_and_deliver_each_order_once(
    tmp_path: Path,
) -> None:
    _workspace(tmp_path)
    files = [tmp_path / f"po-{n}.edi" for n in range(6)]
    for n, path in enumerate(files):
        path.write_bytes(many_orders(20, n).replace(b"000004211", f"00000421{n}".encode()))
    subprocess.run(
        edigate(tmp_path, "receive", "--no-process", *map(str, files)), check=True, timeout=120
    )
    workers = [
        subprocess.Popen(
            edigate(tmp_path, "worker", "--until-idle", "--name", f"w{n}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    orders = sorted((tmp_path / "data/erp/outbox/orders").glob("*.json"))
    po_numbers = [json.loads(p.read_text())["po_number"] for p in orders]
    assert len(po_numbers) == 120 and len(set(po_numbers)) == 120


def test_a_named_worker_takes_its_claims_back_only_once_no_live_process_holds_its_name(
    gateway: Gateway,
) -> None:
    """The name's holder might be a worker of a serve killed a moment ago, still finishing
    its batch: its claims are not the successor's until it has stopped."""
    import threading

    from edigate.pipeline.name_locks import name_lock

    (held,) = _claim_as(gateway, ["w1"])
    alive = name_lock(gateway.store, "w1")
    assert alive.try_acquire()  # "another process" (flock: another open file) holds w1
    successor = gateway.worker("w1")
    freed: list[int] = []
    waiting = threading.Thread(target=lambda: freed.append(successor.release_dead_claims()))
    waiting.start()
    try:
        waiting.join(1.5)
        assert waiting.is_alive() and _holders(gateway, [held]) == ["w1"]
    finally:
        alive.release()  # it stopped
    waiting.join(10)
    assert freed == [1] and _holders(gateway, [held]) == [None]


def test_serve_takes_back_only_the_names_no_live_process_holds(gateway: Gateway) -> None:
    from edigate.pipeline.claims import release_gateway_claims
    from edigate.pipeline.name_locks import name_lock

    ids = _claim_as(gateway, ["gw", "gw/1", "gw/2", "gw2/1"])
    alive = name_lock(gateway.store, "gw/1")
    assert alive.try_acquire()
    try:
        assert release_gateway_claims(gateway.store, "gw") == 2
    finally:
        alive.release()
    assert _holders(gateway, ids) == [None, "gw/1", None, "gw2/1"]
    assert name_lock(gateway.store, "gw/2").try_acquire()  # none left held
