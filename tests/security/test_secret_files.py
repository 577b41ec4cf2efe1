"""Private key files readable by group or others are refused, naming the file and the fix."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from edigate.app import Gateway
from edigate.channels.as2_binding import build_as2_partner, certificate_checks
from edigate.channels.host_key import load_or_create_host_key
from edigate.channels.sftp_client import SftpConnectionError, SftpEndpoint, connect
from edigate.config import load_config
from edigate.demo import prepare, project_root
from edigate.errors import ConfigError
from edigate.key_checks import key_checks, require_keys
from edigate.secret_files import check_private_file, write_private_file


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's folder: example partners, AS2 keys made by ``keygen``, SFTP partner keys."""
    target = tmp_path_factory.mktemp("secrets") / "gw"
    prepare(target, project_root())
    return target


@pytest.fixture
def gateway(demo_dir: Path) -> Iterator[Gateway]:
    gw = Gateway(load_config(demo_dir / "edigate.toml", environ={}))
    yield gw
    gw.close()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_any_access_by_group_or_others_is_refused_with_the_file_and_the_fix(
    tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "secret.key"
    write_private_file(path, b"key material")
    check_private_file(path, "test key")  # 0600 is fine
    path.chmod(mode)
    with pytest.raises(ConfigError) as info:
        check_private_file(path, "test key")
    assert info.value.path == str(path)
    assert f"chmod 600 {path}" in str(info.value)
    assert f"{mode:04o}" in str(info.value)


def test_write_private_file_makes_an_existing_file_private_too(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"old")
    path.chmod(0o644)
    write_private_file(path, b"new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == b"new"


def test_the_demo_writes_every_private_key_0600(demo_dir: Path) -> None:
    keys = [*demo_dir.glob("partner-keys/**/*.key"), *demo_dir.glob("config/as2/*.key")]
    assert len(keys) == 3  # our AS2 key, Globex's, and the SFTP partner ACME's
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in keys} == {p.name: 0o600 for p in keys}


def test_an_as2_private_key_readable_by_others_is_refused_at_its_profile_line(
    gateway: Gateway, demo_dir: Path
) -> None:
    key = demo_dir / "config/as2/EDIGATEDIST.key"
    partner = gateway.registry().get("globex-dist")
    assert partner is not None
    build_as2_partner(partner)  # 0600 from keygen: loads
    key.chmod(0o644)
    try:
        with pytest.raises(ConfigError) as info:
            build_as2_partner(partner)
        message = str(info.value)
        assert "globex-dist.yaml:" in message and str(key) in message
        assert f"chmod 600 {key}" in message
        # At startup, serve logs it among the certificate checks (as an error).
        errors = [str(c) for c in certificate_checks(gateway.registry()) if c.severity == "error"]
        assert any(f"chmod 600 {key}" in e for e in errors), errors
        # And refuses to start: every AS2 partner sharing this key would fail.
        (check,) = key_checks(gateway.config, gateway.registry(), deliveries=False)
        assert check.severity == "error"
        assert "globex-dist.yaml:" in str(check.problem)
        assert "inbound.as2.our_private_key" in str(check.problem)
        assert f"our AS2 private key {key}" in str(check.problem)
        with pytest.raises(ConfigError, match=f"chmod 600 {key}"):
            require_keys([check])
    finally:
        key.chmod(0o600)
    assert key_checks(gateway.config, gateway.registry(), deliveries=False) == []


def test_an_sftp_push_key_readable_by_others_is_refused_before_connecting(
    tmp_path: Path,
) -> None:
    key = tmp_path / "client_ed25519"
    write_private_file(key, b"not even parsed")
    key.chmod(0o640)
    # Port 9 on localhost: nothing listens; the permission check must come first.
    endpoint = SftpEndpoint(
        "127.0.0.1", "edigate", "SHA256:" + "A" * 43, port=9, private_key_path=key
    )
    with pytest.raises(SftpConnectionError) as info:
        connect(endpoint)
    assert not info.value.retryable  # a retry would not fix it: the delivery fails at once
    assert f"chmod 600 {key}" in str(info.value) and "SFTP client key" in str(info.value)


def test_the_sftp_host_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "host_key"
    load_or_create_host_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    with pytest.raises(ConfigError, match=f"SFTP host key .*chmod 600 {path}"):
        load_or_create_host_key(path)
