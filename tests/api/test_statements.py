"""A household's statement through the API: every source of money, cancelled lines, payment status,
scope, and the PDF carrying the same totals as the JSON.

The seeded year (used by the browser tests too), for household 621223100201-001 (A):
- a cooperative's 2025 distribution (DESIGN.md's worked example): patronage 12,600,000 fen, by
  member account 6,171,429 fen; the patronage refund is paid through a bank batch;
- an enterprise buying A's potatoes under an order-farming contract for 2025: 500 kg at the floor of
  3.00 yuan/kg = 150,000 fen, settled, reversed (cancelled, 已冲销) and settled again;
- a 2025 exit award of 300 yuan (脱贫奖) with its certificate.
"""

from __future__ import annotations

import io
import re

import pypdf

from db import statements as sq
from tests.api.test_distribution_workflow import cooperative_of_design_md, set_today
from tests.conftest import assert_no_full_numbers

COUNTY = "621223000000"
A, B = "621223100201-001", "621223100201-002"
PATRONAGE_A, CAPITAL_A, SETTLEMENT_A, AWARD_A = 12_600_000, 6_171_429, 150_000, 30_000


async def ok(response, status=(200, 201)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), response.text
    return response.json()


async def posted_distribution(api) -> str:
    """The worked example of DESIGN.md, drafted, approved, noticed for 15 days and posted."""
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    did = (
        await ok(
            await api.as_(
                "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 40_000_000}
            )
        )
    )["id"]
    await ok(await api.as_("kuaiji", "POST", f"/distributions/{did}/submit"))
    await ok(await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve"))
    await set_today(api, "2026-01-26")
    await ok(await api.as_("kuaiji", "POST", f"/distributions/{did}/post"))
    return did


async def settle_potatoes(api, household_no: str = A) -> tuple[str, str]:
    """A 2025 potato contract, one delivery, settled, reversed and settled again: (reversed id, live id)."""
    venture = await ok(
        await api.as_(
            "kuaiji",
            "POST",
            "/ventures",
            json={
                "name": "宕昌县薯业有限公司",
                "model": "enterprise",
                "village_code": "621223100201",
                "registered_capital_fen": 50_000_000,
                "record_date_mmdd": "12-31",
                "charter": {},
            },
        )
    )
    vid = venture["id"]
    contract = await ok(
        await api.as_(
            "kuaiji",
            "POST",
            f"/ventures/{vid}/contracts",
            json={
                "household_id": await api.household_id(household_no),
                "crop": "马铃薯",
                "season_year": 2025,
                "contracted_g": 1_000_000,
                "floor_price_fen_per_kg": 300,
                "premium_bp": 0,
            },
        )
    )
    await ok(
        await api.as_(
            "kuaiji",
            "POST",
            f"/contracts/{contract['id']}/purchases",
            json={"bought_on": "2025-10-08", "grade": "一级", "weight_g": 500_000, "market_price_fen_per_kg": 250},
        )
    )
    first = await ok(await api.as_("kuaiji", "POST", f"/ventures/{vid}/settlements", json={"season_year": 2025}))
    (item,) = first["items"]
    assert item["payable_fen"] == SETTLEMENT_A
    await ok(await api.as_("kuaiji", "POST", f"/settlements/{item['id']}/reverse"))
    second = await ok(await api.as_("kuaiji", "POST", f"/ventures/{vid}/settlements", json={"season_year": 2025}))
    return item["id"], second["items"][0]["id"]


async def exit_award(api, household_no: str = A) -> str:
    """A 2025 exit award to the household, through application, two reviews, 公示 and grant: its serial."""
    hid = await api.household_id(household_no)
    await ok(
        await api.as_(
            "cunwei",
            "POST",
            f"/households/{hid}/status-events",
            json={"kind": "exited", "year": 2025, "effective_date": "2025-11-30"},
        )
    )
    program = await ok(
        await api.as_(
            "caizheng",
            "POST",
            "/award-programs",
            json={
                "county_code": COUNTY,
                "kind": "exit",
                "year": 2025,
                "amount_fen": AWARD_A,
                "budget_fen": 3_000_000,
                "cost_shares": {"province_bp": 5000, "city_bp": 2000, "county_bp": 3000},
                "notice_days": 7,
            },
        )
    )
    application = await ok(
        await api.as_(
            "cunwei",
            "POST",
            f"/award-programs/{program['id']}/applications",
            json={"household_id": hid, "declared_income_fen": 520_000},
        )
    )
    assert application["status"] == "pending_village", application
    await ok(
        await api.as_(
            "cunwei",
            "POST",
            f"/applications/{application['id']}/reviews",
            json={"level": "village", "decision": "approve", "reason": "村民代表评议通过"},
        )
    )
    await ok(
        await api.as_(
            "xiangzhen",
            "POST",
            f"/applications/{application['id']}/reviews",
            json={"level": "township", "decision": "approve", "reason": "乡镇审核通过"},
        )
    )
    published = await ok(await api.as_("xiangzhen", "POST", f"/award-programs/{program['id']}/notices"))
    ends_on = published["notice"]["ends_on"]
    await set_today(api, _day_after(ends_on))
    await ok(await api.as_("caizheng", "POST", f"/award-programs/{program['id']}/grants"))
    return (await ok(await api.as_("cunwei", "GET", f"/applications/{application['id']}")))["certificate_serial"]


def _day_after(day: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


async def pay(api, payable_ids: list[str], day: str) -> None:
    """A bank batch for the payables, approved by a second person, returned by the bank as paid."""
    await set_today(api, day)
    batch = await ok(
        await api.as_("caizheng", "POST", "/payment-batches", json={"county_code": COUNTY, "payable_ids": payable_ids})
    )
    await ok(await api.as_("caizheng2", "POST", f"/payment-batches/{batch['id']}/approve"))
    assert (
        await api.as_("caizheng", "GET", f"/payment-batches/{batch['id']}/bank-file", params={"profile": "csv"})
    ).status_code == 200
    amounts = await _amounts(api, payable_ids)
    csv = "流水号,金额,状态\r\n" + "".join(
        f"{p},{amounts[p] // 100}.{amounts[p] % 100:02d},成功\r\n" for p in payable_ids
    )
    await ok(
        await api.as_(
            "caizheng",
            "POST",
            f"/payment-batches/{batch['id']}/returns",
            files={"file": ("return.csv", csv.encode(), "text/csv")},
        )
    )


async def _amounts(api, payable_ids: list[str]) -> dict[str, int]:
    conn = await api.connect()
    try:
        rows = await conn.fetch("SELECT id::text, amount_fen FROM payables WHERE id = ANY($1::uuid[])", payable_ids)
        return {r["id"]: r["amount_fen"] for r in rows}
    finally:
        await conn.close()


async def seed_household_year(api) -> dict:
    """Everything of the module docstring; answers the ids the tests look for."""
    did = await posted_distribution(api)
    reversed_id, settlement_id = await settle_potatoes(api)
    serial = await exit_award(api)
    hid = await api.household_id(A)
    conn = await api.connect()
    try:
        patronage = await conn.fetchval(
            "SELECT id::text FROM payables WHERE household_id = $1 AND source = 'distribution' "
            "AND source_ref LIKE '%:patronage'",
            hid,
        )
    finally:
        await conn.close()
    await pay(api, [patronage], "2026-02-10")
    return {
        "distribution_id": did,
        "settlement_id": settlement_id,
        "reversed_settlement_id": reversed_id,
        "serial": serial,
        "household_id": hid,
        "patronage_payable": patronage,
    }


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


async def test_statement_has_every_source_with_kinds_status_and_totals(api):
    seeded = await seed_household_year(api)
    hh = await api.household_login(A)
    r = await api.client.get(f"/households/{seeded['household_id']}/statement", params={"year": 2025}, headers=hh)
    st = await ok(r, 200)
    assert st["household_id"] == seeded["household_id"] and st["year"] == 2025 and st["years"] == [2025]
    got = sorted((line["kind"], line["amount_fen"], line["payment_status"], line["counted"]) for line in st["lines"])
    assert got == sorted(
        [
            ("patronage", PATRONAGE_A, "paid", True),
            ("dividend", CAPITAL_A, "unpaid", True),
            ("settlement", SETTLEMENT_A, "cancelled", False),
            ("settlement", SETTLEMENT_A, "unpaid", True),
            ("award", AWARD_A, "unpaid", True),
        ]
    )
    by_kind = {(line["kind"], line["counted"]): line for line in st["lines"]}
    assert by_kind[("patronage", True)]["paid_on"] == "2026-02-10"
    assert by_kind[("patronage", True)]["source_id"] == seeded["distribution_id"]
    assert by_kind[("patronage", True)]["source_name"] == "南沿沟养鸡合作社 2025 年度分配"
    assert by_kind[("settlement", True)]["source_id"] == seeded["settlement_id"]
    assert "马铃薯" in by_kind[("settlement", True)]["source_name"]
    assert by_kind[("settlement", False)]["source_id"] == seeded["reversed_settlement_id"]
    assert by_kind[("settlement", False)]["explanation"].endswith("（已冲销，不计入合计）")
    assert by_kind[("award", True)]["certificate_serial"] == seeded["serial"]
    assert by_kind[("award", True)]["income_kind"] == "转移性收入"
    assert all(line["explanation"] for line in st["lines"])
    # The national income kinds of 人均纯收入; the cancelled settlement counts nowhere.
    assert st["totals_by_kind"] == {
        "财产性收入": CAPITAL_A,
        "生产经营性收入": PATRONAGE_A + SETTLEMENT_A,
        "转移性收入": AWARD_A,
    }
    assert st["total_fen"] == CAPITAL_A + PATRONAGE_A + SETTLEMENT_A + AWARD_A
    assert_no_full_numbers(r.text)

    # Nothing of the household's is missing from its statements.
    conn = await api.connect()
    try:
        assert (
            await sq.unplaced_payables(
                conn, COUNTY, await conn.fetchval("SELECT id FROM households WHERE household_no = $1", A)
            )
            == 0
        )
        live = await conn.fetchval(
            "SELECT sum(amount_fen) FROM payables WHERE household_id = $1::uuid AND status <> 'cancelled'",
            seeded["household_id"],
        )
        assert live == st["total_fen"]
    finally:
        await conn.close()

    # Another year is empty, not an error; the default year is the newest with lines.
    empty = await ok(
        await api.client.get(f"/households/{seeded['household_id']}/statement", params={"year": 2024}, headers=hh), 200
    )
    assert empty["lines"] == [] and empty["total_fen"] == 0 and set(empty["totals_by_kind"].values()) == {0}
    default = await ok(await api.client.get(f"/households/{seeded['household_id']}/statement", headers=hh), 200)
    assert default["year"] == 2025 and default["total_fen"] == st["total_fen"]


async def test_pdf_carries_the_same_totals_as_the_json(api):
    seeded = await seed_household_year(api)
    hh = await api.household_login(A)
    url = f"/households/{seeded['household_id']}/statement"
    st = await ok(await api.client.get(url, params={"year": 2025}, headers=hh), 200)
    r = await api.client.get(url, params={"year": 2025}, headers={**hh, "Accept": "application/pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "2025" in disposition
    text = pdf_text(r.content)
    for kind, fen in st["totals_by_kind"].items():
        assert f"{kind}：{yuan(fen)} 元" in text, (kind, text)
    assert f"全年合计：{yuan(st['total_fen'])} 元" in text
    assert_no_full_numbers(text)


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    # Line breaks fall where the layout wraps: compare with all white space as one space.
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


async def test_scope_household_itself_village_and_county_staff(api):
    seeded = await seed_household_year(api)
    url = f"/households/{seeded['household_id']}/statement"
    other = await api.household_login(B)
    # Another household's statement does not exist for this household, in JSON or PDF.
    assert (await api.client.get(url, params={"year": 2025}, headers=other)).status_code == 404
    assert (
        await api.client.get(url, params={"year": 2025}, headers={**other, "Accept": "application/pdf"})
    ).status_code == 404
    for reader in ("cunwei", "xiangzhen", "caizheng", "caizheng2", "shenji", "admin"):
        r = await api.as_(reader, "GET", url, params={"year": 2025})
        assert r.status_code == 200 and r.json()["total_fen"] > 0, (reader, r.text)
    # An accountant keeps its venture's books, not the household's income from everyone else.
    assert (await api.as_("kuaiji", "GET", url, params={"year": 2025})).status_code == 403
    assert (await api.client.get(url, params={"year": 2025})).status_code == 401
    assert (await api.as_("cunwei", "GET", "/households/not-a-uuid/statement")).status_code == 404
    assert (await api.as_("cunwei", "GET", url, params={"year": 1999})).status_code == 422


async def test_staff_outside_the_village_see_nothing(api):
    """A reviewer of another village answers 404 for this household."""
    await posted_distribution(api)
    r = await api.as_(
        "admin",
        "POST",
        "/users",
        json={
            "username": "cunwei4",
            "password": "another-village-pw",
            "role": "village_reviewer",
            "region_code": "621223100204",
        },
    )
    assert r.status_code == 201, r.text
    await api.login("cunwei4", "another-village-pw")
    url = f"/households/{await api.household_id(A)}/statement"
    assert (await api.as_("cunwei", "GET", url, params={"year": 2025})).status_code == 200
    assert (await api.as_("cunwei4", "GET", url, params={"year": 2025})).status_code == 404


def session(token: str) -> dict[str, str]:
    return {"Cookie": f"huinong_household={token}"}


async def test_page_login_cookie_throttling_and_refused_cookies(api):
    """The household pages' own session: the API's token in a strict cookie, the API's throttle."""
    from service.core.auth import issue_token
    from tests.conftest import SECRET_KEY

    r = await api.client.get("/h/statement")
    assert r.status_code == 303 and r.headers["location"] == "/h/login"
    r = await api.client.post("/h/login", data={"household_no": A, "pin": "123456"})
    assert r.status_code == 303 and r.headers["location"] == "/h/statement"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/h" in cookie
    token = r.cookies["huinong_household"]
    api.client.cookies.clear()  # each request below names its cookie itself
    # The cookie holds the very token the API issues: it works as a bearer token too.
    me = await api.household_id(A)
    assert (
        await api.client.get(f"/households/{me}/statement", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
    page = await api.client.get("/h/statement", headers=session(token))
    assert page.status_code == 200 and "我的分红" in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert_no_full_numbers(page.text)

    hid = await api.household_id(A)
    refused = {
        "expired": issue_token(SECRET_KEY, sub=hid, kind="household", ttl_seconds=-1),
        "forged": issue_token(b"x" * 32, sub=hid, kind="household", ttl_seconds=600),
        "staff": (await api.login("cunwei"))["Authorization"].split()[1],
        "garbage": "not-a-token",
    }
    for why, value in refused.items():
        r = await api.client.get("/h/statement", headers=session(value))
        assert r.status_code == 303 and r.headers["location"] == "/h/login", why
        r = await api.client.get("/h/statement.pdf", headers=session(value))
        assert r.status_code == 303, why

    # Wrong PINs: a plain message on the page, then the API's throttle (5 per household number).
    for _ in range(5):
        r = await api.client.post("/h/login", data={"household_no": B, "pin": "999999"})
        assert r.status_code == 401 and "户号或密码不对" in r.text and "set-cookie" not in r.headers
    r = await api.client.post("/h/login", data={"household_no": B, "pin": "123456"})
    assert r.status_code == 429 and "15 分钟后再试" in r.text
    assert (
        await api.client.post("/auth/household-token", json={"household_no": B, "pin": "123456"})
    ).status_code == 429
    r = await api.client.post(
        "/h/login", data={"household_no": A, "pin": "123456"}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403 and "set-cookie" not in r.headers
    r = await api.client.post("/h/login", data={"household_no": "", "pin": ""})
    assert r.status_code == 400 and "请填写户号和密码" in r.text

    r = await api.client.post("/h/logout")
    assert r.status_code == 303 and "Max-Age=0" in r.headers["set-cookie"]
    r = await api.client.post("/h/logout", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "set-cookie" not in r.headers


async def test_public_pages_answer_in_html_and_change_nothing_out_of_time(api):
    """After the notice period an objection form post is refused on the page; odd ids and cursors
    get a plain page, never a JSON problem."""
    did = await posted_distribution(api)
    notice_id = (await ok(await api.as_("kuaiji", "GET", f"/distributions/{did}"), 200))["notice_id"]
    subject = await api.household_id(A)
    r = await api.client.post(
        f"/p/notices/{notice_id}/objections", data={"subject_id": subject, "reason": "迟到的异议"}
    )
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/html")
    assert "只能在公示期内" in r.text and "公示已结束" in r.text
    conn = await api.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM objections") == 0
    finally:
        await conn.close()
    for url in (f"/p/notices/{notice_id}?cursor=%%%", "/p/notices/not-a-notice", "/p/verify/nonsense"):
        r = await api.client.get(url)
        assert r.status_code in (404, 422) and r.headers["content-type"].startswith("text/html"), url
        assert "<script" not in r.text and 'lang="zh-CN"' in r.text
