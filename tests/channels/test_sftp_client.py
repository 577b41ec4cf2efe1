"""sftp_push and sftp_poll against a real SFTP server (our own, as the partner's peer)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edigate.channels.base import DeliveryError, Inbound, Outbound, store_handler
from edigate.channels.host_key import load_or_create_host_key, public_key_line
from edigate.channels.sftp_auth import Account, StaticAccounts
from edigate.channels.sftp_client import (
    KnownHostKey,
    SftpConnectionError,
    SftpEndpoint,
    SftpPoller,
    SftpPush,
)
from edigate.channels.sftp_pickup import SftpPickup
from edigate.channels.sftp_server import SftpServer
from edigate.config import WorkerConfig
from edigate.errors import ConfigError, StoreUnavailableError
from edigate.pipeline.dispatch import Dispatcher
from edigate.pipeline.worker import Lane, Worker
from edigate.store import PENDING_OUTBOUND, Direction, Document, RetryBudget, Status, Store

from .conftest import Events, KeyPair, ServerFactory, free_port
from .plain_sftp import PlainSftpServer

ASN = b"ISA*00*          *00*          *ZZ*EDIGATE*ZZ*ACME*~ST*856*0001~" * 50


@pytest.fixture
def peer_store(tmp_path: Path) -> Any:
    """The partner's side: what its server received."""
    st = Store.open(tmp_path / "peer-data")
    yield st
    st.close()


@pytest.fixture
def gateway_key(tmp_path: Path) -> KeyPair:
    from .conftest import make_ed25519

    return make_ed25519(tmp_path / "gateway_ed25519")


@pytest.fixture
def start_peer(
    start_server: ServerFactory, tmp_path: Path, peer_store: Store, gateway_key: KeyPair
) -> Callable[..., SftpServer]:
    """The partner's SFTP server: our gateway logs in there as 'edigate'."""

    def start(port: int = 0) -> SftpServer:
        accounts = StaticAccounts([Account("edigate", "hub", authorized_keys=(gateway_key.line,))])
        return start_server(
            root=tmp_path / "peer-sftp",
            host_key_path=tmp_path / "peer_host_key",
            accounts=accounts,
            handler=store_handler(peer_store),
            port=port,
        )

    return start


def endpoint(port: int, key: KeyPair, known: str, **kw: Any) -> SftpEndpoint:
    return SftpEndpoint(
        "127.0.0.1", "edigate", known, port=port, private_key_path=key.path, timeout=3, **kw
    )


def peer_docs(store: Store) -> list[tuple[str | None, bytes]]:
    with store.session() as session:
        docs = list(session.query(Document).order_by(Document.id))
        return [(d.filename, store.content(d)) for d in docs]


def test_push_uploads_under_a_temp_name_then_renames(
    start_peer: Callable[..., SftpServer], gateway_key: KeyPair, peer_store: Store, events: Events
) -> None:
    peer = start_peer()
    assert peer.host_key is not None
    known = public_key_line(peer.host_key)
    push = SftpPush(endpoint(peer.address[1], gateway_key, known), remote_dir="/in")
    try:
        delivery = push.send(Outbound(1, "hub", "856_0001.edi", ASN))
        push.send(Outbound(2, "hub", "856_0002.edi", b"ISA*2"))  # same connection, reused
    finally:
        push.close()
    assert delivery.meta["remote_path"] == "/in/856_0001.edi"
    assert delivery.meta["host_key"] == peer.fingerprint
    assert peer_docs(peer_store) == [("856_0001.edi", ASN), ("856_0002.edi", b"ISA*2")]
    # Written under the temp name, committed by the rename:
    assert [e["commit"] for e in events.of("upload_received")] == ["rename", "rename"]
    assert len(events.of("auth_succeeded")) == 1


def test_push_with_a_fingerprint_and_without_rename(
    start_peer: Callable[..., SftpServer], gateway_key: KeyPair, peer_store: Store, events: Events
) -> None:
    peer = start_peer()
    push = SftpPush(
        endpoint(peer.address[1], gateway_key, peer.fingerprint), remote_dir="/in", temp_name=None
    )
    push.send(Outbound(3, "hub", "810_0003.edi", b"ISA*810"))
    push.close()
    assert peer_docs(peer_store) == [("810_0003.edi", b"ISA*810")]
    assert events.of("upload_received")[0]["commit"] == "close"


def test_a_host_key_mismatch_is_refused_before_logging_in(
    start_peer: Callable[..., SftpServer], gateway_key: KeyPair, events: Events, tmp_path: Path
) -> None:
    peer = start_peer()
    impostor = load_or_create_host_key(tmp_path / "other_host_key")
    pinned = public_key_line(impostor)
    push = SftpPush(endpoint(peer.address[1], gateway_key, pinned), remote_dir="/in")
    with pytest.raises(DeliveryError) as caught:
        push.send(Outbound(4, "hub", "855.edi", b"ISA"))
    err = caught.value
    assert err.retryable is False
    expected = KnownHostKey.parse(pinned).fingerprint
    assert expected in str(err) and peer.fingerprint in str(err) and "mismatch" in str(err)
    assert events.of("auth_succeeded") == [] and events.of("auth_failed") == []  # no login sent


def test_push_errors_say_whether_a_retry_can_help(
    start_peer: Callable[..., SftpServer], gateway_key: KeyPair
) -> None:
    port = free_port()
    down = SftpPush(endpoint(port, gateway_key, "SHA256:" + "A" * 43), remote_dir="/in")
    with pytest.raises(DeliveryError) as refused:
        down.send(Outbound(5, "hub", "855.edi", b"ISA"))
    assert refused.value.retryable is True and "cannot connect" in str(refused.value)
    peer = start_peer()
    wrong_user = SftpEndpoint(
        "127.0.0.1",
        "nobody",
        peer.fingerprint,
        port=peer.address[1],
        private_key_path=gateway_key.path,
        timeout=3,
    )
    with pytest.raises(DeliveryError) as denied:
        SftpPush(wrong_user, remote_dir="/in").send(Outbound(6, "hub", "855.edi", b"ISA"))
    assert denied.value.retryable is False and "login refused" in str(denied.value)
    wrong_dir = SftpPush(endpoint(peer.address[1], gateway_key, peer.fingerprint), "/nowhere")
    with pytest.raises(DeliveryError) as missing:
        wrong_dir.send(Outbound(7, "hub", "855.edi", b"ISA"))
    assert missing.value.retryable is False
    wrong_dir.close()


@pytest.mark.parametrize(
    "text",
    ["", "SHA256:tooshort", "ssh-ed25519 !!!", "just words"],
)
def test_a_known_host_key_is_required_and_checked(text: str, gateway_key: KeyPair) -> None:
    with pytest.raises(ConfigError):
        endpoint(22, gateway_key, text)


def test_known_host_key_accepts_ssh_keygen_and_known_hosts_lines(tmp_path: Path) -> None:
    key = load_or_create_host_key(tmp_path / "k")
    line = public_key_line(key)
    fp = KnownHostKey.parse(line).fingerprint
    assert KnownHostKey.parse(f"256 {fp} root@host (ED25519)") == KnownHostKey(fp)
    assert KnownHostKey.parse(f"[sftp.acme.example]:2222 {line}") == KnownHostKey(fp, "ssh-ed25519")


def outbound_lane(store: Store, push: SftpPush) -> Lane:
    """What the dispatcher will do: send the stored document, then mark it sent."""

    def process(doc_id: int, worker: str) -> None:
        with store.session() as session:
            doc = store.get(session, doc_id)
            out = Outbound(doc.id, doc.partner_id or "", doc.filename or "", store.content(doc))
        delivery = push.send(out)  # DeliveryError -> a failed attempt, retried with backoff
        with store.claimed(doc_id, worker) as held:
            assert held is not None
            store.transition(held[0], held[1], Status.SENT, "sent", detail={"to": delivery.detail})

    return Lane("outbound", PENDING_OUTBOUND, Direction.OUTBOUND, process, Status.DELIVERY_FAILED)


def new_outbound(store: Store) -> int:
    with store.session() as session:
        doc = store.add_document(
            session,
            ASN,
            direction=Direction.OUTBOUND,
            status=Status.CREATED,
            channel="sftp_push",
            partner_id="hub",
            filename="856_0042.edi",
        )
        return doc.id


def state(store: Store, doc_id: int) -> tuple[str, int]:
    with store.session() as session:
        doc = store.get(session, doc_id)
        return doc.status, doc.attempts


def drive(worker: Worker, until: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        worker.run_once()
        time.sleep(0.02)


def test_a_peer_that_comes_back_gets_the_document(
    store: Store,
    start_peer: Callable[..., SftpServer],
    gateway_key: KeyPair,
    peer_store: Store,
    tmp_path: Path,
) -> None:
    port = free_port()
    peer_key = load_or_create_host_key(tmp_path / "peer_host_key")  # pinned beforehand
    push = SftpPush(endpoint(port, gateway_key, public_key_line(peer_key)), remote_dir="/in")
    doc_id = new_outbound(store)
    config = WorkerConfig(max_attempts=6, backoff_seconds=0.05, poll_seconds=0.01)
    worker = Worker(store, [outbound_lane(store, push)], config)
    drive(worker, lambda: state(store, doc_id)[1] >= 2)  # two failed attempts: peer down
    assert state(store, doc_id) == ("delivery_failed", 2)
    with store.session() as session:
        assert "cannot connect" in (store.get(session, doc_id).last_error or "")
    start_peer(port=port)  # the peer is back
    drive(worker, lambda: state(store, doc_id)[0] == "sent")
    push.close()
    assert state(store, doc_id) == ("sent", 2)
    assert peer_docs(peer_store) == [("856_0042.edi", ASN)]


def test_a_peer_that_stays_down_makes_the_document_dead(
    store: Store, gateway_key: KeyPair, caplog: pytest.LogCaptureFixture
) -> None:
    push = SftpPush(endpoint(free_port(), gateway_key, "SHA256:" + "B" * 43), remote_dir="/in")
    doc_id = new_outbound(store)
    config = WorkerConfig(max_attempts=3, backoff_seconds=0.02, poll_seconds=0.01)
    worker = Worker(store, [outbound_lane(store, push)], config)
    with caplog.at_level(logging.INFO, logger="edigate.worker"):
        drive(worker, lambda: state(store, doc_id)[0] == "dead")
    assert state(store, doc_id) == ("dead", 3)
    assert store.count_by_status() == {"dead": 1}
    # A foreseen failure is one log line that says it, not a traceback (an operator's
    # 'resend' printed 46 lines about another document whose partner was down).
    failed = [r.getMessage() for r in caplog.records if " failed: " in r.getMessage()]
    assert len(failed) == 3 and all(m.count("\n") == 0 for m in failed), failed
    assert (
        f"document {doc_id} failed: DeliveryError: " in failed[0] and "cannot connect" in failed[0]
    )


# ---------------------------------------------------------------------- sftp_poll
@pytest.fixture
def peer(start_peer: Callable[..., SftpServer]) -> SftpServer:
    return start_peer()


def poller(peer: SftpServer, key: KeyPair, store: Store, **kw: Any) -> SftpPoller:
    kw.setdefault("settle_seconds", 0.05)
    return SftpPoller(
        endpoint(peer.address[1], key, peer.fingerprint),
        kw.pop("handler", store_handler(store)),
        partner_id="hub",
        remote_dir="/out",
        **kw,
    )


def test_poll_fetches_stores_then_removes_and_skips_temp_names(
    peer: SftpServer, gateway_key: KeyPair, store: Store, events: Events
) -> None:
    SftpPickup(peer.root).send(Outbound(1, "hub", "850_1.edi", ASN))
    SftpPickup(peer.root).send(Outbound(2, "hub", "850_2.edi", b"ISA*2"))
    out = peer.root / "hub" / "out"
    for temp in (".850_3.edi", "850_4.edi.tmp", "850_5.part"):
        (out / temp).write_bytes(b"in progress")
    receipts = poller(peer, gateway_key, store).poll_once()
    assert len(receipts) == 2
    with store.session() as session:
        docs = [(d.channel, d.partner_id, d.filename) for d in session.query(Document)]
        stored = [store.content(d) for d in session.query(Document).order_by(Document.id)]
    assert docs == [("sftp_poll", "hub", "850_1.edi"), ("sftp_poll", "hub", "850_2.edi")]
    assert stored == [ASN, b"ISA*2"]
    assert sorted(p.name for p in out.iterdir()) == [".850_3.edi", "850_4.edi.tmp", "850_5.part"]
    assert len(events.of("pickup_removed")) == 2


def test_poll_leaves_files_when_the_store_fails_and_skips_growing_files(
    peer: SftpServer, gateway_key: KeyPair, store: Store
) -> None:
    out = peer.root / "hub" / "out"
    out.mkdir(parents=True)
    (out / "850.edi").write_bytes(b"ISA*1")

    def broken(inbound: Inbound) -> Any:
        raise OSError("No space left on device")

    assert poller(peer, gateway_key, store, handler=broken).poll_once() == []
    assert (out / "850.edi").exists()
    # A file still being written between the two looks is left for the next round.
    (out / "growing.edi").write_bytes(b"ISA")
    slow = poller(peer, gateway_key, store, settle_seconds=0.6)

    def append() -> None:
        time.sleep(0.2)
        with (out / "growing.edi").open("ab") as f:
            f.write(b"*more")

    writer = threading.Thread(target=append)
    writer.start()
    receipts = slow.poll_once()
    writer.join()
    assert [r.size for r in receipts] == [5]  # 850.edi this time; growing.edi not yet
    assert (out / "growing.edi").exists() and not (out / "850.edi").exists()
    assert [r.size for r in slow.poll_once()] == [8]
    assert list(out.iterdir()) == []


def test_poll_of_an_unreachable_server_raises(gateway_key: KeyPair, store: Store) -> None:
    poll = SftpPoller(
        endpoint(free_port(), gateway_key, "SHA256:" + "C" * 43),
        store_handler(store),
        partner_id="hub",
    )
    with pytest.raises(SftpConnectionError):
        poll.poll_once()


def test_a_retry_after_a_lost_answer_finds_its_file_delivered(
    tmp_path: Path, gateway_key: KeyPair
) -> None:
    """The first attempt's rename went through but its answer was lost: the retry's
    rename fails (a plain SFTP rename never replaces a file), and the file there holds
    the same bytes, so the document is delivered, once. A different file of that name is
    an error that says so, and a retry may yet succeed once the partner picked it up."""
    root = tmp_path / "plain"
    (root / "in").mkdir(parents=True)
    peer = PlainSftpServer(root)
    try:
        known = public_key_line(peer.host_key)
        push = SftpPush(endpoint(peer.port, gateway_key, known), remote_dir="/in")
        document = Outbound(8, "hub", "856_0008.edi", ASN)
        push.send(document)
        delivery = push.send(document)  # the retry of an attempt whose answer was lost
        assert delivery.meta["remote_path"] == "/in/856_0008.edi"
        assert sorted(p.name for p in (root / "in").iterdir()) == ["856_0008.edi"]
        assert (root / "in/856_0008.edi").read_bytes() == ASN

        with pytest.raises(DeliveryError) as clash:
            push.send(Outbound(9, "hub", "856_0008.edi", b"ISA*another"))
        assert clash.value.retryable is True
        assert "/in/856_0008.edi exists already and holds another file" in str(clash.value)
        assert sorted(p.name for p in (root / "in").iterdir()) == ["856_0008.edi"]
        assert (root / "in/856_0008.edi").read_bytes() == ASN
        push.close()
    finally:
        peer.close()


@pytest.mark.parametrize("renewal", ["renews", "fails"])
def test_a_batch_slower_than_its_lease_keeps_its_claims_and_sends_each_once(
    start_server: ServerFactory,
    tmp_path: Path,
    peer_store: Store,
    gateway_key: KeyPair,
    store: Store,
    renewal: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A partner taking 0.4 s per upload, 8 documents in one batch: 3.2 s against a lease of
    2 s. The dispatcher records the batch at its end, so without renewing its claims a
    second worker took them at 2 s and sent every document again (review finding)."""
    accounts = StaticAccounts([Account("edigate", "hub", authorized_keys=(gateway_key.line,))])
    keep = store_handler(peer_store)

    def slow(inbound: Inbound) -> Any:
        time.sleep(0.4)
        return keep(inbound)

    peer = start_server(
        root=tmp_path / "peer-sftp",
        host_key_path=tmp_path / "peer_host_key",
        accounts=accounts,
        handler=slow,
        port=0,
    )
    with store.session() as session:
        for n in range(8):
            store.add_document(
                session,
                ASN + str(n).encode(),
                direction=Direction.OUTBOUND,
                status=Status.CREATED,
                channel="sftp_push",
                partner_id="hub",
                doc_type="856",
                format="x12",
            )

    class OnePartner:  # the routing: every document goes to the hub's SFTP server
        def __init__(self) -> None:
            self.push = SftpPush(endpoint(peer.address[1], gateway_key, peer.fingerprint), "/in")

        def channel_for(self, doc: Any) -> SftpPush:
            return self.push

        def label_for(self, doc: Any) -> str:
            return str(doc.channel)

    def work() -> None:
        dispatcher = Dispatcher(store, OnePartner(), retry=RetryBudget(8, 2.0))  # type: ignore[arg-type]
        lane = Lane(
            "outbound",
            PENDING_OUTBOUND,
            Direction.OUTBOUND,
            dispatcher.process,
            failed_status=Status.DELIVERY_FAILED,
            process_batch=dispatcher.process_batch,
        )
        config = WorkerConfig(lease_seconds=2.0, poll_seconds=0.1, batch=50)
        Worker(store, [lane], config).run(until_idle=True)

    if renewal == "fails":  # a database busy a moment: the sends made are still recorded

        def busy(*args: Any) -> int:
            raise StoreUnavailableError("the database is busy")

        monkeypatch.setattr(store, "renew_claims", busy)
        work()
    else:
        first = threading.Thread(target=work)
        first.start()
        time.sleep(2.2)  # the first worker is still sending; its claims were taken at 0 s
        second = threading.Thread(target=work)
        second.start()
        first.join(30)
        second.join(30)
    names = [name for name, _ in peer_docs(peer_store)]
    assert len(names) == 8 and len(set(names)) == 8, names
    assert store.count_by_status() == {"sent": 8}
