"""``edigate partners check`` and ``edigate partners list`` through click."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from edigate.cli.main import cli
from edigate.cli.partners import partners
from edigate.partners.passwords import verify_password

from ..example_profiles import with_sftp_push_example

Edit = Callable[[Path, str, str], int]


def test_check_examples_is_green(example_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(example_dir)
    result = CliRunner().invoke(partners, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output == "ok: 4 partner(s), 9 file(s) checked\n"
    assert CliRunner().invoke(partners, ["check", str(example_dir)]).exit_code == 0
    assert CliRunner().invoke(partners, ["check", "--config-dir", str(example_dir)]).exit_code == 0


def test_check_broken_copy(config_copy: Path, edit: Edit, monkeypatch: pytest.MonkeyPatch) -> None:
    ack = edit(config_copy / "partners/acme-retail.yaml", 'functional: "997"', 'functional: "998"')
    key = edit(config_copy / "partners/acme-retail.yaml", "username: acme", "usrname: acme")
    unit = edit(config_copy / "maps/initech-csv.yaml", "line.unit: EA", "line.unt: EA")
    broken_yaml = edit(config_copy / "maps/globex-dist.yaml", "max: {PO1: 500}", "max: {PO1: 500")
    monkeypatch.chdir(config_copy)
    result = CliRunner().invoke(partners, ["check"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"maps/globex-dist.yaml:{broken_yaml + 1}: YAML syntax: expected ',' or '}}', but got "
        f"'<stream end>' (while parsing a flow mapping from line {broken_yaml})",
        f"maps/initech-csv.yaml:{unit}: defaults.line.unt: unknown field 'unt' in line "
        "(did you mean 'unit'?)",
        f"partners/acme-retail.yaml:{ack}: ack.functional: input should be '997', '999' or "
        "'none' (got '998')",
        f"partners/acme-retail.yaml:{key - 1}: inbound.sftp.username: required",
        f"partners/acme-retail.yaml:{key}: inbound.sftp.usrname: unknown key 'usrname' "
        "(did you mean 'username'?)",
        "5 problem(s) in 3 file(s)",
    ]


def test_check_in_another_directory_names_full_paths(config_copy: Path, edit: Edit) -> None:
    line = edit(config_copy / "partners/globex-dist.yaml", "ta1: on_error", "ta1: sometimes")
    result = CliRunner().invoke(partners, ["check", "--config-dir", str(config_copy)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"{config_copy}/partners/globex-dist.yaml:{line}: ack.ta1: input should be 'never', "
        "'on_error' or 'on_request' (got 'sometimes')"
    )


def test_dir_given_twice_differently_is_a_usage_error(tmp_path: Path, example_dir: Path) -> None:
    result = CliRunner().invoke(
        partners, ["check", str(example_dir), "--config-dir", str(tmp_path)]
    )
    assert result.exit_code == 2


def test_list_table(example_dir: Path) -> None:
    result = CliRunner().invoke(partners, ["list", str(example_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "PRODUCTION", "TEST", "IN", "OUT", "ACKS", "MAP"]
    acme, contoso, globex, initech = lines[1:]
    assert contoso.split()[0] == "contoso-cxml"
    assert acme.split()[:3] == ["acme-retail", "ZZ:ACMERETAIL", "ZZ:ACMETEST"]
    assert "sftp acme (1 key(s)), email (1)" in acme
    assert "sftp_pickup out/" in acme and "997, TA1 on_request, 855 auto" in acme
    assert acme.endswith("acme-retail (x12)")
    assert "(same, ISA15=T)" in globex and "email edi@globex.example" in globex
    assert "999, TA1 on_error, 855 erp, GS08 005010 only" in globex
    assert initech.split()[:3] == ["initech-csv", "-", "-"]
    assert "sftp initech (password)" in initech and initech.endswith("initech-csv (csv)")


def test_list_json(example_dir: Path) -> None:
    result = CliRunner().invoke(partners, ["list", "--json", "--config-dir", str(example_dir)])
    assert result.exit_code == 0
    rows = {row["id"]: row for row in json.loads(result.output)}
    acme = rows["acme-retail"]
    assert acme["identity"]["production"] == {
        "qualifier": "ZZ",
        "id": "ACMERETAIL",
        "gs": "ACMERETAIL",
    }
    assert acme["identity"]["test"]["id"] == "ACMETEST"
    assert acme["us"]["production"]["id"] == "EDIGATEDIST"
    assert acme["ack"] == {
        "functional": "997",
        "ta1": "on_request",
        "855": "auto",
        "duplicate_window_days": 30,
        "duplicate_po": "hold",
        "expect_ack_within_hours": 24,
        "accept_versions": None,
    }
    assert rows["globex-dist"]["ack"]["accept_versions"] == ["005010"]
    assert acme["outbound"] == {"type": "sftp_pickup", "folder": "out"}
    assert acme["inbound"]["sftp"]["keys"][0].startswith("SHA256:")
    assert acme["map"] == {"name": "acme-retail", "format": "x12", "skus": 3}
    assert rows["globex-dist"]["identity"]["test_same_as_production"] is True
    assert rows["globex-dist"]["outbound"]["to"] == "edi@globex.example"
    assert rows["initech-csv"]["identity"] is None
    assert rows["initech-csv"]["inbound"]["sftp"]["password"] is True


def test_list_with_problems_exits_1_and_lists_the_rest(config_copy: Path, edit: Edit) -> None:
    edit(config_copy / "partners/globex-dist.yaml", "ta1: on_error", "ta1: sometimes")
    result = CliRunner().invoke(partners, ["list", str(config_copy)])
    assert result.exit_code == 1
    assert "acme-retail" in result.output and "globex-dist" not in result.output
    assert "1 problem(s) in the config; see 'edigate partners check'" in result.output


def test_hash_password() -> None:
    result = CliRunner().invoke(partners, ["hash-password"], input="pw-123\npw-123\n")
    assert result.exit_code == 0, result.output
    encoded = result.output.strip().splitlines()[-1]
    assert verify_password("pw-123", encoded)


def test_list_shows_an_sftp_push_partner_and_its_pinned_host_key(config_copy: Path) -> None:
    with_sftp_push_example(config_copy)
    table = CliRunner().invoke(partners, ["list", str(config_copy)])
    assert table.exit_code == 0, table.output
    assert "sftp_push edigate@127.0.0.1:2222" in table.output
    result = CliRunner().invoke(partners, ["list", "--json", "--config-dir", str(config_copy)])
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert rows["globex-dist"]["outbound"]["host_key_fingerprint"].startswith("SHA256:EXAMPLE")


def test_list_shows_a_partner_we_poll(config_copy: Path, edit: Edit) -> None:
    poll = (
        "inbound:\n  sftp_poll: {host: sftp.acme.example, username: vendor981, folder: outbound,"
        ' host_key_fingerprint: "SHA256:' + "A" * 43 + '", interval_seconds: 300}\n'
    )
    edit(config_copy / "partners/acme-retail.yaml", "inbound:\n", poll)
    result = CliRunner().invoke(partners, ["list", str(config_copy)])
    assert result.exit_code == 0, result.output
    (acme,) = [line for line in result.output.splitlines() if line.startswith("acme-retail")]
    assert "sftp_poll vendor981@sftp.acme.example:22/outbound every 300 s" in acme
    result = CliRunner().invoke(partners, ["list", "--json", str(config_copy)])
    (row,) = [r for r in json.loads(result.output) if r["id"] == "acme-retail"]
    assert row["inbound"]["sftp_poll"]["folder"] == "outbound"


def test_check_loads_an_sftp_poll_key_the_profile_names(config_copy: Path, edit: Edit) -> None:
    """An onboarding team learns of a bad sftp_poll key_path from 'partners check', at
    its line, not from serve refusing to start."""
    poll = (
        "inbound:\n  sftp_poll:\n    host: sftp.acme.example\n    username: vendor981\n"
        "    key_path: keys/acme_client\n"
        '    host_key_fingerprint: "SHA256:' + "A" * 43 + '"\n'
    )
    line = edit(config_copy / "partners/acme-retail.yaml", "inbound:\n", poll)
    (config_copy / "keys").mkdir()
    key = config_copy / "keys/acme_client"
    key.write_text("not a key\n")
    key.chmod(0o600)
    result = CliRunner().invoke(partners, ["check", str(config_copy)])
    assert result.exit_code == 1
    assert f"partners/acme-retail.yaml:{line + 4}: inbound.sftp_poll.key_path: " in result.output
    assert "is not a private key that can be loaded" in result.output
    key.chmod(0o644)
    result = CliRunner().invoke(partners, ["check", str(config_copy)])
    assert "chmod 600" in result.output and result.exit_code == 1


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory with no EDIGATE_* settings: the config must come from
    the options, the environment or an edigate.toml."""
    for name in ("EDIGATE_CONFIG", "EDIGATE_CONFIG_DIR", "EDIGATE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_check_and_list_take_the_global_config_dir(elsewhere: Path, example_dir: Path) -> None:
    checked = CliRunner().invoke(cli, ["--config-dir", str(example_dir), "partners", "check"])
    assert checked.exit_code == 0, checked.output
    assert checked.output == "ok: 4 partner(s), 9 file(s) checked\n"
    listed = CliRunner().invoke(cli, ["--config-dir", str(example_dir), "partners", "list"])
    assert listed.exit_code == 0, listed.output
    assert "acme-retail" in listed.output


def test_check_and_list_take_the_config_dir_from_the_environment(
    elsewhere: Path, example_dir: Path
) -> None:
    env = {"EDIGATE_CONFIG_DIR": str(example_dir)}
    checked = CliRunner().invoke(cli, ["partners", "check"], env=env)
    assert checked.exit_code == 0, checked.output
    listed = CliRunner().invoke(cli, ["partners", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.output)) == 4


def test_check_takes_the_config_dir_from_edigate_toml(elsewhere: Path, example_dir: Path) -> None:
    (elsewhere / "edigate.toml").write_text(f'config_dir = "{example_dir}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["partners", "check"])
    assert result.exit_code == 0, result.output
    assert result.output == "ok: 4 partner(s), 9 file(s) checked\n"


def test_list_names_the_watched_folders_that_feed_a_partner(
    elsewhere: Path, example_dir: Path
) -> None:
    """A folder-fed partner's profile names no channel in; edigate.toml's [[folders]] do.
    A folder that names no partner (identified from the content) is nobody's in particular."""
    (elsewhere / "edigate.toml").write_text(
        f'config_dir = "{example_dir}"\n\n[[folders]]\npath = "drop/initech"\n'
        'partner = "initech-csv"\n\n[[folders]]\npath = "drop/any"\n',
        encoding="utf-8",
    )
    listed = CliRunner().invoke(cli, ["partners", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    folders = {row["id"]: row["inbound"]["folders"] for row in json.loads(listed.output)}
    assert folders == {
        "acme-retail": [],
        "contoso-cxml": [],
        "globex-dist": [],
        "initech-csv": ["drop/initech"],
    }
    table = CliRunner().invoke(cli, ["partners", "list"]).output
    [initech] = [line for line in table.splitlines() if line.startswith("initech-csv")]
    assert "sftp initech (password), folder drop/initech" in initech
    other = CliRunner().invoke(cli, ["partners", "list", "--json", str(example_dir)])
    assert other.exit_code == 0, other.output  # the same folder given: the same toml applies
    assert json.loads(other.output)[3]["inbound"]["folders"] == ["drop/initech"]


def test_check_names_paths_relative_to_the_working_directory(
    config_copy: Path, edit: Edit, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = edit(config_copy / "partners/globex-dist.yaml", "ta1: on_error", "ta1: sometimes")
    monkeypatch.chdir(config_copy)
    result = CliRunner().invoke(cli, ["--config-dir", ".", "partners", "check"])
    assert result.exit_code == 1
    assert result.output.startswith(f"partners/globex-dist.yaml:{line}: ack.ta1: ")


def test_global_and_command_config_dirs_that_differ_are_a_usage_error(
    tmp_path: Path, example_dir: Path
) -> None:
    args = ["--config-dir", str(tmp_path), "partners", "check", str(example_dir)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert str(tmp_path) in result.output and str(example_dir) in result.output
    same = ["--config-dir", str(example_dir), "partners", "check", str(example_dir)]
    assert CliRunner().invoke(cli, same).exit_code == 0


def test_a_broken_edigate_toml_is_a_clean_error(elsewhere: Path) -> None:
    (elsewhere / "edigate.toml").write_text("config_dir = \n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["partners", "check"])
    assert result.exit_code == 1
    assert "edigate.toml" in result.output and "not valid TOML" in result.output
    assert isinstance(result.exception, SystemExit), result.exception
