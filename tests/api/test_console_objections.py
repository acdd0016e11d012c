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
