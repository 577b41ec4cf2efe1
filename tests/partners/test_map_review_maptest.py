"""``edigate map test`` delivers what the pipeline delivers: a group our 997/999 rejects
(a GS08 version the profile does not accept, a wrong GE count) and a transaction past the
partner's reader limits yield no order there, so none here either."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edigate.partners.maptest import run_map_test
from edigate.partners.registry import load_registry

ROOT = Path(__file__).resolve().parents[2]
GLOBEX = (ROOT / "samples/x12/850-005010-globex.edi").read_text()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def run(config: Path, text: str) -> dict[str, object]:
    sample = config / "sample.edi"
    sample.write_text(text)
    report = run_map_test(load_registry(config), "globex-dist", [sample])
    return report.samples[0].result


def test_the_unchanged_sample_is_mapped(config: Path) -> None:
    result = run(config, GLOBEX)
    assert len(result["orders"]) == 1  # type: ignore[arg-type]


def test_a_group_version_the_profile_does_not_accept_delivers_no_order(config: Path) -> None:
    result = run(config, GLOBEX.replace("*X*005010~", "*X*004010~"))  # accept_versions 005010
    assert result["orders"] == []
    assert result["issues"] == [
        "ack: ST 0001: its functional group 118 was rejected by our 999 (AK9 R 2); "
        "segment 2 GS08: AK9-2 GS08 version '004010' is not supported (supported: 005010); "
        "its order is not delivered"
    ]


def test_a_wrong_group_count_delivers_no_order(config: Path) -> None:
    result = run(config, GLOBEX.replace("GE*1*118~", "GE*2*118~"))
    assert result["orders"] == []
    assert any("(AK9 R 5)" in str(i) for i in result["issues"])  # type: ignore[attr-defined]


def test_the_partners_reader_limits_apply(config: Path) -> None:
    lines = "".join(f"PO1*{n}*1*EA*1.00*PE*BP*GX-55002~\n" for n in range(4, 104))
    big = GLOBEX.replace("CTT*3*21~\nSE*16*0001~", f"{lines}CTT*103*121~\nSE*116*0001~")
    assert len(run(config, big)["orders"]) == 1  # type: ignore[arg-type]
    profile = config / "partners/globex-dist.yaml"
    profile.write_text(profile.read_text() + "limits: {max_transaction_segments: 100}\n")
    result = run(config, big)
    assert result["orders"] == []
    assert any("100" in str(i) for i in result["issues"])  # type: ignore[attr-defined]


def test_an_interchange_our_ta1_rejects_delivers_no_order(config: Path) -> None:
    result = run(config, GLOBEX.replace("IEA*1*000000118", "IEA*1*000000119"))
    assert result["orders"] == []
    assert result["issues"] == [
        "ack: segment 20 IEA02: TA1-001 IEA02 '000000119' does not match ISA13 '000000118'",
        "ack: ST 0001: the interchange was rejected by our TA1 (TA105 001); its order is not "
        "delivered",
    ]


def test_a_group_sender_other_than_the_profiles_is_the_warning_the_pipeline_records(
    config: Path,
) -> None:
    """The pipeline records a GS02 other than the profile's on the file; map test left it
    out, so onboarding never saw it (review finding)."""
    result = run(config, GLOBEX.replace("GS*PO*GLOBEXDIST*", "GS*PO*WRONGGS*"))
    assert len(result["orders"]) == 1  # type: ignore[arg-type]
    assert result["issues"][0] == (  # type: ignore[index]
        "envelope: segment 2 GS02: group_party: GS02 'WRONGGS' is not globex-dist's application "
        "sender code 'GLOBEXDIST' (its profile's production identity); the ISA identified the "
        "partner (warning)"
    )
    assert result["issues"][1:] == run(config, GLOBEX)["issues"]  # type: ignore[index]
