"""What the household's application page says of why it stands where it does.

Before, it showed the reviewers' reason as recorded: for an application the checks refused, the
staff wording with the related household's internal id (本户（3f0c…）已于 2025 年领取), and for
one a reviewer rejected, the same reason twice.
"""

from __future__ import annotations

import re

from schemas.awards import CheckOut
from service.awards.rules import household_reason
from tests.api.test_awards import (
    AFTER_NOTICE,
    START,
    apply,
    hh_no,
    make_program,
    ready_to_grant,
    record_exit,
    review,
    set_today,
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def _page(api, household_no: str, app_id: str) -> str:
    r = await api.client.post("/h/login", data={"household_no": household_no, "pin": "123456"})
    assert r.status_code == 303, r.text
    token = r.cookies["huinong_household"]
    page = await api.client.get(f"/h/applications/{app_id}", headers={"Cookie": f"huinong_household={token}"})
    assert page.status_code == 200, page.text
    return page.text


async def test_a_refused_application_says_why_in_the_households_words_without_ids(api):
    pid, _, _ = await ready_to_grant(api, [1])
    await set_today(api, AFTER_NOTICE)
    assert (await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")).json()["granted"] == 1
    later = await make_program(api, year=2026)
    parent = await api.household_id(hh_no(1))
    body = {"kind": "returned", "year": 2026, "effective_date": "2026-01-05"}
    assert (await api.as_("cunwei", "POST", f"/households/{parent}/status-events", json=body)).status_code == 201
    refused = (await apply(api, later, hh_no(1))).json()
    assert refused["status"] == "rejected" and UUID.search(refused["status_reason"])  # the reviewers' words
    text = await _page(api, hh_no(1), refused["id"])
    reason = re.search(r'<p class="why">原因：([^<]*)</p>', text)
    assert reason and reason.group(1).startswith("没有通过资格审查：")
    assert "脱贫奖每户只发一次，您家（或分户前后的同一家）已经领过" in reason.group(1)
    assert not UUID.search(reason.group(1))


async def test_a_reviewers_rejection_is_said_once(api):
    await set_today(api, START)
    pid = await make_program(api)
    await record_exit(api, hh_no(2))
    app_id = (await apply(api, pid, hh_no(2))).json()["id"]
    r = await review(api, app_id, "village", decision="reject", reason="家中有人在外务工收入未申报")
    assert r.json()["status"] == "rejected", r.text
    text = await _page(api, hh_no(2), app_id)
    assert text.count("家中有人在外务工收入未申报") == 1 and "村里的意见：家中有人在外务工收入未申报" in text


def test_household_reason_keeps_a_reason_that_is_already_plain():
    checks = [CheckOut("no_earlier_exit_award", True, "本户及分户关联户均未领取过脱贫奖")]
    assert household_reason("预算不足：剩余 0.00 元", checks, reviews_say_it=False) == "预算不足：剩余 0.00 元"
    assert household_reason("村级审核不通过：不属实", checks, reviews_say_it=True) == ""
