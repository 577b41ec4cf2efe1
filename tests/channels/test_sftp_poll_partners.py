"""``inbound.sftp_poll`` in a partner profile: ``edigate serve`` fetches the partner's files
from its own SFTP server (here our SFTP server, over loopback, playing ACME's), stores them
as ACME's and processes them; the file leaves their server only once stored."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from edigate.app import Gateway
from edigate.channels.base import store_handler
from edigate.channels.sftp_auth import Account, StaticAccounts
from edigate.channels.sftp_binding import PartnerSftpPolls
from edigate.channels.sftp_server import SftpServer
from edigate.config import load_config
from edigate.errors import ConfigError
from edigate.server import GatewayServer
from edigate.store import AuditEvent, Document, Store

from ..waiting import wait_until
from .conftest import KeyPair, ServerFactory, make_ed25519

ROOT = Path(__file__).resolve().parents[2]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"
ACME_PROFILE = "partners/acme-retail.yaml"


@dataclass
class Setup:
    tmp: Path
    config_dir: Path
    peer: SftpServer
    key: KeyPair

    @property
    def remote_out(self) -> Path:
        """ACME's own server's folder our gateway polls (``/out`` of its login there)."""
        return self.peer.root / "acme-host" / "out"

    def profile(self, poll: str) -> None:
        """ACME's profile with ``poll`` (YAML lines under ``inbound:``) as its sftp_poll."""
        path = self.config_dir / ACME_PROFILE
        text = (ROOT / ACME_PROFILE).read_text()
        assert "\ninbound:\n" in text
        path.write_text(text.replace("\ninbound:\n", "\ninbound:\n" + poll))

    def poll_block(self, **overrides: object) -> str:
        settings: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.peer.address[1],
            "username": "vendor981",
            "key_path": "keys/acme_client",
            "host_key_fingerprint": f'"{self.peer.fingerprint}"',
            "folder": "out",
            "interval_seconds": 1,
            "settle_seconds": 0,
        }
        settings.update(overrides)
        lines = [f"    {k}: {v}" for k, v in settings.items() if v is not None]
        return "  sftp_poll:\n" + "\n".join(lines) + "\n"

    def gateway(self) -> Gateway:
        toml = self.tmp / "edigate.toml"
        toml.write_text(
            'data_dir = "data"\nconfig_dir = "config"\n\n[worker]\npoll_seconds = 0.05\n\n'
            "[sftp]\nenabled = false\n"
        )
        return Gateway(load_config(toml, environ={}))


@pytest.fixture
def setup(tmp_path: Path, start_server: ServerFactory, store: Store) -> Setup:
    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    (config_dir / "keys").mkdir()
    key = make_ed25519(config_dir / "keys/acme_client")
    # ACME's server: we log in there as vendor981, confined to its folder "acme-host".
    accounts = StaticAccounts([Account("vendor981", "acme-host", authorized_keys=(key.line,))])
    peer = start_server(
        root=tmp_path / "acme-sftp",
        host_key_path=tmp_path / "acme_host_key",
        accounts=accounts,
        handler=store_handler(store),  # what ACME's server would receive (nothing here)
    )
    return Setup(tmp_path, config_dir, peer, key)


@pytest.fixture
def serving(setup: Setup) -> Iterator[tuple[Gateway, GatewayServer]]:
    setup.profile(setup.poll_block())
    setup.remote_out.mkdir(parents=True)
    gateway = setup.gateway()
    server = GatewayServer(gateway)
    server.start()
    yield gateway, server
    server.stop()
    gateway.close()


def _poller_threads() -> list[str]:
    """The partners' poller threads alive now (their names start with the server's URL)."""
    return [t.name for t in threading.enumerate() if t.name.startswith("sftp-poll sftp://")]


def _documents(gateway: Gateway) -> list[Document]:
    with gateway.store.reading() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def _polled(gateway: Gateway) -> list[Document]:
    """The files received over sftp_poll (not the transactions split from them)."""
    return [d for d in _documents(gateway) if d.channel == "sftp_poll" and d.parent_id is None]


def test_serve_fetches_a_partners_order_from_its_server_and_processes_it(
    setup: Setup, serving: tuple[Gateway, GatewayServer]
) -> None:
    gateway, server = serving
    assert server.sftp_polls is not None and server.sftp_polls.partners == ["acme-retail"]
    (setup.remote_out / "po-4500012345.edi").write_bytes(RETAILER.read_bytes())

    assert wait_until(lambda: not (setup.remote_out / "po-4500012345.edi").exists(), 15)
    (received,) = _polled(gateway)
    assert received.partner_id == "acme-retail" and received.filename == "po-4500012345.edi"
    assert gateway.store.content(received) == RETAILER.read_bytes()
    assert received.meta is not None and received.meta["path"] == "out/po-4500012345.edi"

    def processed() -> bool:
        types = {d.doc_type for d in _documents(gateway) if d.direction == "out"}
        return {"997", "855", "order"} <= types

    assert wait_until(processed, 15), [(d.doc_type, d.status) for d in _documents(gateway)]
    orders = gateway.erp.outbox / "orders"
    assert wait_until(lambda: orders.is_dir() and any(orders.glob("*.json")), 15)


def test_a_profile_changed_while_serving_restarts_or_stops_the_poller(
    setup: Setup, serving: tuple[Gateway, GatewayServer]
) -> None:
    gateway, server = serving
    polls = server.sftp_polls
    assert polls is not None
    gateway._registry.check_every = 0  # read the profiles again at once
    setup.profile(setup.poll_block(pattern='"*.x12"'))
    polls.sync()
    (setup.remote_out / "po.edi").write_bytes(RETAILER.read_bytes())
    assert not wait_until(lambda: not (setup.remote_out / "po.edi").exists(), 2.5)
    assert _polled(gateway) == []  # not the pattern now: left on their server

    setup.profile(setup.poll_block(pattern='"*.edi"'))
    polls.sync()
    assert polls.partners == ["acme-retail"]
    assert wait_until(lambda: not (setup.remote_out / "po.edi").exists(), 15)
    assert [d.filename for d in _polled(gateway)] == ["po.edi"]

    setup.profile("")
    polls.sync()
    assert polls.partners == []
    (setup.remote_out / "later.edi").write_bytes(RETAILER.read_bytes())
    assert not wait_until(lambda: not (setup.remote_out / "later.edi").exists(), 2.5)
    assert [d.filename for d in _polled(gateway)] == ["po.edi"]


def test_a_missing_server_folder_is_reported_without_stopping_the_poller(
    setup: Setup, serving: tuple[Gateway, GatewayServer]
) -> None:
    gateway, server = serving
    gateway._registry.check_every = 0
    setup.profile(setup.poll_block(folder="nowhere"))
    assert server.sftp_polls is not None
    server.sftp_polls.sync()

    def reported() -> bool:
        with gateway.store.reading() as session:
            rows = session.scalars(select(AuditEvent).where(AuditEvent.event == "poll_failed"))
            return any("nowhere" in str((r.detail or {}).get("error")) for r in rows)

    assert wait_until(reported, 10)
    assert server.sftp_polls.partners == ["acme-retail"]  # still polling: they may create it


def _refused(setup: Setup, **poll: object) -> str:
    """Why serve refuses to start with ACME's sftp_poll set to ``poll``."""
    setup.profile(setup.poll_block(**poll))
    gateway = setup.gateway()
    server = GatewayServer(gateway)
    try:
        with pytest.raises(ConfigError) as refused:
            server.start()
    finally:
        server.stop()
        gateway.close()
    return str(refused.value)


def test_serve_refuses_to_start_when_the_poll_key_is_missing(setup: Setup) -> None:
    message = _refused(setup, key_path="keys/nothing_here")
    assert re.search(r"partners/acme-retail\.yaml:\d+: inbound\.sftp_poll\.key_path: ", message)
    assert "partner acme-retail: sftp_poll client key" in message
    assert "keys/nothing_here" in message


def test_serve_refuses_to_start_a_poll_with_no_key_at_all(setup: Setup) -> None:
    message = _refused(setup, key_path=None)  # and edigate.toml sets no [sftp] client_key
    assert re.search(r"partners/acme-retail\.yaml:\d+: inbound\.sftp_poll: ", message)
    assert "sftp_poll of vendor981@127.0.0.1 names no key_path" in message
    assert "no [sftp] client_key" in message


def test_serve_stops_every_poller_thread(setup: Setup) -> None:
    setup.profile(setup.poll_block())
    gateway = setup.gateway()
    server = GatewayServer(gateway)
    server.start()
    try:
        assert server.sftp_polls is not None and len(_poller_threads()) == 1
    finally:
        server.stop()
        gateway.close()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("sftp-poll")]


def test_a_changed_partner_gets_no_second_poller_while_the_first_is_in_a_round(
    setup: Setup, store: Store
) -> None:
    """The old poller is stuck connecting (their server takes its time to answer): its
    successor starts only once it has ended, never beside it on the same folder."""
    stall = socket.socket()
    stall.bind(("127.0.0.1", 0))
    stall.listen()
    held: list[socket.socket] = []

    def answer_slowly() -> None:
        while True:
            try:
                conn, _ = stall.accept()
            except OSError:
                return
            held.append(conn)
            time.sleep(1.5)
            conn.close()

    threading.Thread(target=answer_slowly, daemon=True).start()
    setup.profile(setup.poll_block(port=stall.getsockname()[1]))
    gateway = setup.gateway()
    gateway._registry.check_every = 0
    polls = PartnerSftpPolls(gateway.registry, store_handler(store), check_every=60)
    try:
        polls.start()
        assert polls.partners == ["acme-retail"]
        time.sleep(0.2)  # its first round is connecting now
        setup.profile(setup.poll_block(port=stall.getsockname()[1], interval_seconds=2))
        polls.sync()
        assert polls.partners == [] and len(_poller_threads()) == 1  # the old one, ending
        assert wait_until(lambda: (polls.sync(), polls.partners)[1] == ["acme-retail"], 10)
        assert len(_poller_threads()) == 1
    finally:
        polls.stop()
        stall.close()
        gateway.close()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("sftp-poll")]
