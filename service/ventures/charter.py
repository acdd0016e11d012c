"""A venture's charter (章程): how it weighs holdings and divides its profit, and the legal
minimums every charter must respect. Plain data, shared by the venture's own rules (a charter is
checked when the venture is founded) and the distribution rules (a charter is applied each year).

Company Law of the PRC (2023) art. 210: the statutory reserve is at least 10% of the year's
profit after losses, until it reaches 50% of registered capital. Farmers' Professional
Cooperatives Law (2017) art. 44: at least 60% of the distributable surplus is returned by each
member's transaction volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Weighting = Literal["record_date", "share_days"]
FloorMode = Literal["none", "fixed", "preferred", "minimum"]

STATUTORY_RESERVE_BP = 1_000
STATUTORY_RESERVE_CAP_BP = 5_000
MIN_PATRONAGE_BP = 6_000


@dataclass(frozen=True)
class Charter:
    """The venture's distribution rules (章程).

    For a company the statutory reserve rate is max(10%, reserve_bp): the law fixes 10% as the
    least, and a charter that sets more is honoured, still within the 50%-of-capital cap. For a
    cooperative reserve_bp is the reserve fund rate, which the law leaves to the charter.
    """

    weighting: Weighting = "record_date"
    reserve_bp: int = STATUTORY_RESERVE_BP
    discretionary_bp: int = 0
    patronage_bp: int = MIN_PATRONAGE_BP
    floor_mode: FloorMode = "none"
    floor_bp: int = 0
    poverty_participates: bool = True
    poverty_follows_status: bool = False
