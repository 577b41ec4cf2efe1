"""Fixtures for the partner tests: the example config, editable copies, throwaway keys."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from edigate.model import Order
from edigate.partners import Partner, load_registry
from edigate.partners.apply import apply_inbound
from edigate.partners.passwords import hash_password
from edigate.translate import translate_850
from edigate.x12 import TransactionSet, X12Reader

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def example_dir() -> Path:
    """The repository's own partners/ and maps/ (read only)."""
    return ROOT


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A copy of the example partners/ and maps/ that a test may break."""
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def edit() -> Callable[[Path, str, str], int]:
    """Replace ``old`` by ``new`` in a file once; return the 1-based line of the change."""

    def replace(path: Path, old: str, new: str) -> int:
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} must occur once in {path}"
        line = text[: text.index(old)].count("\n") + 1
        path.write_text(text.replace(old, new), encoding="utf-8")
        return line

    return replace


@pytest.fixture(scope="session")
def ed25519_public() -> str:
    """A freshly generated OpenSSH public key line (the private half is thrown away)."""
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    blob = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return blob.decode("ascii") + " test-key"


@pytest.fixture(scope="session")
def demo_hash() -> str:
    return hash_password("s3cret-demo", n=2**14)


@pytest.fixture(scope="module")
def acme() -> Partner:
    """The example partner acme-retail, as the gateway loads it."""
    partner = load_registry(ROOT).get("acme-retail")
    assert partner is not None
    return partner


@pytest.fixture(scope="module")
def erp_order(acme: Partner) -> Order:
    """The order the ERP received: ACME's sample 850 after the inbound map (line 1 is
    10 CA at 54.00, i.e. 120 EA at 4.50; our SKUs)."""
    data = (ROOT / "samples/x12/850-004010-retailer.edi").read_bytes()
    (tx,) = [e for e in X12Reader(data).events() if isinstance(e, TransactionSet)]
    order = translate_850(tx).document
    assert order is not None
    mapped = apply_inbound(order, acme).order
    assert mapped is not None
    return mapped
