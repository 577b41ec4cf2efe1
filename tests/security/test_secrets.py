"""Security hygiene: secrets stay out of logs, audit events and command output; passwords
are hashed with a strong KDF; the gateway listens on localhost unless told otherwise.

The SFTP host key's permissions are checked at start (``tests/channels/test_sftp_auth.py::
test_a_host_key_readable_by_others_is_refused``, ``::test_host_key_is_created_private_and_reused``).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from edigate.app import Gateway
from edigate.cli.main import cli
from edigate.config import GatewayConfig, load_config
from edigate.partners.passwords import MIN_N, hash_password, parse_hash
from edigate.server import GatewayServer
from edigate.store import AuditEvent, Document

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-initech"  # initech-csv's documented demo password (partners/initech-csv.yaml)
WRONG = "wrong-guess-Zq81!x"
PROFILE = (ROOT / "partners/initech-csv.yaml").read_text()
HASH = PROFILE.split("password_hash:")[1].split()[0]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[GatewayServer]:
    """``edigate serve`` in-process: the SFTP server on a free port, accounts from profiles."""
    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    config = load_config(
        None,
        environ={},
        data_dir=tmp_path / "data",
        config_dir=config_dir,
        sftp={"port": 0},
    )
    server = GatewayServer(Gateway(config), run_worker=False)
    server.start()
    yield server
    server.stop()
    server.gateway.close()


def cli_output(gw: Gateway, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(gw.config.data_dir), "--config-dir", str(gw.config.config_dir), *args],
    )
    assert result.exit_code == 0, result.output
    return result.output


def secrets_in(text: str) -> list[str]:
    salt_and_digest = HASH.split("$")[4:]
    found = [s for s in (PASSWORD, WRONG, HASH, "scrypt$", *salt_and_digest) if s in text]
    return found


def test_a_password_login_leaves_no_secret_in_logs_audit_or_docs_show(
    served: GatewayServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, paramiko's included
    assert served.sftp is not None
    gw = served.gateway
    key = served.sftp.host_key
    with pytest.raises(paramiko.AuthenticationException):
        transport = paramiko.Transport(served.sftp.address)
        try:
            transport.connect(hostkey=key, username="initech", password=WRONG)
        finally:
            transport.close()
    transport = paramiko.Transport(served.sftp.address)
    try:
        transport.connect(hostkey=key, username="initech", password=PASSWORD)
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        with open(ROOT / "samples/csv/initech-orders.csv", "rb") as upload:
            sftp.putfo(upload, "/in/orders.csv")
        sftp.close()
    finally:
        transport.close()
    gw.worker("security").run(until_idle=True)

    with gw.store.session() as session:
        audit = [(e.event, e.detail) for e in session.scalars(select(AuditEvent))]
        (upload,) = session.scalars(select(Document).where(Document.parent_id.is_(None)))
        upload_id = upload.id
    events = [name for name, _ in audit]
    assert "auth_failed" in events and "auth_succeeded" in events, events
    assert upload.channel == "sftp" and upload.partner_id == "initech-csv"

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "initech" in logged  # the login was logged, by user name
    assert secrets_in(logged) == []
    assert secrets_in(json.dumps(audit, default=str)) == []
    shown = cli_output(gw, "docs", "show", str(upload_id))
    shown_json = cli_output(gw, "docs", "show", str(upload_id), "--json")
    assert "orders.csv" in shown and "sftp" in shown
    assert secrets_in(shown + shown_json) == []


def test_partners_list_shows_key_fingerprints_and_no_password_hash(tmp_path: Path) -> None:
    gw = Gateway(load_config(None, environ={}, data_dir=tmp_path / "data", config_dir=ROOT))
    rows = {row["id"]: row for row in json.loads(cli_output(gw, "partners", "list", "--json"))}
    acme = rows["acme-retail"]["inbound"]["sftp"]
    assert acme["keys"] and all(k.startswith("SHA256:") for k in acme["keys"])
    assert acme["password"] is False
    initech = rows["initech-csv"]["inbound"]["sftp"]
    assert initech["password"] is True and initech["keys"] == []
    text = json.dumps(rows)
    assert secrets_in(text) == []
    assert "AAAA" not in text  # no public key material either, only fingerprints
    assert "PRIVATE KEY" not in text
    table = cli_output(gw, "partners", "list")
    assert secrets_in(table) == [] and "initech (password)" in table


def test_a_cxml_shared_secret_does_not_reach_the_erp_or_the_answer(tmp_path: Path) -> None:
    """cXML headers carry the sender's SharedSecret: it must not travel on."""
    from .conftest import receive

    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    gw = Gateway(load_config(None, environ={}, data_dir=tmp_path / "data", config_dir=config_dir))
    try:
        data = (ROOT / "samples/xml/contoso-orderrequest.xml").read_bytes()
        assert b"<SharedSecret>not-a-real-secret</SharedSecret>" in data
        receive(gw, data, partner_id="contoso-cxml", filename="po.xml")
        (order,) = (gw.erp.outbox / "orders").glob("*.json")
        (answer,) = (gw.config.sftp_root / "contoso-cxml" / "out").glob("*")
        assert b"not-a-real-secret" not in order.read_bytes()
        assert b"not-a-real-secret" not in answer.read_bytes()
        with gw.store.session() as session:
            details = [d.errors for d in session.scalars(select(Document))]
        assert "not-a-real-secret" not in json.dumps(details)
    finally:
        gw.close()


def test_password_hashes_use_scrypt_with_strong_parameters() -> None:
    fresh = parse_hash(hash_password("a password"))
    assert fresh.n >= 2**14 and fresh.r >= 8 and fresh.p >= 1
    assert len(fresh.salt) >= 16 and len(fresh.hash) >= 32
    assert MIN_N >= 2**14
    with pytest.raises(ValueError, match="power of two from 16384"):
        hash_password("a password", n=2**10)
    example = parse_hash(HASH)  # the shipped example profile is as strong
    assert example.n >= 2**14 and example.r >= 8


def test_every_listener_defaults_to_localhost() -> None:
    config = GatewayConfig()
    assert config.sftp.host == "127.0.0.1"
    assert config.as2.host == "127.0.0.1" and config.as2.enabled is False
    assert config.smtp.host == "127.0.0.1" and config.smtp.enabled is False
    assert config.smtp_out.host is None  # no relay until configured
    # The relay's credentials are named environment variables, never values in the file.
    fields = set(type(config.smtp_out).model_fields)
    assert {"username_env", "password_env"} <= fields and "password" not in fields
