"""Where a key of an edigate.toml is written: ``tomllib`` keeps no positions.

A config error names ``edigate.toml:14: worker.lease_secs``, as partner errors name their
YAML line. Only the shapes edigate.toml uses are understood: ``[table]``, ``[[array]]`` and
``key = value`` lines; anything else finds no line, and the error is given without one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_KEY = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=")
_TABLE = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")


def line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """The line (1-based) of the key at ``loc`` (``("worker", "lease_secs")``,
    ``("folders", 0, "path")``), else of the table holding it, else None."""
    table: tuple[str | int, ...] = ()
    arrays: dict[str, int] = {}
    best: int | None = None
    want = tuple(loc)
    for number, line in enumerate(text.splitlines(), 1):
        header = _TABLE.match(line)
        if header is not None:
            name = header[2]
            if header[1] == "[[":
                arrays[name] = arrays.get(name, -1) + 1
                table = (name, arrays[name])
            else:
                table = tuple(name.split("."))
            if want[: len(table)] == table:
                best = number  # the table, should its key not be written
            continue
        key = _KEY.match(line)
        if key is not None and (*table, key[1]) == want[: len(table) + 1]:
            return number
    return best
