"""Replay every kept crash input (``tests/regressions/<target>/*``) through its fuzz target.

Each input once broke a contract (see ``tests/regressions/README.md``); the target checks the
same contract the fuzzers check, within a time bound. Inputs of bugs that are reported but
not fixed yet are strict xfails: the day the fix lands they pass, and the marker must go.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import targets

#: Kept inputs of open bugs (outside the files this work may change), with the fix needed.
OPEN: dict[str, str] = {}  # none open: ref01-undecodable-byte (UnicodeEncodeError) is fixed


def _cases() -> list[Any]:
    cases = []
    for path in sorted(targets.REGRESSIONS.glob("*/*")):
        if path.name == "README.md" or not path.is_file():
            continue
        name = f"{path.parent.name}/{path.name}"
        marks = [pytest.mark.xfail(strict=True, reason=OPEN[name])] if name in OPEN else []
        cases.append(pytest.param(path, id=name, marks=marks))
    return cases


CASES = _cases()


def test_there_are_kept_inputs_for_every_target_that_broke() -> None:
    kinds = {p.values[0].parent.name for p in CASES}
    assert kinds >= {"x12", "as2", "yaml"}
    assert set(OPEN) <= {f"{p.values[0].parent.name}/{p.values[0].name}" for p in CASES}


@pytest.fixture(scope="module")
def config() -> Any:
    scratch = targets.ConfigDir()
    yield scratch
    scratch.close()


@pytest.mark.parametrize("path", CASES)
def test_kept_input_holds_the_contract(path: Path, config: targets.ConfigDir) -> None:
    data = path.read_bytes()
    kind = path.parent.name
    if kind == "yaml":
        which = "map" if path.name.startswith("map-") else "profile"
        text = data.decode("utf-8", "surrogateescape")
        result = targets.bounded(10, targets.partner_yaml, text, which, config)
        assert result.problems, "a kept hostile YAML must be refused"
        return
    targets.bounded(10, targets.TARGETS[kind], data)
