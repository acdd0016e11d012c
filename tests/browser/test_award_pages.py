"""A household applies for its exit award on a 360×740 phone and follows it to the certificate
(issue 18): 我的分红 offers the open programme, the application page works out 人均纯收入 and says
whether it reaches the line, the commitment is accepted, the reviews (through the API), the notice,
the grant and the certificate follow; a household below the line sees so before and after it
submits; a household withdraws before the village review; no page shows another household's data.
Every page is checked for the elder-friendly rules (tests/browser/test_pages.py check_page)."""

from __future__ import annotations

import re

import pytest

from tests.api.test_awards import AFTER_NOTICE, START, make_program, publish, record_exit, review, set_today
from tests.api.test_payments import approved_batch, bank_file, import_return, return_file
from tests.api.test_statements import A, B, pdf_text, settle_potatoes
from tests.browser.test_pages import check_page, log_in

pytestmark = pytest.mark.browser

C = "621223100201-003"
WINDOW = {"opens_on": "2026-01-01", "closes_on": "2026-03-31"}

# Tap targets and text sizes measured in the page, to say them in figures as well.
MEASURE = """() => ({
  body: parseFloat(getComputedStyle(document.body).fontSize),
  lineHeight: parseFloat(getComputedStyle(document.body).lineHeight) / parseFloat(getComputedStyle(document.body).fontSize),
  smallestTarget: Math.min(...[...document.querySelectorAll('a, button, input')]
      .map((e) => e.getBoundingClientRect()).filter((r) => r.width).map((r) => r.height)),
})"""


async def measured(page) -> dict:
    figures = await page.evaluate(MEASURE)
    assert figures["body"] >= 18 and figures["lineHeight"] >= 1.3 and figures["smallestTarget"] >= 60, figures
    return figures


async def sign_in_as(page, household_no: str) -> None:
    await page.context.clear_cookies()
    await log_in(page, household_no)
    assert page.url.endswith("/h/statement")


async def fill_income(page, *, wage: str, transfer: str = "", people: str = "2") -> None:
    await page.fill("#wage", wage)
    await page.fill("#transfer_net", transfer)
    await page.fill("#people", people)


async def test_a_household_applies_for_its_exit_award_and_follows_it_to_the_certificate(live, phone, artifacts):
    await set_today(live, START)
    await settle_potatoes(live, A)  # 1,500.00 yuan of 2025 purchase settlements, recorded
    pid = await make_program(live, **WINDOW)
    await record_exit(live, A)

    await sign_in_as(phone, A)
    text = await check_page(phone, artifacts, "award-statement-offer")
    assert "奖励申请" in text and "宕昌县2025年度脱贫奖" in text and "奖励 300.00 元" in text
    assert "申请时间：2026年1月1日 至 2026年3月31日" in text
    await phone.click('a:text-is("申请")')
    assert phone.url.endswith(f"/h/awards/{pid}")
    text = await check_page(phone, artifacts, "award-apply")
    await measured(phone)
    assert "要达到的标准：2025 年脱贫标准，每人每年 4,000.00 元" in text
    assert "系统已记录：1,500.00 元（收购结算、盈余返还）" in text and "系统已记录：0.00 元（分红、保底收益）" in text
    for kind in ("工资性收入", "经营净收入", "财产净收入", "转移净收入", "家庭人口", "脱贫承诺"):
        assert kind in text
    assert await phone.input_value("#business_net") == "1500.00"  # prefilled, marked as recorded

    # Works it out: (7,000 + 1,500 + 0 + 500) ÷ 2 = 4,500.00 yuan, above the line.
    await fill_income(phone, wage="7000", transfer="500元")
    await phone.click("text=计算人均纯收入")
    text = await check_page(phone, artifacts, "award-apply-calculated")
    assert "人均纯收入：4,500.00 元" in text and "全年合计 9,000.00 元 ÷ 2 人" in text
    assert "达到了 2025 年脱贫标准（每人 4,000.00 元）" in text

    # The commitment must be accepted: the page says so next to it and nothing is filed.
    await phone.click("text=提交申请")
    text = await check_page(phone, artifacts, "award-apply-no-commitment")
    assert "请读完承诺" in text and await phone.input_value("#wage") == "7000"
    assert (await live.as_("caizheng", "GET", f"/award-programs/{pid}/applications")).json()["items"] == []
    box = await phone.locator("#commitment").bounding_box()
    assert box["height"] >= 60 and box["width"] >= 60
    await phone.check("#commitment")
    await phone.click("text=提交申请")
    assert re.search(r"/h/applications/[0-9a-f-]{36}$", phone.url), phone.url
    app_id = phone.url.rsplit("/", 1)[1]
    text = await check_page(phone, artifacts, "award-application-filed")
    assert "现在：待村审核" in text and "1. 待村审核" in text and "现在在这一步" in text
    assert "您家是 2016 年登记的贫困户 ✓" in text and "您家 2025 年 9 月 30 日登记脱贫 ✓" in text
    assert "您家人均纯收入 4,500.00 元，达到 2025 年脱贫标准 4,000.00 元 ✓" in text
    assert "同意了脱贫承诺" in text and "2026年1月10日" in text and "撤回申请" in text
    got = (await live.as_("cunwei", "GET", f"/applications/{app_id}")).json()
    assert got["filed_by_household"] and got["income_breakdown"]["wage_fen"] == 700_000
    assert got["declared_income_fen"] == 450_000

    # Applying again shows the one in progress.
    await phone.goto("/h/statement")
    assert "查看我的申请" in await phone.inner_text("body")
    await phone.goto(f"/h/awards/{pid}")
    assert phone.url.endswith(f"/h/applications/{app_id}")

    # The village and the township approve (through the API), the township publishes.
    await review(live, app_id, "village")
    await phone.reload()
    assert "现在：村里审核通过，待乡镇审核" in await phone.inner_text("body")
    assert await phone.query_selector("text=撤回申请") is None  # reviewed: no longer withdrawn
    await review(live, app_id, "township")
    await publish(live, pid)
    await phone.reload()
    text = await check_page(phone, artifacts, "award-application-notice")
    assert "现在：公示中" in text and "公示时间：2026年1月10日 至 2026年1月17日" in text
    await phone.click("text=查看公示名单")
    assert "拟奖励名单公示" in await phone.inner_text("body")

    await set_today(live, AFTER_NOTICE)
    r = await live.as_("caizheng", "POST", f"/award-programs/{pid}/grants")
    serial = r.json()["awards"][0]["serial"]
    await phone.goto(f"/h/applications/{app_id}")
    text = await check_page(phone, artifacts, "award-application-granted")
    # Granted is not paid: the award waits for the bank, and the page says so, not 已发放.
    assert "现在：奖励已批准，等待银行发放奖金" in text and "已发放" not in text
    assert f"证书编号：{serial}" in text and "300.00 元" in text and "待发放" in text
    assert await phone.inner_text("ol.steps li.now") == "4. 发放奖金\n现在在这一步"
    async with phone.expect_download() as info:
        await phone.click("text=下载荣誉证书（PDF）")
    certificate = open(await (await info.value).path(), "rb").read()
    assert certificate.startswith(b"%PDF") and serial in pdf_text(certificate)

    # The county pays the batch and the bank's return says it was paid: now it is 已发放.
    batch = await approved_batch(live)
    answer = await import_return(live, batch["id"], return_file(await bank_file(live, batch["id"])))
    assert answer.status_code in (200, 201), answer.text
    await phone.reload()
    text = await check_page(phone, artifacts, "award-application-paid")
    assert "现在：已发放，奖金已打到户主的银行卡上" in text and "待发放" not in text
    assert await phone.query_selector("ol.steps li.now") is None
    assert await phone.inner_text("ol.steps li:nth-child(4)") == "4. 发放奖金\n✓ 已完成"


async def test_a_household_below_the_line_sees_it_before_and_after_submitting(live, phone, artifacts):
    await set_today(live, START)
    pid = await make_program(live)
    await record_exit(live, B)
    await sign_in_as(phone, B)
    await phone.click('a:text-is("申请")')

    await fill_income(phone, wage="三千")
    await phone.click("text=计算人均纯收入")
    text = await check_page(phone, artifacts, "award-apply-bad-figure")
    assert "工资性收入请只写数字" in text

    await fill_income(phone, wage="3,000")
    await phone.click("text=计算人均纯收入")
    text = await check_page(phone, artifacts, "award-apply-below-line")
    assert "人均纯收入：1,500.00 元" in text
    assert "还没有达到 2025 年脱贫标准（每人 4,000.00 元），差 2,500.00 元" in text
    await phone.check("#commitment")
    await phone.click("text=提交申请")
    text = await check_page(phone, artifacts, "award-application-rejected")
    assert "现在：没有通过" in text
    assert "您家人均纯收入 1,500.00 元，低于 2025 年脱贫标准 4,000.00 元 ✗" in text
    assert "您家是 2016 年登记的贫困户 ✓" in text
    # Within the window it may correct its figures and apply again.
    assert "重新申请" in text
    assert pid


async def test_a_household_withdraws_before_the_village_review(live, phone, artifacts):
    await set_today(live, START)
    pid = await make_program(live)
    await record_exit(live, C)
    await sign_in_as(phone, C)
    await phone.goto(f"/h/awards/{pid}")
    await fill_income(phone, wage="9000", people="2")
    await phone.check("#commitment")
    await phone.click("text=提交申请")
    await phone.click("text=撤回申请")
    text = await check_page(phone, artifacts, "award-withdraw-confirm")
    assert "确定要撤回这份申请吗" in text
    await phone.click("text=确定撤回")
    text = await check_page(phone, artifacts, "award-application-withdrawn")
    assert "现在：您已撤回申请" in text and "重新申请" in text and "撤回申请" not in text.replace("您已撤回申请", "")
    statuses = [
        a["status"] for a in (await live.as_("cunwei", "GET", f"/award-programs/{pid}/applications")).json()["items"]
    ]
    assert statuses == ["withdrawn"]


async def test_no_award_page_shows_another_households_data(live, phone, artifacts):
    await set_today(live, START)
    pid = await make_program(live)
    await record_exit(live, A)
    headers = await live.household_login(A)
    body = {
        "household_id": await live.household_id(A),
        "declared_income_fen": 456_789,
        "income_breakdown": {
            "wage_fen": 913_578,
            "business_net_fen": 0,
            "property_net_fen": 0,
            "transfer_net_fen": 0,
            "people": 2,
        },
        "commitment_accepted": True,
    }
    r = await live.client.post(f"/award-programs/{pid}/applications", json=body, headers=headers)
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]

    # B has no exit recorded: it is offered nothing, and A's application is nowhere for it.
    await sign_in_as(phone, B)
    # Look-alike digits in a link are not numbers: the newest year, or not found, never a 500.
    assert (await phone.goto("/h/statement?year=²⁰²⁵")).status == 200
    assert (await phone.goto("/h/statement?year=２０２５")).status == 200
    assert (await phone.goto("/h/applications/²")).status == 404
    await phone.goto("/h/statement")
    text = await phone.inner_text("body")
    assert "奖励申请" not in text and "4,567.89" not in text
    response = await phone.goto(f"/h/applications/{app_id}")
    text = await check_page(phone, artifacts, "award-application-other-household")
    assert response.status == 404 and "4,567.89" not in text and "9,135.78" not in text
    for url in (f"/h/applications/{app_id}/withdraw", f"/h/awards/{pid}"):
        response = await phone.goto(url)
        assert response.status == 404 and "4,567.89" not in await phone.inner_text("body"), url
    # A withdraw posted from B's session changes nothing.
    r = await phone.request.post(f"/h/applications/{app_id}/withdraw", headers={"Origin": str(live.client.base_url)})
    assert r.status == 404
    got = (await live.as_("cunwei", "GET", f"/applications/{app_id}")).json()
    assert got["status"] == "pending_village"
    # Signed out, the pages send the reader to the login page.
    await phone.context.clear_cookies()
    await phone.goto(f"/h/applications/{app_id}")
    assert phone.url.endswith("/h/login")
