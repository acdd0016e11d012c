"""Share register arithmetic: holdings on a date and holding periods (持股期间) within a year.

A holding is keyed by (member_id, share_class). Movements are dated and never edited; those on
the same date apply in the order given, so a register replays the same way every time.

Movement kinds:

- `subscribe` (认购): `to_member` is issued new shares of `share_class` against `capital_fen`
  paid in (required).
- `allocate` (配股): shares leave `from_member`'s *ordinary* holding (the village collective's
  original shares) and enter `to_member`'s holding of `share_class`, usually `poverty`.
- `transfer` (转让): shares of `share_class` move from `from_member` to `to_member`.
- `redeem` (退股): `from_member`'s shares of `share_class` are retired.

Capital follows the shares. For allocate, transfer and redeem the capital moved is `capital_fen`
when given (a sale at a price agreed on paper, a redemption at book value), otherwise the
holding's capital pro rata to the shares moved, rounded half up to the fen. Pro rata is the
choice when nothing is said because it keeps capital per share unchanged on both sides, and
moving a whole holding always moves exactly its whole capital.

The fiscal year is the calendar year (会计年度, Accounting Law art. 11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from service.core.money import BP_WHOLE, round_half_up_div

MovementKind = Literal["subscribe", "allocate", "transfer", "redeem"]
HoldingKey = tuple[str, str]

# The collective's original shares are ordinary; 配股 always draws on them.
ALLOCATION_SOURCE_CLASS = "ordinary"


class NegativeHoldingError(ValueError):
    """A movement would take a holding below zero shares or zero capital."""

    def __init__(self, member_id: str, share_class: str, detail: str) -> None:
        super().__init__(f"holding of {member_id} in class {share_class} would go negative: {detail}")
        self.member_id = member_id
        self.share_class = share_class


@dataclass(frozen=True)
class ShareMovement:
    kind: MovementKind
    from_member: str | None
    to_member: str | None
    share_class: str
    shares: int
    capital_fen: int | None
    effective_date: date


@dataclass(frozen=True)
class Holding:
    shares: int
    capital_fen: int


@dataclass(frozen=True)
class HoldingYear:
    """A holding over one fiscal year.

    share_days = Σ over each day of the year of the shares held at the end of that day, so a
    movement counts on the day it takes effect and the last day of the year counts too.
    capital_days is the same sum over capital, the base for pro-rating a floor.
    """

    shares_at_year_end: int
    capital_at_year_end_fen: int
    share_days: int
    capital_days: int
    days_held: int


def days_in_year(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


def prorated_floor_fen(capital_days: int, floor_bp: int, fiscal_year: int) -> int:
    """Floor owed for the year on a holding counted by days: capital × rate × days / days in year.

    capital_days already multiplies capital by the days it was held, so a capital that changed
    during the year is pro-rated piece by piece. Rounded half up to the fen.
    """
    return round_half_up_div(capital_days * floor_bp, BP_WHOLE * days_in_year(fiscal_year))


def _validate(movement: ShareMovement) -> None:
    kind = movement.kind
    if movement.shares <= 0:
        raise ValueError(f"{kind} must move a positive number of shares, got {movement.shares}")
    if movement.capital_fen is not None and movement.capital_fen < 0:
        raise ValueError(f"{kind} capital must not be negative, got {movement.capital_fen}")
    needs_from = kind in ("allocate", "transfer", "redeem")
    needs_to = kind in ("subscribe", "allocate", "transfer")
    if kind not in ("subscribe", "allocate", "transfer", "redeem"):
        raise ValueError(f"unknown movement kind {kind!r}")
    if needs_from != (movement.from_member is not None):
        raise ValueError(f"{kind} {'needs' if needs_from else 'takes no'} from_member")
    if needs_to != (movement.to_member is not None):
        raise ValueError(f"{kind} {'needs' if needs_to else 'takes no'} to_member")
    if kind == "subscribe" and movement.capital_fen is None:
        raise ValueError("subscribe needs the capital paid in")


class _Register:
    """Mutable holdings while movements replay; callers only see frozen results."""

    def __init__(self) -> None:
        self.shares: dict[HoldingKey, int] = {}
        self.capital: dict[HoldingKey, int] = {}

    def _take(self, key: HoldingKey, shares: int, capital_fen: int | None) -> int:
        held = self.shares.get(key, 0)
        capital_held = self.capital.get(key, 0)
        if shares > held:
            raise NegativeHoldingError(key[0], key[1], f"holds {held} shares, {shares} leave")
        if capital_fen is None:
            capital_fen = round_half_up_div(capital_held * shares, held)
        if capital_fen > capital_held:
            raise NegativeHoldingError(key[0], key[1], f"holds {capital_held} fen of capital, {capital_fen} leave")
        if shares == held and capital_fen != capital_held:
            # Capital with no shares left would be owed to nobody in any later distribution.
            raise ValueError(
                f"{key[0]} gives up all {key[1]} shares but {capital_held - capital_fen} fen of "
                "capital would stay behind"
            )
        self.shares[key] = held - shares
        self.capital[key] = capital_held - capital_fen
        return capital_fen

    def _give(self, key: HoldingKey, shares: int, capital_fen: int) -> None:
        self.shares[key] = self.shares.get(key, 0) + shares
        self.capital[key] = self.capital.get(key, 0) + capital_fen

    def apply(self, movement: ShareMovement) -> None:
        _validate(movement)
        source, target = _touched(movement)
        if source is None:
            # Only a subscription has no source; _validate made sure it names a target.
            assert target is not None
            self._give(target, movement.shares, movement.capital_fen or 0)
            return
        moved = self._take(source, movement.shares, movement.capital_fen)
        if target is not None:
            self._give(target, movement.shares, moved)


def _in_order(movements: Iterable[ShareMovement]) -> list[ShareMovement]:
    # sorted() is stable, so same-day movements keep the order in which they were recorded.
    return sorted(movements, key=lambda m: m.effective_date)


def holdings_as_of(movements: Iterable[ShareMovement], as_of: date) -> dict[HoldingKey, Holding]:
    """Holdings after every movement effective on or before as_of (e.g. the record date 股权登记日).

    Emptied holdings are left out. Raises NegativeHoldingError naming the member and class of the
    first movement that would overdraw a holding.
    """
    register = _Register()
    for movement in _in_order(movements):
        if movement.effective_date > as_of:
            break
        register.apply(movement)
    return {
        key: Holding(shares, register.capital[key])
        for key, shares in register.shares.items()
        if shares or register.capital[key]
    }


def year_weights(movements: Iterable[ShareMovement], fiscal_year: int) -> dict[HoldingKey, HoldingYear]:
    """Share-days and capital-days of every holding held at some point in fiscal_year.

    A holding bought on 2024-07-01 and kept counts 184 days (1 July to 31 December inclusive),
    out of the 366 of leap year 2024. Shares sold on a day count for the buyer on that day, not
    the seller, so each share is counted once per day.
    """
    first = date(fiscal_year, 1, 1)
    after_last = date(fiscal_year + 1, 1, 1)
    register = _Register()
    share_days: dict[HoldingKey, int] = {}
    capital_days: dict[HoldingKey, int] = {}
    days_held: dict[HoldingKey, int] = {}
    since: dict[HoldingKey, date] = {}

    def close_segment(key: HoldingKey, until: date) -> None:
        start = since.get(key, first)
        days = (until - start).days
        shares = register.shares.get(key, 0)
        if days > 0 and shares:
            share_days[key] = share_days.get(key, 0) + shares * days
            capital_days[key] = capital_days.get(key, 0) + register.capital.get(key, 0) * days
            days_held[key] = days_held.get(key, 0) + days
        since[key] = until

    for movement in _in_order(movements):
        if movement.effective_date >= after_last:
            break
        if movement.effective_date < first:
            register.apply(movement)
            continue
        # The holdings this movement touches change at the start of its day: close their
        # previous segment there, before the change, then open the next one.
        _validate(movement)
        for key in _touched(movement):
            if key is not None:
                close_segment(key, movement.effective_date)
        register.apply(movement)

    for key in list(register.shares):
        close_segment(key, after_last)

    return {
        key: HoldingYear(
            shares_at_year_end=register.shares[key],
            capital_at_year_end_fen=register.capital[key],
            share_days=share_days.get(key, 0),
            capital_days=capital_days.get(key, 0),
            days_held=days_held.get(key, 0),
        )
        for key in register.shares
        if share_days.get(key) or register.shares[key]
    }


def _touched(movement: ShareMovement) -> tuple[HoldingKey | None, HoldingKey | None]:
    """(holding shares leave, holding shares enter); None where the kind has no such side."""
    cls = movement.share_class
    source = target = None
    if movement.from_member is not None:
        source_class = ALLOCATION_SOURCE_CLASS if movement.kind == "allocate" else cls
        source = (movement.from_member, source_class)
    if movement.to_member is not None:
        target = (movement.to_member, cls)
    return source, target
