"""Maps that name a time zone (``templates: timezone``) load on a machine with no system time
zone database, such as a slim container: zoneinfo then reads the ``tzdata`` package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


#: Runs the CLI with the ``tzdata`` package hidden, as if it were not installed.
_WITHOUT_TZDATA = (
    "import sys; sys.modules['tzdata'] = None; "
    "from edigate.cli.main import main; sys.argv[0] = 'edigate'; main()"
)


def check_examples_without_system_zones(
    tmp_path: Path, *, hide_tzdata: bool = False
) -> subprocess.CompletedProcess[str]:
    """``edigate partners check`` on the shipped examples, with zoneinfo's system search path
    pointed at an empty folder (what a machine without /usr/share/zoneinfo looks like)."""
    no_zones = tmp_path / "no-zoneinfo"
    no_zones.mkdir()
    env = {**os.environ, "PYTHONTZPATH": str(no_zones)}
    entry = ["-c", _WITHOUT_TZDATA] if hide_tzdata else ["-m", "edigate.cli.main"]
    return subprocess.run(
        [sys.executable, *entry, "--config-dir", str(ROOT), "partners", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contoso_map_s_chicago_time_zone_loads_without_system_zone_data(
    tmp_path: Path,
) -> None:
    assert "timezone: America/Chicago" in (ROOT / "maps" / "contoso-cxml.yaml").read_text()
    result = check_examples_without_system_zones(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 4 partner(s)" in result.stdout


def test_with_no_zone_data_at_all_the_check_says_what_to_install(tmp_path: Path) -> None:
    lines = (ROOT / "maps" / "contoso-cxml.yaml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.strip().startswith("timezone:"))
    result = check_examples_without_system_zones(tmp_path, hide_tzdata=True)
    assert result.returncode == 1
    assert (
        f"maps/contoso-cxml.yaml:{line}: templates.timezone: time zone 'America/Chicago': this "
        "Python finds no time zone database (neither the system's nor the tzdata package): "
        "pip install tzdata"
    ) in result.stdout + result.stderr
