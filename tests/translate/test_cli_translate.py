"""``edigate translate`` and ``edigate schema`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edigate.cli.schema import schema
from edigate.cli.translate import translate

from .goldens import CASES, SAMPLES, Case, expected
from .x12text import interchange


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cli_output_matches_the_goldens(runner: CliRunner, case: Case) -> None:
    result = runner.invoke(translate, case.cli_args())
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == expected(case)
    assert result.stderr == ""


def test_jsonl_and_out(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "orders.jsonl"
    source = "/".join(["x12", "850-005010-distributor.edi"])
    result = runner.invoke(
        translate, [str(SAMPLES / source), "--to", "canonical", "--jsonl", "--out", str(out)]
    )
    assert result.exit_code == 0 and result.stdout == ""
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["po_number"] == "NW-2026-118804"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "cp037"])
def test_x12_in_any_encoding_the_reader_reads_is_translated(
    runner: CliRunner, tmp_path: Path, encoding: str
) -> None:
    """x12 inspect, validate and receive read UTF-16 and EBCDIC files: so does translate."""
    text = (SAMPLES / "x12" / "850-005010-distributor.edi").read_text()
    path = tmp_path / f"po-{encoding}.edi"
    path.write_bytes(text.encode(encoding))
    result = runner.invoke(translate, [str(path), "--to", "canonical"])
    assert result.exit_code == 0, result.stderr
    (order,) = json.loads(result.stdout)
    assert order["po_number"] == "NW-2026-118804"


def test_envelope_overrides(runner: CliRunner) -> None:
    args = [
        str(SAMPLES / "canonical" / "shipment-cartons.json"),
        "--to", "856",
        "--sender", "01:123456789",
        "--receiver", "ZZ:ACMERETAIL",
        "--version", "005010",
        "--control-number", "77",
        "--test",
        "--timestamp", "2026-11-26T09:30",
    ]  # fmt: skip
    result = runner.invoke(translate, args)
    assert result.exit_code == 0, result.stderr
    isa, gs = result.stdout.splitlines()[:2]
    fields = isa.split("*")
    assert (fields[5], fields[6].strip(), fields[7], fields[8].strip()) == (
        "01",
        "123456789",
        "ZZ",
        "ACMERETAIL",
    )
    assert (fields[11], fields[12], fields[13], fields[15]) == ("^", "00501", "000000077", "T")
    assert gs == "GS*SH*123456789*ACMERETAIL*20261126*0930*77*X*005010~"


def test_json_without_document_type_is_taken_from_the_target(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = json.loads((SAMPLES / "canonical" / "invoice.json").read_text())
    del data["document_type"]
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(translate, [str(path), "--to", "810", "--timestamp", "2026-11-21T10:00"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == expected(
        next(c for c in CASES if c.expected == "invoice.810.edi")
    )


def test_x12_errors_are_reported_like_inspect(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.edi"
    path.write_bytes(
        interchange(["BEG*00*SA*P1**20261120", "PO1*1*TEN*EA*1", "PO1*2*1*EA*1", "CTT*2"])
    )
    result = runner.invoke(translate, [str(path), "--to", "canonical"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == []
    assert f"{path}: 1 error(s), 0 warning(s)" in result.stderr
    assert (
        "  error: segment 5 PO102: [AK4-6] PO102 (Quantity Ordered) 'TEN' is not a decimal number"
        in result.stderr
    )


def test_a_model_error_names_its_element_and_value(runner: CliRunner, tmp_path: Path) -> None:
    """A negative quantity passes X12 syntax (R may be signed) and is refused by the order
    model: the message is the model's, so the element and the value sent are printed."""
    path = tmp_path / "negative.edi"
    path.write_bytes(interchange(["BEG*00*SA*P1**20261120", "PO1*1*-15*EA*1", "CTT*1"]))
    result = runner.invoke(translate, [str(path), "--to", "canonical"])
    assert result.exit_code == 1
    assert (
        "  error: segment 5 PO102: [AK4-6] lines.0.quantity: Input should be greater than or "
        "equal to 0 (value '-15')"
    ) in result.stderr


def test_json_errors_name_the_document_and_path(runner: CliRunner, tmp_path: Path) -> None:
    good = json.loads((SAMPLES / "canonical" / "shipment-cartons.json").read_text())
    bad = json.loads(json.dumps(good))
    bad["orders"][0]["packs"][0]["sscc"] = "006141410000001058"
    path = tmp_path / "two.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    result = runner.invoke(translate, [str(path), "--to", "856"])
    assert result.exit_code == 1
    assert "ST*856*0001~" in result.stdout and "ST*856*0002~" not in result.stdout
    assert "error: document 2 orders.0.packs.0.sscc: SSCC 006141410000001058 has check digit 8" in (
        result.stderr
    )


def test_wrong_document_for_the_target(runner: CliRunner) -> None:
    result = runner.invoke(translate, [str(SAMPLES / "canonical" / "invoice.json"), "--to", "856"])
    assert result.exit_code == 1
    assert "document 1 is Invoice; an 856 is written from Shipment" in result.stderr


def test_x12_cannot_become_a_shipment(runner: CliRunner) -> None:
    result = runner.invoke(
        translate, [str(SAMPLES / "x12" / "850-004010-retailer.edi"), "--to", "856"]
    )
    assert result.exit_code == 2
    assert "not an 856" in result.stderr


def test_not_json_at_all(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{ nope")
    result = runner.invoke(translate, [str(path), "--to", "canonical"])
    assert result.exit_code == 1 and "file line 1: not JSON" in result.stderr


def test_bad_sender(runner: CliRunner) -> None:
    result = runner.invoke(
        translate,
        [str(SAMPLES / "canonical" / "invoice.json"), "--to", "810", "--sender", "ZZZ:X"],
    )
    assert result.exit_code == 1 and "expected QQ:ID" in result.stderr


@pytest.mark.parametrize("model", ["order", "order-ack", "shipment", "invoice"])
def test_schema_command(runner: CliRunner, model: str) -> None:
    result = runner.invoke(schema, [model])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["properties"]["document_type"]["const"] == model
    serial = json.loads(runner.invoke(schema, [model, "--mode", "serialization"]).stdout)
    assert serial["$id"] == document["$id"]


def test_schema_refuses_unknown_models(runner: CliRunner) -> None:
    result = runner.invoke(schema, ["receipt"])
    assert result.exit_code == 2 and "receipt" in result.stderr


def test_canonical_json_in_is_validated_and_normalised(runner: CliRunner) -> None:
    result = runner.invoke(
        translate, [str(SAMPLES / "canonical" / "invoice.json"), "--to", "canonical"]
    )
    assert result.exit_code == 0, result.stderr
    (document,) = json.loads(result.stdout)
    assert document["document_type"] == "invoice" and document["total_amount"] == "4015.06"
    assert document["purpose_code"] == "00"  # defaults are filled in


def test_warnings_alone_exit_zero(runner: CliRunner, tmp_path: Path) -> None:
    """ISA11 'U' in a 00501 interchange is only a warning (read without a repetition
    separator): the order is written, exit 0."""
    path = tmp_path / "u-in-5010.edi"
    data = interchange(["BEG*00*SA*P1**20261120", "PO1*1*1*EA*1"])
    path.write_bytes(data.replace(b"*U*00401*", b"*U*00501*").replace(b"*X*004010", b"*X*005010"))
    result = runner.invoke(translate, [str(path), "--to", "canonical"])
    assert result.exit_code == 0, result.stderr
    assert "0 error(s), 1 warning(s)" in result.stderr
    assert "warning: segment 1 ISA11: [TA1-016]" in result.stderr
    assert json.loads(result.stdout)[0]["po_date"] == "2026-11-20"


def test_a_padded_date_is_an_error_as_in_the_gateway(runner: CliRunner, tmp_path: Path) -> None:
    """BEG05 '20261120 ' is nine characters: x12 validate and the gateway reject it, and
    translate no longer writes an order for it."""
    path = tmp_path / "padded.edi"
    path.write_bytes(interchange(["BEG*00*SA*P1**20261120 ", "PO1*1*1*EA*1"]))
    result = runner.invoke(translate, [str(path), "--to", "canonical"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == []
    assert "error: segment 4 BEG05: [AK4-8] BEG05 (Date) '20261120 ' is not a valid date" in (
        result.stderr
    )


def test_an_850_the_validator_rejects_gives_no_order(runner: CliRunner, tmp_path: Path) -> None:
    """No PO1 loop (the 850 spec requires one): translate said nothing and wrote an order
    without lines; now it reports what x12 validate reports."""
    path = tmp_path / "nolines.edi"
    path.write_bytes(interchange(["BEG*00*SA*P1**20261120", "CTT*0"]))
    result = runner.invoke(translate, [str(path), "--to", "canonical"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == []
    assert "PO1" in result.stderr and "error:" in result.stderr


@pytest.mark.parametrize(
    ("data", "where", "found"),
    [
        (b"po,sku,qty\n1,WID-100,3\n", " line 1", "'po,sku,qty'"),
        (b"\n\nhello world\n", " line 3", "'hello world'"),
        (b"", "", "an empty or blank file"),
        (b" \r\n\t\n", "", "an empty or blank file"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe", " byte 1", "bytes that are not UTF-8"),
    ],
    ids=["csv", "text", "empty", "blank", "binary"],
)
def test_neither_x12_nor_json_says_what_was_expected(
    runner: CliRunner, tmp_path: Path, data: bytes, where: str, found: str
) -> None:
    path = tmp_path / "orders.txt"
    path.write_bytes(data)
    for target in ("canonical", "855"):
        result = runner.invoke(translate, [str(path), "--to", target])
        assert result.exit_code == 1
        assert result.stdout == ""  # no "[]": nothing was read
        assert result.stderr == (
            f"Error: {path}{where}: expected an X12 interchange (starting with ISA) or "
            f"canonical JSON, found {found}\n"
        )


def test_an_850_with_validation_errors_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(
        translate, [str(SAMPLES / "demo" / "acme-retail-850-errors.edi"), "--to", "canonical"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout) == []
    assert "DTM02 (Date) '20261304' is not a valid date (CCYYMMDD)" in result.stderr


RETAILER = SAMPLES / "x12" / "850-004010-retailer.edi"


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        (b"IEA*1*000004211", b"IEA*1*000004299", "the interchange was rejected by our TA1 "
         "(TA105 001)"),
        (b"GE*1*4211", b"GE*1*4299", "its functional group 4211 was rejected by our 997 "
         "(AK9 R 4)"),
    ],
    ids=["ta1-r", "ak9-r"],
)  # fmt: skip
@pytest.mark.parametrize("target", ["canonical", "855"])
def test_an_order_our_acks_reject_is_not_output(
    runner: CliRunner, tmp_path: Path, old: bytes, new: bytes, why: str, target: str
) -> None:
    """The gateway does not deliver what its TA1 or 997 rejects (the partner sends it
    again), and neither does translate: the order, or its 855, is withheld, saying why."""
    data = RETAILER.read_bytes()
    assert old in data
    path = tmp_path / "po.edi"
    path.write_bytes(data.replace(old, new))
    result = runner.invoke(translate, [str(path), "--to", target])
    assert result.exit_code == 1
    assert result.stdout == ("[]\n" if target == "canonical" else "")
    assert (
        f"  withheld: 850 0001 (PO 4500012345, ST at segment 3) is not output: {why}"
        in result.stderr
    )


def test_of_two_groups_sharing_a_gs06_only_the_rejected_ones_order_is_withheld(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Our 997 accepts the first group and rejects the second (a reused GS06): the first
    group's order is output (review: both were withheld, the verdict found by GS06)."""
    text = RETAILER.read_text()
    start, end = text.index("GS*"), text.index("IEA*")
    second = text[start:end].replace("BEG*00*SA*4500012345", "BEG*00*SA*4500099999")
    path = tmp_path / "two-groups.edi"
    path.write_text((text[:end] + second + text[end:]).replace("IEA*1*", "IEA*2*"))
    result = runner.invoke(translate, [str(path), "--to", "canonical"])
    assert [o["po_number"] for o in json.loads(result.stdout)] == ["4500012345"], result.stderr
    assert "PO 4500099999" in result.stderr and "PO 4500012345" not in result.stderr


def test_the_corpus_850_whose_iea02_is_not_isa13_gives_no_order(
    runner: CliRunner, corpus_dir: Path
) -> None:
    result = runner.invoke(
        translate, [str(corpus_dir / "x12-850/edi.net__x12.850.edi"), "--to", "canonical"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout) == []
    assert "[TA1-001] IEA02 '000000001' does not match ISA13 '000000055'" in result.stderr
    assert "PO 1000012" in result.stderr and "rejected by our TA1 (TA105 001)" in result.stderr
