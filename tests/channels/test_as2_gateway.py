"""AS2 in ``edigate serve``: a partner onboarded as a new user would (``edigate as2 keygen``
and a profile) exchanges signed and encrypted messages with the gateway over real HTTP on
127.0.0.1; the partner's side is the AS2 library's own server and channel."""

from __future__ import annotations

import hashlib
import logging
import shutil
import ssl
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from edigate.app import Gateway
from edigate.channels.as2 import (
    As2Channel,
    As2Partner,
    As2Server,
    Earlier,
    MdnOutcome,
    MdnRejected,
    MemoryPendingMdns,
    PendingMdn,
    StaticPartners,
    load_certificates,
    load_private_key,
)
from edigate.channels.as2.certs import make_certificate
from edigate.channels.as2.mdn import parse_mdn
from edigate.channels.as2.mime import parse_entity
from edigate.channels.as2_binding import StoreMessageIds, StorePendingMdns, as2_handler
from edigate.channels.base import DeliveryError, Inbound, Outbound
from edigate.cli.as2 import as2
from edigate.cli.partners import partners
from edigate.config import load_config
from edigate.pipeline.operations import resend
from edigate.server import GatewayServer
from edigate.store import AuditEvent, Direction, Document, RetryBudget, Status, Store
from edigate.x12.acks import parse_acks

from ..postgres import empty_tables
from ..waiting import wait_until
from .as2.conftest import Outcomes, Recorder
from .conftest import free_port, make_tls_identity

ROOT = Path(__file__).resolve().parents[2]
OUR_ID, THEIR_ID = "EDIGATE-AS2", "NEWCO-AS2"


def newco_850(control: str = "000004211") -> bytes:
    """The retailer sample as NewCo sends it (its ISA/GS sender, its control number)."""
    text = (ROOT / "samples/x12/850-004010-retailer.edi").read_text()
    text = text.replace("*ZZ*ACMERETAIL     *", "*ZZ*NEWCO          *")
    text = text.replace("GS*PO*ACMERETAIL*", "GS*PO*NEWCO*")
    return text.replace("*000004211*", f"*{control}*").encode()


@dataclass(frozen=True)
class Keys:
    """What ``edigate as2 keygen`` made: ours (in the config) and NewCo's (their side)."""

    ours: Path
    theirs: Path
    mallory: Path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    base = tmp_path_factory.mktemp("as2-keygen")
    runner = CliRunner()
    for cn, folder in ((OUR_ID, "ours"), (THEIR_ID, "theirs"), ("MALLORY", "mallory")):
        result = runner.invoke(as2, ["keygen", "--cn", cn, "--out", str(base / folder)])
        assert result.exit_code == 0, result.output
        assert f"{cn}.crt" in result.output and "SHA-256:" in result.output
    key = base / "ours" / f"{OUR_ID}.key"
    assert key.stat().st_mode & 0o777 == 0o600
    return Keys(base / "ours", base / "theirs", base / "mallory")


def _key(path: Path) -> rsa.RSAPrivateKey:
    return load_private_key(path)


def _cert(path: Path) -> x509.Certificate:
    return load_certificates(path)[0]


PROFILE = """\
    # NewCo: onboarded for AS2 with `edigate as2 keygen` and their certificate.
    id: newco
    name: NewCo Retail
    identity:
      production: {{qualifier: ZZ, id: NEWCO, gs: NEWCO}}
    us:
      production: {{qualifier: ZZ, id: EDIGATEDIST, gs: EDIGATEDIST}}
    envelope: {{version: "004010"}}
    ack: {{functional: "997", ta1: on_request, "855": auto}}
    inbound:
      as2:
        partner_id: {their}
        our_id: {ours}
        partner_certificate: as2/newco.crt
        our_certificate: as2/{ours}.crt
        our_private_key: as2/{ours}.key
        require_encrypted: true
    outbound:
      type: as2
      url: {url}
      sign: true
      encrypt: {encrypt}
      mdn: {mdn}
      mdn_url: {mdn_url}
    map: acme-retail
    """


@dataclass
class Site:
    """A gateway config with NewCo in it, NewCo's own AS2 server, and ways to run both."""

    root: Path
    keys: Keys
    partner_server: As2Server
    partner_inbox: Recorder
    gateway_port: int
    servers: list[tuple[GatewayServer, Gateway]] = field(default_factory=list)

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    def write_profile(
        self,
        *,
        encrypt: bool = True,
        mdn: str = "sync",
        cert: Path | None = None,
        url: str | None = None,
        extra: str = "",
    ) -> Path:
        shutil.copy(cert or self.keys.theirs / f"{THEIR_ID}.crt", self.config_dir / "as2/newco.crt")
        path = self.config_dir / "partners/newco.yaml"
        path.write_text(
            textwrap.dedent(
                PROFILE.format(
                    their=THEIR_ID,
                    ours=OUR_ID,
                    url=url or self.partner_server.url,
                    encrypt=str(encrypt).lower(),
                    mdn=mdn,
                    mdn_url=f"http://127.0.0.1:{self.gateway_port}/as2",
                )
            ).replace("map: acme-retail", extra + "map: acme-retail")
        )
        return path

    def start(self) -> tuple[GatewayServer, Gateway]:
        gateway = Gateway(load_config(self.root / "edigate.toml", environ={}))
        server = GatewayServer(gateway)
        server.start()
        self.servers.append((server, gateway))
        return server, gateway

    def stop(self, server: GatewayServer, gateway: Gateway) -> None:
        server.stop()
        gateway.close()
        self.servers.remove((server, gateway))

    def newco(self, url: str, **options: object) -> As2Channel:
        """NewCo's own AS2 channel toward the gateway (their key, our certificate)."""
        partner = As2Partner(
            partner_id="edigate",
            our_as2_id=str(options.pop("as2_from", THEIR_ID)),
            their_as2_id=str(options.pop("as2_to", OUR_ID)),
            our_key=_key(Path(str(options.pop("key", self.keys.theirs / f"{THEIR_ID}.key")))),
            our_cert=_cert(Path(str(options.pop("cert", self.keys.theirs / f"{THEIR_ID}.crt")))),
            their_certs=(_cert(self.keys.ours / f"{OUR_ID}.crt"),),
            url=url,
            sign=True,
            encrypt=True,
            **options,  # type: ignore[arg-type]
        )
        return As2Channel(partner, timeout=20)


@pytest.fixture
def site(tmp_path: Path, keys: Keys) -> Iterator[Site]:
    config = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config / name)
    shutil.copytree(keys.ours, config / "as2")  # our key and certificate live in the config
    port = free_port()
    (tmp_path / "edigate.toml").write_text(
        'data_dir = "data"\nconfig_dir = "config"\n\n'
        "[worker]\npoll_seconds = 0.05\n\n"
        "[sftp]\nenabled = false\n\n"
        f'[as2]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
    )
    inbox = Recorder()
    their_view = As2Partner(
        partner_id="edigate",
        our_as2_id=THEIR_ID,
        their_as2_id=OUR_ID,
        our_key=_key(keys.theirs / f"{THEIR_ID}.key"),
        our_cert=_cert(keys.theirs / f"{THEIR_ID}.crt"),
        their_certs=(_cert(keys.ours / f"{OUR_ID}.crt"),),
        require_signed=True,
        require_encrypted=True,
    )
    partner_server = As2Server(StaticPartners([their_view]), inbox, poll_interval=0.05).start()
    made = Site(tmp_path, keys, partner_server, inbox, port)
    made.write_profile()
    try:
        yield made
    finally:
        for server, gateway in list(made.servers):
            made.stop(server, gateway)
        partner_server.close()


def _documents(gateway: Gateway) -> list[Document]:
    with gateway.store.session() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def _events(gateway: Gateway, kind: str) -> list[AuditEvent]:
    with gateway.store.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event == kind)))


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    assert wait_until(predicate, timeout), f"timed out waiting for {what}"


def _kinds(inbox: Recorder) -> list[str]:
    return sorted((i.filename or "?").split("-")[0] for i in inbox.stored)


def test_a_signed_encrypted_850_in_and_our_997_and_855_back_over_as2(site: Site) -> None:
    server, gateway = site.start()
    assert server.as2 is not None
    channel = site.newco(server.as2.url)

    delivery = channel.send(Outbound(1, "edigate", "po-4500012345.edi", newco_850()))

    # The gateway's synchronous MDN is signed with our key and echoes the MIC NewCo computed.
    assert delivery.meta["mdn"] == "positive"
    assert delivery.evidence is not None
    mdn = parse_mdn(parse_entity(delivery.evidence), [_cert(site.keys.ours / f"{OUR_ID}.crt")])
    assert mdn.signed and mdn.positive and mdn.mic == delivery.meta["mic"]
    assert mdn.original_message_id == delivery.meta["as2_message_id"]

    # Stored before the MDN left, as an AS2 document of NewCo.
    parent = _documents(gateway)[0]
    assert (parent.channel, parent.partner_id, parent.filename) == (
        "as2",
        "newco",
        "po-4500012345.edi",
    )
    assert parent.meta is not None
    assert parent.meta["message_id"] == delivery.meta["as2_message_id"]
    assert parent.meta["layers"] == ["encrypted", "signed"]

    # Processed: the order is in the ERP outbox; the 997, TA1 and 855 reach NewCo over AS2.
    _wait(lambda: len(site.partner_inbox.stored) == 3, "NewCo to receive three documents")
    orders = list((gateway.erp.outbox / "orders").glob("order-newco-4500012345-*.json"))
    assert len(orders) == 1
    assert _kinds(site.partner_inbox) == ["855", "997", "ta1"]
    received = {(i.filename or "").split("-")[0]: i for i in site.partner_inbox.stored}
    assert received["997"].meta["signed"] and received["997"].meta["encrypted"]
    (group,) = parse_acks(received["997"].data).groups
    assert (group.control_number, group.status) == ("4211", "A")
    assert b"BAK*00*AD*4500012345" in received["855"].data

    # Each delivery is settled by NewCo's signed MDN, kept as evidence we can re-verify.
    _wait(
        lambda: sum(d.status == "sent" for d in _documents(gateway) if d.channel == "as2") == 3,
        "the dispatcher to record three AS2 deliveries",
    )
    newco_cert = _cert(site.keys.theirs / f"{THEIR_ID}.crt")
    for doc in (d for d in _documents(gateway) if d.direction == "out" and d.channel == "as2"):
        assert doc.meta is not None
        proof = gateway.store.blob_bytes(doc.meta["evidence_sha256"])
        receipt = parse_mdn(parse_entity(proof), [newco_cert])
        assert receipt.signed and receipt.positive
        assert receipt.mic == doc.meta["delivery"]["mic"]
        assert receipt.original_message_id == doc.meta["delivery"]["as2_message_id"]
    assert [e.detail["message_id"] for e in _events(gateway, "as2_received")] == [
        delivery.meta["as2_message_id"]
    ]


def test_a_duplicate_message_id_after_a_restart_gets_a_positive_mdn_and_is_stored_once(
    site: Site,
) -> None:
    document = Outbound(
        1, "edigate", "po.edi", newco_850(), meta={"as2_message_id": "po-1@newco.example"}
    )
    server, gateway = site.start()
    assert server.as2 is not None
    first = site.newco(server.as2.url).send(document)
    assert first.meta["mdn"] == "positive"
    _wait(lambda: len(site.partner_inbox.stored) == 3, "the answers to the first copy")
    site.stop(server, gateway)

    server, gateway = site.start()  # a new process: nothing in memory
    assert server.as2 is not None
    again = site.newco(server.as2.url).send(document)

    assert again.meta["mdn"] == "positive"
    assert again.evidence is not None
    assert b"already been received" in again.evidence
    inbound = [d for d in _documents(gateway) if d.direction == "in" and d.parent_id is None]
    assert len(inbound) == 1
    assert [e.detail["message_id"] for e in _events(gateway, "as2_duplicate")] == [
        "po-1@newco.example"
    ]
    time.sleep(0.3)  # the worker would pick a second document up at once
    assert len(list((gateway.erp.outbox / "orders").glob("*.json"))) == 1
    assert len(site.partner_inbox.stored) == 3


def test_a_reused_message_id_with_another_po_is_stored_and_processed_not_dropped(
    site: Site,
) -> None:
    """A partner reusing a Message-ID for a new order: both orders are kept and processed;
    only a resend of the same content is a duplicate, also after a restart."""
    reused = {"as2_message_id": "po@newco.example"}
    first_po = newco_850()
    # A new interchange (ISA13 and IEA02) with a new PO number.
    second_po = newco_850().replace(b"000004211", b"000004212")
    second_po = second_po.replace(b"4500012345", b"4500012346")
    server, gateway = site.start()
    assert server.as2 is not None
    newco = site.newco(server.as2.url)
    first = newco.send(Outbound(1, "edigate", "po1.edi", first_po, meta=reused))
    second = newco.send(Outbound(2, "edigate", "po2.edi", second_po, meta=reused))

    assert first.meta["mdn"] == second.meta["mdn"] == "positive"
    assert second.evidence is not None and b"already been received" not in second.evidence
    one, two = (d for d in _documents(gateway) if d.direction == "in" and d.parent_id is None)
    assert gateway.store.blob_bytes(one.blob_sha256) == first_po
    assert gateway.store.blob_bytes(two.blob_sha256) == second_po
    assert two.meta is not None and two.meta["reuses_message_id_of"] == one.id
    [reuse] = _events(gateway, "as2_message_id_reused")
    assert (reuse.detail["document"], reuse.detail["earlier_document"]) == (two.id, one.id)
    outbox = gateway.erp.outbox / "orders"
    _wait(lambda: len(list(outbox.glob("order-newco-*.json"))) == 2, "both orders in the ERP")
    site.stop(server, gateway)

    server, gateway = site.start()  # nothing in memory: the store tells the two apart
    assert server.as2 is not None
    newco = site.newco(server.as2.url)
    again = newco.send(Outbound(1, "edigate", "po1.edi", first_po, meta=reused))

    assert again.evidence is not None and b"already been received" in again.evidence
    assert len([d for d in _documents(gateway) if d.direction == "in" and d.parent_id is None]) == 2
    assert [e.detail["document"] for e in _events(gateway, "as2_duplicate")] == [one.id]


def test_a_message_claiming_to_be_newco_without_its_key_is_refused(site: Site) -> None:
    server, gateway = site.start()
    assert server.as2 is not None
    mallory = site.keys.mallory
    spoofer = site.newco(server.as2.url, key=mallory / "MALLORY.key", cert=mallory / "MALLORY.crt")

    with pytest.raises(MdnRejected) as info:
        spoofer.send(Outbound(1, "edigate", "po.edi", newco_850()))

    assert not info.value.retryable
    assert "authentication-failed" in (info.value.disposition or "")
    (doc,) = _documents(gateway)
    assert (doc.status, doc.partner_id, doc.channel) == ("rejected", "newco", "as2")
    assert doc.errors is not None and doc.errors[0]["code"] == "as2.authentication-failed"
    assert _events(gateway, "as2_failed")[0].detail["document"] == doc.id
    time.sleep(0.3)
    assert [d.id for d in _documents(gateway)] == [doc.id]  # never processed
    assert not list((gateway.erp.outbox / "orders").glob("*.json"))


@pytest.mark.parametrize(("as2_from", "as2_to"), [("MALLORY", OUR_ID), (THEIR_ID, "SOMEONE-ELSE")])
def test_an_unknown_relationship_gets_403_and_nothing_is_stored(
    site: Site, as2_from: str, as2_to: str
) -> None:
    server, gateway = site.start()
    assert server.as2 is not None
    stranger = site.newco(server.as2.url, as2_from=as2_from, as2_to=as2_to)

    with pytest.raises(DeliveryError) as info:
        stranger.send(Outbound(1, "edigate", "po.edi", newco_850()))

    assert "HTTP 403" in str(info.value) and not info.value.retryable
    assert _documents(gateway) == []
    (event,) = _events(gateway, "as2_refused")
    assert event.detail is not None
    assert (event.detail["as2_from"], event.detail["as2_to"]) == (as2_from, as2_to)


def test_a_negative_mdn_for_our_997_makes_it_dead_with_the_mdn_kept(site: Site) -> None:
    site.write_profile(encrypt=False)  # NewCo requires encryption: their MDN says no
    server, gateway = site.start()
    assert server.as2 is not None
    site.newco(server.as2.url).send(Outbound(1, "edigate", "po.edi", newco_850()))

    def dead() -> list[Document]:
        return [d for d in _documents(gateway) if d.channel == "as2" and d.status == "dead"]

    _wait(lambda: len(dead()) == 3, "our three documents to be refused")
    for doc in dead():
        assert "insufficient-message-security" in (doc.last_error or "")
        assert doc.meta is not None
        mdn = parse_entity(gateway.store.blob_bytes(doc.meta["rejection_evidence_sha256"]))
        assert not parse_mdn(mdn, [_cert(site.keys.theirs / f"{THEIR_ID}.crt")]).positive
    assert site.partner_inbox.stored == []


def test_async_mdns_for_what_we_send_settle_the_documents_in_the_store(site: Site) -> None:
    site.write_profile(mdn="async")
    server, gateway = site.start()
    assert server.as2 is not None
    site.newco(server.as2.url).send(Outbound(1, "edigate", "po.edi", newco_850()))

    def settled() -> list[Document]:
        return [
            d
            for d in _documents(gateway)
            if d.channel == "as2" and d.status == "sent" and "evidence_sha256" in (d.meta or {})
        ]

    _wait(lambda: len(settled()) == 3, "three async MDNs")
    newco_cert = _cert(site.keys.theirs / f"{THEIR_ID}.crt")
    for doc in settled():
        assert doc.meta is not None
        assert doc.meta["delivery"]["mdn"] == "pending"
        assert doc.meta["as2_mdn"]["delivered"] is True
        mdn = parse_mdn(
            parse_entity(gateway.store.blob_bytes(doc.meta["evidence_sha256"])), [newco_cert]
        )
        assert mdn.positive and mdn.mic == doc.meta["as2_pending"]["mics"]["sha256"]
    assert len(_events(gateway, "mdn_received")) == 3


def test_an_operators_resend_is_a_new_message_and_keeps_the_first_proof(site: Site) -> None:
    """A resend reused the Message-ID (a receiver that drops seen IDs, as ours does, would
    drop it while we reported it sent), overwrote the first delivery's signed MDN, and an
    async MDN already recorded could settle the new delivery (review finding)."""
    site.write_profile(mdn="async")
    server, gateway = site.start()
    assert server.as2 is not None
    site.newco(server.as2.url).send(Outbound(1, "edigate", "po.edi", newco_850()))

    def as2_out() -> dict[str, Document]:
        docs = [d for d in _documents(gateway) if d.channel == "as2" and d.direction == "out"]
        return {d.doc_type or "?": d for d in docs}

    def settled(doc_type: str) -> bool:
        doc = as2_out().get(doc_type)
        return doc is not None and doc.status == "sent" and "evidence_sha256" in (doc.meta or {})

    _wait(lambda: settled("997"), "the 997's async MDN")
    first = as2_out()["997"]
    assert first.meta is not None
    first_id, first_proof = first.meta["as2_pending"]["message_id"], first.meta["evidence_sha256"]
    received = len(site.partner_inbox.stored)

    resend(gateway.store, first.id, gateway.config.worker.lease_seconds)
    _wait(lambda: len(site.partner_inbox.stored) == received + 1, "NewCo to get the resend")
    _wait(lambda: settled("997"), "the resend's async MDN")
    again = as2_out()["997"]
    assert again.meta is not None
    second_id = again.meta["as2_pending"]["message_id"]
    assert second_id != first_id and second_id.startswith(f"edigate-{first.id}-")
    assert site.partner_inbox.stored[-1].meta["message_id"] == second_id
    (earlier,) = again.meta["earlier_deliveries"]
    assert earlier["evidence_sha256"] == first_proof
    assert earlier["as2_mdn"]["message_id"] == first_id
    assert again.meta["evidence_sha256"] != first_proof  # the new MDN, for the new message
    assert again.meta["as2_mdn"]["message_id"] == second_id and again.meta["resends"] == 1


def _write_cert(path: Path, *, start: datetime, days: int) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = make_certificate(key, THEIR_ID, days=days, not_before=start)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_partners_check_reports_an_expired_certificate_at_its_profile_line(
    site: Site, tmp_path: Path
) -> None:
    expired = tmp_path / "expired.crt"
    _write_cert(expired, start=datetime.now(UTC) - timedelta(days=400), days=30)
    profile = site.write_profile(cert=expired)
    line = profile.read_text().splitlines().index("    partner_certificate: as2/newco.crt") + 1

    result = CliRunner().invoke(partners, ["check", str(site.config_dir)])

    assert result.exit_code == 1, result.output
    expected = (
        f"{profile}:{line}: inbound.as2.partner_certificate: certificate CN={THEIR_ID} expired on "
    )
    assert expected in result.output
    assert "1 problem(s) in 1 file(s)" in result.output


def test_a_certificate_expiring_soon_is_a_warning_in_check_and_at_serve_startup(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    soon = tmp_path / "soon.crt"
    _write_cert(soon, start=datetime.now(UTC) - timedelta(days=355), days=365)
    profile = site.write_profile(cert=soon)

    result = CliRunner().invoke(partners, ["check", str(site.config_dir)])

    assert result.exit_code == 0, result.output
    assert f"{profile}:" in result.output and ": warning: inbound.as2.partner_certificate: " in (
        result.output
    )
    assert "(in 9 days)" in result.output or "(in 10 days)" in result.output
    assert result.output.rstrip().endswith("1 warning(s)")
    with caplog.at_level(logging.WARNING, logger="edigate.serve"):
        site.start()
    assert any("expires on" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- the store-backed logs


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    store = Store.open(tmp_path / "data", url)
    if url:
        empty_tables(store.engine)
    yield store
    store.close()


def test_message_ids_are_found_in_the_store_and_failed_messages_do_not_count(
    any_store: Store,
) -> None:
    handle = as2_handler(any_store)
    stored = handle(Inbound(b"ISA*00*...", "as2", "newco", "po.edi", {"message_id": "m1@x"}))
    failed_meta = {"message_id": "m2@x", "failed": "bad", "disposition": "decryption-failed"}
    failed = handle(Inbound(b"raw request", "as2", "newco", None, failed_meta))
    ids = StoreMessageIds(any_store)

    same, other = stored.sha256, hashlib.sha256(b"another payload").hexdigest()

    assert ids.seen("newco", "m1@x", same) == Earlier(same=stored)
    assert ids.seen("newco", "m1@x", other) == Earlier(other=stored)  # a reused Message-ID
    assert ids.seen("acme-retail", "m1@x", same) == Earlier()  # Message-IDs are per partner
    failed_sha = hashlib.sha256(b"raw request").hexdigest()
    assert ids.seen("newco", "m2@x", failed_sha) == Earlier()  # a failed message may be resent
    with any_store.session() as session:
        doc = any_store.get(session, failed.document_id)
        assert doc.status == "rejected" and doc.filename == "as2-m2@x.failed"
        assert doc.errors == [
            {
                "code": "as2.decryption-failed",
                "message": "AS2 message <m2@x> from None: bad (negative MDN: decryption-failed)",
                "severity": "error",
            }
        ]


def test_async_mdn_state_lives_in_the_outbound_document(any_store: Store) -> None:
    def sent() -> int:
        return any_store.receive(
            b"ISA*997...",
            channel="as2",
            partner_id="newco",
            direction=Direction.OUTBOUND,
            status=Status.SENT,
        ).document_id

    pending = StorePendingMdns(any_store, retry=RetryBudget(3, 40.0))
    ours, custom = sent(), sent()
    ours_id = f"edigate-{ours}-0123456789abcdef@EDIGATE-AS2"
    for doc_id, message_id in ((ours, ours_id), (custom, "custom-7@EDIGATE-AS2")):
        pending.add(
            PendingMdn(
                message_id, doc_id, "newco", OUR_ID, THEIR_ID, {"sha256": "m1c"}, "sha256", True
            )
        )
    got = pending.get("custom-7@EDIGATE-AS2")
    assert got is not None and (got.document_id, got.mics) == (custom, {"sha256": "m1c"})
    assert pending.get(f"edigate-{custom}-0123456789abcdef@EDIGATE-AS2") is None
    negative = MdnOutcome(
        ours_id,
        ours,
        "newco",
        delivered=False,
        detail="processed/error: x",
        retryable=True,
        evidence=b"the MDN",
    )

    assert pending.settle(ours_id, negative) is True
    assert pending.settle(ours_id, negative) is False  # once only
    outcome = pending.outcome(ours_id)
    assert outcome is not None and outcome.evidence == b"the MDN" and not outcome.delivered
    positive = replace(
        negative, message_id="custom-7@EDIGATE-AS2", document_id=custom, delivered=True
    )
    assert pending.settle("custom-7@EDIGATE-AS2", positive) is True
    with any_store.session() as session:
        retried = any_store.get(session, ours)
        assert retried.status == "delivery_failed" and retried.next_attempt_at is not None
        assert retried.last_error == "negative MDN: processed/error: x"
        # On the delivery budget: the first retry 40 s on, not a fixed 2 s doubling.
        due = retried.next_attempt_at
        due = due if due.tzinfo else due.replace(tzinfo=UTC)  # SQLite gives naive UTC
        wait = due - datetime.now(UTC)
        assert 30 < wait.total_seconds() <= 40, wait
        kept = any_store.get(session, custom)
        assert kept.status == "sent" and kept.meta is not None
        assert any_store.blob_bytes(kept.meta["evidence_sha256"]) == b"the MDN"


def test_https_both_ways_with_the_partners_own_tls_certificate(site: Site) -> None:
    ours_crt, ours_key = make_tls_identity(site.root, "gateway-tls")
    theirs_crt, theirs_key = make_tls_identity(site.root, "newco-tls")
    toml = site.root / "edigate.toml"
    toml.write_text(
        toml.read_text() + f'tls_certificate = "{ours_crt}"\ntls_private_key = "{ours_key}"\n'
    )
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(theirs_crt, theirs_key)
    inbox = Recorder()
    newco_https = As2Server(
        site.partner_server.receiver.partners, inbox, ssl_context=server_tls, poll_interval=0.05
    ).start()
    try:
        shutil.copy(theirs_crt, site.config_dir / "as2/newco-tls.crt")
        site.write_profile(url=newco_https.url, extra="  tls_ca: as2/newco-tls.crt\n")
        server, _ = site.start()
        assert server.as2 is not None and server.as2.url.startswith("https://127.0.0.1:")
        channel = site.newco(server.as2.url)
        channel.ssl_context = ssl.create_default_context(cafile=str(ours_crt))

        delivery = channel.send(Outbound(1, "edigate", "po.edi", newco_850()))

        assert delivery.meta["mdn"] == "positive"
        _wait(lambda: len(inbox.stored) == 3, "our answers over HTTPS")
        assert _kinds(inbox) == ["855", "997", "ta1"]
    finally:
        newco_https.close()


def _audit_of(gateway: Gateway, document_id: int) -> list[AuditEvent]:
    with gateway.store.session() as session:
        query = select(AuditEvent).where(AuditEvent.document_id == document_id)
        return list(session.scalars(query.order_by(AuditEvent.id)))


def test_an_async_mdn_we_owe_is_posted_over_https_trusting_the_partners_tls_ca(
    site: Site,
) -> None:
    """NewCo's MDN endpoint has a self-signed certificate; its profile's tls_ca (what our
    outbound messages to NewCo trust) is trusted for the MDN too, not only the system CAs."""
    theirs_crt, theirs_key = make_tls_identity(site.root, "newco-tls")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(theirs_crt, theirs_key)
    pending, outcomes = MemoryPendingMdns(), Outcomes()
    newco_https = As2Server(
        site.partner_server.receiver.partners,
        Recorder(),
        ssl_context=server_tls,
        pending_mdns=pending,
        on_mdn=outcomes,
        poll_interval=0.05,
    ).start()
    try:
        shutil.copy(theirs_crt, site.config_dir / "as2/newco-tls.crt")
        site.write_profile(url=newco_https.url, extra="  tls_ca: as2/newco-tls.crt\n")
        server, gateway = site.start()
        assert server.as2 is not None
        channel = site.newco(server.as2.url, mdn_mode="async", async_mdn_url=newco_https.url)
        channel.pending = pending

        delivery = channel.send(Outbound(1, "edigate", "po.edi", newco_850()))

        assert delivery.meta["mdn"] == "pending"
        outcome = outcomes.wait(20)
        assert outcome.delivered and outcome.message_id == delivery.meta["as2_message_id"]
        message_id = delivery.meta["as2_message_id"]
        [doc] = [d for d in _documents(gateway) if (d.meta or {}).get("message_id") == message_id]
        _wait(lambda: any(e.event == "mdn_sent" for e in _audit_of(gateway, doc.id)), "mdn_sent")
        [sent] = [e for e in _audit_of(gateway, doc.id) if e.event == "mdn_sent"]
        assert sent.detail["url"] == newco_https.url and sent.detail["attempts"] == 1
    finally:
        newco_https.close()


def test_an_async_mdn_that_cannot_be_delivered_is_logged_and_recorded_on_the_document(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """The reviewer's case: the document turned out a duplicate interchange; the failure
    is in its audit trail all the same, and logged as an ERROR naming partner and message."""
    toml = site.root / "edigate.toml"  # the default 5 tries, from 5 s apart, take a minute
    toml.write_text(toml.read_text() + "async_mdn_attempts = 2\nasync_mdn_backoff_seconds = 0.05\n")
    server, gateway = site.start()
    assert server.as2 is not None
    site.newco(server.as2.url).send(Outbound(1, "edigate", "po.edi", newco_850()))
    nowhere = f"http://127.0.0.1:{free_port()}/mdn"
    channel = site.newco(server.as2.url, mdn_mode="async", async_mdn_url=nowhere)

    with caplog.at_level(logging.WARNING, logger="edigate.channels.as2"):
        delivery = channel.send(Outbound(2, "edigate", "po-again.edi", newco_850()))
        assert server.as2.receiver.mdn_poster.wait(10)

    message_id = delivery.meta["as2_message_id"]
    [second] = [d for d in _documents(gateway) if (d.meta or {}).get("message_id") == message_id]
    _wait(
        lambda: any(d.id == second.id and d.status == "duplicate" for d in _documents(gateway)),
        "the second copy of the interchange to be marked duplicate",
    )
    [failed] = [e for e in _audit_of(gateway, second.id) if e.event == "mdn_not_delivered"]
    assert failed.detail["message_id"] == message_id and failed.detail["url"] == nowhere
    assert failed.detail["attempts"] == 2
    assert failed.detail["detail"].startswith("gave up after 2 attempts: HTTP POST to")
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    text = line.getMessage()
    assert f"<{message_id}>" in text and "partner newco" in text and "gave up" in text
    assert "Connection refused" in text or "ConnectionRefused" in text
