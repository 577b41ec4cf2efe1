"""``python -m edigate.bench``: the same as ``edigate bench``."""

from ..cli.bench import bench

bench(prog_name="edigate bench")
