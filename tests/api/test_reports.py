"""The statutory statements of 财会〔2021〕37号 through the API, on DESIGN.md's cooperative example.

2025: surplus 400,000 yuan entered with its income lines; reserve 10% = 40,000; distributable
360,000; 70% by egg deliveries = 252,000; the remaining 108,000 by member accounts.
2026: 100,000 yuan posted without income lines and with no member trade: the reserve 10,000 is set
aside, 70% of the 90,000 distributable (63,000) has no trade to be returned by and stays
undistributed, the remaining 27,000 goes by member account.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pypdf

from tests.api.test_distribution_workflow import cooperative_of_design_md, set_today
from tests.requirements import require_cjk_font

INCOME_2025 = {
    "operating_income_fen": 100_000_000,  # 1 经营收入 1,000,000 yuan
    "investment_income_fen": 2_000_000,  # 2 投资收益
    "operating_expense_fen": 50_000_000,  # 3 经营支出
    "taxes_fen": 1_000_000,  # 4 税金及附加
    "admin_expense_fen": 6_000_000,  # 5 管理费用
    "finance_expense_fen": 500_000,  # 6 财务费用
    "other_income_fen": 500_000,  # 8 其他收入
    "other_expense_fen": 1_000_000,  # 9 其他支出
    "income_tax_fen": 4_000_000,  # 11 所得税费用
}
# line → 本年金额 of 2025 (fen)
LINES_2025 = {
    1: 100_000_000,
    2: 2_000_000,
    3: 50_000_000,
    4: 1_000_000,
    5: 6_000_000,
    6: 500_000,
    7: 44_500_000,
    8: 500_000,
    9: 1_000_000,
    10: 44_000_000,
    11: 4_000_000,
    12: 40_000_000,
    13: 0,
    14: 0,
    15: 4_000_000,
    16: 36_000_000,
    17: 25_200_000,
    18: 10_800_000,
    19: 0,
    20: 0,
}
LINES_2026 = dict.fromkeys(range(1, 12)) | {
    12: 10_000_000,
    13: 0,
    14: 0,
    15: 1_000_000,
    16: 9_000_000,
    17: 0,
    18: 2_700_000,
    19: 0,
    20: 6_300_000,
}


async def ok(response, status=(200, 201)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), response.text
    return response.json()


async def post_year(api, vid: str, year: int, profit_fen: int, income: dict | None = None) -> dict:
    """Draft (with its income lines when given), submit, approve with 公示, post after the notice."""
    await set_today(api, f"{year + 1}-01-10")
    body = {"fiscal_year": year, "profit_fen": profit_fen} | ({"income_statement": income} if income else {})
    plan = await ok(await api.as_("kuaiji", "POST", f"/ventures/{vid}/distributions", json=body))
    await ok(await api.as_("kuaiji", "POST", f"/distributions/{plan['id']}/submit"))
    approved = await ok(await api.as_("xiangzhen", "POST", f"/distributions/{plan['id']}/approve"))
    await set_today(api, (dt.date.fromisoformat(approved["notice_ends_on"]) + dt.timedelta(days=1)).isoformat())
    return await ok(await api.as_("kuaiji", "POST", f"/distributions/{plan['id']}/post"))


async def ledger_balances(api, vid: str) -> dict[str, int]:
    conn = await api.connect()
    try:
        rows = await conn.fetch(
            """SELECT a.code, coalesce(sum(b.balance_fen), 0) AS balance FROM accounts a
               LEFT JOIN account_balances b ON b.county_code = a.county_code AND b.account_id = a.id
               WHERE a.owner_type = 'venture' AND a.owner_id = $1 GROUP BY a.code""",
            vid,
        )
        return {r["code"]: r["balance"] for r in rows}
    finally:
        await conn.close()


def exact(value) -> Decimal:
    """A number cell read back by openpyxl, as the decimal it stands for."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


async def test_income_lines_must_yield_the_profit_and_are_kept_with_the_plan(api):
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    wrong = INCOME_2025 | {"income_tax_fen": 4_000_001}
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{vid}/distributions",
        json={"fiscal_year": 2025, "profit_fen": 40_000_000, "income_statement": wrong},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "income_statement"
    assert "399999.99" in r.json()["detail"] and "400000.00" in r.json()["detail"]
    conn = await api.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM distributions WHERE venture_id = $1", vid) == 0
    finally:
        await conn.close()
    body = {"fiscal_year": 2025, "profit_fen": 40_000_000, "income_statement": INCOME_2025}
    plan = await ok(await api.as_("kuaiji", "POST", f"/ventures/{vid}/distributions", json=body))
    assert plan["income_statement"] == INCOME_2025
    assert (await ok(await api.as_("shenji", "GET", f"/distributions/{plan['id']}")))["income_statement"] == INCOME_2025
    # A redraft without income lines replaces the figures with the plan.
    again = await ok(
        await api.as_("kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 1})
    )
    assert (await ok(await api.as_("kuaiji", "GET", f"/distributions/{again['id']}")))["income_statement"] is None


async def test_cooperative_statements_line_by_line_against_the_ledger(api):
    vid, members = await cooperative_of_design_md(api)
    await post_year(api, vid, 2025, 40_000_000, INCOME_2025)

    # A year not posted has no statement yet.
    r = await api.as_("kuaiji", "GET", f"/ventures/{vid}/reports/surplus-distribution", params={"year": 2026})
    assert r.status_code == 409 and r.json()["type"].endswith("year-not-posted")

    report = await ok(
        await api.as_("kuaiji", "GET", f"/ventures/{vid}/reports/surplus-distribution", params={"year": 2025})
    )
    assert report["form"] == "会农社02表" and [line["line_no"] for line in report["lines"]] == list(range(1, 21))
    assert {line["line_no"]: line["this_year_fen"] for line in report["lines"]} == LINES_2025
    # Last year (2024) was not posted: its column carries only the balance (0) on 13, 16 and 20.
    assert {line["line_no"]: line["last_year_fen"] for line in report["lines"]} == {
        n: (0 if n in (13, 16, 20) else None) for n in range(1, 21)
    }
    assert report["income_lines_entered"] and all(c["agrees"] for c in report["checks"])
    items = {line["line_no"]: line["item"] for line in report["lines"]}
    assert items[12] == "四、本年盈余" and items[17] == "减：盈余返还" and items[20] == "六、年末未分配盈余"

    await post_year(api, vid, 2026, 10_000_000)
    later = await ok(
        await api.as_("kuaiji", "GET", f"/ventures/{vid}/reports/surplus-distribution", params={"year": 2026})
    )
    assert {line["line_no"]: line["this_year_fen"] for line in later["lines"]} == LINES_2026
    assert {line["line_no"]: line["last_year_fen"] for line in later["lines"]} == LINES_2025
    assert not later["income_lines_entered"] and any("未录入" in note for note in later["notes"])
    books = await ledger_balances(api, vid)
    assert later["lines"][19]["this_year_fen"] == -books["332"] == 6_300_000
    assert all(c["agrees"] for c in later["checks"])

    # 成员权益变动表 of 2026: its closing row is what the ledger holds.
    equity = await ok(await api.as_("shenji", "GET", f"/ventures/{vid}/reports/member-equity", params={"year": 2026}))
    rows = {row["label"]: row for row in equity["rows"]}
    closing = rows["四、年末余额"]["amounts"]
    assert closing == {
        "share_capital": -books["301"],
        "special_fund": -books.get("311", 0),
        "capital_reserve": 0,
        "surplus_reserve": -books["322"],
        "undistributed": -books["332"],
    }
    assert closing["share_capital"] == 10_000_000 and closing["surplus_reserve"] == 5_000_000
    assert rows["四、年末余额"]["total_fen"] == 10_000_000 + 5_000_000 + 6_300_000
    assert rows["一、年初余额"]["amounts"]["surplus_reserve"] == 4_000_000
    assert rows["　　　本年盈余"]["amounts"]["undistributed"] == 10_000_000
    assert rows["三、本年减少数"]["amounts"]["undistributed"] == 1_000_000 + 2_700_000
    assert all(c["agrees"] for c in equity["checks"]), equity["checks"]
    first = await ok(await api.as_("shenji", "GET", f"/ventures/{vid}/reports/member-equity", params={"year": 2025}))
    first_rows = {row["label"]: row for row in first["rows"]}
    assert first_rows["其中：成员增加出资"]["amounts"]["share_capital"] == 10_000_000
    assert first_rows["一、年初余额"]["total_fen"] == 0 and first_rows["四、年末余额"]["total_fen"] == 14_000_000

    # Each member's 成员账户: its closing figures are GET …/account's, year by year.
    for year in (2025, 2026):
        for m in members:
            book = await ok(
                await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{m}/account-book", params={"year": year})
            )
            account = await ok(
                await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{m}/account", params={"year": year})
            )
            c = book["closing"]
            assert (c["capital_fen"], c["reserve_share_fen"], c["subsidy_share_fen"] + c["donation_share_fen"]) == (
                account["capital_fen"],
                account["reserve_share_fen"],
                account["subsidy_share_fen"],
            )
            assert c["transaction_volume_fen"] == account["transaction_volume_fen"]
    a = await ok(
        await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{members[0]}/account-book", params={"year": 2025})
    )
    assert a["closing"]["patronage_fen"] == 12_600_000 and a["closing"]["remaining_fen"] == 6_171_429
    assert a["closing"]["capital_other_fen"] == 6_000_000 and a["closing"]["reserve_share_fen"] == 2_000_000
    assert a["closing"]["trades"] == [{"product": "鸡蛋", "quantity_g": 500_000_000, "amount_fen": 5_000_000}]
    assert [row["summary"] for row in a["rows"]][0].startswith("认购")
    b26 = await ok(
        await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{members[0]}/account-book", params={"year": 2026})
    )
    assert b26["opening"]["reserve_share_fen"] == 2_000_000 and b26["opening"]["capital_other_fen"] == 6_000_000
    all_books = await ok(await api.as_("kuaiji", "GET", f"/ventures/{vid}/account-books", params={"year": 2025}))
    assert sum(b["closing"]["remaining_fen"] for b in all_books["items"]) == 10_800_000
    assert sum(b["closing"]["patronage_fen"] for b in all_books["items"]) == 25_200_000


async def test_statements_as_xlsx_and_pdf(api):
    vid, members = await cooperative_of_design_md(api)
    await post_year(api, vid, 2025, 40_000_000, INCOME_2025)
    url = f"/ventures/{vid}/reports/surplus-distribution"
    r = await api.as_("kuaiji", "GET", url, params={"year": 2025, "format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    header = rows.index(("项目", "行次", "本年金额", "上年金额"))
    lines = rows[header + 1 : header + 21]
    assert [line[1] for line in lines] == list(range(1, 21))
    assert lines[11][0] == "四、本年盈余" and exact(lines[11][2]) == Decimal("400000.00")
    assert {line[1]: exact(line[2]) * 100 for line in lines} == {n: Decimal(v) for n, v in LINES_2025.items()}
    assert rows[0][0] == "盈余及盈余分配表" and any(row[0] == "会农社02表" for row in rows)
    # The file holds the exact decimals of the amounts, not a float's digits.
    xml = zipfile.ZipFile(io.BytesIO(r.content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>445000.00</v>" in xml and "<v>5000.00</v>" in xml
    # Asking by Accept works too.
    r = await api.as_("kuaiji", "GET", url, params={"year": 2025}, headers={"Accept": "application/pdf"})
    assert r.headers["content-type"] == "application/pdf"
    require_cjk_font()
    text = pdf_text(r.content)
    for expected in ("盈余及盈余分配表", "会农社02表", "四、本年盈余", "400,000.00", "252,000.00", "108,000.00"):
        assert expected in text, expected

    equity = await api.as_(
        "kuaiji", "GET", f"/ventures/{vid}/reports/member-equity", params={"year": 2025, "format": "xlsx"}
    )
    rows = [
        tuple(row)
        for row in openpyxl.load_workbook(io.BytesIO(equity.content)).worksheets[0].iter_rows(values_only=True)
    ]
    assert ("项目", "股金", "专项基金", "资本公积", "盈余公积", "未分配盈余", "合计") in rows
    closing = next(row for row in rows if row[0] == "四、年末余额")
    assert exact(closing[1]) == Decimal("100000.00") and exact(closing[6]) == Decimal("140000.00")
    text = pdf_text(
        (
            await api.as_(
                "kuaiji", "GET", f"/ventures/{vid}/reports/member-equity", params={"year": 2025, "format": "pdf"}
            )
        ).content
    )
    assert "成员权益变动表" in text and "会农社03表" in text and "140,000.00" in text

    books = await api.as_("kuaiji", "GET", f"/ventures/{vid}/account-books", params={"year": 2025, "format": "pdf"})
    assert books.status_code == 200
    reader = pypdf.PdfReader(io.BytesIO(books.content))
    text = pdf_text(books.content)
    for n in (1, 2, 3):
        assert f"成员姓名：社员{n}" in text
    assert "第 1 页" in text and "126,000.00" in text and "来源于到户类扶贫项目资产" in text.replace("\n", "")
    assert len(reader.pages) >= 3  # each member on pages of its own
    one = await api.as_(
        "kuaiji", "GET", f"/ventures/{vid}/members/{members[1]}/account-book", params={"year": 2025, "format": "xlsx"}
    )
    rows = [
        tuple(row) for row in openpyxl.load_workbook(io.BytesIO(one.content)).worksheets[0].iter_rows(values_only=True)
    ]
    assert any(row and row[0] and "成员姓名：社员2" in str(row[0]) for row in rows)
    assert any(row[1] == "年初余额" for row in rows)


async def test_reports_are_scoped_like_their_venture(api):
    vid, members = await cooperative_of_design_md(api)
    await post_year(api, vid, 2025, 40_000_000, INCOME_2025)
    url = f"/ventures/{vid}/reports/surplus-distribution"
    for user in ("kuaiji", "shenji", "xiangzhen", "cunwei", "caizheng"):
        assert (await api.as_(user, "GET", url, params={"year": 2025})).status_code == 200, user
    household = await api.household_login("621223100201-001")
    assert (await api.client.get(url, params={"year": 2025}, headers=household)).status_code == 403
    assert (await api.client.get(url, params={"year": 2025})).status_code == 401
    r = await api.as_("kuaiji", "GET", url, params={"year": 2025, "format": "docx"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "format"
    # Another accountant does not see the venture at all.
    await ok(
        await api.as_(
            "admin",
            "POST",
            "/users",
            json={"username": "other-kuaiji", "password": "other-pass-123", "role": "accountant"},
        )
    )
    await api.login("other-kuaiji", "other-pass-123")
    assert (await api.as_("other-kuaiji", "GET", url, params={"year": 2025})).status_code == 404
    book = f"/ventures/{vid}/members/{members[0]}/account-book"
    assert (await api.as_("other-kuaiji", "GET", book, params={"year": 2025})).status_code == 404


def _ids(text: str) -> list[str]:
    return re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
