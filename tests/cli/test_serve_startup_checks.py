"""``edigate serve`` (and ``edigate worker``) check the private keys they will need before
anything listens: an ``sftp_push`` client key or the ``[as2]`` TLS key that is missing,
unreadable, encrypted or not a key stops them with the partner or setting and the file,
instead of failing the first delivery or handshake."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from edigate import secret_files
from edigate.app import Gateway
from edigate.channels.sftp_binding import sftp_key_file
from edigate.cli.main import cli
from edigate.config import load_config
from edigate.errors import ConfigError
from edigate.key_checks import key_checks
from edigate.partners.profile import SftpPush
from edigate.server import GatewayServer

from ..channels.conftest import make_tls_identity
from ..example_profiles import GLOBEX, with_sftp_push_example

ROOT = Path(__file__).resolve().parents[2]
KEY_LINE = "  # key_path omitted: we log in with the gateway's [sftp] client_key (edigate.toml).\n"


def _config_dir(tmp_path: Path, key_path: str | None) -> Path:
    """The examples, globex-dist pushing by SFTP (the alternative its profile shows)."""
    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    profile = with_sftp_push_example(config_dir)
    if key_path is not None:
        text = profile.read_text()
        assert KEY_LINE in text
        profile.write_text(text.replace(KEY_LINE, f"  key_path: {key_path}\n"))
    return config_dir


def _key_line_number(config_dir: Path) -> int:
    lines = (config_dir / GLOBEX).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith("  key_path:"))


def _client_key(path: Path, *, mode: int = 0o600, passphrase: bytes | None = None) -> Path:
    """An ed25519 key in OpenSSH format, as ssh-keygen writes it."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    path.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption
        )
    )
    os.chmod(path, mode)
    return path


def _gateway(tmp_path: Path, config_dir: Path, **overrides: Any) -> Gateway:
    config = load_config(
        None,
        environ={},
        data_dir=tmp_path / "data",
        config_dir=config_dir,
        **{"sftp": {"enabled": False}, **overrides},
    )
    return Gateway(config)


@pytest.fixture
def started() -> Iterator[list[GatewayServer]]:
    """Servers a test started (when a check it expects is missing): stopped at the end."""
    servers: list[GatewayServer] = []
    yield servers
    for server in servers:
        server.stop()
        server.gateway.close()


def _start_fails(gateway: Gateway, started: list[GatewayServer], **kwargs: Any) -> str:
    server = GatewayServer(gateway, **kwargs)
    try:
        server.start()
    except ConfigError as exc:
        assert server.worker is None and server.as2 is None  # nothing was started
        gateway.close()
        return str(exc)
    started.append(server)
    raise AssertionError("serve started with a key it cannot use")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("group-readable", "accessible by group or others (mode 0640); run 'chmod 600"),
        ("encrypted", "protected by a passphrase"),
        ("garbage", "is not a private key that can be loaded"),
        ("unreadable", "cannot be read by this process"),
    ],
)
def test_a_bad_sftp_push_client_key_stops_serve_naming_the_partner_and_file(
    tmp_path: Path,
    started: list[GatewayServer],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    expected: str,
) -> None:
    key = tmp_path / "globex_client_key"
    if case == "group-readable":
        _client_key(key, mode=0o640)
    elif case == "encrypted":
        _client_key(key, passphrase=b"secret")
    elif case == "garbage":
        key.write_text("not a key\n")
        key.chmod(0o600)
    else:
        _client_key(key)
        real_open = open

        def denied(path: Any, *args: Any, **kwargs: Any) -> Any:
            if Path(path) == key:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(secret_files, "open", denied, raising=False)
    config_dir = _config_dir(tmp_path, str(key))
    gateway = _gateway(tmp_path, config_dir)

    message = _start_fails(gateway, started, run_channels=False)

    assert f"globex-dist.yaml:{_key_line_number(config_dir)}:" in message
    assert "outbound.key_path: partner globex-dist: sftp_push client key" in message
    assert str(key) in message and expected in message


def test_a_relative_key_path_is_the_config_dirs_for_the_check_and_the_delivery(
    tmp_path: Path, started: list[GatewayServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = _config_dir(tmp_path, "keys/globex_client_key")
    (config_dir / "keys").mkdir()
    key = config_dir / "keys/globex_client_key"
    key.write_text("not a key\n")
    key.chmod(0o600)
    monkeypatch.chdir(tmp_path)  # not the config dir: the working directory plays no part
    gateway = _gateway(tmp_path, config_dir)

    message = _start_fails(gateway, started, run_channels=False)

    assert f"{key} is not a private key that can be loaded" in message
    partner = gateway.registry().get("globex-dist")
    assert partner is not None
    assert isinstance(partner.profile.outbound, SftpPush)
    assert sftp_key_file(partner, partner.profile.outbound, None) == key


def test_the_gateway_client_key_serves_partners_without_key_path(tmp_path: Path) -> None:
    key = _client_key(tmp_path / "edigate_client_key")
    config = load_config(
        None,
        environ={},
        data_dir=tmp_path / "data",
        config_dir=_config_dir(tmp_path, None),
        sftp={"enabled": False, "client_key": str(key)},
    )
    assert config.sftp.client_key == key
    gateway = Gateway(config)
    partner = gateway.registry().get("globex-dist")
    assert partner is not None
    assert isinstance(partner.profile.outbound, SftpPush)
    assert sftp_key_file(partner, partner.profile.outbound, key) == key
    assert key_checks(gateway.config, gateway.registry(), listeners=False) == []
    key.chmod(0o644)
    (check,) = key_checks(gateway.config, gateway.registry(), listeners=False)
    assert check.severity == "error"
    assert f"[sftp] client_key (for partner globex-dist) {key}" in str(check.problem)
    gateway.close()


def test_a_good_sftp_push_key_starts_and_no_key_at_all_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = _client_key(tmp_path / "globex_client_key")
    gateway = _gateway(tmp_path, _config_dir(tmp_path, str(key)))
    caplog.set_level(logging.WARNING, logger="edigate.serve")
    server = GatewayServer(gateway, run_channels=False)
    server.start()
    server.stop()
    gateway.close()
    assert not [r for r in caplog.records if r.getMessage().startswith("key:")]

    caplog.clear()
    gateway = _gateway(tmp_path / "other", _config_dir(tmp_path / "other", None))
    server = GatewayServer(gateway, run_channels=False)
    server.start()
    server.stop()
    gateway.close()
    (warning,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("key:")]
    assert "partner globex-dist: sftp_push to edigate@127.0.0.1 names no key_path" in warning


def test_channels_only_serve_leaves_the_delivery_keys_to_the_workers(
    tmp_path: Path, started: list[GatewayServer]
) -> None:
    key = tmp_path / "globex_client_key"
    key.write_text("not a key\n")
    gateway = _gateway(tmp_path, _config_dir(tmp_path, str(key)))
    server = GatewayServer(gateway, run_worker=False, run_channels=False)
    server.start()  # no worker here: its deliveries are another process's
    started.append(server)


def test_edigate_worker_checks_the_delivery_keys_too(tmp_path: Path) -> None:
    key = _client_key(tmp_path / "globex_client_key", mode=0o644)
    config_dir = _config_dir(tmp_path, str(key))
    result = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(tmp_path / "data"),
            "--config-dir",
            str(config_dir),
            "worker",
            "--until-idle",
        ],
    )
    assert result.exit_code == 1
    assert "cannot start:" in result.output and "partner globex-dist" in result.output
    assert f"chmod 600 {key}" in result.output


@pytest.mark.parametrize("case", ["missing", "garbage"])
def test_a_bad_as2_tls_key_stops_serve_naming_the_setting_and_file(
    tmp_path: Path, started: list[GatewayServer], case: str
) -> None:
    cert, key = make_tls_identity(tmp_path)
    if case == "missing":
        key.unlink()
        expected = "the file does not exist"
    else:
        key.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
        expected = "not a PEM private key that can be loaded"
    as2 = {"enabled": True, "port": 0, "tls_certificate": cert, "tls_private_key": key}
    gateway = _gateway(tmp_path, _config_dir(tmp_path, None), as2=as2)

    message = _start_fails(gateway, started, run_worker=False)

    assert f"[as2] tls_private_key {key}: {expected}" in message


def test_a_tls_key_others_can_read_stops_serve_and_a_private_one_serves(
    tmp_path: Path, started: list[GatewayServer]
) -> None:
    cert, key = make_tls_identity(tmp_path, key_mode=0o644)
    as2 = {"enabled": True, "port": 0, "tls_certificate": cert, "tls_private_key": key}
    gateway = _gateway(tmp_path, _config_dir(tmp_path, None), as2=as2)

    message = _start_fails(gateway, started, run_worker=False)

    assert f"[as2] tls_private_key {key}: the file is accessible by group or others" in message
    assert f"chmod 600 {key}" in message
    key.chmod(0o600)
    gateway = _gateway(tmp_path, _config_dir(tmp_path / "again", None), as2=as2)
    server = GatewayServer(gateway, run_worker=False)
    server.start()
    started.append(server)
    assert server.as2 is not None and server.as2.url.startswith("https://")


def test_a_partner_mailed_without_a_relay_is_a_warning_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """globex-dist gets its acks by email: without [smtp_out] host each went dead, and
    nothing said so until one did (new-user walkthrough)."""
    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    caplog.set_level(logging.WARNING, logger="edigate.serve")
    for smtp_out, warned in (({}, True), ({"host": "127.0.0.1"}, False)):
        caplog.clear()
        gateway = _gateway(tmp_path / str(warned), config_dir, smtp_out=smtp_out)
        server = GatewayServer(gateway, run_channels=False)
        server.start()
        server.stop()
        gateway.close()
        found = [r.getMessage() for r in caplog.records if "[smtp_out]" in r.getMessage()]
        assert found == (
            [
                "globex-dist gets its documents by email, but [smtp_out] host is not set: "
                "they go dead until it is"
            ]
            if warned
            else []
        )


def test_a_demo_password_on_a_reachable_sftp_port_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The Docker image binds SFTP to 0.0.0.0 with the example partners, whose passwords
    the README publishes: anyone reaching the port could drop orders (new-user
    walkthrough). On loopback (the default, the demo) nothing is said."""
    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    caplog.set_level(logging.WARNING, logger="edigate.serve")
    for host, warned in (("127.0.0.1", []), ("0.0.0.0", ["initech-csv", "contoso-cxml"])):
        caplog.clear()
        config = load_config(
            None,
            environ={},
            data_dir=tmp_path / host,
            config_dir=config_dir,
            sftp={"enabled": True, "host": host, "port": 0},
            smtp_out={"host": "127.0.0.1"},
        )
        gateway = Gateway(config)
        server = GatewayServer(gateway, run_worker=False)
        server.start()
        server.stop()
        gateway.close()
        found = [r.getMessage() for r in caplog.records if "demo password" in r.getMessage()]
        assert [m.split()[1] for m in found] == warned, found
        for message in found:
            assert f"listens on {host}: set its own password_hash" in message


def test_a_group_readable_sftp_host_key_stops_serve_before_anything_listens(
    tmp_path: Path, started: list[GatewayServer]
) -> None:
    """It was refused only after AS2 had started listening (README walkthrough)."""
    host_key = _client_key(tmp_path / "sftp_host_key", mode=0o644)
    gateway = _gateway(
        tmp_path,
        _config_dir(tmp_path, None),
        sftp={"enabled": True, "port": 0, "host_key": host_key},
        as2={"enabled": True, "port": 0},
    )
    server = GatewayServer(gateway, run_worker=False)
    with pytest.raises(ConfigError, match="accessible by group or others"):
        server.start()
    assert server.as2 is None and server.smtp is None  # nothing listened
    server.stop()
    gateway.close()


def test_an_sftp_port_in_use_is_one_clean_error(
    tmp_path: Path, started: list[GatewayServer]
) -> None:
    """It was a 30-line traceback; AS2 and SMTP said it in one line (README walkthrough)."""
    import socket

    from edigate.errors import EdigateError

    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        gateway = _gateway(
            tmp_path, _config_dir(tmp_path, None), sftp={"enabled": True, "port": port}
        )
        server = GatewayServer(gateway, run_worker=False)
        with pytest.raises(EdigateError) as info:
            server.start()
        server.stop()
        gateway.close()
    assert str(info.value).startswith(f"cannot listen for SFTP on 127.0.0.1:{port}: ")
    assert "set [sftp] port" in str(info.value)
