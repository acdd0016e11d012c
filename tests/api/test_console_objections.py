"""The console home's open objections (公示中待处理的异议): read from the objections still open on
the reader's households, not from the first hundred running notices.

Before, the home took the county's newest 100 running notices and kept those with open
objections: in a season of more notices, older ones with objections never appeared; an objection
left open after its notice ended vanished from the home though the township still had to resolve
it; and a reader was counted objections on every household of the notice, its region's or not."""

from __future__ import annotations

import re

from tests.access import add_user
from tests.api.console_client import Console
from tests.api.test_awards import AFTER_NOTICE, ready_to_grant, set_today
from tests.api.test_household_import import household_row, upload

HEADING = re.compile(r"公示中待处理的异议（(\d+)）")


async def _objections_on_home(api, login: str) -> int | None:
    async with Console(api, login) as reader:
        found = HEADING.search((await reader.get("/console/")).text)
        return int(found.group(1)) if found else None


async def test_the_home_counts_the_open_objections_on_the_readers_households(api):
    _, ids, notice = await ready_to_grant(api, [5, 6, 7])
    for subject, reason in ((ids[0], "该户家中有小轿车"), (ids[1], "收入不实")):
        r = await api.client.post(f"/notices/{notice['id']}/objections", json={"subject_id": subject, "reason": reason})
        assert r.status_code == 201, r.text
    objection = r.json()["id"]
    for login in ("xiangzhen", "cunwei", "caizheng", "shenji"):
        assert await _objections_on_home(api, login) == 2, login
    # A reviewer of another village answers for none of these households: no such section.
    await add_user(api, "cunwei_wanghe", "village_reviewer", "621223100202")
    assert await _objections_on_home(api, "cunwei_wanghe") is None
    assert await _objections_on_home(api, "kuaiji") is None
    # The notice ends with both open: the township must still resolve them, and its home says so.
    await set_today(api, AFTER_NOTICE)
    assert await _objections_on_home(api, "xiangzhen") == 2
    r = await api.as_("xiangzhen", "POST", f"/objections/{objection}/resolve", json={"upheld": False, "reason": "核实"})
    assert r.status_code == 200, r.text
    assert await _objections_on_home(api, "xiangzhen") == 1
    assert await _objections_on_home(api, "caizheng") == 1


async def test_an_objection_names_its_household_on_a_notice_of_more_than_500(api):
    """The staff notice page names an objection's household however far down the list it sorts.
    Before, it looked the name up among the notice's first 500 subjects only."""
    _, ids, notice = await ready_to_grant(api, [5, 6, 7])
    # 499 more households on the notice, numbered (-00001 …) to sort before the three awarded.
    rows = [household_row(n) for n in range(1, 500)]
    r = await api.as_("cunwei", "POST", "/households/import", **upload("csv-utf8", rows))
    assert r.status_code == 201, r.text
    conn = await api.connect()
    try:
        await conn.execute(
            """INSERT INTO notice_subjects (county_code, notice_id, subject_id, household_id)
               SELECT h.county_code, $1, 'extra-' || h.household_no, h.id FROM households h
               WHERE h.household_no = ANY($2)""",
            notice["id"],
            [row["household_no"] for row in rows],
        )
        last = await conn.fetchval(
            "SELECT h.head_name_masked FROM households h WHERE h.household_no = '621223100201-007'"
        )
    finally:
        await conn.close()
    r = await api.client.post(f"/notices/{notice['id']}/objections", json={"subject_id": ids[2], "reason": "有车"})
    assert r.status_code == 201, r.text
    async with Console(api, "caizheng") as office:
        page = await office.get(f"/console/notices/{notice['id']}")
        assert page.status_code == 200, page.text
        row = re.search(rf'<tr id="objection-{r.json()["id"]}">.*?</tr>', page.text, re.S).group(0)
        assert f"<td>{last}（南沿沟村）</td>" in row, row
