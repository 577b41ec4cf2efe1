"""How big each scenario runs: ``smoke`` (CI, seconds), ``small`` (about a minute), ``full``
(issue 9)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    translate_pos: int  # POs in the one interchange of the translate scenario
    small_files: int  # single-PO files received as fast as they come (burst)
    paced_files: int  # files per paced run (latency at an offered rate)
    folder_files: int  # files through the watched-folder variant
    large_mb: tuple[float, ...]  # the one-large-file sizes, in MB
    shipments: int  # ERP shipments to 856s
    scale_files: int  # single-PO files per PostgreSQL scale-out run (0: no scale-out)
    scale_workers: tuple[int, ...]
    sftp_files: int
    sftp_sessions: int = 4


SIZES = {
    "smoke": Size("smoke", 40, 12, 0, 6, (0.05,), 6, 0, (), 8, 2),
    "small": Size("small", 1_000, 200, 100, 100, (2.0, 5.0), 200, 200, (1, 2), 100),
    "full": Size(
        "full", 10_000, 2_000, 2_000, 2_000, (10.0, 50.0, 100.0), 2_000, 2_000, (1, 2, 4), 500
    ),
}

#: Issue 9's targets on the project's 2-core machine.
TARGET_TRANSLATE_POS = 3_000.0
TARGET_TRANSLATE_RSS_MB = 150.0
TARGET_SMALL_FILES_PER_S = 300.0
TARGET_SMALL_P99_S = 1.0
TARGET_LARGE_RSS_MB = 300.0
TARGET_LARGE_MB = 100.0
TARGET_SPEEDUP_2 = 1.6
#: The reference: Bots 4.0 on the same machine (see DESIGN.md).
BOTS_FILES_PER_S = 45.0
BOTS_POS_PER_S = 98.0
