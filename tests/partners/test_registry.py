"""Loading a config directory, cross-checks, and identifying who sent a document."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from edigate.partners import UnknownPartnerError, check_config, load_registry
from edigate.partners.errors import ConfigErrors
from edigate.partners.registry import Registry
from edigate.x12 import InterchangeHeader, X12Reader

from ..example_profiles import with_sftp_push_example

Edit = Callable[[Path, str, str], int]


def line_with(path: Path, needle: str) -> int:
    """1-based number of the only line that starts with ``needle``."""
    (number,) = [
        i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(needle)
    ]
    return number


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(Path(__file__).resolve().parents[2])


def test_examples_are_valid(example_dir: Path) -> None:
    result = check_config(example_dir)
    assert [str(p) for p in result.problems] == []
    assert sorted(result.registry.partners) == [
        "acme-retail",
        "contoso-cxml",
        "globex-dist",
        "initech-csv",
    ]
    assert len(result.files) == 9  # 4 profiles, 4 maps, 1 SKU table


def test_sample_interchange_identifies_acme(registry: Registry, samples_dir: Path) -> None:
    """The ISA of the sample 850, read by the X12 reader, names acme-retail."""
    header = next(
        e
        for e in X12Reader(samples_dir / "x12/850-004010-retailer.edi").events()
        if isinstance(e, InterchangeHeader)
    )
    found = registry.identify(
        isa=(header.sender.qualifier, header.sender.id, header.usage),
        receiver=(header.receiver.qualifier, header.receiver.id),
        channel="sftp",
        account="acme",
    )
    assert found.ok and found.require().id == "acme-retail"
    assert found.usage == "production" and found.seen == "ISA ZZ:ACMERETAIL (production)"


def test_acme_map_resolves_the_sample_lines(registry: Registry) -> None:
    acme = registry.get("acme-retail")
    assert acme is not None and acme.xref is not None
    sample = {  # PO1 identifiers and quantities of samples/x12/850-004010-retailer.edi
        "WID-100-BLU": (
            [("UP", "012345678905"), ("VN", "WID-100"), ("IN", "A-100200")],
            "10",
            "CA",
            "54.00",
        ),
        "GAD-200-SS": (
            [("UP", "012345678912"), ("VN", "GAD-200"), ("IN", "A-100300")],
            "5",
            "CA",
            "96.50",
        ),
        "CLP-050-ST": (
            [("UP", "012345678929"), ("VN", "CLP-050"), ("IN", "A-100400")],
            "24",
            "EA",
            "3.25",
        ),
    }
    converted = {}
    for sku, (ids, qty, unit, price) in sample.items():
        res = acme.xref.resolve(ids)
        assert res.sku == sku
        converted[sku] = acme.uom.to_internal(Decimal(qty), unit, Decimal(price), sku=res.sku)
    assert converted["WID-100-BLU"] == (Decimal(120), "EA", Decimal("4.50"))
    assert converted["GAD-200-SS"] == (Decimal(30), "EA", Decimal("16.0833"))  # 6 per case
    assert converted["CLP-050-ST"] == (Decimal(24), "EA", Decimal("3.25"))
    assert [str(i) for i in acme.xref.to_partner("GAD-200-SS")] == ["VN GAD-200", "UP 012345678912"]
    spec = acme.validation["850"]
    assert [r.tag for r in spec.require] == ["REF", "N1"]


def test_test_identity_does_not_match_production(registry: Registry) -> None:
    prod = registry.identify_interchange("ZZ", "ACMETEST", "P")
    assert not prod.ok
    assert prod.reason == (
        "unknown sender ISA ZZ:ACMETEST (production); it is the test identity of "
        "acme-retail, but ISA15 says production"
    )
    test = registry.identify_interchange("ZZ", "ACMETEST", "T")
    assert test.ok and test.partner is not None and test.partner.id == "acme-retail"
    # acme's production ID on a test interchange: acme has a separate test ID
    assert not registry.identify_interchange("ZZ", "ACMERETAIL", "T").ok
    # globex has no separate test ID: its production ID serves ISA15 = T too
    assert registry.identify_interchange("ZZ", "GLOBEXDIST", "T").usage == "test"
    assert registry.identify_interchange("ZZ", "GLOBEXDIST", "T").ok


def test_unknown_sender_names_the_id_it_saw(registry: Registry) -> None:
    found = registry.identify_interchange("01", "123456789      ", "P")
    assert not found.ok and found.partner is None
    with pytest.raises(UnknownPartnerError) as info:
        found.require()
    assert info.value.seen == "ISA 01:123456789 (production)"
    assert str(info.value) == "unknown sender ISA 01:123456789 (production)"
    assert not registry.identify_interchange("ZZ", "ACMERETAIL", "X").ok


def test_qualifier_is_part_of_the_identity(registry: Registry) -> None:
    assert not registry.identify_interchange("01", "ACMERETAIL", "P").ok


def test_receiver_must_be_us(registry: Registry) -> None:
    found = registry.identify_interchange("ZZ", "ACMERETAIL", "P", receiver=("ZZ", "SOMEONEELSE"))
    assert not found.ok
    assert found.reason == (
        "ISA ZZ:ACMERETAIL (production) from acme-retail is addressed to ZZ:SOMEONEELSE, "
        "but we are ZZ:EDIGATEDIST toward acme-retail"
    )


def test_channel_accounts(registry: Registry) -> None:
    assert registry.identify_account("sftp", "acme").require().id == "acme-retail"
    assert registry.identify_account("sftp", "initech").require().id == "initech-csv"
    assert registry.identify_account("email", "Globex EDI <EDI@Globex.example>").require().id == (
        "globex-dist"
    )
    unknown = registry.identify_account("sftp", "mallory")
    assert unknown.reason == "unknown sftp user 'mallory'"
    with pytest.raises(UnknownPartnerError, match="mallory"):
        registry.identify(channel="sftp", account="mallory").require()


def test_isa_and_account_of_different_partners_is_rejected(registry: Registry) -> None:
    found = registry.identify(isa=("ZZ", "ACMERETAIL", "P"), channel="sftp", account="initech")
    assert not found.ok
    assert found.reason == (
        "ISA ZZ:ACMERETAIL (production) is acme-retail, but it came from sftp user 'initech' "
        "of initech-csv"
    )
    # an unknown ISA sender on a known account is still unknown: the ISA decides
    assert not registry.identify(isa=("ZZ", "NOBODY", "P"), channel="sftp", account="acme").ok


def test_shared_identity_never_matches(config_copy: Path, edit: Edit) -> None:
    edit(config_copy / "partners/globex-dist.yaml", "id: GLOBEXDIST, gs", "id: ACMETEST, gs")
    result = check_config(config_copy)
    assert [str(p) for p in result.problems] == [
        "partners/globex-dist.yaml:7: identity.production: identity ZZ:ACMETEST is also claimed "
        "by acme-retail (its test identity, partners/acme-retail.yaml:8)".replace(
            "partners/", f"{config_copy}/partners/"
        )
    ]
    found = result.registry.identify_interchange("ZZ", "ACMETEST", "T")
    assert not found.ok and found.reason == (
        "sender ISA ZZ:ACMETEST (test) is claimed by acme-retail, globex-dist"
    )
    with pytest.raises(ConfigErrors):
        load_registry(config_copy)


def test_check_errors_across_files(config_copy: Path, edit: Edit) -> None:
    d = config_copy
    map_line = edit(d / "partners/globex-dist.yaml", "map: globex-dist", "map: globex")
    user_line = edit(d / "partners/initech-csv.yaml", "username: initech", "username: acme")
    id_line = edit(d / "partners/acme-retail.yaml", "id: acme-retail", "id: acme")
    with (d / "maps/acme-retail-skus.csv").open("a") as f:
        f.write("CLP-050-XX,CLP-050,,again\n")
    problems = [str(p).replace(f"{d}/", "") for p in check_config(d).problems]
    acme_lines = (d / "partners/acme-retail.yaml").read_text().splitlines()
    acme_user_line = next(i for i, ln in enumerate(acme_lines, 1) if "username: acme" in ln)
    assert problems == [
        "maps/acme-retail-skus.csv:5: duplicate partner item VN CLP-050 (first on line 4, "
        "SKU CLP-050-ST)",
        f"partners/acme-retail.yaml:{id_line}: id: id 'acme' differs from the file name",
        f"partners/globex-dist.yaml:{map_line}: map: map maps/globex.yaml not found",
        f"partners/initech-csv.yaml:{user_line}: inbound.sftp.username: SFTP username 'acme' "
        f"is also claimed by acme (partners/acme-retail.yaml:{acme_user_line})",
    ]


def test_a_partner_identity_that_is_our_own_is_an_error(config_copy: Path, edit: Edit) -> None:
    """us: copied into identity: passed the check, and an interchange from our own ID to our
    own ID was then taken as that partner's (review finding)."""
    line = edit(
        config_copy / "partners/acme-retail.yaml",
        "production: {qualifier: ZZ, id: ACMERETAIL, gs: ACMERETAIL}",
        "production: {qualifier: ZZ, id: EDIGATEDIST, gs: ACMERETAIL}",
    )
    acme = (config_copy / "partners/acme-retail.yaml").read_text().splitlines()
    us_line = next(i for i, ln in enumerate(acme, 1) if ln.startswith("us:")) + 1
    problems = [str(p).replace(f"{config_copy}/", "") for p in check_config(config_copy).problems]
    assert problems == [
        f"partners/acme-retail.yaml:{line}: identity.production: identity ZZ:EDIGATEDIST is "
        f"our own (us: at partners/acme-retail.yaml:{us_line}); the partner's is the "
        "ISA05/ISA06 its interchanges come from"
    ]


def test_a_copied_profile_keeping_another_partners_ssh_key_is_an_error(
    config_copy: Path,
) -> None:
    """The README's onboarding recipe copies acme-retail's profile: its SSH key, kept,
    would let whoever holds it log in as the new partner too (new-user walkthrough)."""
    acme = (config_copy / "partners/acme-retail.yaml").read_text()
    newco = (
        acme.replace("id: acme-retail", "id: newco")
        .replace("ACMERETAIL", "NEWCO")
        .replace("ACMETEST", "NEWCOTEST")
        .replace("username: acme", "username: newco")
        .replace("edi@acme-retail.example", "edi@newco.example")
    )
    path = config_copy / "partners/newco.yaml"
    path.write_text(newco)
    line = next(i for i, ln in enumerate(newco.splitlines(), 1) if ln.strip().startswith("- ssh-"))
    first = next(i for i, ln in enumerate(acme.splitlines(), 1) if ln.strip().startswith("- ssh-"))
    problems = [str(p).replace(f"{config_copy}/", "") for p in check_config(config_copy).problems]
    assert problems == [
        f"partners/newco.yaml:{line}: inbound.sftp.public_keys[0]: SSH key ssh-ed25519 "
        "AAAAC3NzaC1l... (each partner's account needs its own) is also claimed by "
        f"acme-retail (partners/acme-retail.yaml:{first})"
    ]


def test_a_profile_copied_as_is_is_told_all_it_kept_in_one_check(config_copy: Path) -> None:
    """``cp partners/acme-retail.yaml partners/newco.yaml``, then ``partners check``: the id
    and every claim it kept, at once (they were hidden behind the id, both files saying
    acme-retail, until the id was changed)."""
    acme = (config_copy / "partners/acme-retail.yaml").read_text()
    (config_copy / "partners/newco.yaml").write_text(acme)
    problems = [str(p).replace(f"{config_copy}/", "") for p in check_config(config_copy).problems]
    assert problems[0] == "partners/newco.yaml:3: id: id 'acme-retail' differs from the file name"
    kept = [p.split(": ")[1] for p in problems[1:]]
    assert kept == [
        "identity.production",
        "identity.test",
        "inbound.sftp.username",
        "inbound.sftp.public_keys[0]",
        "inbound.email.senders[0]",
    ]
    assert all("is also claimed by acme-retail (" in p for p in problems[1:])


def test_one_partner_in_two_files_is_an_error(config_copy: Path) -> None:
    """``initech-csv.yml`` beside ``initech-csv.yaml``: both named after the partner, so
    neither is told its id differs; serve would have used one of them silently."""
    initech = config_copy / "partners/initech-csv.yaml"
    (config_copy / "partners/initech-csv.yml").write_text(initech.read_text())
    problems = [str(p).replace(f"{config_copy}/", "") for p in check_config(config_copy).problems]
    assert problems[0] == (
        "partners/initech-csv.yml:3: id: partner 'initech-csv' is also defined in "
        "partners/initech-csv.yaml"
    )
    assert [p.split(": ")[1] for p in problems[1:]] == ["inbound.sftp.username"]


def test_missing_sku_csv(config_copy: Path) -> None:
    (config_copy / "maps/acme-retail-skus.csv").unlink()
    problems = [str(p) for p in check_config(config_copy).problems]
    assert problems == [
        f"{config_copy}/maps/acme-retail.yaml:6: sku.file: SKU file "
        f"{config_copy}/maps/acme-retail-skus.csv not found"
    ]


def test_referenced_key_files_must_exist(config_copy: Path, edit: Edit) -> None:
    with_sftp_push_example(config_copy)  # globex-dist pushing by SFTP, as its profile shows
    line = edit(
        config_copy / "partners/globex-dist.yaml",
        "  # key_path omitted: we log in with the gateway's [sftp] client_key (edigate.toml).",
        "  key_path: keys/globex_push",
    )
    problems = [str(p) for p in check_config(config_copy).problems]
    assert problems == [
        f"{config_copy}/partners/globex-dist.yaml:{line}: outbound.key_path: file "
        f"keys/globex_push not found (relative to {config_copy})"
    ]
    (config_copy / "keys").mkdir()
    (config_copy / "keys/globex_push").write_text("not checked beyond existing\n")
    assert check_config(config_copy).ok


def test_format_and_profile_must_agree(config_copy: Path, edit: Edit) -> None:
    edit(config_copy / "partners/initech-csv.yaml", "functional: none", 'functional: "997"')
    edit(config_copy / "maps/initech-csv.yaml", "format: csv", "format: x12")
    map_line = line_with(config_copy / "partners/initech-csv.yaml", "map: initech-csv")
    csv_line = line_with(config_copy / "maps/initech-csv.yaml", "csv:")
    problems = [str(p).replace(f"{config_copy}/", "") for p in check_config(config_copy).problems]
    assert problems == [
        f"maps/initech-csv.yaml:{csv_line}: csv: a 'csv' layout needs 'format: csv' "
        "(format is x12)",
        f"partners/initech-csv.yaml:{map_line}: map: map initech-csv.yaml is X12: the profile "
        "needs 'identity' and 'us'",
    ]


def test_per_sku_factor_must_name_a_known_sku(config_copy: Path, edit: Edit) -> None:
    line = edit(
        config_copy / "maps/acme-retail.yaml", "per_sku: {GAD-200-SS: 6}", "per_sku: {GAD-200: 6}"
    )
    assert [str(p) for p in check_config(config_copy).problems] == [
        f"{config_copy}/maps/acme-retail.yaml:{line}: uom.conversions.CA.per_sku.GAD-200: "
        "SKU GAD-200 is not in the SKU table"
    ]


def test_no_partners_directory(tmp_path: Path) -> None:
    result = check_config(tmp_path)
    assert [str(p) for p in result.problems] == [
        f"{tmp_path}/partners: no partners/ directory here"
    ]


def test_functional_acks_need_an_x12_map(config_copy: Path, edit: Edit) -> None:
    line = edit(config_copy / "partners/initech-csv.yaml", "functional: none", 'functional: "997"')
    assert [str(p).replace(f"{config_copy}/", "") for p in check_config(config_copy).problems] == [
        f"partners/initech-csv.yaml:{line}: ack.functional: a 997 acknowledges X12, but map "
        "initech-csv.yaml is csv (set 'functional: none')"
    ]
