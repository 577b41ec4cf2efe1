"""``python -m edigate.bench.child <task> '<json kwargs>'``: one measurement in a fresh process.

A fresh interpreter makes its peak RSS (``VmHWM``) the task's own and keeps its CPU apart
from the harness (the SFTP client is a different program than the gateway it talks to).
The result is printed as one ``BENCH-RESULT {json}`` line.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

from .measure import RESULT_MARK

#: task -> (module of this package, function)
TASKS = {
    "translate": ("translate", "measure"),
    "large-phases": ("large_file", "phases"),
    "sftp-client": ("sftp", "client"),
    "bots-parser": ("peer", "measure"),
}


def _task(name: str) -> Callable[..., dict[str, Any]]:
    module, function = TASKS[name]
    found: Callable[..., dict[str, Any]] = getattr(
        importlib.import_module(f"{__package__}.{module}"), function
    )
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m edigate.bench.child TASK JSON", file=sys.stderr)
        return 2
    task, raw = args
    kwargs: dict[str, Any] = json.loads(raw)
    result = _task(task)(**kwargs)
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
