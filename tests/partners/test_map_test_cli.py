"""``edigate map test``: where the config comes from, and golden files that stay portable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edigate.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
MAPPED = ROOT / "samples/expected/mapped"
GLOBEX = ROOT / "samples/x12/850-005010-globex.edi"
INITECH = ROOT / "samples/csv/initech-orders.csv"


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EDIGATE_CONFIG", "EDIGATE_CONFIG_DIR", "EDIGATE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def assert_clean_failure(result: Result) -> None:
    """Exit 1 with a message, not a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def test_takes_the_config_dir_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"EDIGATE_CONFIG_DIR": str(ROOT)}
    result = run("map", "test", "globex-dist", str(GLOBEX), "-q", env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"{GLOBEX}: 1 order(s), 1 issue(s)"


def test_takes_the_config_dir_from_edigate_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "edigate.toml").write_text(f'config_dir = "{ROOT}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("map", "test", "globex-dist", str(GLOBEX), "--expect", str(MAPPED), "-q")
    assert result.exit_code == 0, result.output
    assert "; matches " in result.output


@pytest.mark.parametrize(
    ("cwd", "config_dir"),
    [(ROOT, None), (ROOT, str(ROOT)), (ROOT / "samples", ".."), (ROOT / "samples", str(ROOT))],
    ids=["implicit", "absolute", "relative", "absolute-from-elsewhere"],
)
def test_goldens_match_however_the_config_dir_is_spelled(
    cwd: Path, config_dir: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(cwd)
    options = ["--config-dir", config_dir] if config_dir is not None else []
    args = ["map", "test", "globex-dist", str(GLOBEX), "--expect", str(MAPPED), "-q"]
    result = run(*options, *args)
    assert result.exit_code == 0, result.output
    assert "not in maps/globex-dist.yaml (warning)" in result.output
    assert str(ROOT) + "/maps" not in result.output


def test_update_refuses_two_samples_with_the_same_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(INITECH, tmp_path / folder / "orders.csv")
    first, second = tmp_path / "a/orders.csv", tmp_path / "b/orders.csv"
    expect = tmp_path / "exp"
    args = ["map", "test", "initech-csv", str(first), str(second), "--expect", str(expect)]
    result = run(*args, "--update", "-q")
    assert_clean_failure(result)
    assert str(first) in result.output and str(second) in result.output
    assert "orders.order.json" in result.output
    assert not (expect / "orders.order.json").exists()


def test_the_same_sample_twice_is_not_a_clash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    args = ["map", "test", "initech-csv", str(INITECH), "samples/csv/initech-orders.csv"]
    result = run(*args, "--expect", str(tmp_path), "--update", "-q")
    assert result.exit_code == 0, result.output


def test_update_into_a_path_under_a_file_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n", encoding="utf-8")
    args = ["map", "test", "initech-csv", str(INITECH), "--expect", str(afile / "sub")]
    result = run(*args, "--update", "-q")
    assert_clean_failure(result)
    assert str(afile / "sub") in result.output
    assert f"{afile} is a file" in result.output
