"""The household's and the public's forms refuse an unreadable character in words and change nothing.

Before, a NUL in the household login's 户号 or in an objection's reason went on to PostgreSQL,
which refuses it: a 500 page for a villager who pasted text from a chat, and for anyone probing.
"""

from __future__ import annotations

import re

from tests.api.test_awards import ready_to_grant


async def test_the_household_login_refuses_a_nul_in_words(api):
    r = await api.client.post("/h/login", data={"household_no": "621223100201-001\x00", "pin": "123456"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "户号和密码只能是数字和字母" in r.text


async def test_an_objection_with_a_nul_is_refused_and_shown_again_without_it(api):
    _, ids, notice = await ready_to_grant(api, [1, 2])
    conn = await api.connect()
    try:
        subject = await conn.fetchval(
            "SELECT subject_id FROM notice_subjects WHERE notice_id = $1 ORDER BY subject_id LIMIT 1",
            notice["id"],
        )
    finally:
        await conn.close()
    form = {"subject_id": subject, "reason": "他家有人在城里\x00开店"}
    r = await api.client.post(f"/p/notices/{notice['id']}/objections", data=form)
    assert r.status_code == 400 and "异议里有无法识别的字符，已经删去" in r.text
    assert ">他家有人在城里开店</textarea>" in r.text  # not to be written twice
    conn = await api.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM objections") == 0
    finally:
        await conn.close()


async def test_the_public_notice_counts_every_household_it_lists_not_the_page(api):
    """A notice of more than a page says how many households it lists in all, on every page;
    before, its heading counted the page (名单（100 户） on a list of 152)."""
    _, _, notice = await ready_to_grant(api, [1, 2])
    conn = await api.connect()
    try:
        added = await conn.execute(
            """INSERT INTO notice_subjects (county_code, notice_id, subject_id, household_id)
               SELECT h.county_code, $1, 'extra-' || h.household_no, h.id FROM households h
               WHERE h.county_code = '621223000000' AND NOT EXISTS (
                   SELECT 1 FROM notice_subjects s WHERE s.notice_id = $1 AND s.household_id = h.id)
               ORDER BY h.household_no LIMIT 150""",
            notice["id"],
        )
    finally:
        await conn.close()
    total = 2 + int(added.split()[-1])
    assert total > 100
    first = await api.client.get(f"/p/notices/{notice['id']}")
    assert f"名单（共 {total} 户，本页 100 户）" in first.text
    following = re.search(r'href="(/p/notices/[^"]+\?cursor=[^"]+)">下一页</a>', first.text)
    assert following, "no link to the next page"
    second = await api.client.get(following.group(1).replace("&amp;", "&"))
    assert f"名单（共 {total} 户，本页 {total - 100} 户）" in second.text
    assert f'href="/p/notices/{notice["id"]}">回到第一页</a>' in second.text
    answer = (await api.client.get(f"/notices/{notice['id']}", params={"limit": 500})).json()
    assert answer["subject_count"] == total and len(answer["items"]) == total


async def test_the_notice_board_marks_the_household_whose_objection_was_upheld(api):
    """After the township upholds an objection the household is not awarded: the board says so
    beside it, where it said 有异议，正在核实 while the objection was open."""
    _, ids, notice = await ready_to_grant(api, [1, 2])
    r = await api.client.post(f"/notices/{notice['id']}/objections", json={"subject_id": ids[0], "reason": "收入不实"})
    assert r.status_code == 201, r.text
    objection = r.json()["id"]
    page = await api.client.get(f"/p/notices/{notice['id']}")
    assert page.text.count("有异议，正在核实") == 1 and "异议成立" not in page.text
    r = await api.as_(
        "xiangzhen", "POST", f"/objections/{objection}/resolve", json={"upheld": True, "reason": "核实属实"}
    )
    assert r.status_code == 200, r.text
    page = await api.client.get(f"/p/notices/{notice['id']}")
    assert page.text.count("异议成立，此户不予奖励") == 1 and "有异议，正在核实" not in page.text
    items = (await api.client.get(f"/notices/{notice['id']}")).json()["items"]
    assert sorted(i["objection_upheld"] for i in items) == [False, True]
