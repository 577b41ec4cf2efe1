"""The Docker files agree with the configuration they ship (no Docker engine runs here, so
this checks what can be checked: services, ports, volumes, user, healthcheck)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from edigate.cli.main import cli
from edigate.cli.process import WORKER_NAME
from edigate.config import load_config

DOCKER = Path(__file__).resolve().parents[1] / "docker"


def test_compose_matches_the_container_config() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    config = load_config(DOCKER / "edigate.toml", environ={})
    services = compose["services"]
    assert set(services) == {"db", "gateway"}
    gateway, db = services["gateway"], services["db"]

    assert gateway["ports"] == [f"127.0.0.1:{config.sftp.port}:{config.sftp.port}"]  # see README
    assert config.sftp.host == "0.0.0.0"  # reachable through the published port
    mounts = {m.split(":")[1].split()[0]: m.split(":")[0] for m in gateway["volumes"]}
    assert mounts[str(config.data_dir)] == "edigate-data"
    assert mounts[str(config.config_dir)] == "edigate-config"
    assert config.sftp_host_key.is_relative_to(config.data_dir)  # survives restarts
    assert set(compose["volumes"]) >= {"edigate-data", "edigate-config", "edigate-db"}

    url = gateway["environment"]["EDIGATE_DATABASE_URL"]
    env = db["environment"]
    assert url == (
        f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@db:5432/"
        f"{env['POSTGRES_DB']}"
    )
    assert gateway["depends_on"]["db"]["condition"] == "service_healthy"
    # restart: unless-stopped gives a new PID namespace: only a stable name takes claims back.
    command = gateway["command"]
    assert command[:2] == ["edigate", "serve"] and gateway["restart"] == "unless-stopped"
    name = command[command.index("--name") + 1]
    assert WORKER_NAME.convert(name, None, None) == name


def test_dockerfile_runs_as_a_user_with_a_healthcheck() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]-slim$", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert 'CMD ["edigate", "health"]' in text
    assert text.rstrip().endswith('CMD ["edigate", "serve"]')
    config = load_config(DOCKER / "edigate.toml", environ={})
    assert f"EXPOSE {config.sftp.port}" in text
    assert "COPY docker/edigate.toml /etc/edigate/edigate.toml" in text


def test_the_healthcheck_command_reports_each_check(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    args = ["--data-dir", str(tmp_path), "--config-dir", str(root), "health", "--json"]
    missing = CliRunner().invoke(cli, args)  # a data volume not mounted: nothing there
    assert missing.exit_code == 1, missing.output
    checks = json.loads(missing.output)["checks"]
    assert checks["database"].startswith(f"missing: no edigate database at {tmp_path}")
    assert checks["partners"].startswith("ok (")
    assert not (tmp_path / "edigate.db").exists() and list(tmp_path.iterdir()) == []

    created = CliRunner().invoke(  # the gateway's first start creates the database
        cli, ["--data-dir", str(tmp_path), "--config-dir", str(root), "worker", "--until-idle"]
    )
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (created.output, result.output)
    assert json.loads(result.output) == {
        "healthy": True,
        "checks": {
            "config": "ok",
            "database": "ok",
            "blobs": "ok",
            "partners": checks["partners"],
        },
    }
    broken = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "--config-dir", str(tmp_path / "none"), "health"]
    )
    assert broken.exit_code == 1
    assert "partners" in broken.output


def test_health_with_a_config_file_that_fails_says_so_not_database_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad edigate.toml was reported as the database missing (review finding)."""
    (tmp_path / "edigate.toml").write_text('data_dir = "var"\n\n[worker]\nlease_secs = 3\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["health", "--json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["checks"] == {
        "config": "failed: edigate.toml:4: worker.lease_secs: unknown key 'lease_secs' "
        "(did you mean 'lease_seconds'?)"
    }


def test_health_of_a_postgresql_database_that_is_not_there_is_a_failed_check(
    tmp_path: Path, postgres_url: str
) -> None:
    """It was a traceback: opening the store failed again outside the check."""
    root = Path(__file__).resolve().parents[1]
    missing = postgres_url.rsplit("/", 1)[0] + "/edigate_no_such_database"
    result = CliRunner().invoke(
        cli, ["--database-url", missing, "--config-dir", str(root), "health", "--json"]
    )
    assert result.exit_code == 1, result.output
    checks = json.loads(result.output)["checks"]
    assert checks["database"].startswith("failed: cannot open the database: ")
    assert 'database "edigate_no_such_database" does not exist' in checks["database"]
    assert "blobs" not in checks and checks["partners"].startswith("ok (")


def test_postgresql_without_its_driver_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg is the 'postgres' extra: a user who installed edigate alone got a
    ModuleNotFoundError traceback from every command (new-user walkthrough)."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    url = "postgresql://edigate:secret@127.0.0.1:5432/edigate"
    result = CliRunner().invoke(cli, ["--database-url", url, "docs", "list"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "secret" not in result.output
    assert "PostgreSQL needs the psycopg driver: python3 -m pip install 'edigate[postgres]'" in (
        result.output
    )


def test_commands_that_only_look_create_no_tables_in_an_empty_postgresql_database(
    tmp_path: Path, postgres_url: str
) -> None:
    """health (Docker's healthcheck) and docs list on a database no gateway has started
    on created the whole schema and said 'database ok' (new-user walkthrough)."""
    import psycopg

    root = Path(__file__).resolve().parents[1]
    base, _ = postgres_url.rsplit("/", 1)
    name = "edigate_empty_" + tmp_path.name[-8:].lower().replace("-", "_")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        for command in (["health"], ["docs", "list"]):
            result = CliRunner().invoke(
                cli, ["--database-url", f"{base}/{name}", "--config-dir", str(root), *command]
            )
            assert result.exit_code == 1, result.output
            assert "no edigate tables in postgresql+psycopg://" in result.output
        with psycopg.connect(f"{base}/{name}") as conn:
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
        assert tables == (0,)
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
