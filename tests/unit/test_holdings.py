"""Share register replay: holdings on a date, share-days and capital-days within a year."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.money import round_half_up_div
from service.ventures.rules import (
    NegativeHoldingError,
    ShareMovement,
    days_in_year,
    holdings_as_of,
    prorated_floor_fen,
    year_weights,
)

COLLECTIVE = "collective"


def subscribe(member, shares, capital, on, share_class="ordinary"):
    return ShareMovement("subscribe", None, member, share_class, shares, capital, on)


def test_leap_year_holding_bought_mid_year():
    # The collective subscribes 1,000 shares for 10,000.00 yuan in 2023; on 2024-07-01 it
    # allocates 100 of them to household h1 as poverty shares.
    movements = [
        subscribe(COLLECTIVE, 1_000, 1_000_000, date(2023, 5, 1)),
        ShareMovement("allocate", COLLECTIVE, "h1", "poverty", 100, None, date(2024, 7, 1)),
    ]
    weights = year_weights(movements, 2024)
    h1 = weights[("h1", "poverty")]
    collective = weights[(COLLECTIVE, "ordinary")]

    # 1 July to 31 December inclusive: 31+31+30+31+30+31 = 184 days, both ends counted.
    assert h1.days_held == 184
    assert h1.share_days == 100 * 184 == 18_400
    # Capital follows the shares pro rata: 1,000,000 × 100 / 1,000 = 100,000 fen.
    assert h1.capital_at_year_end_fen == 100_000
    assert h1.capital_days == 100_000 * 184
    # The collective held 1,000 shares 1 Jan–30 Jun (31+29+31+30+31+30 = 182 days in a leap
    # year) and 900 from 1 July: 1,000×182 + 900×184 = 182,000 + 165,600 = 347,600.
    assert collective.share_days == 347_600
    assert collective.days_held == 366
    # Every share counted once per day: 1,000 shares × 366 days.
    assert h1.share_days + collective.share_days == 366_000

    # A 5% floor on 1,000.00 yuan held 184 of 366 days:
    # 100,000 × 500 × 184 / (10,000 × 366) = 2,513.66 fen → 2,514 fen (25.14 yuan).
    assert days_in_year(2024) == 366
    assert prorated_floor_fen(h1.capital_days, 500, 2024) == 2_514
    # The same holding in 2023 (365 days): 5,000 × 184 / 365 = 2,520.55 → 2,521 fen.
    assert prorated_floor_fen(100_000 * 184, 500, 2023) == 2_521


def test_transfer_counts_for_the_buyer_on_its_day():
    movements = [
        subscribe("a", 10, 1_000, date(2023, 12, 31)),
        ShareMovement("transfer", "a", "b", "ordinary", 10, None, date(2024, 1, 2)),
    ]
    weights = year_weights(movements, 2024)
    # a holds on 1 Jan only; b from 2 Jan to 31 Dec: 365 days.
    assert weights[("a", "ordinary")].share_days == 10
    assert weights[("b", "ordinary")].share_days == 10 * 365
    # A holding emptied during the year still shows what it earned; one empty before the year
    # and never refilled does not appear.
    assert weights[("a", "ordinary")].shares_at_year_end == 0
    assert ("a", "ordinary") not in year_weights(movements, 2025)


def test_explicit_capital_and_redemption():
    movements = [
        subscribe("a", 100, 10_000, date(2024, 1, 1)),
        ShareMovement("transfer", "a", "b", "ordinary", 40, 5_000, date(2024, 2, 1)),
        ShareMovement("redeem", "b", None, "ordinary", 40, None, date(2024, 3, 1)),
    ]
    held = holdings_as_of(movements, date(2024, 2, 15))
    assert held[("a", "ordinary")].capital_fen == 5_000
    assert held[("b", "ordinary")].capital_fen == 5_000
    after = holdings_as_of(movements, date(2024, 12, 31))
    assert ("b", "ordinary") not in after


def test_overdraw_names_member_and_class():
    movements = [
        subscribe(COLLECTIVE, 10, 1_000, date(2024, 1, 1)),
        ShareMovement("allocate", COLLECTIVE, "h1", "poverty", 11, None, date(2024, 2, 1)),
    ]
    with pytest.raises(NegativeHoldingError) as caught:
        holdings_as_of(movements, date(2024, 12, 31))
    assert caught.value.member_id == COLLECTIVE
    assert caught.value.share_class == "ordinary"
    assert COLLECTIVE in str(caught.value)
    with pytest.raises(NegativeHoldingError):
        year_weights(movements, 2024)
    # Before the bad movement takes effect, the register is fine.
    assert holdings_as_of(movements, date(2024, 1, 31))[(COLLECTIVE, "ordinary")].shares == 10


@pytest.mark.parametrize(
    "movement",
    [
        ShareMovement("subscribe", None, "a", "ordinary", 0, 100, date(2024, 1, 1)),
        ShareMovement("subscribe", None, "a", "ordinary", 5, None, date(2024, 1, 1)),
        ShareMovement("transfer", None, "a", "ordinary", 5, None, date(2024, 1, 1)),
        ShareMovement("redeem", "a", "b", "ordinary", 5, None, date(2024, 1, 1)),
        ShareMovement("gift", "a", "b", "ordinary", 5, None, date(2024, 1, 1)),  # type: ignore
        ShareMovement("transfer", "a", "b", "ordinary", 10, 1, date(2024, 2, 1)),
    ],
)
def test_malformed_movements_are_refused(movement):
    opening = subscribe("a", 10, 100, date(2023, 1, 1))
    with pytest.raises(ValueError):
        holdings_as_of([opening, movement], date(2024, 12, 31))


# --- properties ------------------------------------------------------------------------------

MEMBERS = ("c", "h1", "h2", "h3")
CLASSES = ("ordinary", "poverty")
YEAR = 2024


KINDS = ("subscribe", "allocate", "transfer", "redeem")


def _decode(packed: int):
    """One movement's fields packed in one integer: hypothesis draws a flat list of integers far
    faster than a list of tuples, and shrinking every field towards 0 still gives simple cases."""
    fields = []
    for size in (4, 4, 4, 2, 50, 5_002, 501):
        packed, value = divmod(packed, size)
        fields.append(value)
    kind, src, dst, cls, count, cap, offset = fields
    capital = cap - 1 if cap else None
    return KINDS[kind], MEMBERS[src], MEMBERS[dst], CLASSES[cls], count + 1, capital, offset


@st.composite
def registers(draw):
    """A valid movement list. A movement drawn from an empty holding becomes a subscription and
    one drawn for more than is held moves what is held, so lists stay long and varied."""
    start = date(YEAR - 1, 11, 1)
    raw = [_decode(packed) for packed in draw(st.lists(st.integers(0, 2**40), max_size=14))]
    raw.sort(key=lambda item: item[6])
    shares: dict[tuple[str, str], int] = {}
    capital: dict[tuple[str, str], int] = {}
    movements = []
    for kind, src, dst, cls, count, cap, offset in raw:
        on = start + timedelta(days=offset)
        source = (src, "ordinary" if kind == "allocate" else cls)
        held = shares.get(source, 0)
        if kind == "subscribe" or not held:
            movement = ShareMovement("subscribe", None, dst, cls, count, cap or 0, on)
            moved_capital = cap or 0
        else:
            count = min(count, held)
            if cap is not None and (count == held or cap > capital[source]):
                cap = None
            if cap is None:
                moved_capital = round_half_up_div(capital[source] * count, held)
            else:
                moved_capital = cap
            target_member = None if kind == "redeem" else dst
            movement = ShareMovement(kind, src, target_member, cls, count, cap, on)
            shares[source] = held - count
            capital[source] -= moved_capital
        if movement.to_member is not None:
            target = (movement.to_member, cls)
            shares[target] = shares.get(target, 0) + count
            capital[target] = capital.get(target, 0) + moved_capital
        movements.append(movement)
    return movements


@settings(max_examples=1000, deadline=None)
@given(movements=registers())
def test_share_days_agree_with_day_by_day_holdings(movements):
    weights = year_weights(movements, YEAR)

    # Holdings only change on movement dates, so sampling the register at 1 January and at
    # each in-year movement date and weighting by the segment length gives every day exactly.
    first, after_last = date(YEAR, 1, 1), date(YEAR + 1, 1, 1)
    in_year = {m.effective_date for m in movements if first <= m.effective_date < after_last}
    change_days = sorted({first} | in_year)
    share_days: dict = {}
    capital_days: dict = {}
    for begin, end in zip(change_days, change_days[1:] + [after_last]):
        length = (end - begin).days
        for key, held in holdings_as_of(movements, begin).items():
            share_days[key] = share_days.get(key, 0) + held.shares * length
            capital_days[key] = capital_days.get(key, 0) + held.capital_fen * length

    assert {k: w.share_days for k, w in weights.items() if w.share_days} == {k: v for k, v in share_days.items() if v}
    for key, weight in weights.items():
        if weight.share_days:
            assert weight.capital_days == capital_days[key]
    year_end = holdings_as_of(movements, date(YEAR, 12, 31))
    for key, weight in weights.items():
        assert weight.shares_at_year_end == (year_end[key].shares if key in year_end else 0)


@settings(max_examples=1000, deadline=None)
@given(movements=registers())
def test_moving_shares_conserves_shares_and_capital(movements):
    held = holdings_as_of(movements, date(YEAR + 1, 12, 31))
    issued = [m for m in movements if m.kind == "subscribe"]
    if all(m.kind != "redeem" for m in movements):
        assert sum(h.shares for h in held.values()) == sum(m.shares for m in issued)
        assert sum(h.capital_fen for h in held.values()) == sum(m.capital_fen for m in issued)
    assert all(h.shares >= 0 and h.capital_fen >= 0 for h in held.values())
