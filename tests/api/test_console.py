"""The staff console over HTTP (no browser): its session and CSRF tokens, every page of every
demo login reached by following links from /console/ (no 5xx, no full ID or card number), forms
refused without their token changing nothing, and an accountant never seeing another's venture.
The accountant's whole year in a browser is tests/browser/test_console.py."""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin, urlsplit

import pytest

from service.core.credentials import issue_token
from tests.access import add_user, demo_staff, unchanged
from tests.api.console_client import CSRF, Console
from tests.api.test_distribution_workflow import cooperative_of_design_md, set_today
from tests.conftest import SECRET_KEY, assert_no_full_numbers

HREF = re.compile(r'href="([^"]+)"')
MAX_PAGES = 400


async def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def branch_company(name: str) -> dict:
    """POST /ventures of a branch company of 南沿沟村 (floors on its poverty shares, a reserve)."""
    return {
        "name": name,
        "model": "branch_company",
        "village_code": "621223100201",
        "registered_capital_fen": 100_000_000,
        "charter": {"floor_mode": "minimum", "floor_bp": 1000, "reserve_bp": 1000},
    }


async def year_in_notice(api) -> tuple[str, list[str], str]:
    """The cooperative of DESIGN.md with its 2025 plan approved and in notice; a company with a
    contract, an advance and a purchase. Answers (cooperative, its members, the plan)."""
    await set_today(api, "2026-01-10")
    vid, members = await cooperative_of_design_md(api)
    body = {"fiscal_year": 2025, "profit_fen": 40_000_000}
    plan = await ok(await api.as_("kuaiji", "POST", f"/ventures/{vid}/distributions", json=body), 201)
    await ok(await api.as_("kuaiji", "POST", f"/distributions/{plan['id']}/submit"))
    await ok(await api.as_("xiangzhen", "POST", f"/distributions/{plan['id']}/approve"))
    cid = (await ok(await api.as_("kuaiji", "POST", "/ventures", json=branch_company("凤凰谷旅游公司")), 201))["id"]
    household = await api.household_id("621223100201-004")
    contract = {
        "household_id": household,
        "crop": "当归",
        "season_year": 2025,
        "contracted_g": 1_000_000,
        "floor_price_fen_per_kg": 1200,
    }
    k = await ok(await api.as_("kuaiji", "POST", f"/ventures/{cid}/contracts", json=contract), 201)
    advance = {"amount_fen": 80_000, "given_on": "2025-04-01", "item": "种苗"}
    await ok(await api.as_("kuaiji", "POST", f"/contracts/{k['id']}/advances", json=advance), 201)
    return vid, members, plan["id"]


# ---- the session ---------------------------------------------------------------------------------


async def test_sign_in_keeps_an_http_only_strict_cookie_and_signs_out(api):
    async with Console(api, "kuaiji") as c:
        cookie = next(x for x in c.client.cookies.jar if x.name == "huinong_staff")
        assert cookie.path == "/console" and cookie.has_nonstandard_attr("HttpOnly")
        page = await c.get("/console/")
        assert page.status_code == 200 and "kuaiji（会计）" in page.text
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy and "http" not in policy
        r = await c.post("/console/logout")
        assert r.status_code == 303 and r.headers["location"] == "/console/login?reason=logged-out"
        assert 'huinong_staff=""' in r.headers["set-cookie"] and "SameSite=strict" in r.headers["set-cookie"]
        c.client.cookies.delete("huinong_staff")
        r = await c.get("/console/ventures")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login?reason=signed-out")
        login = await c.get(r.headers["location"])
        assert "请先登录" in login.text


async def test_wrong_password_expired_and_forged_sessions_return_to_the_login_with_a_reason(api):
    async with Console(api, "kuaiji") as c:
        expired = issue_token(SECRET_KEY, sub="00000000-0000-0000-0000-000000000000", kind="user", ttl_seconds=-60)
        c.client.cookies.set("huinong_staff", expired, path="/console")
        r = await c.get("/console/ventures")
        assert r.status_code == 303 and "reason=expired" in r.headers["location"]
        assert "登录已过期" in (await c.get(r.headers["location"])).text
        c.client.cookies.set("huinong_staff", expired[:-3] + "abc", path="/console")
        r = await c.get("/console/")
        assert "reason=invalid" in r.headers["location"] or "reason=expired" in r.headers["location"]
        household = issue_token(SECRET_KEY, sub="x", kind="household", ttl_seconds=600)
        c.client.cookies.set("huinong_staff", household, path="/console")
        assert "reason=invalid" in (await c.get("/console/")).headers["location"]

    # A wrong password is refused in words, and the throttle of POST /auth/token applies.
    async with Console(api, "cunwei") as c:
        c.client.cookies.clear()
        for attempt in range(6):
            page = await c.get("/console/login")
            token = CSRF.search(page.text).group(1)
            r = await c.client.post(
                "/console/login", data={"username": "xiangzhen", "password": "wrong", "csrf": token}
            )
            if attempt < 5:
                assert r.status_code == 401 and "用户名或密码错误" in r.text
        assert r.status_code == 429 and "输错次数太多" in r.text
        r = await api.client.post("/auth/token", json={"username": "xiangzhen", "password": "huinong-demo"})
        assert r.status_code == 429
        # The sign-in form itself needs its token.
        r = await c.client.post("/console/login", data={"username": "kuaiji", "password": "huinong-demo"})
        assert r.status_code == 403 and "huinong_staff" not in r.headers.get("set-cookie", "")


async def test_a_session_lasts_as_long_as_a_token(api):
    async with Console(api, "kuaiji") as c:
        cookie = next(x for x in c.client.cookies.jar if x.name == "huinong_staff")
        assert 8 * 3600 - 120 < cookie.expires - time.time() <= 8 * 3600


# ---- CSRF ----------------------------------------------------------------------------------------


async def test_every_form_posted_without_its_token_changes_nothing(api):
    vid, members, plan = await year_in_notice(api)
    async with Console(api, "kuaiji") as c:
        forms = set()
        for path in (
            f"/console/ventures/{vid}",
            f"/console/ventures/{vid}/members",
            f"/console/ventures/{vid}/movements",
            f"/console/ventures/{vid}/subsidies",
            f"/console/ventures/{vid}/trades",
            f"/console/ventures/{vid}/distributions",
            f"/console/distributions/{plan}",
            "/console/ventures/new",
        ):
            page = await c.get(path)
            forms |= set(re.findall(r'<form method="post" action="([^"]+)"', page.text))
        assert len(forms) >= 8, forms
        body = {"kind": "person", "name": "某人", "fiscal_year": "2025", "profit_fen": "1.00", "reason": "x"}
        async with unchanged(api, "a form without its CSRF token"):
            for action in sorted(forms):
                r = await c.post(action, body, csrf=False)
                assert r.status_code == 403 and "未作任何更改" in r.text, action
                r = await c.post(action, {**body, "csrf": "0" * 64}, csrf=False)
                assert r.status_code == 403, action
        # Another site's page posting with a stolen token is refused too.
        r = await c.client.post(
            f"/console/ventures/{vid}/members",
            data={**body, "csrf": c.csrf},
            headers={"Origin": "https://evil.example"},
        )
        assert r.status_code == 403


# ---- scope ---------------------------------------------------------------------------------------


async def test_an_accountant_never_sees_another_accountants_venture(api):
    vid, members, plan = await year_in_notice(api)
    await add_user(api, "kuaiji2", "accountant")
    async with Console(api, "kuaiji2") as other:
        home = await other.get("/console/")
        assert "南沿沟养鸡合作社" not in home.text and "凤凰谷旅游公司" not in home.text
        listing = await other.get("/console/ventures")
        assert "南沿沟养鸡合作社" not in listing.text
        sheet = await other.get("/console/ventures", format="xlsx")
        assert sheet.status_code == 200 and "南沿沟".encode() not in sheet.content
        for path in (
            f"/console/ventures/{vid}",
            f"/console/ventures/{vid}/members",
            f"/console/ventures/{vid}/register",
            f"/console/ventures/{vid}/accounts",
            f"/console/ventures/{vid}/members/{members[0]}",
            f"/console/ventures/{vid}/trades",
            f"/console/ventures/{vid}/ledger",
            f"/console/ventures/{vid}/journal",
            f"/console/distributions/{plan}",
        ):
            r = await other.get(path)
            assert r.status_code == 404 and "不存在或无权查看" in r.text, path
            assert "社员1" not in r.text
        async with unchanged(api, "another accountant's form"):
            r = await other.post(f"/console/ventures/{vid}/members", {"kind": "person", "name": "冒名"})
            assert r.status_code in (403, 404)
            r = await other.post(f"/console/distributions/{plan}/post")
            assert r.status_code in (403, 404)


# ---- every page of every role --------------------------------------------------------------------


def links(page_url: str, html: str) -> set[str]:
    found = set()
    for href in HREF.findall(html.replace("&amp;", "&")):
        url = urljoin(page_url, href)
        parts = urlsplit(url)
        if parts.netloc == urlsplit(page_url).netloc and parts.path.startswith(("/console", "/p/", "/static/")):
            found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


async def crawl(console: Console) -> dict[str, int]:
    """Every page reachable by links from /console/, each fetched once (at most MAX_PAGES)."""
    seen: dict[str, int] = {}
    queue = ["/console/"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        r = await console.client.get(path)
        seen[path] = r.status_code
        assert r.status_code < 500, (path, r.text[-500:])
        kind = r.headers.get("content-type", "")
        if kind.startswith("text/html"):
            assert_no_full_numbers(r.text)
            if path.startswith("/console"):
                queue += sorted(links(str(r.url), r.text) - seen.keys())
        elif "spreadsheetml" in kind:
            assert r.content[:2] == b"PK", path
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("caller", demo_staff(), ids=lambda c: c.login)
async def test_every_console_page_answers_every_demo_login_without_a_server_error(api, caller):
    await year_in_notice(api)
    async with Console(api, caller.login) as console:
        seen = await crawl(console)
    pages = [p for p in seen if p.startswith("/console")]
    assert len(pages) >= 2, seen
    # 409: a report of a year not yet posted (the console's reports page links every year's).
    assert all(status in (200, 303, 403, 404, 409) for status in seen.values()), seen
    if caller.role in ("accountant", "admin"):
        assert any("format=xlsx" in p for p in pages) and any("/distributions/" in p for p in pages)
        assert any("/register" in p for p in pages) and any("/ledger" in p for p in pages)


# ---- the township returns a plan; order farming through the console ------------------------------


def field_errors(html: str) -> list[str]:
    return re.findall(r'class="field-error" id="e-[^"]+">([^<]+)', html)


async def test_the_township_returns_a_plan_with_a_reason_the_accountant_reads(api):
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    async with Console(api, "kuaiji") as c:
        await c.get(f"/console/ventures/{vid}/distributions")
        r = await c.post(f"/console/ventures/{vid}/distributions", {"fiscal_year": "2025", "profit_fen": "四十万"})
        assert r.status_code == 422 and field_errors(r.text) == [
            "税后利润（本年盈余）应为金额（元），最多两位小数，例如 12,345.60"
        ]
        assert (await ok(await api.as_("kuaiji", "GET", f"/ventures/{vid}/distributions")))["items"] == []
        page = await c.follow(
            await c.post(f"/console/ventures/{vid}/distributions", {"fiscal_year": "2025", "profit_fen": "400,000"})
        )
        plan = str(page.url).split("/")[-1].split("?")[0]
        await c.follow(await c.post(f"/console/distributions/{plan}/submit"))
    async with Console(api, "xiangzhen") as t:
        await t.get(f"/console/distributions/{plan}")
        async with unchanged(api, "a return without a reason"):
            r = await t.post(f"/console/distributions/{plan}/return", {"reason": " "})
            assert r.status_code == 422 and "请写明退回的理由" in r.text
        page = await t.follow(await t.post(f"/console/distributions/{plan}/return", {"reason": "交易量与过磅表不符"}))
        assert "方案已退回会计修改" in page.text and "草稿" in page.text
    assert (await ok(await api.as_("kuaiji", "GET", f"/distributions/{plan}")))["status"] == "draft"
    async with Console(api, "kuaiji") as c:
        page = await c.get(f"/console/distributions/{plan}")
        assert "乡镇退回理由：交易量与过磅表不符" in page.text and "提交乡镇审批" in page.text


async def test_order_farming_through_the_console(api):
    await set_today(api, "2025-12-20")
    async with Console(api, "kuaiji") as c:
        await c.get("/console/ventures/new")
        body = {
            "name": "岷归药业",
            "model": "enterprise",
            "village_code": "621223100201",
            "registered_capital": "5,000,000",
            "record_date": "12月31日",
            "weighting": "record_date",
            "reserve_pct": "10",
            "discretionary_pct": "0",
            "patronage_pct": "60",
            "floor_mode": "none",
            "floor_pct": "0",
            "poverty_participates": "1",
        }
        vid = (await c.post("/console/ventures", body)).headers["location"].split("/")[-1].split("?")[0]
        await c.get(f"/console/ventures/{vid}/contracts")
        contract = {
            "household_no": "621223100201-001",
            "crop": "当归",
            "season_year": "2025",
            "contracted_g": "1,000",
            "floor_price_fen_per_kg": "12.00",
            "premium_bp": "5",
        }
        r = await c.post(f"/console/ventures/{vid}/contracts", {**contract, "household_no": "不存在"})
        assert r.status_code == 422 and field_errors(r.text) == ["本县没有户号为 不存在 的农户"]
        page = await c.follow(await c.post(f"/console/ventures/{vid}/contracts", contract))
        assert "订单合同已签订" in page.text and "621223100201-001" in page.text
        (k,) = (await ok(await api.as_("kuaiji", "GET", f"/ventures/{vid}/contracts")))["items"]
        assert (k["contracted_g"], k["floor_price_fen_per_kg"], k["premium_bp"]) == (1_000_000, 1200, 500)

        await c.get(f"/console/contracts/{k['id']}")
        r = await c.post(
            f"/console/contracts/{k['id']}/advances", {"item": "种苗", "amount_fen": "800", "given_on": "2025-04-01"}
        )
        assert "赊销农资已记录" in (await c.follow(r)).text
        r = await c.post(
            f"/console/contracts/{k['id']}/purchases",
            {"bought_on": "2025-10-15", "grade": "一等", "weight_g": "600", "market_price_fen_per_kg": "10.00"},
        )
        assert "收购记录已登记" in (await c.follow(r)).text
        sheet = "contract_id,bought_on,grade,weight_g,market_price_fen_per_kg\n"
        bad = sheet + f"{k['id']},2025-10-20,一等,abc,1000\n"
        r = await c.post(f"/console/ventures/{vid}/purchases/upload", files={"file": ("称重单.csv", bad.encode())})
        assert r.status_code == 422 and '<td class="num">2</td><td>重量（克）</td>' in r.text
        good = sheet + f"{k['id']},2025-10-20,一等,200000,1000\n"
        r = await c.post(f"/console/ventures/{vid}/purchases/upload", files={"file": ("称重单.csv", good.encode())})
        assert "称重单已导入" in (await c.follow(r)).text
        # The same sheet again is refused in words, with the box to tick when it is truly a new batch.
        r = await c.post(f"/console/ventures/{vid}/purchases/upload", files={"file": ("称重单.csv", good.encode())})
        assert r.status_code == 422 and "本次未重复导入" in r.text and "new_batch=true" not in r.text
        assert 'name="new_batch" value="true" checked' in r.text
        again = {"file": ("称重单.csv", good.encode())}
        r = await c.post(f"/console/ventures/{vid}/purchases/upload", {"new_batch": "true"}, files=again)
        assert "称重单已导入" in (await c.follow(r)).text

        await c.get(f"/console/ventures/{vid}/settlements")
        page = await c.follow(await c.post(f"/console/ventures/{vid}/settlements", {"season_year": "2025"}))
        (s,) = (await ok(await api.as_("kuaiji", "GET", f"/ventures/{vid}/settlements", params={"season_year": 2025})))[
            "items"
        ]
        # 1,000 kg (600 by hand, 200 twice by sheet) at the floor of 12.00 (market 10.50 with the
        # premium is below it): 12,000.00; the advance of 800.00 is deducted; 11,200.00 is payable.
        assert (s["gross_fen"], s["advances_deducted_fen"], s["payable_fen"], s["advance_carried_fen"]) == (
            1_200_000,
            80_000,
            1_120_000,
            0,
        )
        for fen in (1_200_000, 80_000, 1_120_000):
            assert f"{fen // 100:,}.{fen % 100:02d}" in page.text
        assert "本季收购已结算" in page.text


async def test_a_plan_objected_to_in_its_notice_cannot_be_posted_and_says_why(api):
    vid, members, plan = await year_in_notice(api)
    notice = (await ok(await api.as_("kuaiji", "GET", f"/distributions/{plan}")))["notice_id"]
    household = await api.household_id("621223100201-001")
    objection = {"subject_id": household, "reason": "我家交的鸡蛋不止这些"}
    await ok(await api.client.post(f"/notices/{notice}/objections", json=objection), 201)
    await set_today(api, "2026-01-26")
    async with Console(api, "kuaiji") as c:
        page = await c.get(f"/console/distributions/{plan}")
        assert "公示期内未处理的异议：1 条" in page.text and "入账</button>" in page.text
        async with unchanged(api, "posting a plan with an open objection"):
            r = await c.post(f"/console/distributions/{plan}/post")
            assert r.status_code == 409 and "条异议尚未处理" in r.text
    async with Console(api, "xiangzhen") as t:
        page = await t.get(f"/console/distributions/{plan}")
        assert "我家交的鸡蛋不止这些" in page.text


# ---- the home's venture rows (rendered once for each content, service/console/pages.py) -----------


def _venture_row(page: str, venture_id: str) -> str:
    return next(row for row in page.split("<tr>") if f"/console/ventures/{venture_id}" in row)


async def test_the_homes_venture_rows_are_escaped_and_follow_a_plan_that_moves(api):
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    hostile = branch_company('<b>"凤凰"&合作</b>')
    hid = (await ok(await api.as_("kuaiji", "POST", "/ventures", json=hostile), 201))["id"]
    async with Console(api, "kuaiji") as c:
        first, again = await c.get("/console/"), await c.get("/console/")
        assert "&lt;b&gt;&#34;凤凰&#34;&amp;合作&lt;/b&gt;" in _venture_row(first.text, hid)
        assert "<b>" not in first.text
        assert _venture_row(again.text, hid) == _venture_row(first.text, hid)
        assert "录入 2025 年度利润，生成分配方案" in _venture_row(first.text, vid)
        body = {"fiscal_year": 2025, "profit_fen": 40_000_000}
        plan = await ok(await api.as_("kuaiji", "POST", f"/ventures/{vid}/distributions", json=body), 201)
        moved = _venture_row((await c.get("/console/")).text, vid)
        assert "核对草稿并提交乡镇审批" in moved and f"/console/distributions/{plan['id']}" in moved
