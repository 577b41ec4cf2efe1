"""Starting together and making folders: processes opening one fresh PostgreSQL database at
once all migrate it cleanly, and folders made for blobs or written files are fsynced into
their parents (else a crash can lose a durable file with its folder)."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from edigate.fsutil import atomic_write_many
from edigate.store import BlobStore


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """An empty database of its own (the session's is migrated already), dropped after."""
    import psycopg

    name = f"edigate_fresh_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{postgres_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _open_store(
    url: str, data_dir: str, barrier: Barrier, queue: multiprocessing.Queue[str]
) -> None:
    from edigate.store import Store

    barrier.wait(60)  # imports done: all open (and migrate) at the same moment
    try:
        Store.open(data_dir, url).close()
        queue.put("ok")
    except Exception as exc:
        queue.put(f"{type(exc).__name__}: {exc}".splitlines()[0])


def test_processes_opening_a_fresh_postgres_database_at_once_all_start(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[str] = ctx.Queue()
    barrier = ctx.Barrier(4)
    procs = [
        ctx.Process(
            target=_open_store, args=(fresh_postgres_url, str(tmp_path / f"d{n}"), barrier, queue)
        )
        for n in range(4)
    ]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert outcomes == ["ok"] * 4


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths fsynced from now on (the real fsync still runs)."""
    paths: list[Path] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        paths.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    return paths


@pytest.mark.parametrize("grouped", [False, True], ids=["put", "group"])
def test_new_blob_folders_are_fsynced_into_their_parents(
    tmp_path: Path, fsynced: list[Path], grouped: bool
) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    if grouped:
        with blobs.group():
            ref = blobs.put(b"x" * 200_000)
    else:
        ref = blobs.put(b"x" * 200_000)
    cd = blobs.path(ref.sha256).parent
    ab = cd.parent
    assert {cd, ab, blobs.root} <= set(fsynced)


def test_a_new_blob_store_root_is_fsynced_into_its_parent(
    tmp_path: Path, fsynced: list[Path]
) -> None:
    BlobStore(tmp_path / "data" / "blobs")
    assert {tmp_path, tmp_path / "data", tmp_path / "data" / "blobs"} <= set(fsynced)


def test_atomic_write_many_fsyncs_the_folders_it_makes_into_their_parents(
    tmp_path: Path, fsynced: list[Path]
) -> None:
    out = tmp_path / "out"
    items = [(out / "a" / "b" / "one.json", b"1"), (out / "a" / "c" / "two.json", b"2")]
    assert atomic_write_many(items) == [None, None]
    assert {tmp_path, out, out / "a", out / "a" / "b", out / "a" / "c"} <= set(fsynced)
