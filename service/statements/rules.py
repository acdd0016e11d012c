"""The rules of a household's statement (收益明细) on plain data: what kind of income each line is,
which lines count, which year is shown by default, and the totals by the national income kinds
of 人均纯收入 (DESIGN.md, Pages for households).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal

LineKind = Literal["dividend", "patronage", "guaranteed_return", "settlement", "award"]

# A distribution line's basis decides what kind of income it is.
KIND_OF_BASIS: dict[str, LineKind] = {
    "patronage": "patronage",  # 盈余返还 by transaction volume
    "floor": "guaranteed_return",  # 保底收益 of poverty shares
    "arrears": "guaranteed_return",  # a floor owed from earlier years, paid now
    "shares": "dividend",  # 分红 by shares held
    "capital": "dividend",  # a cooperative's remaining surplus by member account
}

# The national income kinds a statement totals by. A patronage refund is counted with the sale it
# refunds (as production income), a dividend on shares as property income.
INCOME_KINDS = {
    "dividend": "财产性收入",
    "guaranteed_return": "财产性收入",
    "patronage": "生产经营性收入",
    "settlement": "生产经营性收入",
    "award": "转移性收入",
}
INCOME_KIND_ORDER = ("财产性收入", "生产经营性收入", "转移性收入")

CANCELLED_NOTE = "（已冲销，不计入合计）"


def line_kind(source: str, basis: str) -> LineKind:
    """The kind of a payable's line (a key of INCOME_KINDS); an unknown source or basis is a bug."""
    if source == "distribution":
        if basis not in KIND_OF_BASIS:
            raise ValueError(f"distribution payable with unknown basis {basis!r}")
        return KIND_OF_BASIS[basis]
    if source == "settlement":
        return "settlement"
    if source == "award":
        return "award"
    raise ValueError(f"payable with unknown source {source!r}")


def counted(payment_status: str) -> bool:
    """A cancelled payable (its source was reversed) stays on the statement but counts in no total."""
    return payment_status != "cancelled"


def shown_explanation(explanation: str, payment_status: str) -> str:
    return explanation if counted(payment_status) else explanation + CANCELLED_NOTE


def default_year(years: Sequence[int], today: dt.date) -> int:
    """The newest year with lines (last year's dividends are paid this year), else this year."""
    return years[0] if years else today.year


def totals_by_income_kind(lines: Iterable[tuple[str, int]]) -> tuple[dict[str, int], int]:
    """Totals of (kind, amount_fen) lines by income kind (all three kinds, zero when absent) and
    the grand total, in fen."""
    totals = dict.fromkeys(INCOME_KIND_ORDER, 0)
    for kind, amount_fen in lines:
        if kind not in INCOME_KINDS:
            raise ValueError(f"unknown statement line kind {kind!r}")
        totals[INCOME_KINDS[kind]] += amount_fen
    return totals, sum(totals.values())
