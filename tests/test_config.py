"""Configuration precedence and error reporting."""

from __future__ import annotations

from pathlib import Path

import pytest

from edigate.config import load_config
from edigate.errors import ConfigError


def test_file_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "etc" / "edigate.toml"
    conf.parent.mkdir()
    conf.write_text('data_dir = "data"\n[worker]\nmax_attempts = 7\n')
    config = load_config(conf, environ={})
    assert config.data_dir == (tmp_path / "etc" / "data").resolve()
    assert config.worker.max_attempts == 7
    assert config.erp_root == config.data_dir / "erp"


def test_environment_and_options_override_the_file(tmp_path: Path, monkeypatch) -> None:
    conf = tmp_path / "edigate.toml"
    conf.write_text('data_dir = "from-file"\ndatabase_url = "sqlite:///file.db"\n')
    monkeypatch.chdir(tmp_path)
    env = {"EDIGATE_DATABASE_URL": "postgresql://env/db", "EDIGATE_DATA_DIR": "from-env"}
    config = load_config(conf, environ=env, data_dir="from-option")
    assert config.database_url == "postgresql://env/db"
    assert config.data_dir == (tmp_path / "from-option").resolve()


def test_unknown_keys_and_bad_values_name_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "edigate.toml"
    conf.write_text('data_dir = "x"\n[worker]\nmax_attempts = 0\ncolour = "blue"\n')
    with pytest.raises(ConfigError) as info:
        load_config(conf, environ={})
    message = str(info.value)
    assert str(conf) in message
    assert "worker.max_attempts" in message and "worker.colour" in message


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    conf = tmp_path / "edigate.toml"
    conf.write_text("data_dir = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(conf, environ={})


def test_each_problem_names_its_line_and_an_unknown_key_its_likely_spelling(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "edigate.toml"
    conf.write_text(
        'data_dir = "x"\n\n[worker]\nmax_attempts = 0\nlease_secs = 3\n\n'
        '[[folders]]\npath = "a"\n\n[[folders]]\npatth = "b"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(conf, environ={})
    assert str(info.value).splitlines() == [
        "4 problems:",
        f"{conf}:4: worker.max_attempts: Input should be greater than or equal to 1",
        f"{conf}:5: worker.lease_secs: unknown key 'lease_secs' (did you mean 'lease_seconds'?)",
        f"{conf}:10: folders.1.path: Field required",  # the table: its key is not written
        f"{conf}:11: folders.1.patth: unknown key 'patth' (did you mean 'path'?)",
    ]
