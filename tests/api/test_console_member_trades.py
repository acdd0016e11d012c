"""A member's page lists every trade of the year, a hundred a page.

Before, it showed the first 500 and nothing said there were more: a dairy member delivering twice
a day had a year whose later deliveries no page showed, though they count in its 交易额.
"""

from __future__ import annotations

import re

from tests.api.console_client import Console
from tests.api.test_ventures import add_member, make_venture

TRADES = 101


def _rows(html: str) -> list[tuple[str, int]]:
    """(date, amount in fen) of each trade row of the page's trades table."""
    section = html.split("年交易</h2>", 1)[1].split("</section>", 1)[0]
    found = re.findall(
        r"<tr><td>([^<]+)</td><td>牛奶</td><td class=\"num\">[^<]*</td><td class=\"num\">([0-9,.]+)</td>", section
    )
    return [(day, int(amount.replace(",", "").replace(".", ""))) for day, amount in found]


async def test_a_member_page_reaches_every_trade_of_a_long_year(api):
    vid = await make_venture(api)
    member = await add_member(api, vid, "person", "奶农")
    for n in range(TRADES):
        trade = {
            "member_id": member,
            "traded_on": f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}",
            "product": "牛奶",
            "quantity_g": 10_000,
            "amount_fen": 4_001 + n,
        }
        r = await api.as_("kuaiji", "POST", f"/ventures/{vid}/transactions", json=trade)
        assert r.status_code == 201, r.text
    async with Console(api, "kuaiji") as accountant:
        first = await accountant.get(f"/console/ventures/{vid}/members/{member}", year="2025")
        assert first.status_code == 200, first.text
        more = re.search(r'<a href="([^"]+)">更多交易</a>', first.text)
        assert more, "no link to the rest of the year"
        second = await accountant.get(more.group(1).replace("&amp;", "&"))
        assert second.status_code == 200 and "更多交易" not in second.text
        volume = re.search(r'id="volume">([0-9,.]+)<', first.text)
        refused = await accountant.get(f"/console/ventures/{vid}/members/{member}", year="2025", cursor="x")
    rows = _rows(first.text) + _rows(second.text)
    assert len(_rows(first.text)) == 100 and len(rows) == TRADES
    # Each trade once: the amounts 40.01 … 41.01 yuan, and their sum is the year's 交易额 to the fen.
    assert sorted(amount for _, amount in rows) == [4_001 + n for n in range(TRADES)]
    assert volume and int(volume.group(1).replace(",", "").replace(".", "")) == sum(4_001 + n for n in range(TRADES))
    assert refused.status_code == 422 and "分页游标无效" in refused.text
