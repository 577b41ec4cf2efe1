"""The golden cases: sample in, expected output, and how to produce it.

Outputs are made through the same functions the CLI calls, with a fixed timestamp and
control numbers, so they are byte-stable. Run ``EDIGATE_UPDATE_GOLDEN=1 pytest
tests/translate`` to rewrite them after an intended change (and review the diff).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from edigate.model.jsonio import dump
from edigate.translate.convert import Outbound, documents_from_json, orders_from_x12, to_x12

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TIMESTAMP = dt.datetime(2026, 11, 21, 10, 0)
UPDATE = os.environ.get("EDIGATE_UPDATE_GOLDEN") == "1"


@dataclass(frozen=True)
class Case:
    source: str  # under samples/
    target: str  # canonical, 855, 856, 810
    expected: str  # under samples/expected/
    version: str = "004010"

    @property
    def id(self) -> str:
        return self.expected

    def cli_args(self) -> list[str]:
        args = [str(SAMPLES / self.source), "--to", self.target]
        if self.target != "canonical":
            args += ["--version", self.version, "--timestamp", TIMESTAMP.isoformat()]
        return args


CASES = [
    Case("x12/850-004010-retailer.edi", "canonical", "850-004010-retailer.order.json"),
    Case("x12/850-005010-distributor.edi", "canonical", "850-005010-distributor.order.json"),
    Case("x12/850-004010-retailer.edi", "855", "850-004010-retailer.855.edi"),
    Case("x12/850-005010-distributor.edi", "855", "850-005010-distributor.855.edi", "005010"),
    Case("canonical/order-ack-changes.json", "855", "order-ack-changes.855.edi"),
    Case("canonical/shipment-pallets.json", "856", "shipment-pallets.856.edi"),
    Case("canonical/shipment-cartons.json", "856", "shipment-cartons.856.edi", "005010"),
    Case("canonical/shipment-items.json", "856", "shipment-items.856.edi"),
    Case("canonical/invoice.json", "810", "invoice.810.edi"),
    Case("canonical/invoice.json", "810", "invoice.5010.810.edi", "005010"),
]


def render(case: Case) -> bytes:
    """The output for ``case``, computed now."""
    path = SAMPLES / case.source
    if path.suffix == ".edi":
        inbound = orders_from_x12(path)
        assert not inbound.findings, [str(f) for f in inbound.findings]
        documents = list(inbound.orders)
    else:
        documents, errors = documents_from_json(path.read_text(encoding="utf-8"))
        assert not errors, [str(e) for e in errors]
    if case.target == "canonical":
        text = json.dumps([dump(d) for d in documents], indent=2, ensure_ascii=False) + "\n"
        return text.encode("utf-8")
    outbound = Outbound(version=case.version, timestamp=TIMESTAMP)
    return to_x12(documents, case.target, outbound)


def expected(case: Case) -> bytes:
    """The stored golden output (rewritten first when EDIGATE_UPDATE_GOLDEN=1)."""
    path = SAMPLES / "expected" / case.expected
    if UPDATE:
        path.write_bytes(render(case))
    return path.read_bytes()
