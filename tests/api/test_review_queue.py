"""What a reviewer's console home says of its queue is the queue itself, counted in the database
through the partial index of waiting applications (migration 0020), whose statuses are the code's."""

from __future__ import annotations

import re

from db.awards import WAITING_STATUSES
from service.awards.workflow import WAITING_FOR, review_queue, review_queue_count
from service.core.auth import TokenClaims, load_principal
from tests.api.console_client import Console
from tests.api.test_console_review import applied


async def _principal(conn, username: str):
    user_id = await conn.fetchval("SELECT id FROM users WHERE username = $1", username)
    principal = await load_principal(conn, TokenClaims(sub=str(user_id), kind="user", exp=0))
    assert principal is not None
    return principal


async def test_the_waiting_index_lists_exactly_the_statuses_reviewers_wait_on(api):
    conn = await api.connect()
    try:
        definition = await conn.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'award_applications_waiting'"
        )
    finally:
        await conn.close()
    listed = set(re.findall(r"'([a-z_]+)'::text", definition))
    assert listed == set(WAITING_STATUSES)
    assert {s for waiting in WAITING_FOR.values() for s in waiting} == listed


async def test_each_reviewers_home_counts_its_whole_queue_and_the_held_in_it(api):
    await applied(api)  # three waiting for 南沿沟村, one held by the vehicle register for the township
    conn = await api.connect()
    try:
        counts = {}
        for username in ("cunwei", "xiangzhen", "shenji"):
            principal = await _principal(conn, username)
            queue = (await review_queue(conn, principal, limit=500)).items
            count = await review_queue_count(conn, principal)
            assert (count.waiting, count.held) == (len(queue), sum(1 for a in queue if a.status == "held"))
            counts[username] = count
    finally:
        await conn.close()
    assert (counts["cunwei"].waiting, counts["cunwei"].held) == (3, 0)
    assert counts["xiangzhen"].held == 1 and counts["xiangzhen"].waiting >= 1
    assert (counts["shenji"].waiting, counts["shenji"].held) == (0, 0)  # an auditor reviews nothing
    async with Console(api, "xiangzhen") as township:
        home = (await township.get("/console/")).text
    assert f"待我审核的奖励申请（{counts['xiangzhen'].waiting}）" in home
    assert "其中 1 份在比对名单或分户上有疑点" in home


async def test_a_queue_longer_than_a_page_is_walked_to_its_last_application(api):
    """At year end a township's queue outgrows a page: every waiting application is reachable,
    first filed first, and the page's heading counts the whole queue, not the page."""
    await applied(api)
    conn = await api.connect()
    try:
        principal = await _principal(conn, "cunwei")
        whole = (await review_queue(conn, principal, limit=500)).items
        walked, cursor = [], None
        while True:
            page = await review_queue(conn, principal, limit=1, cursor=cursor)
            walked += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    finally:
        await conn.close()
    assert [a.id for a in walked] == [a.id for a in whole] and len(whole) == 3
    async with Console(api, "cunwei") as village:
        page = await village.get("/console/reviews")
        refused = await village.get("/console/reviews?cursor=bm90LWEta2V5")
    assert "待我审核的奖励申请（共 3 份）" in page.text
    assert refused.status_code == 422 and "分页游标无效" in refused.text
