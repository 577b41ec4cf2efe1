"""Fixtures for the partner tests: the example config, editable copies, throwaway keys."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from edigate.partners.passwords import hash_password

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
