"""The shipped example profiles, varied as the tests need them."""

from __future__ import annotations

from pathlib import Path

GLOBEX = "partners/globex-dist.yaml"


def with_sftp_push_example(config_dir: Path) -> Path:
    """Switch the copy of globex-dist under ``config_dir`` to the ``sftp_push`` outbound its
    comments show (uncommented as a user would, in place of the email one); its path."""
    path = config_dir / GLOBEX
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("outbound:"))
    end = start + 1
    while lines[end].startswith("  "):
        end += 1
    block = lines.index("# outbound:\n", end)
    stop = block
    while lines[stop].startswith("#"):
        stop += 1
    uncommented = [line[2:] for line in lines[block:stop]]
    path.write_text("".join(lines[:start] + lines[end:block] + uncommented + lines[stop:]))
    return path
