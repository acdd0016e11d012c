"""Integer money: fen, basis points and the text a person reads.

Every amount is an integer number of fen (分) and every rate an integer number of basis points
(10000 bp = 100%). Nothing here uses float or Decimal: a rounding rule written with integers is
the same on every machine and in every language the figures are checked in (SQL, a spreadsheet,
a hand calculation).
"""

from __future__ import annotations

BP_WHOLE = 10_000


def round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero.

    For a non-negative quotient this is the usual 四舍五入 (2.5 -> 3). A negative quotient is
    rounded symmetrically (-2.5 -> -3), so that the amount of a reversal is exactly the negative
    of the amount it reverses. A zero denominator raises ZeroDivisionError.
    """
    if denominator == 0:
        raise ZeroDivisionError("round_half_up_div by zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def percent_of(amount_fen: int, bp: int) -> int:
    """amount_fen × bp / 10000, rounded half up to the fen."""
    return round_half_up_div(amount_fen * bp, BP_WHOLE)


def format_yuan(fen: int, *, thousands: bool = False) -> str:
    """Yuan with two decimals: 123456 -> '1234.56', -5 -> '-0.05'.

    Plain by default because machines read it back (bank files, CSV); `thousands=True` gives
    '1,234.56' for the sentences households read.
    """
    whole, cents = divmod(abs(fen), 100)
    digits = f"{whole:,}" if thousands else str(whole)  # int formatting: exact, no float
    sign = "-" if fen < 0 else ""
    return f"{sign}{digits}.{cents:02d}"


def format_count(value: int) -> str:
    """An integer with thousands separators, for share counts and share-days in sentences."""
    return f"{value:,}"


def format_percent(part: int, whole: int) -> str:
    """part / whole as a percentage with two decimals, e.g. (120, 1000) -> '12.00%'.

    Rounded half up on the hundredth of a percent; a zero whole reads '0.00%' because a share of
    nothing is nothing, not an error a household should see.
    """
    hundredths = round_half_up_div(part * BP_WHOLE, whole) if whole else 0
    whole_pct, frac = divmod(abs(hundredths), 100)
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{whole_pct}.{frac:02d}%"


def format_bp(bp: int) -> str:
    """A rate in basis points as people write it: 500 -> '5%', 1050 -> '10.5%', 125 -> '1.25%'."""
    whole_pct, frac = divmod(abs(bp), 100)
    sign = "-" if bp < 0 else ""
    text = f"{sign}{whole_pct}"
    if frac:
        text += f".{frac:02d}".rstrip("0")
    return text + "%"
