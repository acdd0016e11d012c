"""Village and township review in the staff console, in headless Chromium at an office PC's
1366×768 with JavaScript off, against a fresh database (a clone of the demo county): applications
reviewed at two levels (one rejected with its reason), the list published (公示) and its A4 print
downloaded, an objection filed on the public page and resolved in the console, and an auditor
reading the audit log filtered, its chain verified. Each result is checked against the API.

Screenshots land in test-artifacts/browser/console-desktop-review-*.png.
"""

from __future__ import annotations

import pytest

from tests.api.test_awards import START, apply, hh_no, make_program, record_exit, set_today
from tests.browser.test_console import look, sign_in, sign_out, submit

pytestmark = pytest.mark.browser


async def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


async def application(live, app_id: str) -> dict:
    return await ok(await live.as_("xiangzhen", "GET", f"/applications/{app_id}"))


async def three_applications(live) -> tuple[str, list[str]]:
    await set_today(live, START)
    pid = await make_program(live)
    ids = []
    for n in (1, 2, 3):
        await record_exit(live, hh_no(n))
        ids.append((await ok(await apply(live, pid, hh_no(n), as_household=n == 1), 201))["id"])
    return pid, ids


async def village_review(page, artifacts, ids: list[str]) -> None:
    await sign_in(page, "cunwei")
    text = await look(page, artifacts, "review-village-home")
    assert "待我审核的奖励申请（3）" in text
    await page.click("a.button:has-text('去审核')")
    text = await look(page, artifacts, "review-queue")
    assert "年初为在册贫困户" in text and "人均纯收入达到标准" in text
    # 1 and 2 checked and approved together.
    for app_id in ids[:2]:
        await page.check(f"input[name=application_id][value='{app_id}']")
    await submit(page, "审核勾选的申请")
    assert "所勾选的申请已审核" in await look(page, artifacts, "review-batch-done")
    # 3 rejected on its page: first without a reason (refused next to the field), then with one.
    await page.goto(f"/console/applications/{ids[2]}")
    await page.select_option("#f-decision", "reject")
    await submit(page, "提交审核意见")
    assert await page.inner_text("#e-reason") == "不通过须写明理由"
    await page.select_option("#f-decision", "reject")
    await page.fill("#f-reason", "家中有人在外务工收入未申报")
    await submit(page, "提交审核意见")
    text = await look(page, artifacts, "review-rejected")
    assert "审核意见已记录" in text and "村级审核不通过" in text and "家中有人在外务工收入未申报" in text
    # The household's own filing, on its application's page.
    await page.goto(f"/console/applications/{ids[0]}")
    text = await look(page, artifacts, "review-household-filed")
    assert "农户自己填报的内容" in text and "脱贫承诺" in text
    await sign_out(page)


async def township_review_and_publish(page, artifacts, pid: str, ids: list[str]) -> str:
    await sign_in(page, "xiangzhen")
    assert "待我审核的奖励申请（2）" in await look(page, artifacts, "review-township-home")
    await page.goto("/console/reviews")
    for app_id in ids[:2]:
        await page.check(f"input[name=application_id][value='{app_id}']")
    await submit(page, "审核勾选的申请")
    assert "所勾选的申请已审核" in await page.inner_text("body")
    await page.goto(f"/console/reviews/{pid}")
    await submit(page, "公示审核通过的名单")
    text = await look(page, artifacts, "review-published")
    assert "名单已公示" in text and "公示中" in text
    return page.url.split("/console/notices/")[1].split("?")[0]


async def test_two_levels_a_notice_an_objection_and_the_audit_log(desk, live, artifacts):
    page = desk
    pid, ids = await three_applications(live)
    await village_review(page, artifacts, ids)
    for app_id, status in zip(ids, ("pending_township", "pending_township", "rejected"), strict=True):
        assert (await application(live, app_id))["status"] == status
    notice_id = await township_review_and_publish(page, artifacts, pid, ids)
    for app_id in ids[:2]:
        assert (await application(live, app_id))["status"] == "in_notice"
    listed = await ok(await live.as_("xiangzhen", "GET", "/notices", params={"state": "open"}))
    assert [n["id"] for n in listed["items"]] == [notice_id] and listed["items"][0]["subjects"] == 2

    # The print for the village board: a PDF.
    href = await page.get_attribute("#print-link", "href")
    pdf = await page.request.get(href)
    assert pdf.ok and (await pdf.body())[:5] == b"%PDF-"
    await sign_out(page)

    # Anyone objects on the public page.
    await page.goto(f"/p/notices/{notice_id}")
    await page.select_option("#subject_id", ids[0])
    await page.fill("#reason", "这户家里新买了小汽车")
    async with page.expect_navigation():
        await page.click("button:has-text('提交异议')")
    assert (await application(live, ids[0]))["status"] == "objected"

    # The township sees it on its home and resolves it in the console.
    await sign_in(page, "xiangzhen")
    text = await look(page, artifacts, "review-objection-home")
    assert "公示中待处理的异议（1）" in text
    await page.click(f"a[href='/console/notices/{notice_id}']")
    text = await look(page, artifacts, "review-objection")
    assert "这户家里新买了小汽车" in text and "待乡镇核实处理：该户暂缓发放" in text
    objection = (await ok(await live.as_("xiangzhen", "GET", f"/notices/{notice_id}/objections")))[0]
    await page.select_option(f"#f-upheld-{objection['id']}", "no")
    await page.fill(f"#f-reason-{objection['id']}", "入户核实，车辆为亲戚所有")
    await submit(page, "处理这条异议")
    text = await look(page, artifacts, "review-objection-resolved")
    assert "异议已处理" in text and "异议不成立：该户恢复公示，公示期满后可以发放" in text
    assert (await application(live, ids[0]))["status"] == "in_notice"
    await sign_out(page)

    # The auditor reads the log of that, filtered, with the chain verified.
    await sign_in(page, "shenji")
    await page.click("nav.main a:has-text('审计日志')")
    await page.fill("#f-actor", "xiangzhen")
    await page.fill("#f-action", "objection")
    async with page.expect_navigation():
        await page.click("form.filters button:has-text('筛选')")
    assert "哈希链完整" in await look(page, artifacts, "review-audit")
    rows = await page.inner_text("section.listing table tbody")
    assert "objection.dismissed" in rows and "award_application" not in rows and "cunwei" not in rows
    await page.click("nav.main a:has-text('账簿核验')")
    assert "项核验通过" in await look(page, artifacts, "review-verify")
