"""The service's one notion of "today" (notice periods, fiscal years, windows).

In production it is the calendar date in China Standard Time. With HUINONG_TEST_CLOCK=1 an admin
may pin it (PUT /admin/clock), the way payment providers offer test clocks, so a 15-day notice can
be walked through in a test or a demo.
"""

from __future__ import annotations

import datetime as dt

CHINA_TZ = dt.timezone(dt.timedelta(hours=8))


class Clock:
    def __init__(self, *, movable: bool) -> None:
        self.movable = movable
        self._pinned: dt.date | None = None

    def today(self) -> dt.date:
        return self._pinned or dt.datetime.now(CHINA_TZ).date()

    def now(self) -> dt.datetime:
        real = dt.datetime.now(CHINA_TZ)
        if self._pinned is None:
            return real
        return dt.datetime.combine(self._pinned, real.timetz())

    def pin(self, day: dt.date) -> None:
        if not self.movable:
            raise PermissionError("the clock can only be moved when HUINONG_TEST_CLOCK=1")
        self._pinned = day


# The dates on which something is recorded to have happened (a share movement, a subsidy received,
# a trade, an advance, a purchase, a change of status): none of them can be later than today.
RECORDED_DATES = frozenset({"effective_date", "received_on", "traded_on", "given_on", "bought_on"})


def future_date_error(day: dt.date, today: dt.date) -> str | None:
    """The one rule for a recorded date: not after the service's today (the message, or None)."""
    if day > today:
        return f"日期不能晚于今天（{today.isoformat()}）"
    return None


def written_date(day: dt.date) -> str:
    """A date as people write it, on a page, a notice board or a paper: 2026年1月10日."""
    return f"{day.year}年{day.month}月{day.day}日"
