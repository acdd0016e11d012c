"""What a clerk (or anyone) types into the console's address bar or forms is refused in words or
read safely, never a 500; and a form keeps to the limits the API keeps.

Each case here answered 500 before: a query parameter named path, a superscript digit for a
year or a page, an audit filter of year 1 or 9999-12-31, a programme or member name with a slash
in its xlsx download, and a purchase weighed beyond what the API accepts, saved by the form and
then overflowing the season's settlement. A date typed 2099/1/1 also slipped past the rule that
no recorded date lies in the future.
"""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.api.console_client import Console
from tests.api.test_console import field_errors, year_in_notice
from tests.api.test_distribution_workflow import cooperative_of_design_md


async def test_addresses_typed_by_hand_are_read_safely(api):
    vid, members = await cooperative_of_design_md(api)
    async with Console(api, "kuaiji") as clerk:
        for path, params in (
            ("/console/ventures", {"path": "1"}),
            ("/console/ventures", {"self": "1"}),
            (f"/console/ventures/{vid}/members", {"cursor": "²"}),
            (f"/console/ventures/{vid}/trades", {"year": "²"}),
            (f"/console/ventures/{vid}/accounts", {"year": "2" * 5000}),
            (f"/console/ventures/{vid}/members/{members[0]}", {"year": "²"}),
        ):
            r = await clerk.client.get(path, params=params)  # (Console.get takes path itself)
            assert r.status_code == 200, (path, params, r.status_code, r.text[:300])
    async with Console(api, "caizheng") as office:
        for path, params in (("/console/reports", {"year": "²"}), ("/console/award-programs", {"year": "²"})):
            r = await office.get(path, **params)
            assert r.status_code == 200, (path, params, r.status_code, r.text[:300])
    async with Console(api, "shenji") as auditor:
        for params in ({"to": "9999-12-31"}, {"from": "0001-01-01"}):
            r = await auditor.get("/console/audit", **params)
            assert r.status_code == 422 and "日期应在 2000 年至 2100 年之间" in r.text, (params, r.status_code)


async def test_a_name_with_a_slash_downloads_as_a_sheet(api):
    vid, _ = await cooperative_of_design_md(api)
    r = await api.as_("kuaiji", "POST", f"/ventures/{vid}/members", json={"kind": "person", "name": "张三/李四"})
    assert r.status_code == 201, r.text
    async with Console(api, "caizheng") as office:
        sheet = await office.get(f"/console/reports/account-books/{vid}", year="2025", format="xlsx")
    assert sheet.status_code == 200, sheet.text[:300]
    names = load_workbook(io.BytesIO(sheet.content)).sheetnames
    assert any("张三_李四" in name for name in names), names


async def test_a_purchase_beyond_the_apis_limit_is_refused_by_the_form(api):
    await year_in_notice(api)
    (company,) = [
        v for v in (await api.as_("kuaiji", "GET", "/ventures")).json()["items"] if v["model"] == "branch_company"
    ]
    (contract,) = (await api.as_("kuaiji", "GET", f"/ventures/{company['id']}/contracts")).json()["items"]
    async with Console(api, "kuaiji") as clerk:
        await clerk.get(f"/console/contracts/{contract['id']}")
        weighed = {"bought_on": "2025-10-15", "grade": "一等", "market_price_fen_per_kg": "10.00"}
        # 10 billion kilograms: the form's own reading takes it, the API's limit (10^12 g) does not.
        r = await clerk.post(f"/console/contracts/{contract['id']}/purchases", {**weighed, "weight_g": "10000000000"})
        assert r.status_code == 422 and field_errors(r.text) == ["超出允许的范围，请核对"], r.text[:500]
        # A date written as people write it, in the future, is refused as the ISO one is.
        r = await clerk.post(
            f"/console/contracts/{contract['id']}/purchases", {**weighed, "weight_g": "600", "bought_on": "2099/1/1"}
        )
        assert r.status_code == 422 and "晚于今天" in r.text, r.text[:500]
    listed = (await api.as_("kuaiji", "GET", f"/contracts/{contract['id']}")).json()
    assert listed.get("purchases", []) == []  # nothing recorded
