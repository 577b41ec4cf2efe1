"""Uploads become documents exactly when the client commits them; nothing else is kept."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko
import pytest
from paramiko.sftp import CMD_CLOSE

from edigate.channels.base import Inbound, store_handler
from edigate.channels.sftp_pickup import SftpPickup
from edigate.channels.sftp_server import SftpServer
from edigate.errors import StoreUnavailableError
from edigate.store import Document, Store

from ..waiting import wait_until
from .conftest import Events, KeyPair, ServerFactory

PO = b"ISA*00*          *00*          *ZZ*ACME*ZZ*EDIGATE*~" + b"x" * 70_000


def documents(store: Store) -> list[Document]:
    with store.session() as session:
        return list(session.query(Document).order_by(Document.id))


def test_an_upload_is_stored_when_close_returns(
    start_server: ServerFactory,
    store: Store,
    connect: Callable[..., paramiko.SFTPClient],
    client_key: KeyPair,
    events: Events,
) -> None:
    release = threading.Event()
    entered = threading.Event()
    inner = store_handler(store)

    def slow_store(inbound: Inbound) -> Any:
        entered.set()
        release.wait(5)
        return inner(inbound)

    server = start_server(handler=slow_store)
    sftp = connect(server, "acme", pkey=client_key.key)
    f = sftp.open("/in/po-1.edi", "wb")
    f.write(PO)
    f.flush()
    assert documents(store) == []  # written, not closed: not received
    closer = threading.Thread(target=f.close)
    closer.start()
    assert entered.wait(5)
    closer.join(0.3)
    assert closer.is_alive()  # the client waits while the document is being stored
    assert documents(store) == []
    release.set()
    closer.join(5)
    assert not closer.is_alive()
    (doc,) = documents(store)  # ...and when close returned, it is there
    assert (doc.channel, doc.partner_id, doc.filename, doc.status) == (
        "sftp",
        "acme",
        "po-1.edi",
        "received",
    )
    assert store.content(doc) == PO
    assert doc.meta["username"] == "acme" and doc.meta["remote"].startswith("127.0.0.1:")
    (received,) = events.of("upload_received")
    assert received["document_id"] == doc.id and received["size"] == len(PO)
    # The client can check its upload (paramiko's put() does), but never read it back.
    assert sftp.stat("/in/po-1.edi").st_size == len(PO)
    assert sftp.listdir("/in") == ["po-1.edi"]
    with pytest.raises(PermissionError):
        sftp.open("/in/po-1.edi", "rb")
    assert list((server.root / "acme" / "in").iterdir()) == []  # nothing kept in the tree


def test_put_works_and_each_upload_is_its_own_document(
    acme: paramiko.SFTPClient, store: Store
) -> None:
    acme.putfo(io.BytesIO(b"one"), "/in/a.edi")
    acme.putfo(io.BytesIO(b"two"), "in/b.edi")
    acme.putfo(io.BytesIO(b"three"), "/in/a.edi")  # same name again: a new document
    assert [(d.filename, store.content(d)) for d in documents(store)] == [
        ("a.edi", b"one"),
        ("b.edi", b"two"),
        ("a.edi", b"three"),
    ]


def test_a_transfer_cut_off_mid_upload_stores_nothing(
    server: SftpServer,
    store: Store,
    connect: Callable[..., paramiko.SFTPClient],
    client_key: KeyPair,
    events: Events,
) -> None:
    sftp = connect(server, "acme", pkey=client_key.key)
    incoming = server.root / "acme" / "in"
    f = sftp.open("/in/big.edi", "wb")
    f.write(PO)
    f.flush()
    assert wait_until(lambda: any(p.stat().st_size > 0 for p in incoming.iterdir()))
    sftp.get_channel().get_transport().close()  # the client goes away without closing
    (discarded,) = events.wait_for("upload_discarded")
    assert discarded["filename"] == "big.edi" and discarded["partner"] == "acme"
    assert discarded["remote"].startswith("127.0.0.1:") and discarded["size"] > 0
    assert "before the file was closed" in discarded["reason"]
    assert documents(store) == []
    assert list(incoming.iterdir()) == []  # the partial file is gone
    assert events.of("upload_received") == []


def raw_close(sftp: paramiko.SFTPClient, f: paramiko.SFTPFile) -> None:
    """Send CLOSE and raise on a failure status.

    paramiko's SFTPFile.close() swallows a failed close (it assumes the connection is gone),
    so the status the server answered is read directly here, as other clients do.
    """
    f.flush()
    f._closed = True  # keep paramiko from sending a second close later
    sftp._request(CMD_CLOSE, f.handle)


def failing_handler(inbound: Inbound) -> Any:
    raise StoreUnavailableError("cannot use the database: disk I/O error")


def test_a_failing_store_fails_the_close_and_keeps_nothing(
    start_server: ServerFactory,
    store: Store,
    connect: Callable[..., paramiko.SFTPClient],
    client_key: KeyPair,
    events: Events,
) -> None:
    server = start_server(handler=failing_handler)
    sftp = connect(server, "acme", pkey=client_key.key)
    f = sftp.open("/in/po.edi", "wb")
    f.write(PO)
    with pytest.raises(OSError, match="Failure"):
        raw_close(sftp, f)
    # The high-level put() fails too: its check after close finds no file.
    with pytest.raises(FileNotFoundError):
        sftp.putfo(io.BytesIO(PO), "/in/po2.edi")
    (failed, _) = events.wait_for("upload_failed", 2)
    assert "disk I/O error" in failed["error"] and failed["filename"] == "po.edi"
    assert documents(store) == []
    assert list((server.root / "acme" / "in").iterdir()) == []
    assert sftp.listdir("/in") == []


def test_a_temp_named_upload_is_received_at_rename(
    acme: paramiko.SFTPClient, store: Store, events: Events
) -> None:
    acme.putfo(io.BytesIO(b"ISA*part"), "/in/po.edi.filepart")
    assert documents(store) == []  # closed under a temp name: not committed yet
    assert acme.stat("/in/po.edi.filepart").st_size == 8
    acme.rename("/in/po.edi.filepart", "/in/po.edi")
    (doc,) = documents(store)
    assert (doc.filename, store.content(doc)) == ("po.edi", b"ISA*part")
    assert events.of("upload_received")[0]["commit"] == "rename"
    # Renaming a received document again changes nothing but its name in the listing.
    acme.posix_rename("/in/po.edi", "/in/po-done.edi")
    assert acme.listdir("/in") == ["po-done.edi"]
    assert len(documents(store)) == 1
    assert events.of("upload_renamed")[0]["document_id"] == doc.id


def test_a_temp_upload_never_renamed_is_discarded(
    server: SftpServer,
    store: Store,
    connect: Callable[..., paramiko.SFTPClient],
    client_key: KeyPair,
    events: Events,
) -> None:
    sftp = connect(server, "acme", pkey=client_key.key)
    sftp.putfo(io.BytesIO(b"half"), "/in/.po.edi.tmp")
    sftp.get_channel().get_transport().close()
    (discarded,) = events.wait_for("upload_discarded")
    assert discarded["filename"] == ".po.edi.tmp" and "never renamed" in discarded["reason"]
    assert documents(store) == []
    assert list((server.root / "acme" / "in").iterdir()) == []


def test_a_failing_store_fails_the_rename(
    start_server: ServerFactory,
    store: Store,
    connect: Callable[..., paramiko.SFTPClient],
    client_key: KeyPair,
) -> None:
    server = start_server(handler=failing_handler)
    sftp = connect(server, "acme", pkey=client_key.key)
    sftp.putfo(io.BytesIO(b"ISA"), "/in/po.part")
    with pytest.raises(OSError, match="Failure"):
        sftp.rename("/in/po.part", "/in/po.edi")
    assert sftp.listdir("/in") == ["po.part"]  # still staged: the client may retry
    assert documents(store) == []


def test_out_is_read_only_and_in_is_write_only(
    acme: paramiko.SFTPClient, server: SftpServer
) -> None:
    with pytest.raises(PermissionError):
        acme.putfo(io.BytesIO(b"x"), "/out/x.edi")
    with pytest.raises(FileNotFoundError):
        acme.remove("/in/never-uploaded.edi")
    assert list((server.root / "acme" / "out").iterdir()) == []


def test_uploads_over_the_limit_are_refused(
    start_server: ServerFactory,
    store: Store,
    connect: Callable[..., paramiko.SFTPClient],
    client_key: KeyPair,
) -> None:
    server = start_server(max_upload_bytes=1000)
    sftp = connect(server, "acme", pkey=client_key.key)
    with pytest.raises(OSError):
        sftp.putfo(io.BytesIO(b"x" * 5000), "/in/huge.edi")
    sftp.putfo(io.BytesIO(b"x" * 1000), "/in/fits.edi")
    assert [d.filename for d in documents(store)] == ["fits.edi"]


def test_pickup_appears_complete_and_the_partner_downloads_and_deletes_it(
    acme: paramiko.SFTPClient, server: SftpServer, events: Events
) -> None:
    from edigate.channels.base import Outbound

    pickup = SftpPickup(server.root)
    delivery = pickup.send(Outbound(7, "acme", "855_0007.edi", b"ISA*855"))
    assert delivery.detail == "ready for pickup at /out/855_0007.edi"
    out = server.root / "acme" / "out"
    assert [p.name for p in out.iterdir()] == ["855_0007.edi"]  # no temp file left behind
    (out / ".856_0008.edi.x.tmp").write_bytes(b"ISA*8")  # a write in progress
    assert acme.listdir("/out") == ["855_0007.edi"]
    with pytest.raises(FileNotFoundError):
        acme.open("/out/.856_0008.edi.x.tmp", "rb")
    buf = io.BytesIO()
    acme.getfo("/out/855_0007.edi", buf)
    assert buf.getvalue() == b"ISA*855"
    acme.remove("/out/855_0007.edi")
    assert acme.listdir("/out") == []
    assert not (out / "855_0007.edi").exists()
    assert events.wait_for("pickup_removed")[0]["filename"] == "855_0007.edi"
    assert events.wait_for("pickup_read")[0]["bytes_sent"] == 7


def test_stale_partial_uploads_are_discarded_at_start(
    start_server: ServerFactory, tmp_path: Path, events: Events
) -> None:
    incoming = tmp_path / "sftp" / "acme" / "in"
    incoming.mkdir(parents=True)
    (incoming / ".upload-crashed").write_bytes(b"half a PO")
    start_server()
    assert list(incoming.iterdir()) == []
    (discarded,) = events.of("upload_discarded")
    assert discarded["partner"] == "acme" and discarded["size"] == 9


def test_a_resumed_upload_is_refused_not_stored_with_a_hole(
    server: SftpServer,
    store: Store,
    connect: Callable[..., paramiko.SFTPClient],
    client_key: KeyPair,
    events: Events,
) -> None:
    sftp = connect(server, "acme", pkey=client_key.key)
    f = sftp.open("/in/resume.edi", "r+")  # no O_TRUNC: the client means to add to a file
    f.seek(100)
    with pytest.raises(OSError, match="Operation unsupported"):
        f.write(b"TAIL-DATA")
        f.flush()
    with pytest.raises(OSError, match="Failure"):
        raw_close(sftp, f)
    (refused,) = events.wait_for("upload_write_refused")
    assert (refused["partner"], refused["filename"], refused["offset"]) == (
        "acme",
        "resume.edi",
        100,
    )
    assert "upload the whole file again" in refused["reason"]
    (discarded,) = events.of("upload_discarded")
    assert discarded["filename"] == "resume.edi" and "resuming" in discarded["reason"]
    assert documents(store) == []
    assert list((server.root / "acme" / "in").iterdir()) == []
    assert sftp.listdir("/in") == []
    # Writing from the start is an upload like any other, whatever the open flags.
    with sftp.open("/in/whole.edi", "r+") as f:
        f.write(b"ISA*whole")
    assert [(d.filename, store.content(d)) for d in documents(store)] == [
        ("whole.edi", b"ISA*whole")
    ]


def test_an_append_open_is_refused(
    acme: paramiko.SFTPClient, store: Store, server: SftpServer, events: Events
) -> None:
    acme.putfo(io.BytesIO(b"ISA*first-half"), "/in/po.edi")
    with pytest.raises(OSError, match="Operation unsupported"):
        acme.open("/in/po.edi", "a")
    (refused,) = events.wait_for("upload_refused")
    assert refused["filename"] == "po.edi" and "whole file" in refused["reason"]
    assert [d.filename for d in documents(store)] == ["po.edi"]
    assert list((server.root / "acme" / "in").iterdir()) == []


def test_an_open_closed_unwritten_is_an_upload_only_if_it_creates_the_file(
    acme: paramiko.SFTPClient, store: Store, events: Events
) -> None:
    acme.open("/in/touched.edi", "r+").close()  # neither create nor truncate: no file made
    (skipped,) = events.wait_for("upload_skipped")
    assert skipped["filename"] == "touched.edi"
    assert documents(store) == [] and acme.listdir("/in") == []
    acme.open("/in/empty.edi", "w").close()  # O_CREAT|O_TRUNC: a genuine empty file
    (doc,) = documents(store)
    assert (doc.filename, store.content(doc)) == ("empty.edi", b"")
    # A staged temp upload survives an unwritten open of its name.
    acme.putfo(io.BytesIO(b"ISA*staged"), "/in/po.part")
    acme.open("/in/po.part", "r+").close()
    acme.rename("/in/po.part", "/in/po.edi")
    assert [store.content(d) for d in documents(store)] == [b"", b"ISA*staged"]
