"""Every console page of every demo login on the demo county with its whole year worked through
(`make run`'s data): followed by links from /console/, no server error, no full ID or card
number, and each login's home opening onto its own work."""

from __future__ import annotations

import pytest

from tests.access import demo_staff
from tests.api import test_demo
from tests.api.console_client import Console
from tests.api.test_console import crawl

# The demo year's database and client, as tests/api/test_demo.py builds them (pytest finds the
# fixtures by these names in this module).
year_db, demo = test_demo.year_db, test_demo.demo


async def test_the_accountants_home_shows_its_ventures_and_the_years_open_steps(demo):
    async with Console(demo, "kuaiji") as c:
        home = await c.get("/console/")
    assert home.status_code == 200 and "我记账的经营主体（3）" in home.text
    for model in ("农民专业合作社", "支部控股公司", "企业"):
        assert model in home.text
    assert "已入账" in home.text


async def test_the_township_home_shows_its_queue_first(demo):
    async with Console(demo, "xiangzhen") as c:
        home = await c.get("/console/")
    assert home.status_code == 200
    assert home.text.index("待我审批的年度分配方案") < home.text.index("辖区内的经营主体")


@pytest.mark.slow
@pytest.mark.parametrize("caller", demo_staff(), ids=lambda c: c.login)
async def test_every_console_page_of_the_demo_year_answers_without_a_server_error(demo, caller):
    async with Console(demo, caller.login) as console:
        seen = await crawl(console)
    # 409: a report of a year not yet posted (the console's reports page links every year's).
    assert all(status in (200, 303, 403, 404, 409) for status in seen.values()), seen
    assert len([p for p in seen if p.startswith("/console")]) >= 2
