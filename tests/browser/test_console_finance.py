"""The county finance office's year in the staff console, in headless Chromium at an office PC's
1366×768 with JavaScript off, against a fresh database (a clone of the demo county): a programme
opened, a cross-check list uploaded, three applications reviewed at the village and the township
and noticed (those steps through the API: the review pages are another part of the console),
grants run within the budget, a batch built, refused to its maker, approved by the checker, its
bank file downloaded, the bank's return with a failed line uploaded, the card corrected on the
household's page and the line issued again, and the reconciliation showing no difference; each
figure on a page checked against the API, to the fen.

Screenshots land in test-artifacts/browser/finance-*.png.
"""

from __future__ import annotations

import pytest

from tests.api.test_awards import COUNTY, set_today
from tests.api.test_console_finance import LISTED_ID, NEW_CARD, bank_answer, reviewed_and_noticed, yuan
from tests.browser.test_console import fill, look, sign_in, sign_out, submit

pytestmark = pytest.mark.browser


async def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


async def as_user(page, username: str) -> None:
    if "/console/" in page.url and "/console/login" not in page.url:
        await sign_out(page)
    await sign_in(page, username)


async def download(page, link_text: str) -> bytes:
    async with page.expect_download() as info:
        await page.click(f"a:has-text('{link_text}')")
    path = await (await info.value).path()
    with open(path, "rb") as f:
        return f.read()


async def upload(page, content: bytes, name: str) -> None:
    await page.set_input_files(
        "#f-file", files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}]
    )
    async with page.expect_navigation():
        await page.click("#upload button:has-text('上传')")


async def open_programme(page, artifacts) -> str:
    await page.click("nav.main a:has-text('奖励项目')")
    await page.click("text=设立新的奖励项目")
    await fill(page, {"amount": "300.00", "budget": "600.00", "year": "2025", "notice_days": "7"})
    await fill(page, {"province_pct": "50", "city_pct": "30", "county_pct": "20"}, {"kind": "exit"})
    await submit(page, "设立项目")
    assert "奖励项目已设立" in await look(page, artifacts, "programme")
    return page.url.split("/console/award-programs/")[1].split("?")[0]


async def upload_cross_check_list(page, artifacts) -> None:
    await page.goto("/console/cross-check-lists")
    template = await download(page, "下载比对名单模板")
    assert template[:2] == b"PK"
    await upload(page, f"身份证号,来源\n{LISTED_ID},工商/市场主体\n".encode(), "名单.csv")
    text = await look(page, artifacts, "cross-check")
    assert "新增 1 条" in text and "工商登记：新增 1 条" in await page.inner_text("#result")


async def grant(live, page, artifacts, pid: str) -> None:
    await page.goto(f"/console/award-programs/{pid}")
    await submit(page, "在预算内发放")
    text = await look(page, artifacts, "granted")
    program = await ok(await live.as_("caizheng", "GET", f"/award-programs/{pid}"))
    assert program["committed_fen"] == 60_000 and program["counts"] == {"granted": 2, "over_budget": 1}
    assert await page.inner_text("#run-granted") == f"2 户，{yuan(program['committed_fen'])} 元"
    assert await page.inner_text("#run-over") == "1 户"
    assert await page.inner_text("#remaining") == f"{yuan(program['remaining_fen'])} 元"
    rows = await page.locator("#levels tbody tr").all_inner_texts()
    for row, level in zip(rows, ("province", "city", "county"), strict=False):
        assert yuan(program["by_level"][level]["committed_fen"]) in row
        assert yuan(program["by_level"][level]["budget_fen"]) in row
    assert "预算不足：剩余 0.00 元" in text


async def build_batch(live, page, artifacts, pid: str) -> str:
    await page.click("text=本项目待付的款项")
    boxes = page.locator("input[name=payable_id]")
    assert await boxes.count() == 2
    for n in range(2):
        await boxes.nth(n).check()
    await submit(page, "用勾选的款项建立代发批次")
    text = await look(page, artifacts, "batch-built")
    assert "批次已建立" in text
    bid = page.url.split("/console/payment-batches/")[1].split("?")[0]
    batch = await ok(await live.as_("caizheng", "GET", f"/payment-batches/{bid}"))
    assert await page.inner_text("#total") == f"{yuan(batch['total_fen'])} 元" == "600.00 元"
    await submit(page, "审批通过")
    refused = await look(page, artifacts, "maker-refused")
    assert "建立批次的人不能审批自己的批次" in await page.inner_text("#refusal")
    assert "草稿" in refused
    return bid


async def approve(live, page, artifacts, bid: str, name: str) -> None:
    await as_user(page, "caizheng2")
    await page.goto(f"/console/payment-batches/{bid}")
    await submit(page, "审批通过")
    assert "批次已审批" in await look(page, artifacts, name)
    assert (await ok(await live.as_("caizheng", "GET", f"/payment-batches/{bid}")))["status"] == "approved"


async def pay(live, page, artifacts, bid: str, failing: set[int], name: str) -> dict:
    await as_user(page, "caizheng")
    await page.goto(f"/console/payment-batches/{bid}")
    sent = await download(page, "文本（竖线分隔，GB18030）")
    assert sent.decode("gb18030").startswith("HEAD|")
    await upload(page, bank_answer(sent, failing, "账户已销户"), "回盘.txt")
    await look(page, artifacts, name)
    batch = await ok(await live.as_("caizheng", "GET", f"/payment-batches/{bid}"))
    assert await page.inner_text("#paid") == f"{batch['paid_count']} 笔，{yuan(batch['paid_fen'])} 元"
    assert await page.inner_text("#failed") == f"{batch['failed_count']} 笔，{yuan(batch['failed_fen'])} 元"
    return batch


async def test_the_finance_office_year_in_a_browser(live, desk, artifacts):
    page = desk
    await set_today(live, "2026-01-10")
    await sign_in(page, "caizheng")
    pid = await open_programme(page, artifacts)
    await upload_cross_check_list(page, artifacts)
    await reviewed_and_noticed(live, pid)
    await set_today(live, "2026-01-18")
    await grant(live, page, artifacts, pid)
    bid = await build_batch(live, page, artifacts, pid)
    await approve(live, page, artifacts, bid, "approved")
    batch = await pay(live, page, artifacts, bid, {1}, "returned")
    assert (batch["paid_fen"], batch["failed_fen"]) == (30_000, 30_000)
    assert "账户已销户" in await page.inner_text("#failures")
    failed = next(line for line in batch["lines"] if line["status"] == "failed")

    await as_user(page, "cunwei")
    household = await ok(await live.as_("cunwei", "GET", f"/households/{failed['household_id']}"))
    await page.click("nav.main a:has-text('农户档案')")
    await page.fill("#q-find", household["household_no"])
    await submit(page, "筛选")
    found = await look(page, artifacts, "households-found")
    assert household["household_no"] in found and household["bank_account"] in found
    async with page.expect_navigation():
        await page.click(f"a:has-text('{household['household_no']}')")
    await fill(page, {"bank_name": "甘肃省农村信用社", "bank_account": NEW_CARD})
    await submit(page, "更正银行卡")
    assert "银行卡已更正" in await look(page, artifacts, "card-corrected")
    assert await page.inner_text("#card") == "6217 **** **** 0123"

    await as_user(page, "caizheng")
    await page.goto(f"/console/payment-batches/{bid}")
    await submit(page, "重新发放（建立新批次）")
    assert "批次已建立" in await look(page, artifacts, "reissued")
    again = page.url.split("/console/payment-batches/")[1].split("?")[0]
    await approve(live, page, artifacts, again, "reissue-approved")
    batch = await pay(live, page, artifacts, again, set(), "reissue-paid")
    assert (batch["paid_fen"], batch["failed_fen"], batch["status"]) == (30_000, 0, "closed")

    await page.click("nav.main a:has-text('对账')")
    await look(page, artifacts, "reconciliation")
    county = await ok(await live.as_("caizheng", "GET", "/reconciliation", params={"county_code": COUNTY}))
    assert county["ok"] and county["difference_fen"] == 0 == county["ledger_difference_fen"]
    assert await page.inner_text("#county-verdict") == "相符，无差额"
    assert await page.inner_text("#county-difference") == yuan(county["difference_fen"])
    assert await page.inner_text("#county-ledger-difference") == yuan(county["ledger_difference_fen"])
    await page.goto(f"/console/payment-batches/{bid}")
    assert await page.inner_text("#verdict") == "相符，无差额"
