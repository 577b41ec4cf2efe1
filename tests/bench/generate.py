"""Generate large, realistic X12 850 interchanges for the benchmarks (deterministic)."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

HEADER = (
    "ISA*00*          *00*          *ZZ*BENCHRETAILER  *ZZ*EDIGATE        *261123*0930*U*00401*"
    "000000001*0*P*>~\nGS*PO*BENCHRETAILER*EDIGATE*20261123*0930*1*X*004010~\n"
)


def purchase_order(index: int, rng: random.Random) -> list[str]:
    """One 850 of about 70 segments: header, parties, 8-16 lines with PID, PO4 and SDQ."""
    po = f"PO{4500000000 + index}"
    segs = [
        f"ST*850*{index:04d}",
        f"BEG*00*SA*{po}**20261120",
        "CUR*BY*USD",
        f"REF*DP*{rng.randint(100, 999)}",
        "REF*IA*VEND0042",
        "PER*BD*JANE BUYER*TE*5551234567*EM*jane@example.com",
        "FOB*PP*ZZ*ORIGIN",
        "ITD*01*3*2**30**60",
        "DTM*002*20261201",
        "DTM*037*20261125",
        "TD5*O*2*UPSN*M*UPS GROUND",
        "N9*L1*NOTES",
        "MSG*HANDLE WITH CARE, DELIVER TO DOCK 4",
        "N1*ST*STORE 1234*92*1234",
        "N3*100 MAIN STREET*SUITE 5",
        "N4*SPRINGFIELD*IL*62701*US",
        "N1*BT*ACME RETAIL HQ*92*0001",
        "N3*1 CORPORATE WAY",
        "N4*CHICAGO*IL*60601*US",
        "N1*VN*WIDGETS INC*92*V42",
    ]
    lines = rng.randint(8, 16)
    for line in range(1, lines + 1):
        qty = rng.randint(1, 48)
        price = rng.randint(100, 99999) / 100
        sku = rng.randint(10000000, 99999999)
        segs.append(f"PO1*{line}*{qty}*CA*{price:.2f}*PE*UP*0{sku}1234*VN*V-{sku}*IN*B{sku}")
        segs.append(f"PID*F****WIDGET MODEL {sku} BLUE")
        segs.append("PO4*12*1*EA")
        segs.append(f"SDQ*CA*92*0001*{qty}")
    segs.append(f"CTT*{lines}")
    segs.append(f"SE*{len(segs) + 1}*{index:04d}")
    return segs


def generate(path: Path, orders: int, seed: int = 42) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="ascii", newline="\n") as out:
        out.write(HEADER)
        for i in range(1, orders + 1):
            out.write("~\n".join(purchase_order(i, rng)) + "~\n")
        out.write(f"GE*{orders}*1~\nIEA*1*000000001~\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("--orders", type=int, default=10_000)
    args = parser.parse_args()
    generate(args.output, args.orders)
    print(f"{args.output}: {args.output.stat().st_size / 1e6:.1f} MB, {args.orders} POs")


if __name__ == "__main__":
    main()
