"""Notice (公示) periods and states, and the objection limit, as pure rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.notices.rules import (
    OBJECTIONS_PER_ADDRESS_PER_HOUR,
    how_to_object,
    notice_period,
    notice_state,
    resolution_status,
    too_many_objections,
)


def test_a_notice_runs_from_today_for_its_days():
    assert notice_period("award", 7, 3, date(2026, 1, 10)) == (date(2026, 1, 10), date(2026, 1, 17))
    for kind, days, subjects in (("poster", 7, 1), ("award", 0, 1), ("award", 7, 0)):
        with pytest.raises(ValueError):
            notice_period(kind, days, subjects, date(2026, 1, 10))
    # A distribution notice publishes the plan: a loss year's, with no household in it, too.
    assert notice_period("distribution", 10, 0, date(2026, 1, 10)) == (date(2026, 1, 10), date(2026, 1, 20))


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    days=st.integers(1, 90),
    offset=st.integers(-100, 200),
)
def test_state_is_open_exactly_from_the_first_to_the_last_day(start, days, offset):
    starts_on, ends_on = notice_period("award", days, 1, start)
    today = start + timedelta(days=offset)
    expected = "upcoming" if offset < 0 else "open" if offset <= days else "ended"
    assert notice_state(starts_on, ends_on, today) == expected


def test_how_to_object_names_the_dates():
    text = how_to_object(date(2026, 3, 1), date(2026, 3, 11))
    assert text.startswith("公示期为 2026年3月1日至2026年3月11日。") and "异议" in text
    assert "户主和所在村" in text and "编号" not in text  # the board shows no number to quote


def test_objection_limit_and_resolution():
    assert OBJECTIONS_PER_ADDRESS_PER_HOUR == 20
    assert not too_many_objections(19) and too_many_objections(20)
    assert resolution_status(True) == "upheld" and resolution_status(False) == "dismissed"
