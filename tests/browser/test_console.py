"""The accountant's year in the staff console, in headless Chromium at an office PC's 1366×768 and
a tablet's 768×1024, against a fresh database (a clone of the demo county): a cooperative and a
branch-held company with a `minimum` floor, each set up, kept, distributed, approved by the
township, noticed, posted and read back, every figure on the page checked against the API's.

Screenshots land in test-artifacts/browser/console-*.png.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Error as PlaywrightError

from tests.api.test_distribution_workflow import set_today
from tests.conftest import assert_no_full_numbers

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1366, "height": 768}, "tablet": {"width": 768, "height": 1024}}
VILLAGE = "621223100201"


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


@pytest.fixture(params=list(SIZES))
async def desk(request, chromium, live):
    """A browser window of an office PC or a tablet, reading Chinese, JavaScript off."""
    context = await chromium.new_context(
        viewport=SIZES[request.param],
        has_touch=request.param == "tablet",
        locale="zh-CN",
        java_script_enabled=False,
        accept_downloads=True,
        base_url=str(live.client.base_url),
    )
    page = await context.new_page()
    page.size = request.param
    try:
        yield page
    finally:
        await context.close()


async def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


async def screenshot(page, path: str) -> None:
    """The page's picture, kept for a person to look at; Chromium now and then answers a full-page
    capture with "Unable to capture screenshot" under load, so it is asked once more."""
    try:
        await page.screenshot(path=path, full_page=True)
    except PlaywrightError:
        await page.wait_for_timeout(500)
        await page.screenshot(path=path, full_page=True)


async def look(page, artifacts, name: str) -> str:
    """Screenshot, no full numbers, nothing wider than the window; answers the page's text."""
    await screenshot(page, str(artifacts / f"console-{page.size}-{name}.png"))
    html = await page.content()
    assert_no_full_numbers(html)
    assert 'lang="zh-CN"' in html and "<script" not in html
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[page.size]["width"], f"{name}: page {width}px wide"
    return await page.inner_text("body")


async def sign_in(page, username: str, password: str = "huinong-demo") -> None:
    await page.goto("/console/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    async with page.expect_navigation():
        await page.click("button:has-text('登录')")
    assert page.url.endswith("/console/"), page.url


async def sign_out(page) -> None:
    async with page.expect_navigation():
        await page.click("button:has-text('退出登录')")
    assert "/console/login" in page.url


async def fill(page, fields: dict[str, str], selects: dict[str, str] | None = None) -> None:
    for name, value in fields.items():
        await page.fill(f"#f-{name}", value)
    for name, value in (selects or {}).items():
        await page.select_option(f"#f-{name}", value)


async def submit(page, action_text: str) -> None:
    # A form post navigates: read the page only once the answer has loaded.
    async with page.expect_navigation():
        await page.click(f"button:has-text('{action_text}')")


async def create_venture(page, name: str, model: str, charter: dict[str, str], selects: dict[str, str]) -> str:
    await page.click("text=设立新的经营主体")
    await fill(page, {"name": name, "registered_capital": "1,000,000.00", "record_date": "12-31", **charter})
    await fill(page, {}, {"model": model, "village_code": VILLAGE, **selects})
    await submit(page, "设立")
    assert "经营主体已设立" in await page.inner_text("body")
    return page.url.split("/console/ventures/")[1].split("?")[0]


async def add_members(page, vid: str, members: list[tuple[str, str, str]]) -> None:
    await page.goto(f"/console/ventures/{vid}/members")
    for kind, name, number in members:
        await page.select_option("#f-kind", kind)
        await fill(page, {"name": name, "household_no": number})
        await submit(page, "登记")
        assert "成员已登记" in await page.inner_text("body")


async def move(page, vid: str, kind: str, share_class: str, fields: dict[str, str], who: dict[str, str]) -> str:
    await page.goto(f"/console/ventures/{vid}/movements")
    await page.select_option("#f-kind", kind)
    await page.select_option("#f-share_class", share_class)
    for side, label in who.items():
        await page.select_option(f"#f-{side}", label=label)
    await fill(page, fields)
    async with page.expect_navigation():
        await page.click("#record button:has-text('登记')")
    return await page.inner_text("body")


async def approve_as_township(page, artifacts, plan_id: str) -> str:
    await sign_out(page)
    await sign_in(page, "xiangzhen")
    text = await look(page, artifacts, "approver-home")
    assert "待我审批的年度分配方案（1）" in text
    await page.click(f"a[href='/console/distributions/{plan_id}']")
    await submit(page, "审批通过并公示")
    text = await look(page, artifacts, "approved")
    assert "方案已审批，开始公示" in text and "公示中" in text
    await sign_out(page)
    return text


async def check_plan_against_api(page, live, plan_id: str) -> dict:
    """Every waterfall figure and every holder's line on the page, as the API answers them."""
    plan = await ok(await live.as_("kuaiji", "GET", f"/distributions/{plan_id}"))
    lines = (await ok(await live.as_("kuaiji", "GET", f"/distributions/{plan_id}/lines")))["items"]
    w = plan["waterfall"]
    shown = {
        "w-profit": plan["profit_fen"],
        "w-distributable": w["distributable_fen"],
        "w-lines-total": plan["lines_total_fen"],
    }
    for element, fen in shown.items():
        assert (await page.inner_text(f"#{element}")).strip() == yuan(fen), element
    table = await page.inner_text("section.listing table")
    for line in lines:
        assert yuan(line["amount_fen"]) in table and line["explanation"] in table, line
    assert sum(line["amount_fen"] for line in lines) == plan["lines_total_fen"]
    return plan


async def check_trial_balance(page, live, vid: str, artifacts, name: str) -> list[dict]:
    await page.goto(f"/console/ventures/{vid}/ledger")
    text = await look(page, artifacts, name)
    assert "科目余额表" in text
    accounts = (await ok(await live.as_("kuaiji", "GET", "/ledger/accounts", params={"venture_id": vid})))["items"]
    rows = await page.eval_on_selector_all(
        "section.listing tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    by_code = {r[0]: r for r in rows}
    for a in accounts:
        code, name_, owner, debit, credit, side, balance = by_code[a["code"]]
        assert (name_, debit, credit, balance) == (
            a["name"],
            yuan(a["debit_fen"]),
            yuan(a["credit_fen"]),
            yuan(abs(a["balance_fen"])),
        ), a
        assert side == ("借" if a["balance_fen"] > 0 else "贷" if a["balance_fen"] < 0 else "平")
    assert sum(a["balance_fen"] for a in accounts) == 0
    return accounts


TRADES_HEADER = "member_no,traded_on,product,quantity_g,amount_fen\n"
GOOD_TRADES = (
    TRADES_HEADER + "1,2025-06-01,鸡蛋,500000,5000000\n2,2025-06-01,鸡蛋,300000,3000000\n"
    "3,2025-06-02,鸡蛋,200000,2000000\n,2025-06-02,鸡蛋,1000,9999999\n"
)
BAD_TRADES = TRADES_HEADER + "1,2025-06-01,鸡蛋,500000,5000000\n2,2025-06-01,鸡蛋,300000,三万\n"


async def upload(page, content: str, name: str = "交易表.csv") -> None:
    await page.set_input_files("#f-file", files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}])
    async with page.expect_navigation():
        await page.click("#upload button:has-text('上传')")


async def test_a_cooperatives_year_in_the_console(live, desk, artifacts):
    page = desk
    await set_today(live, "2026-01-10")
    await sign_in(page, "kuaiji")
    await look(page, artifacts, "coop-home")
    vid = await create_venture(
        page,
        "草滩子帽帽鸡养殖合作社",
        "cooperative",
        {"reserve_pct": "10", "discretionary_pct": "0", "patronage_pct": "70", "floor_pct": "0"},
        {"weighting": "record_date", "floor_mode": "none"},
    )
    text = await look(page, artifacts, "coop-venture")
    assert "可分配盈余的 70% 按成员与本社的交易量（额）返还" in text and "按 10% 提取公积金" in text

    await add_members(page, vid, [("household", f"社员{n}", f"{VILLAGE}-00{n}") for n in (1, 2, 3)])
    members = await ok(await live.as_("kuaiji", "GET", f"/ventures/{vid}/members"))
    for n, shares, capital in ((1, "600", "60,000.00"), (2, "300", "30,000.00"), (3, "100", "10,000.00")):
        text = await move(
            page,
            vid,
            "subscribe",
            "ordinary",
            {"shares": shares, "capital_fen": capital, "effective_date": "2025年1月5日"},
            {"to_member_id": f"{n}. 社员{n}"},
        )
        assert "股权变动已登记" in text
    # Redeeming more than a member holds is refused in words, next to the shares.
    text = await move(
        page,
        vid,
        "redeem",
        "ordinary",
        {"shares": "700", "capital_fen": "0", "effective_date": "2025-02-01"},
        {"from_member_id": "1. 社员1"},
    )
    assert "持股不足" in await page.inner_text("#e-shares") and "「普通股」" in text
    await look(page, artifacts, "coop-overdraft")

    await page.goto(f"/console/ventures/{vid}/subsidies")
    await fill(page, {"amount_fen": "30,000.00", "source": "县财政产业扶持资金", "received_on": "2025-03-01"})
    await submit(page, "入账并量化")
    text = await look(page, artifacts, "coop-subsidy")
    assert "平均量化" in text and text.count("10,000.00") >= 3

    await page.goto(f"/console/ventures/{vid}/trades")
    await upload(page, BAD_TRADES)
    text = await look(page, artifacts, "coop-trades-bad-row")
    errors = await page.eval_on_selector_all(
        "table.row-errors tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    # "三万" is not a number of fen: the row and column are named, with the reason (only 0-9).
    assert [e[:2] for e in errors] == [["3", "金额（分）"]] and "0-9" in errors[0][2] and "未导入任何数据" in text
    assert (await ok(await live.as_("kuaiji", "GET", f"/ventures/{vid}/transactions")))["items"] == []
    await upload(page, GOOD_TRADES)
    text = await look(page, artifacts, "coop-trades")
    assert "本次导入 4 笔交易" in text and "50,000.00" in text and "（非成员）" in text

    await page.goto(f"/console/ventures/{vid}/distributions")
    await fill(page, {"fiscal_year": "2025", "profit_fen": "400,000.00"})
    await submit(page, "计算方案草稿")
    plan_id = page.url.split("/console/distributions/")[1].split("?")[0]
    await look(page, artifacts, "coop-draft")
    plan = await check_plan_against_api(page, live, plan_id)
    assert (await page.inner_text("#w-reserve")).strip() == yuan(plan["waterfall"]["reserve_fen"]) == "40,000.00"
    assert (await page.inner_text("#w-patronage")).strip() == "252,000.00"
    assert plan["status"] == "draft"
    await submit(page, "提交乡镇审批")
    assert "待乡镇审批" in await look(page, artifacts, "coop-submitted")

    text = await approve_as_township(page, artifacts, plan_id)
    assert "至 2026年1月25日" in text
    await set_today(live, "2026-01-26")
    await sign_in(page, "kuaiji")
    await page.click(f"a[href='/console/distributions/{plan_id}']")
    await submit(page, "入账")
    assert "已入账" in await look(page, artifacts, "coop-posted")
    assert (await ok(await live.as_("kuaiji", "GET", f"/distributions/{plan_id}")))["status"] == "posted"

    first = members[0]["id"]
    account = await ok(
        await live.as_("kuaiji", "GET", f"/ventures/{vid}/members/{first}/account", params={"year": 2025})
    )
    await page.goto(f"/console/ventures/{vid}/accounts?year=2025")
    await page.click("text=1. 社员1")
    await look(page, artifacts, "coop-member-account")
    for element, key in (
        ("capital", "capital_fen"),
        ("reserve", "reserve_share_fen"),
        ("subsidy", "subsidy_share_fen"),
        ("volume", "transaction_volume_fen"),
    ):
        assert (await page.inner_text(f"#{element}")).strip() == yuan(account[key]), element
    assert account["capital_fen"] == 6_000_000 and account["subsidy_share_fen"] == 1_000_000
    assert account["reserve_share_fen"] == 2_000_000  # 40,000 yuan by deliveries 5:3:2

    accounts = await check_trial_balance(page, live, vid, artifacts, "coop-trial-balance")
    assert {a["code"] for a in accounts} >= {"102", "221", "222", "301", "311", "322"}
    await page.goto(f"/console/ventures/{vid}/journal")
    assert "收到财政补助" in await look(page, artifacts, "coop-journal")


async def test_a_companys_year_with_a_minimum_floor_in_the_console(live, desk, artifacts):
    page = desk
    await set_today(live, "2026-01-10")
    await sign_in(page, "kuaiji")
    vid = await create_venture(
        page,
        "凤凰谷乡村旅游公司",
        "branch_company",
        {"reserve_pct": "10", "discretionary_pct": "0", "patronage_pct": "60", "floor_pct": "10"},
        {"weighting": "record_date", "floor_mode": "minimum"},
    )
    text = await look(page, artifacts, "company-venture")
    assert "补足到这一保底" in text and "10% 提取法定公积金" in text
    await add_members(
        page,
        vid,
        [
            ("collective", "南沿沟村集体", ""),
            ("household", "贫困户一", f"{VILLAGE}-001"),
            ("household", "贫困户二", f"{VILLAGE}-002"),
        ],
    )
    text = await move(
        page,
        vid,
        "subscribe",
        "ordinary",
        {"shares": "100,000", "capital_fen": "1,000,000.00", "effective_date": "2025-01-01"},
        {"to_member_id": "1. 南沿沟村集体"},
    )
    assert "股权变动已登记" in text
    for n, shares, capital in ((2, "10000", "100,000.00"), (3, "5000", "50,000.00")):
        text = await move(
            page,
            vid,
            "allocate",
            "poverty",
            {"shares": shares, "capital_fen": capital, "effective_date": "2025-01-02"},
            {"from_member_id": "1. 南沿沟村集体", "to_member_id": f"{n}. 贫困户{'一' if n == 2 else '二'}"},
        )
        assert "股权变动已登记" in text

    await page.goto(f"/console/ventures/{vid}/register?as_of=2025-12-31")
    text = await look(page, artifacts, "company-register")
    assert "股东名册（2025年12月31日）" in text and "贫困户股" in text and "100,000" in text
    register = await ok(await live.as_("kuaiji", "GET", f"/ventures/{vid}/register", params={"as_of": "2025-12-31"}))
    for item in register["items"]:
        assert item["certificate_no"] in text and yuan(item["capital_fen"]) in text
    await page.click(f"text={register['items'][-1]['certificate_no']}")
    assert "股权证" in await look(page, artifacts, "company-certificate")

    await page.goto(f"/console/ventures/{vid}/distributions")
    await fill(page, {"fiscal_year": "2025", "profit_fen": "100,000.00"})
    await submit(page, "计算方案草稿")
    plan_id = page.url.split("/console/distributions/")[1].split("?")[0]
    text = await look(page, artifacts, "company-draft")
    plan = await check_plan_against_api(page, live, plan_id)
    assert (await page.inner_text("#w-statutory")).strip() == yuan(plan["waterfall"]["statutory_reserve_fen"])
    assert (await page.inner_text("#w-floor")).strip() == yuan(plan["waterfall"]["floor_paid_fen"])
    lines = (await ok(await live.as_("kuaiji", "GET", f"/distributions/{plan_id}/lines")))["items"]
    floors = sorted(line["amount_fen"] for line in lines if line["basis"] == "floor")
    assert floors == [500_000, 1_000_000]  # 10% of 50,000 and of 100,000 yuan: pro rata would give less
    assert "保底收益" in text
    await submit(page, "提交乡镇审批")
    await approve_as_township(page, artifacts, plan_id)
    await set_today(live, "2026-01-21")  # a company's notice is 10 days: 2026-01-10 to 2026-01-20
    await sign_in(page, "kuaiji")
    await page.goto(f"/console/distributions/{plan_id}")
    await submit(page, "入账")
    assert "已入账" in await look(page, artifacts, "company-posted")
    accounts = await check_trial_balance(page, live, vid, artifacts, "company-trial-balance")
    assert {"1002", "2232", "4001", "4104"} <= {a["code"] for a in accounts}
