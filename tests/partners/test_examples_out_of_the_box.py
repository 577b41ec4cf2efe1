"""The shipped example configuration works out of the box: a new user who runs any
command in a copy of the repository (no edigate.toml, no keys made) sees no warning."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from edigate.cli.main import cli
from edigate.config import load_config
from edigate.key_checks import key_checks
from edigate.partners import load_registry

from ..example_profiles import GLOBEX, with_sftp_push_example

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new user's folder: the example partners and maps, nothing else."""
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    for name in (
        "EDIGATE_CONFIG",
        "EDIGATE_DATA_DIR",
        "EDIGATE_CONFIG_DIR",
        "EDIGATE_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_examples_need_no_key_the_user_has_not_made(fresh: Path) -> None:
    config = load_config(None, environ={}, config_dir=fresh, data_dir=fresh / "var")
    assert config.sftp.client_key is None
    assert key_checks(config, load_registry(fresh)) == []


@pytest.mark.parametrize(
    "commands",
    [
        [["partners", "check"]],
        [["worker", "--until-idle"], ["docs", "list"]],  # docs needs the worker's database
        [["worker", "--until-idle"], ["health"]],  # health needs the database a gateway made
    ],
)
def test_every_command_runs_without_a_warning(
    fresh: Path, commands: list[list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for command in commands:
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 0, result.output
        assert "warning" not in result.output.lower() and "key:" not in result.output
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_sftp_push_block_of_the_globex_example_is_a_valid_profile(tmp_path: Path) -> None:
    """The commented alternative is what a user uncomments: it must load as it stands."""
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / name)
    with_sftp_push_example(tmp_path)
    profile = yaml.safe_load((tmp_path / GLOBEX).read_text())
    assert profile["outbound"]["type"] == "sftp_push"
    partner = load_registry(tmp_path).get("globex-dist")
    assert partner is not None and partner.profile.outbound is not None
    assert partner.profile.outbound.type == "sftp_push"
