"""What every line-shaped model shares: item identifiers and their convenience accessors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import Identifier, first_id, gtin14

#: Qualifiers of the buyer's item number, vendor's item number and UPC, best first.
BUYER_PART = ("BP", "IN", "PI", "BO")
VENDOR_PART = ("VN", "VP", "VA", "VC", "MG")
UPC = ("UP", "UA", "UK", "UI", "EN")


class ItemIds:
    """Accessors over ``identifiers`` (PO1/IT1/LIN product ID pairs), by qualifier."""

    if TYPE_CHECKING:
        identifiers: list[Identifier]

    def item_id(self, *qualifiers: str) -> str | None:
        """The first identifier value with one of ``qualifiers`` (in the order given)."""
        return first_id(self.identifiers, *qualifiers)

    @property
    def buyer_part_number(self) -> str | None:
        """BP buyer's part number, else IN buyer's item number."""
        return first_id(self.identifiers, *BUYER_PART)

    @property
    def vendor_part_number(self) -> str | None:
        """VN vendor's item number, else VP vendor's part number."""
        return first_id(self.identifiers, *VENDOR_PART)

    @property
    def upc(self) -> str | None:
        return first_id(self.identifiers, *UPC)

    @property
    def gtin(self) -> str | None:
        """GTIN-14 from UK, EN, UP, UA or EO (zero-padded), when numeric."""
        return gtin14(self.identifiers)
