"""The reports page reaches every venture of the reader's region, a hundred a page.

Before, it listed the first 500 ventures and said nothing of the rest: a county with more had
ventures whose 收益分配表 and 股东名册 no link of the page led to.
"""

from __future__ import annotations

import re

from tests.api.console_client import Console

VILLAGE = "621223100201"


async def _ventures(api, how_many: int) -> None:
    for n in range(how_many):
        body = {
            "name": f"第{n + 1:03d}号合作社",
            "model": "cooperative",
            "village_code": VILLAGE,
            "registered_capital_fen": 1_000_000,
            "charter": {"patronage_bp": 6000, "reserve_bp": 1000},
        }
        answer = await api.as_("kuaiji", "POST", "/ventures", json=body)
        assert answer.status_code == 201, answer.text


def _listed(html: str) -> list[str]:
    section = html.split('id="venture-reports"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'href="/console/ventures/([0-9a-f-]{36})"', section)


async def test_the_reports_page_pages_through_every_venture_of_the_county(api):
    await _ventures(api, 101)
    listed = (await api.as_("caizheng", "GET", "/ventures", params={"limit": 500})).json()
    everyone = {v["id"] for v in listed["items"]}
    assert len(everyone) > 100
    async with Console(api, "caizheng") as office:
        first = await office.get("/console/reports", year="2025")
        assert first.status_code == 200
        shown = _listed(first.text)
        assert len(shown) == 100
        more = re.search(r'<a href="([^"]+)#venture-reports">更多经营主体</a>', first.text)
        assert more, "no link to the next ventures"
        second = await office.get(more.group(1).replace("&amp;", "&"))
        assert second.status_code == 200 and "（2025 年度）" in second.text
        shown += _listed(second.text)
        assert "更多经营主体" not in second.text
        refused = await office.get("/console/reports", year="2025", cursor="bm90LWEta2V5")
    assert set(shown) == everyone and len(shown) == len(everyone)  # each once, none left out
    assert refused.status_code == 422 and "分页游标无效" in refused.text
