"""A partner reached by ``sftp_push`` with no ``key_path`` in its profile: deliveries log in
with the gateway's own ``[sftp] client_key`` (as the sftp_push alternative shown in the
shipped globex-dist profile does)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from edigate.app import Gateway
from edigate.channels.base import store_handler
from edigate.channels.host_key import key_fingerprint, load_or_create_host_key
from edigate.channels.sftp_auth import Account, StaticAccounts
from edigate.channels.sftp_server import SftpServer
from edigate.config import load_config
from edigate.store import Direction, Document, Store

from ..example_profiles import with_sftp_push_example
from .conftest import make_ed25519

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTOR = ROOT / "samples/x12/850-005010-distributor.edi"


def globex_850() -> bytes:
    """The 005010 sample as Globex sends it."""
    data = DISTRIBUTOR.read_text().replace("ZZ*NORTHWINDSUP   *", "ZZ*GLOBEXDIST     *")
    return data.replace("GS*PO*NORTHWINDSUP*", "GS*PO*GLOBEXDIST*").encode()


@pytest.fixture
def peer_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "peer-data")
    yield store
    store.close()


def test_a_push_without_key_path_logs_in_with_the_gateway_client_key(
    tmp_path: Path, peer_store: Store
) -> None:
    client = make_ed25519(tmp_path / "edigate_client_key")
    peer = SftpServer(
        root=tmp_path / "peer-sftp",
        host_key_path=tmp_path / "peer_host_key",
        accounts=StaticAccounts([Account("edigate", "hub", authorized_keys=(client.line,))]),
        handler=store_handler(peer_store),
        host="127.0.0.1",
        port=0,
    )
    peer.start()
    try:
        config_dir = tmp_path / "config"
        for name in ("partners", "maps"):
            shutil.copytree(ROOT / name, config_dir / name)
        profile_path = with_sftp_push_example(config_dir)
        profile = yaml.safe_load(profile_path.read_text())
        assert "key_path" not in profile["outbound"]
        profile["outbound"].update(
            port=peer.address[1],
            folder="/in",
            host_key_fingerprint=key_fingerprint(
                load_or_create_host_key(tmp_path / "peer_host_key")
            ),
        )
        profile_path.write_text(yaml.safe_dump(profile, sort_keys=False))
        config = load_config(
            None,
            environ={},
            data_dir=tmp_path / "data",
            config_dir=config_dir,
            sftp={"enabled": False, "client_key": str(client.path)},
        )
        gateway = Gateway(config)
        try:
            gateway.store.receive(globex_850(), channel="cli", filename="globex.edi")
            gateway.worker("test").run(until_idle=True)
            with gateway.store.session() as session:
                (ack,) = session.scalars(
                    select(Document).where(
                        Document.direction == Direction.OUTBOUND.value, Document.doc_type == "999"
                    )
                )
                assert ack.status == "sent", ack.errors
                sent = gateway.store.content(ack)
        finally:
            gateway.close()
    finally:
        peer.stop()
    with peer_store.session() as session:
        (received,) = session.scalars(select(Document))
        assert peer_store.content(received) == sent
    assert b"IK5*A" in sent
