"""A full disk under the blob store: a 1 MiB tmpfs mounted as ``data/blobs``.

``Store.receive()`` raises a clean ``StoreError`` for a file that needs the volume, an SFTP
client's put fails, no row points at a missing or partial blob, no temp file is left; a small
file (kept in the database) is still received; once space is freed, receiving works.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from edigate.channels.base import store_handler
from edigate.channels.sftp_auth import Account, StaticAccounts
from edigate.channels.sftp_server import SftpServer
from edigate.errors import StoreError
from edigate.store import Document, Store
from edigate.store.inline_blobs import INLINE_MAX

from ..channels.conftest import make_ed25519
from .harness import RETAILER, sftp_session

SIZE = 1 << 20  # the volume: 1 MiB


@contextlib.contextmanager
def small_volume(folder: Path) -> Iterator[Path]:
    folder.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'mount failed'})")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def rows_and_blobs_agree(store: Store) -> list[str]:
    """The names of the received documents, after checking each row's blob is whole."""
    with store.session() as session:
        docs = list(session.scalars(select(Document).order_by(Document.id)))
        for doc in docs:
            data = store.content(doc)
            assert hashlib.sha256(data).hexdigest() == doc.blob_sha256 and len(data) == doc.size
        return [doc.filename or "" for doc in docs]


def leftovers(blobs: Path) -> list[Path]:
    return [p for p in (blobs / "tmp").iterdir()]


def test_a_full_blob_volume_refuses_cleanly_and_recovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with small_volume(data / "blobs") as blobs:
        store = Store.open(data)
        key = make_ed25519(tmp_path / "acme_key")
        server = SftpServer(
            root=tmp_path / "sftp",
            host_key_path=tmp_path / "host_key",
            accounts=StaticAccounts([Account("acme", "acme-retail", authorized_keys=(key.line,))]),
            handler=store_handler(store),
            port=0,
        )
        server.start()
        try:
            big = os.urandom(SIZE + 200_000)  # more than the whole volume
            with pytest.raises(StoreError) as info:
                store.receive(big, channel="test", filename="big.bin")
            assert "No space left" in str(info.value) or "space" in str(info.value).lower()
            with sftp_session(server.address[1], key.path) as sftp, pytest.raises(OSError):
                sftp.putfo(io.BytesIO(big), "/in/big.edi")
            assert rows_and_blobs_agree(store) == []  # nothing half-stored
            assert leftovers(blobs) == []

            # Fill what is left, so that even a small file does not fit.
            filler = blobs / "filler"
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * 4096)
            finally:
                os.close(fd)
            # A file too large for the database needs the blob volume: refused.
            medium = RETAILER.read_bytes() * (INLINE_MAX // len(RETAILER.read_bytes()) + 1)
            assert len(medium) > INLINE_MAX
            with pytest.raises(StoreError):
                store.receive(medium, channel="test", filename="medium.edi")
            assert leftovers(blobs) == []
            # A small one is kept in the database with its row: the full volume is no matter.
            store.receive(RETAILER.read_bytes(), channel="test", filename="small.edi")
            assert not any(blobs.glob("*/*/*")), "a small document went to the blob volume"

            filler.unlink()  # space is freed: receiving works again
            store.receive(medium, channel="test", filename="medium.edi")
            with sftp_session(server.address[1], key.path) as sftp:
                sftp.putfo(io.BytesIO(RETAILER.read_bytes()), "/in/po.edi")
            assert rows_and_blobs_agree(store) == ["small.edi", "medium.edi", "po.edi"]
            assert leftovers(blobs) == []
        finally:
            server.stop()
            store.close()


def test_an_sftp_upload_whose_writes_failed_is_not_received(tmp_path: Path) -> None:
    """The SFTP root's volume fills up mid-upload: a write fails (ENOSPC). Clients go on
    writing and close; the close must fail too and nothing be stored, or a cut-short order
    would be processed and the sender's full resend held as its duplicate."""
    store = Store.open(tmp_path / "data")
    key = make_ed25519(tmp_path / "acme_key")
    with small_volume(tmp_path / "sftp") as root:
        server = SftpServer(
            root=root,
            host_key_path=tmp_path / "host_key",
            accounts=StaticAccounts([Account("acme", "acme-retail", authorized_keys=(key.line,))]),
            handler=store_handler(store),
            port=0,
        )
        server.start()
        try:
            big = RETAILER.read_bytes() * (2 * SIZE // len(RETAILER.read_bytes()))
            for name in ("/in/big.edi", "/in/.big.edi.part"):  # direct, and staged for a rename
                with sftp_session(server.address[1], key.path) as sftp, pytest.raises(OSError):
                    sftp.putfo(io.BytesIO(big), name)  # its stat after the close: not there
                with sftp_session(server.address[1], key.path) as sftp:
                    with pytest.raises(OSError):
                        sftp.rename(name, "/in/renamed.edi")  # nothing staged to rename
                    assert [e for e in sftp.listdir("/in") if "big" in e] == []
            assert rows_and_blobs_agree(store) == []
            assert [p.name for p in root.rglob("*") if p.is_file()] == []  # no temp left behind
            with sftp_session(server.address[1], key.path) as sftp:  # the space is free again
                sftp.putfo(io.BytesIO(RETAILER.read_bytes()), "/in/po.edi")
            assert rows_and_blobs_agree(store) == ["po.edi"]
        finally:
            server.stop()
            store.close()
