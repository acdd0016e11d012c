"""The console's homes on the demo county with its whole year worked through (`make run`'s data):
each login's home opens onto its own work. Every page of every login is crawled in
test_console_crawl.py."""

from __future__ import annotations

from tests.api import test_demo
from tests.api.console_client import Console

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
