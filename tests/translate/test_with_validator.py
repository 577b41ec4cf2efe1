"""Our output must pass our own validator; every 850 it accepts must translate."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from edigate.model import load
from edigate.translate.convert import Outbound, to_x12
from edigate.translate.x12_850 import translate_850
from edigate.x12 import TransactionSet, X12Reader

from .goldens import SAMPLES

validator = pytest.importorskip("edigate.x12.validator")

STAMP = dt.datetime(2026, 11, 21, 10, 0)
DOCUMENTS = [
    ("x12/850-004010-retailer.edi", "855"),
    ("x12/850-005010-distributor.edi", "855"),
    ("canonical/order-ack-changes.json", "855"),
    ("canonical/shipment-pallets.json", "856"),
    ("canonical/shipment-cartons.json", "856"),
    ("canonical/shipment-items.json", "856"),
    ("canonical/invoice.json", "810"),
]


def transactions(data: bytes | Path) -> list[TransactionSet]:
    return [e for e in X12Reader(data).events() if isinstance(e, TransactionSet)]


@pytest.mark.parametrize("name", ["850-004010-retailer.edi", "850-005010-distributor.edi"])
def test_sample_850s_are_valid(name: str) -> None:
    for tx in transactions(SAMPLES / "x12" / name):
        assert [str(f) for f in validator.validate_transaction(tx)] == []


@pytest.mark.parametrize("version", ["004010", "005010"])
@pytest.mark.parametrize(("source", "target"), DOCUMENTS)
def test_everything_we_write_passes_our_own_validator(
    source: str, target: str, version: str
) -> None:
    path = SAMPLES / source
    if path.suffix == ".edi":
        documents = [translate_850(tx).document for tx in transactions(path)]
    else:
        documents = [load(json.loads(path.read_text()))]
    data = to_x12(
        [d for d in documents if d is not None], target, Outbound(version, timestamp=STAMP)
    )
    (tx,) = transactions(data)
    assert tx.findings == []
    assert [str(f) for f in validator.validate_transaction(tx)] == []


def test_every_corpus_850_the_validator_accepts_translates(corpus_dir: Path) -> None:
    accepted = 0
    for path in sorted((corpus_dir / "x12-850").iterdir()):
        for tx in transactions(path):
            if tx.set_id != "850":
                continue
            errors = [f for f in validator.validate_transaction(tx) if f.is_error]
            if errors:
                continue
            accepted += 1
            result = translate_850(tx)
            assert result.ok, (path.name, [str(f) for f in result.findings])
    assert accepted > 0
