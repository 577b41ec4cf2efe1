"""What the gateways a scenario runs in this process log: a file and a note, not stderr.

The bench's output is its table. A gateway started in-process (the SFTP scenario's serve,
the outbound worker) logs through this process; its warnings would land in the middle of
the progress bars, once per gateway. They go to the scenario's ``gateway.log`` instead, and
the scenario's notes say how many there were and what they said, so none goes unseen.
(Worker processes log warnings to the terminal themselves; ``serve --workers`` does too.)
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType

from ..worker_processes import LOG_FORMAT
from .results import ScenarioResult

#: Distinct messages quoted in the note; the rest are in the file.
QUOTED = 2


class GatewayLog(logging.Handler):
    """Collects the ``edigate`` loggers' warnings and errors while a scenario runs."""

    def __init__(self, folder: Path) -> None:
        super().__init__(logging.WARNING)
        self.path = folder / "gateway.log"
        self.records: list[logging.LogRecord] = []
        self._propagate = True
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> GatewayLog:
        self.path.unlink(missing_ok=True)  # an earlier run's, in a kept --work folder
        logger = logging.getLogger("edigate")
        logger.addHandler(self)
        # Here only: a root handler set up by whoever embeds the bench would print them too.
        self._propagate, logger.propagate = logger.propagate, False
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        logger = logging.getLogger("edigate")
        logger.removeHandler(self)
        logger.propagate = self._propagate
        if self.records:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lines = "".join(self.format(record) + "\n" for record in self.records)
            self.path.write_text(lines, encoding="utf-8")

    def note(self, result: ScenarioResult) -> None:
        """Add to ``result``'s notes what the in-process gateways warned of, if anything."""
        if not self.records:
            return
        distinct = list(dict.fromkeys(record.getMessage() for record in self.records))
        quoted = "; ".join(f"'{m}'" for m in distinct[:QUOTED])
        more = f" and {len(distinct) - QUOTED} more" if len(distinct) > QUOTED else ""
        result.notes.append(
            f"in-process gateways logged {len(self.records)} warning(s) or error(s) "
            f"({self.path.name} in the scenario's folder, kept with --work): {quoted}{more}"
        )
