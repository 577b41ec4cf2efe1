"""Generate large, realistic X12 850 interchanges for the benchmarks (deterministic).

A thin wrapper: the generator lives in :mod:`edigate.bench.generate`, so ``edigate bench``
can use it from an installed package. ``--style acme`` writes POs the example partner
acme-retail's map accepts (its IDs, stores and SKU table); the default ``generic`` style is
what the reader and validator benchmarks have always read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edigate.bench.generate import generate, purchase_order

__all__ = ["generate", "purchase_order"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--style", choices=("generic", "acme"), default="generic")
    args = parser.parse_args()
    generate(args.output, args.orders, style=args.style)
    print(f"{args.output}: {args.output.stat().st_size / 1e6:.1f} MB, {args.orders} POs")


if __name__ == "__main__":
    main()
