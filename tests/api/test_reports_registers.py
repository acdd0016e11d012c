"""Registers by level (户有卡、村有册、乡镇有簿、县有档), the county's year report with its charts,
the printable notice, and a company's 利润分配方案, 股东名册 and 股权证, through the API.

The year is test_statements' seeded one (a cooperative's distribution, a potato settlement
reversed and settled again, an exit award, one refund paid), plus one payable the bank returned.
"""

from __future__ import annotations

import io

import openpyxl
import pypdf

from tests.api.test_distribution_workflow import _company, _founded, set_today
from tests.api.test_reports import ok, pdf_text, post_year
from tests.api.test_statements import COUNTY, A, B, seed_household_year
from tests.conftest import FULL_ID
from tests.requirements import require_cjk_font

TOWNSHIP, VILLAGE = "621223100000", "621223100201"


async def fail_one(api, household_no: str) -> str:
    """B's dividend sent to the bank and returned failed: back to unpaid, with the bank's reason."""
    conn = await api.connect()
    try:
        pid = await conn.fetchval(
            "SELECT p.id::text FROM payables p JOIN households h ON h.id = p.household_id "
            "WHERE h.household_no = $1 AND p.source_ref LIKE '%:capital'",
            household_no,
        )
    finally:
        await conn.close()
    await set_today(api, "2026-02-12")
    batch = await ok(
        await api.as_("caizheng", "POST", "/payment-batches", json={"county_code": COUNTY, "payable_ids": [pid]})
    )
    await ok(await api.as_("caizheng2", "POST", f"/payment-batches/{batch['id']}/approve"))
    await api.as_("caizheng", "GET", f"/payment-batches/{batch['id']}/bank-file", params={"profile": "csv"})
    csv = f"流水号,金额,状态,失败原因\r\n{pid},32400.00,失败,账户已销户\r\n"
    await ok(
        await api.as_(
            "caizheng",
            "POST",
            f"/payment-batches/{batch['id']}/returns",
            files={"file": ("return.csv", csv.encode(), "text/csv")},
        )
    )
    return pid


async def payables_sum(api, sql: str, *args) -> int:
    conn = await api.connect()
    try:
        return int(await conn.fetchval(sql, *args) or 0)
    finally:
        await conn.close()


async def test_registers_by_level_agree_with_the_payables_and_the_ledger(api):
    seeded = await seed_household_year(api)
    await fail_one(api, B)
    totals = {}
    for code, level, user in (
        (VILLAGE, "village", "cunwei"),
        (TOWNSHIP, "township", "xiangzhen"),
        (COUNTY, "county", "caizheng"),
    ):
        r = await ok(await api.as_(user, "GET", f"/regions/{code}/register", params={"year": 2025}))
        assert r["level"] == level and r["agrees_with_ledger"], r["checks"]
        assert all(c["agrees"] for c in r["checks"])
        totals[level] = r["total"]
        # The rows add up to the total.
        for name in ("owed_fen", "paid_fen", "unpaid_fen", "failed_fen", "in_batch_fen", "awards_fen", "capital_fen"):
            assert sum(row["figures"][name] for row in r["rows"]) == r["total"][name], (level, name)
    # Every household with money this year lives in one village: the three levels carry the same money.
    money = [{k: v for k, v in t.items() if k not in ("households", "people")} for t in totals.values()]
    assert money[0] == money[1] == money[2]
    assert totals["village"]["households"] < totals["township"]["households"] <= totals["county"]["households"]
    t = totals["county"]
    # The year's payables of the county's households, not cancelled: the register's total to the fen.
    owed = await payables_sum(
        api, "SELECT sum(amount_fen) FROM payables WHERE county_code = $1 AND status <> 'cancelled'", COUNTY
    )
    paid = await payables_sum(
        api, "SELECT sum(amount_fen) FROM payables WHERE county_code = $1 AND status = 'paid'", COUNTY
    )
    failed = await payables_sum(
        api,
        "SELECT sum(amount_fen) FROM payables WHERE status = 'unpaid' AND failure_reason IS NOT NULL AND county_code = $1",
        COUNTY,
    )
    assert t["owed_fen"] == owed and t["paid_fen"] == paid == 12_600_000 and t["failed_fen"] == failed == 3_240_000
    assert t["owed_fen"] == 36_000_000 + 150_000 + 30_000
    assert t["income_by_kind"] == {
        "财产性收入": 10_800_000,
        "生产经营性收入": 25_200_000 + 150_000,
        "转移性收入": 30_000,
    }
    assert t["awards"] == 1 and t["awards_fen"] == 30_000
    assert t["paid_fen"] + t["in_batch_fen"] + t["unpaid_fen"] + t["failed_fen"] == t["owed_fen"]

    village = await ok(await api.as_("cunwei", "GET", f"/regions/{VILLAGE}/register", params={"year": 2025}))
    row_a = next(row for row in village["rows"] if row["code"] == A)
    assert row_a["figures"]["owed_fen"] == 12_600_000 + 6_171_429 + 150_000 + 30_000
    assert row_a["figures"]["shares"] == 60_000 and row_a["figures"]["capital_fen"] == 6_000_000
    assert "*" in row_a["id_number_masked"] and not FULL_ID.search(str(village))

    # Scope: a village reviewer sees its village only; an accountant no register at all.
    assert (await api.as_("cunwei", "GET", f"/regions/{COUNTY}/register", params={"year": 2025})).status_code == 404
    assert (await api.as_("kuaiji", "GET", f"/regions/{VILLAGE}/register", params={"year": 2025})).status_code == 403
    r = await api.as_("caizheng", "GET", "/regions/620000000000/register", params={"year": 2025})
    assert r.status_code in (404, 422)

    # xlsx and PDF of the same register.
    x = await api.as_("caizheng", "GET", f"/regions/{COUNTY}/register", params={"year": 2025, "format": "xlsx"})
    rows = [
        tuple(row) for row in openpyxl.load_workbook(io.BytesIO(x.content)).worksheets[0].iter_rows(values_only=True)
    ]
    total_row = next(row for row in rows if row[0] == "合计")
    header = next(row for row in rows if row[0] == "乡镇代码")
    assert round(total_row[header.index("应得合计")] * 100) == t["owed_fen"]
    require_cjk_font()
    text = pdf_text(
        (
            await api.as_("caizheng", "GET", f"/regions/{COUNTY}/register", params={"year": 2025, "format": "pdf"})
        ).content
    )
    assert "县有档" in text and "城关镇" in text and "361,800.00" in text
    assert seeded["household_id"]


async def test_household_card_year_by_year(api):
    seeded = await seed_household_year(api)
    hh = await api.household_login(A)
    card = await ok(await api.client.get(f"/households/{seeded['household_id']}/card", headers=hh))
    (year,) = [y for y in card["years"] if y["year"] == 2025]
    assert year["total_fen"] == 12_600_000 + 6_171_429 + 150_000 + 30_000
    assert year["paid_fen"] == 12_600_000 and year["unpaid_fen"] == 6_171_429 + 150_000 + 30_000
    paid = next(line for line in year["lines"] if line["payment_status"] == "paid")
    assert paid["batch_id"] and paid["paid_on"] == "2026-02-10"
    assert any(line["payment_words"].startswith("已冲销") for line in year["lines"])  # the reversed settlement
    assert year["holdings"][0]["shares"] == 60_000 and year["awards"][0]["serial"] == seeded["serial"]
    assert year["income_per_person_fen"] * card["people"] - year["total_fen"] in range(
        -card["people"], card["people"] + 1
    )
    # Another household cannot read it; the village's reviewer can.
    other = await api.household_login(B)
    assert (await api.client.get(f"/households/{seeded['household_id']}/card", headers=other)).status_code == 404
    assert (
        await api.as_("cunwei", "GET", f"/households/{seeded['household_id']}/card", params={"year": 2025})
    ).status_code == 200
    require_cjk_font()
    pdf = await api.client.get(f"/households/{seeded['household_id']}/card", params={"format": "pdf"}, headers=hh)
    text = pdf_text(pdf.content)
    assert "户有卡" in text and card["head_name"] in text and "财产性收入" in text


async def test_county_year_report_with_charts_in_pdf_and_page(api):
    await seed_household_year(api)
    r = await ok(await api.as_("caizheng", "GET", f"/regions/{COUNTY}/year-report", params={"year": 2025}))
    assert r["register"]["agrees_with_ledger"]
    (program,) = r["programs"]
    assert sum(level["committed_fen"] for level in program["by_level"]) == 30_000
    assert sum(level["budget_fen"] for level in program["by_level"]) == program["budget_fen"]
    assert sum(b["recorded_households"] for b in r["income_bins"]) == r["register"]["total"]["households"]
    assert sum(b["declared_households"] for b in r["income_bins"]) == 1
    page = await api.as_("caizheng", "GET", f"/regions/{COUNTY}/year-report", params={"year": 2025, "format": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("<svg") == 4 and "<script" not in page.text and "各乡镇收入" in page.text
    assert (
        await api.as_("caizheng", "GET", f"/regions/{TOWNSHIP}/year-report", params={"year": 2025})
    ).status_code == 422
    require_cjk_font()
    pdf = await api.as_("caizheng", "GET", f"/regions/{COUNTY}/year-report", params={"year": 2025, "format": "pdf"})
    text = pdf_text(pdf.content)
    for label in (
        "各乡镇收入（元）",
        "奖补资金：各级预算与已承诺（元）",
        "应付款发放情况（元）",
        "农户人均收入分布",
        "城关镇",
        "省级",
    ):
        assert label in text, label
    xlsx = await api.as_("shenji", "GET", f"/regions/{COUNTY}/year-report", params={"year": 2025, "format": "xlsx"})
    names = openpyxl.load_workbook(io.BytesIO(xlsx.content)).sheetnames
    assert "奖补资金" in names and "人均收入分布" in names


async def test_printed_notice_is_masked_with_its_dates_and_a_qr_code(api):
    await set_today(api, "2026-01-10")
    from tests.api.test_distribution_workflow import cooperative_of_design_md

    vid, _ = await cooperative_of_design_md(api)
    plan = await ok(
        await api.as_(
            "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 40_000_000}
        )
    )
    await ok(await api.as_("kuaiji", "POST", f"/distributions/{plan['id']}/submit"))
    approved = await ok(await api.as_("xiangzhen", "POST", f"/distributions/{plan['id']}/approve"))
    nid = approved["notice_id"]
    content = await ok(await api.client.get(f"/notices/{nid}/print", params={"format": "json"}))
    assert len(content["subjects"]) == 3 and content["total_fen"] == 36_000_000
    assert all("*" in s["name_masked"] for s in content["subjects"])
    assert content["public_url"].endswith(f"/p/notices/{nid}") and "审核" in content["issuer"]
    r = await api.client.get(f"/notices/{nid}/print")  # public, as the board is
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    require_cjk_font()
    text = pdf_text(r.content)
    assert (
        "年度分配方案公示" in text
        and "收益分配方案" in text
        and "2026年1月10日 至 2026年1月25日" in text
        and content["public_url"] in text.replace("\n", "")
    )
    assert all(s["name_masked"] in text for s in content["subjects"]) and not FULL_ID.search(text)
    conn = await api.connect()
    try:
        names = [
            r["head_name"]
            for r in await conn.fetch("SELECT head_name FROM households WHERE household_no LIKE '621223100201-00_'")
        ]
    finally:
        await conn.close()
    assert not any(len(name) > 2 and name in text for name in names)
    assert (await api.client.get("/notices/00000000-0000-0000-0000-000000000000/print")).status_code == 404


async def test_company_plan_register_and_certificate(api):
    await set_today(api, "2022-01-05")
    vid = await _company(api, registered_capital_fen=2_000_000, floor_mode="minimum", floor_bp=1000)
    m = await _founded(
        api,
        vid,
        "2022-01-01",
        collective=(1500, 1_500_000),
        ordinary=[("A", "621223100201-011", 300, 300_000), ("B", "621223100201-012", 100, 100_000)],
        poverty=[("P1", "621223100201-013", 100, 100_000), ("P2", "621223100201-014", 50, 20_000)],
    )
    await post_year(api, vid, 2022, 3_800_000)
    plan = await ok(
        await api.as_("kuaiji", "GET", f"/ventures/{vid}/reports/profit-distribution", params={"year": 2022})
    )
    steps = {s["item"]: s for s in plan["steps"]}
    assert plan["title"] == "利润分配方案" and plan["status"] == "posted"
    assert steps["提取法定公积金"]["amount_fen"] == 380_000 and "10,000.00" in steps["提取法定公积金"]["note"]
    assert steps["可供股东分配的利润"]["amount_fen"] == 3_420_000
    assert sum(h["total_fen"] for h in plan["holders"]) == plan["lines_total_fen"] == 3_420_000
    assert all(line["explanation"] for h in plan["holders"] for line in h["lines"])
    register = await ok(await api.as_("shenji", "GET", f"/ventures/{vid}/shareholders", params={"as_of": "2022-12-31"}))
    assert register["total_shares"] == 1_900 and sum(i["share_bp"] for i in register["items"]) in range(9_995, 10_006)
    p1 = next(i for i in register["items"] if i["member_id"] == m["P1"])
    assert p1["share_class"] == "poverty" and p1["certificate_no"]
    cert = await ok(
        await api.as_(
            "kuaiji", "GET", f"/ventures/{vid}/share-certificates/{p1['certificate_no']}", params={"format": "json"}
        )
    )
    assert cert["holder"]["shares"] == 100 and cert["holder"]["capital_fen"] == 100_000
    assert (await api.as_("kuaiji", "GET", f"/ventures/{vid}/share-certificates/NOPE")).status_code == 404
    x = await api.as_(
        "kuaiji", "GET", f"/ventures/{vid}/reports/profit-distribution", params={"year": 2022, "format": "xlsx"}
    )
    assert openpyxl.load_workbook(io.BytesIO(x.content)).sheetnames == ["分配步骤", "每户分配明细"]
    require_cjk_font()
    pdf = await api.as_(
        "kuaiji", "GET", f"/ventures/{vid}/share-certificates/{p1['certificate_no']}", params={"format": "pdf"}
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text
    text = pdf_text(pdf.content)
    assert "股 权 证" in text and p1["certificate_no"] in text and "贫困户股" in text and "壹仟元整" in text
    text = pdf_text(
        (
            await api.as_(
                "kuaiji", "GET", f"/ventures/{vid}/reports/profit-distribution", params={"year": 2022, "format": "pdf"}
            )
        ).content
    )
    assert "利润分配方案" in text and "提取法定公积金" in text and "34,200.00" in text
    text = pdf_text((await api.as_("kuaiji", "GET", f"/ventures/{vid}/shareholders", params={"format": "pdf"})).content)
    assert "股东名册" in text and p1["certificate_no"] in text
    assert pypdf.PdfReader(io.BytesIO(pdf.content)).pages
