"""Onboarding without code, as the README describes it: copy an example partner, change its
IDs, SKUs, units and a required segment, check it, and test its map on its files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edigate.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples/x12/850-004010-retailer.edi"


def newco_sample(tmp: Path, *, with_ref_ia: bool = True) -> Path:
    """ACME's sample 850 as NewCo sends it: its own ISA/GS IDs and item numbers."""
    text = SAMPLE.read_text()
    text = text.replace("ZZ*ACMERETAIL     *", "ZZ*NEWCO          *")
    text = text.replace("GS*PO*ACMERETAIL*", "GS*PO*NEWCO*")
    text = text.replace("VN*WID-100*", "VN*NC-W1*").replace("VN*GAD-200*", "VN*NC-G2*")
    text = text.replace("VN*CLP-050*", "VN*NC-C5*")
    if not with_ref_ia:
        text = text.replace("REF*IA*VEND-00981~\n", "").replace("SE*32*0001", "SE*31*0001")
    path = tmp / ("newco-850.edi" if with_ref_ia else "newco-850-no-ia.edi")
    path.write_text(text)
    return path


def newco_public_key() -> str:
    """The OpenSSH public key line NewCo sends for its SFTP account."""
    key = Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode() + " newco"


def onboard_newco(tmp: Path) -> Path:
    """What an onboarding engineer does with a text editor."""
    config = tmp / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config / name)
    profile = (config / "partners/acme-retail.yaml").read_text()
    profile = profile.replace("id: acme-retail", "id: newco").replace("ACME Retail", "NewCo")
    profile = profile.replace("ACMERETAIL", "NEWCO").replace("ACMETEST", "NEWCOTEST")
    profile = profile.replace("username: acme", "username: newco")
    acme_key = next(ln for ln in profile.splitlines() if ln.strip().startswith("- ssh-"))
    profile = profile.replace(acme_key, f"      - {newco_public_key()}")  # NewCo's own key
    profile = profile.replace("edi@acme-retail.example", "edi@newco.example")
    profile = profile.replace("map: acme-retail", "map: newco")
    (config / "partners/newco.yaml").write_text(profile)
    mapping = (config / "maps/acme-retail.yaml").read_text()
    mapping = mapping.replace("file: acme-retail-skus.csv", "file: newco-skus.csv")
    mapping = mapping.replace(
        "CA: {internal: EA, factor: 12, per_sku: {GAD-200-SS: 6}}", "CA: {internal: EA, factor: 24}"
    )
    mapping = mapping.replace(
        "      - {segment: N1, when: {N101: ST}}",
        "      - {segment: N1, when: {N101: ST}}\n      - {segment: REF, when: {REF01: IA}}",
    )
    (config / "maps/newco.yaml").write_text(mapping)
    (config / "maps/newco-skus.csv").write_text(
        "sku,vendor_item,upc,description\n"
        "WID-100-BLU,NC-W1,012345678905,Widget\n"
        "GAD-200-SS,NC-G2,012345678912,Gadget\n"
        "CLP-050-ST,NC-C5,012345678929,Clip\n"
    )
    return config


def test_a_copied_partner_checks_and_its_files_translate(tmp_path: Path) -> None:
    config = onboard_newco(tmp_path)
    runner = CliRunner()
    check = runner.invoke(cli, ["partners", "check", str(config)])
    assert check.exit_code == 0, check.output
    assert "5 partner(s)" in check.output

    sample = newco_sample(tmp_path)
    result = runner.invoke(
        cli, ["map", "test", "newco", str(sample), "--config-dir", str(config), "--update",
              "--expect", str(tmp_path / "golden")]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    golden = json.loads((tmp_path / "golden/newco-850.order.json").read_text())
    (order,) = golden["orders"]
    assert order["po_number"] == "4500012345"
    assert [line["sku"] for line in order["lines"]] == ["WID-100-BLU", "GAD-200-SS", "CLP-050-ST"]
    # NewCo's case holds 24: 10 CA -> 240 EA (ACME's was 12).
    assert (order["lines"][0]["quantity"], order["lines"][0]["unit"]) == ("240", "EA")

    # The golden file now guards the map: the same run matches it.
    again = runner.invoke(
        cli, ["map", "test", "newco", str(sample), "--config-dir", str(config),
              "--expect", str(tmp_path / "golden")]
    )  # fmt: skip
    assert again.exit_code == 0, again.output


def test_the_new_required_segment_is_enforced(tmp_path: Path) -> None:
    config = onboard_newco(tmp_path)
    sample = newco_sample(tmp_path, with_ref_ia=False)
    result = CliRunner().invoke(
        cli, ["map", "test", "newco", str(sample), "--config-dir", str(config)]
    )
    assert result.exit_code == 1
    assert "REF with REF01=IA is required" in result.output


def test_a_mistake_in_the_copy_names_file_and_line(tmp_path: Path) -> None:
    config = onboard_newco(tmp_path)
    profile = config / "partners/newco.yaml"
    profile.write_text(profile.read_text().replace('functional: "997"', 'functional: "998"'))
    check = CliRunner().invoke(cli, ["partners", "check", str(config)])
    assert check.exit_code == 1
    line = next(i for i, text in enumerate(profile.read_text().splitlines(), 1) if '"998"' in text)
    assert f"partners/newco.yaml:{line}:" in check.output
