"""Watched folders: only complete files are taken, and only stored files are moved away."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from edigate.channels.base import DeliveryError, Inbound, Outbound, store_handler
from edigate.channels.folder import FolderInbound, FolderOutbound
from edigate.channels.sftp_pickup import SftpPickup
from edigate.store import Document, Store

from .conftest import Events


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    path = tmp_path / "drop"
    path.mkdir()
    return path


def stored(store: Store) -> list[tuple[str | None, str | None, str, bytes]]:
    with store.session() as session:
        docs = session.query(Document).order_by(Document.id)
        return [(d.partner_id, d.filename, d.channel, store.content(d)) for d in docs]


def test_a_growing_file_is_not_taken_until_it_settles(
    drop: Path, store: Store, events: Events
) -> None:
    clock = Clock()
    inbound = FolderInbound(
        drop,
        store_handler(store),
        partner_id="acme",
        settle_seconds=2,
        clock=clock,
        on_event=events,
    )
    po = drop / "po.edi"
    po.write_bytes(b"ISA*00*")
    assert inbound.poll_once() == []  # first look
    with po.open("ab") as f:
        f.write(b"more segments~")
    clock.now += 5
    assert inbound.poll_once() == []  # changed since the last look: still being written
    clock.now += 1
    assert inbound.poll_once() == []  # stable, but not for 2 seconds yet
    clock.now += 1.5
    (receipt,) = inbound.poll_once()
    assert stored(store) == [("acme", "po.edi", "folder", b"ISA*00*more segments~")]
    assert receipt.size == 21
    assert not po.exists()
    assert (drop / "archive" / "po.edi").read_bytes() == b"ISA*00*more segments~"
    assert events.of("file_received")[0]["document_id"] == receipt.document_id


def test_temp_names_links_and_other_patterns_are_never_taken(
    drop: Path, store: Store, tmp_path: Path
) -> None:
    clock = Clock()
    inbound = FolderInbound(
        drop, store_handler(store), pattern="*.edi", settle_seconds=1, clock=clock
    )
    for name in (".po.edi", "po.edi.tmp", "po.edi.part", "po.edi.filepart", "notes.txt"):
        (drop / name).write_bytes(b"x")
    outside = tmp_path / "outside.edi"
    outside.write_bytes(b"secret")
    (drop / "link.edi").symlink_to(outside)
    for _ in range(3):
        assert inbound.poll_once() == []
        clock.now += 2
    assert stored(store) == []
    assert len(list(drop.iterdir())) == 6


def test_a_failing_store_leaves_the_file_for_the_next_round(
    drop: Path, store: Store, events: Events
) -> None:
    clock = Clock()
    calls: list[str] = []
    real = store_handler(store)

    def flaky(inbound: Inbound) -> Any:
        calls.append(inbound.filename or "")
        if len(calls) == 1:
            raise OSError("No space left on device")
        return real(inbound)

    inbound = FolderInbound(drop, flaky, settle_seconds=1, clock=clock, on_event=events)
    (drop / "inv.xml").write_bytes(b"<Invoice/>")
    inbound.poll_once()
    clock.now += 1
    assert inbound.poll_once() == []
    assert (drop / "inv.xml").exists() and stored(store) == []
    assert "No space left" in events.of("file_failed")[0]["error"]
    clock.now += 1
    assert len(inbound.poll_once()) == 1
    assert calls == ["inv.xml", "inv.xml"]
    assert stored(store) == [(None, "inv.xml", "folder", b"<Invoice/>")]
    assert not (drop / "inv.xml").exists()


def test_delete_mode_and_archive_name_clashes(drop: Path, store: Store, tmp_path: Path) -> None:
    clock = Clock()
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.edi").write_bytes(b"older")
    keep = FolderInbound(
        drop, store_handler(store), settle_seconds=0, archive_dir=archive, clock=clock
    )
    (drop / "a.edi").write_bytes(b"newer")
    keep.poll_once()
    assert keep.poll_once() != []
    assert (archive / "a.edi").read_bytes() == b"older"
    assert sorted(p.read_bytes() for p in archive.iterdir()) == [b"newer", b"older"]
    gone = FolderInbound(drop, store_handler(store), settle_seconds=0, delete=True, clock=clock)
    (drop / "b.edi").write_bytes(b"b")
    gone.poll_once()
    gone.poll_once()
    assert list(drop.iterdir()) == []


def test_the_poll_loop_takes_files_in_the_background(drop: Path, store: Store) -> None:
    inbound = FolderInbound(drop, store_handler(store), settle_seconds=0.05, interval=0.02)
    inbound.start()
    try:
        (drop / "po.edi").write_bytes(b"ISA")
        deadline = time.monotonic() + 5
        while not stored(store) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        inbound.stop()
    assert stored(store) == [(None, "po.edi", "folder", b"ISA")]


def test_folder_outbound_writes_complete_files_and_never_overwrites(tmp_path: Path) -> None:
    out = FolderOutbound(tmp_path / "outbox")
    first = out.send(Outbound(1, "acme", "855.edi", b"ISA*1"))
    assert first.meta["path"] == str(tmp_path / "outbox" / "acme" / "855.edi")
    again = out.send(Outbound(1, "acme", "855.edi", b"ISA*1"))  # a retry: same file
    assert again.meta["path"] == first.meta["path"]
    other = out.send(Outbound(2, "acme", "855.edi", b"ISA*2"))  # same name, other document
    assert other.meta["path"] == str(tmp_path / "outbox" / "acme" / "855.2.edi")
    names = sorted(os.listdir(tmp_path / "outbox" / "acme"))
    assert names == ["855.2.edi", "855.edi"]  # no temp files left behind
    assert (tmp_path / "outbox" / "acme" / "855.edi").read_bytes() == b"ISA*1"


@pytest.mark.parametrize("name", ["../escape.edi", "a/b.edi", ".hidden", "x.tmp", ""])
def test_unsafe_outbound_names_are_not_retried(tmp_path: Path, name: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        FolderOutbound(tmp_path / "outbox").send(Outbound(1, "acme", name, b"ISA"))
    assert caught.value.retryable is False
    assert not (tmp_path / "escape.edi").exists()


def test_pickup_rejects_unsafe_partner_ids_and_purges_old_files(tmp_path: Path) -> None:
    pickup = SftpPickup(tmp_path / "sftp", retention_days=7)
    with pytest.raises(DeliveryError):
        pickup.send(Outbound(1, "../etc", "855.edi", b"ISA"))
    pickup.send(Outbound(2, "acme", "old.edi", b"ISA*old"))
    pickup.send(Outbound(3, "acme", "new.edi", b"ISA*new"))
    out = tmp_path / "sftp" / "acme" / "out"
    (out / ".crash.tmp").write_bytes(b"left by a crash")
    now = time.time()
    for name, age_days in (("old.edi", 8), (".crash.tmp", 2)):
        os.utime(out / name, (now - age_days * 86400, now - age_days * 86400))
    removed = pickup.purge(now=now)
    assert sorted(p.name for p in removed) == [".crash.tmp", "old.edi"]
    assert [p.name for p in out.iterdir()] == ["new.edi"]


def test_a_missing_watched_folder_is_created_at_start_and_said_once(
    tmp_path: Path, store: Store, events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    """``[[folders]] path = "drop/acme"`` with no such folder: mkdir -p, one info line,
    never a FileNotFoundError traceback every round."""
    folder = tmp_path / "drop" / "acme"
    inbound = FolderInbound(folder, store_handler(store), settle_seconds=0, on_event=events)
    with caplog.at_level("DEBUG"):
        assert inbound.poll_once() == []
        assert inbound.poll_once() == []
    assert folder.is_dir()
    assert [f["folder"] for f in events.of("folder_created")] == [str(folder)]
    assert not [r for r in caplog.records if r.exc_info or r.levelname == "ERROR"]
    (folder / "po.edi").write_bytes(b"ISA*00*")
    inbound.poll_once()
    assert len(inbound.poll_once()) == 1


def test_a_folder_that_cannot_be_created_is_one_error_line_until_it_recovers(
    tmp_path: Path, store: Store, events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    """The parent is a file: one error naming the folder and why, no traceback; quiet
    retries; again only when the reason changes, and one line when it recovers."""
    parent = tmp_path / "drop"
    parent.write_text("not a folder")
    folder = parent / "acme"
    inbound = FolderInbound(folder, store_handler(store), settle_seconds=0, on_event=events)
    with caplog.at_level("DEBUG", logger="edigate"):
        for _ in range(3):
            assert inbound.poll_once() == []
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert str(folder) in errors[0].getMessage()
    assert "Not a directory" in errors[0].getMessage()
    (unavailable,) = events.of("folder_unavailable")
    assert unavailable["folder"] == str(folder)

    parent.unlink()
    parent.mkdir(mode=0o500)  # now a folder, but not writable: another reason
    try:
        if os.geteuid() != 0:  # root writes anywhere
            for _ in range(2):
                inbound.poll_once()
            assert len(events.of("folder_unavailable")) == 2
            assert "Permission denied" in events.of("folder_unavailable")[1]["error"]
    finally:
        parent.chmod(0o700)
    inbound.poll_once()
    inbound.poll_once()
    assert folder.is_dir()
    assert len(events.of("folder_created")) == 1
    assert len(events.of("folder_unavailable")) == (2 if os.geteuid() != 0 else 1)
    assert not [r for r in caplog.records if r.exc_info]


def test_a_missing_folder_is_created_when_the_watcher_starts(
    tmp_path: Path, store: Store, events: Events
) -> None:
    folder = tmp_path / "in" / "acme"
    inbound = FolderInbound(folder, store_handler(store), interval=60, on_event=events)
    inbound.start()
    try:
        assert folder.is_dir()  # before start() returned, not in a later round
        assert len(events.of("folder_created")) == 1
    finally:
        inbound.stop()
