"""The common body of the atheris harnesses: seed a corpus, instrument edigate, fuzz a target.

Each ``fuzz_<target>.py`` calls :func:`main` with the target's name. The targets (and the
contract they check) are :mod:`tests.security.targets`, shared with the bounded hypothesis
tests of the regular run and with the replay of kept crashes (``tests/regressions``).

Defaults, all overridable by libFuzzer flags on the command line: corpus in
``$EDIGATE_FUZZ_DIR/<target>/corpus`` (``/tmp/edigate-fuzz`` by default; seeded from
``samples/`` on first use), crashes in ``.../crashes/``, 10 s per input, 2 GB RSS.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import atheris  # noqa: E402  (installed for the fuzz run only: pip install atheris)

with atheris.instrument_imports(include=["edigate"]):
    from tests.security import targets


def _yaml(data: bytes) -> None:
    """First byte: which file (profile or map); the rest: its text."""
    kind = "map" if data[:1] and data[0] & 1 else "profile"
    text = data[1:].decode("utf-8", "surrogateescape")
    targets.partner_yaml(text, kind, _config())


_CONFIG: list[targets.ConfigDir] = []


def _config() -> targets.ConfigDir:
    if not _CONFIG:
        _CONFIG.append(targets.ConfigDir())
    return _CONFIG[0]


def _x12_small_limits(data: bytes) -> None:
    targets.x12(data, limits=targets.SMALL_LIMITS)


def _x12_any(data: bytes) -> None:
    """Both limits: the default ones and small ones that reach the limit paths."""
    targets.x12(data)
    _x12_small_limits(data)


TARGETS = {
    "x12": _x12_any,
    "csv": targets.csv_orders,
    "xml": targets.xml_orders,
    "as2": targets.as2_message,
    "partner_yaml": _yaml,
}


def seeds(name: str) -> list[bytes]:
    if name == "x12":
        return [p.read_bytes() for p in targets.X12_SEEDS]
    if name == "csv":
        return [p.read_bytes() for p in targets.CSV_SEEDS]
    if name == "xml":
        return [p.read_bytes() for p in targets.XML_SEEDS]
    if name == "as2":
        return list(targets.as2_fixture().seeds)
    return [
        b"\x00" + targets.YAML_SEEDS["profile"].read_bytes(),
        b"\x01" + targets.YAML_SEEDS["map"].read_bytes(),
    ]


#: Bugs found and reported but not fixed yet (outside the files the fuzzing work may change):
#: (exception type, source path fragment) -> name. Each has a kept sample replayed by
#: ``tests/security/test_regressions.py`` (xfail strict until the fix lands). Swallowed
#: here so the run goes on to find other bugs; the first input of each is saved.
KNOWN_OPEN: dict[tuple[type[BaseException], str], str] = {
    # e.g. (UnicodeEncodeError, "edigate/translate/"): "translate-850-undecodable-byte",
}


def _guard(target: Callable[[bytes], object], crashes: Path) -> Callable[[bytes], None]:
    seen: set[str] = set()

    def run(data: bytes) -> None:
        try:
            target(data)
        except Exception as exc:
            files = [frame.filename for frame in traceback.extract_tb(exc.__traceback__)]
            for (kind, where), label in KNOWN_OPEN.items():
                if isinstance(exc, kind) and any(where in f for f in files):
                    if label not in seen:
                        seen.add(label)
                        (crashes / f"known-{label}").write_bytes(data)
                        print(f"known open bug {label}: input saved, going on", file=sys.stderr)
                    return
            raise

    return run


def main(name: str) -> None:
    base = Path(os.environ.get("EDIGATE_FUZZ_DIR", "/tmp/edigate-fuzz")) / name
    corpus, crashes = base / "corpus", base / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for index, seed in enumerate(seeds(name)):
            (corpus / f"seed-{index}").write_bytes(seed)
    args = [sys.argv[0]]
    flags = [a for a in sys.argv[1:] if a.startswith("-")]
    dirs = [a for a in sys.argv[1:] if not a.startswith("-")]
    defaults = {
        "-artifact_prefix": f"{crashes}/",
        "-timeout": "10",
        "-rss_limit_mb": "2048",
        "-max_len": "65536",
    }
    for flag, value in defaults.items():
        if not any(f.startswith(flag + "=") for f in flags):
            flags.append(f"{flag}={value}")
    args += flags + (dirs or [str(corpus)])
    atheris.Setup(args, _guard(TARGETS[name], crashes))
    atheris.Fuzz()
