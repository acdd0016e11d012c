"""A console page's choice of village is the reader's region's, however large the registry.

Before, the households page and the new-venture form read the first 500 villages of the whole
registry and kept the reader's: in a province whose other counties sort first, a county's own
villages were not offered, its households could not be filtered by village, and its accountant
could not pick a village to set up a venture in. The form also offered every county's villages.
"""

from __future__ import annotations

import re

from tests.api.console_client import Console

COUNTY, VILLAGE = "621223000000", "621223100201"
# A county sorting before the demo county, with more villages than the old read ever reached.
EARLY_COUNTY, EARLY_TOWNSHIP = "620102000000", "620102001000"
EARLY_VILLAGES = [f"620102001{n:03d}" for n in range(1, 502)]


async def _early_county(api) -> None:
    conn = await api.connect()
    try:
        await conn.execute(
            """INSERT INTO regions (code, name, level, parent_code, county_code) VALUES
               ($1, '城关区', 'county', NULL, $1), ($2, '城关街道', 'township', $1, $1)""",
            EARLY_COUNTY,
            EARLY_TOWNSHIP,
        )
        await conn.executemany(
            "INSERT INTO regions (code, name, level, parent_code, county_code) VALUES ($1, $2, 'village', $3, $4)",
            [(code, f"第{n}社区", EARLY_TOWNSHIP, EARLY_COUNTY) for n, code in enumerate(EARLY_VILLAGES, 1)],
        )
    finally:
        await conn.close()


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
    assert select, f"no select named {name}"
    return re.findall(r'<option value="([0-9]{12})"', select.group(0))


async def test_the_village_choices_are_the_readers_region_in_a_large_registry(api):
    await _early_county(api)
    async with Console(api, "kuaiji") as accountant:
        form = await accountant.get("/console/ventures/new")
        assert form.status_code == 200, form.text
        offered = _options(form.text, "village_code")
        assert VILLAGE in offered and all(code.startswith("621223") for code in offered), offered[:5]
    async with Console(api, "caizheng") as office:
        page = await office.get("/console/households")
        offered = _options(page.text, "village_code")
        assert VILLAGE in offered and not any(code.startswith("620102") for code in offered), offered[:5]
        filtered = await office.get("/console/households", village_code=VILLAGE)
        assert filtered.status_code == 200 and "621223100201-001" in filtered.text
        assert f'<option value="{VILLAGE}" selected' in filtered.text
        # The reports of the county, its township and each of its villages, in that order.
        reports = (await office.get("/console/reports", year="2025")).text
        places = [p for p in ("宕昌县", "城关镇", "南沿沟村", "王何村", "凤凰谷村", "草滩子村") if p in reports]
        assert places == ["宕昌县", "城关镇", "南沿沟村", "王何村", "凤凰谷村", "草滩子村"]
        assert [reports.index(p) for p in places] == sorted(reports.index(p) for p in places)
        assert "620102" not in reports and "第1社区" not in reports
    async with Console(api, "cunwei") as village:
        assert _options((await village.get("/console/households")).text, "village_code") == [VILLAGE]
    async with Console(api, "admin") as admin:
        offered = _options((await admin.get("/console/households")).text, "village_code")
        assert set(EARLY_VILLAGES) <= set(offered) and VILLAGE in offered
