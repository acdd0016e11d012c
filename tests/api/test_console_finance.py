"""The county finance office in the staff console over HTTP (no browser), and the JSON list of
award programmes: programmes created and followed, cross-check lists uploaded, grants run, payment
batches built, approved by a second person, paid through the bank's return file and reconciled,
and the registry of households; every figure on a page checked against the API's, to the fen.
The whole walk in a browser is tests/browser/test_console_finance.py."""

from __future__ import annotations

import io
import re

import openpyxl

from service.core.identity import check_digit
from service.payments import pages as payment_pages
from tests.api import test_demo
from tests.api.console_client import Console
from tests.api.test_awards import COUNTY, apply, hh_no, make_program, publish, record_exit, review, set_today
from tests.api.test_household_import import VILLAGE, csv_file, household_row
from tests.conftest import assert_no_full_numbers
from tests.payables_factory import make_payables

# The demo year's database and client, as tests/api/test_demo.py builds them.
year_db, demo = test_demo.year_db, test_demo.demo


def yuan(fen: int) -> str:
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


async def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


# ---- GET /award-programs -------------------------------------------------------------------------


async def test_award_programmes_are_listed_newest_first_by_county_year_and_kind(api):
    await set_today(api, "2026-01-10")
    before = await ok(await api.as_("caizheng", "GET", "/award-programs", params={"limit": 500}))
    first = await make_program(api, year=2025, budget_fen=900_000)
    second = await make_program(api, year=2025, kind="xiaokang", amount_fen=50_000, budget_fen=500_000)
    page = await ok(await api.as_("shenji", "GET", "/award-programs", params={"limit": 1}))
    assert [p["id"] for p in page["items"]] == [second] and page["next_cursor"]
    rest = await ok(
        await api.as_("shenji", "GET", "/award-programs", params={"limit": 1, "cursor": page["next_cursor"]})
    )
    assert [p["id"] for p in rest["items"]] == [first]
    exit_only = await ok(await api.as_("cunwei", "GET", "/award-programs", params={"kind": "exit", "year": 2025}))
    ids = [p["id"] for p in exit_only["items"]]
    assert first in ids and second not in ids
    shown = next(p for p in exit_only["items"] if p["id"] == first)
    assert shown == await ok(await api.as_("caizheng", "GET", f"/award-programs/{first}"))
    assert shown["budget_fen"] == 900_000 and shown["by_level"]["province"]["budget_fen"] == 450_000
    everything = await ok(await api.as_("caizheng", "GET", "/award-programs", params={"limit": 500}))
    assert len(everything["items"]) == len(before["items"]) + 2
    # Another county is not the officer's to read; an accountant reads no programme at all.
    r = await api.as_("caizheng", "GET", "/award-programs", params={"county_code": "621224000000"})
    assert r.status_code == 403
    r = await api.as_("kuaiji", "GET", "/award-programs")
    assert r.status_code == 403
    r = await api.as_("caizheng", "GET", "/award-programs", params={"kind": "other"})
    assert r.status_code == 422
    assert shown["county_code"] == COUNTY


# ---- award programmes in the console -------------------------------------------------------------


async def test_a_programme_opened_in_the_console_shows_its_budget_by_level(api):
    await set_today(api, "2026-01-10")
    async with Console(api, "caizheng") as c:
        page = await c.get("/console/award-programs/new")
        assert page.status_code == 200 and "设立奖励项目" in page.text
        bad = {"kind": "exit", "year": "2025", "amount": "300.001", "budget": "9,000.00"}
        bad |= {"province_pct": "50", "city_pct": "30", "county_pct": "30", "notice_days": "3"}
        r = await c.post("/console/award-programs", bad)
        assert r.status_code == 422 and "每户奖励金额应为" in r.text
        r = await c.post("/console/award-programs", bad | {"amount": "300"})
        assert r.status_code == 422 and "合计应为 100%" in r.text
        r = await c.post("/console/award-programs", bad | {"amount": "300", "county_pct": "20"})
        assert r.status_code == 422 and "公示期不得少于7天" in r.text
        good = bad | {"amount": "300.00", "budget": "10,000.01", "county_pct": "20", "notice_days": "7"}
        page = await c.follow(await c.post("/console/award-programs", good))
        assert "奖励项目已设立" in page.text
        pid = page.url.path.rsplit("/", 1)[1]
        shown = await ok(await api.as_("caizheng", "GET", f"/award-programs/{pid}"))
        assert shown["amount_fen"] == 30_000 and shown["budget_fen"] == 1_000_001
        for level in ("province", "city", "county"):
            assert f'<td class="num">{yuan(shown["by_level"][level]["budget_fen"])}</td>' in page.text
        assert "data:image/svg+xml;base64," in page.text
        listing = await c.get("/console/award-programs")
        assert shown["name"] in listing.text and yuan(1_000_001) in listing.text
        sheet = await c.get("/console/award-programs", format="xlsx")
        assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")


# ---- the finance office's year: a programme through grants, a batch through the bank ------------

APPLICANTS = [50, 51, 52]
LISTED_ID = "62122319700101009" + check_digit("62122319700101009")
NEW_CARD = "6217000099990000123"


def bank_answer(bank_file: bytes, failing: set[int], reason: str) -> bytes:
    """The bank's return file for a pipe bank file: 成功, or 失败 with its reason, on each line."""
    out = []
    for line in bank_file.decode("gb18030").splitlines():
        if not line or line.startswith(("HEAD|", "TAIL|")):
            continue
        failed = int(line.split("|")[0]) in failing
        out.append(line + (f"失败|{reason}|" if failed else "成功||"))
    return ("\r\n".join(out) + "\r\n").encode("gb18030")


async def open_programme(c: Console) -> str:
    form = {"kind": "exit", "year": "2025", "amount": "300.00", "budget": "600.00", "notice_days": "7"}
    form |= {"province_pct": "50", "city_pct": "30", "county_pct": "20"}
    page = await c.follow(await c.post("/console/award-programs", form))
    return page.url.path.rsplit("/", 1)[1]


async def reviewed_and_noticed(api, pid: str) -> list[str]:
    """Through the API: three households exit, apply, pass the village and the township; 公示."""
    ids = []
    for n in APPLICANTS:
        await record_exit(api, hh_no(n))
        ids.append((await ok(await apply(api, pid, hh_no(n)), 201))["id"])
    for app_id in ids:
        assert (await ok(await review(api, app_id, "village"), 201))["status"] == "pending_township"
        assert (await ok(await review(api, app_id, "township"), 201))["status"] == "approved"
    await publish(api, pid)
    return ids


async def upload(c: Console, path: str, name: str, content: bytes):
    return await c.post(path, files={"file": (name, content, "application/octet-stream")})


async def test_the_finance_office_grants_pays_and_reconciles_in_the_console(api):
    await set_today(api, "2026-01-10")
    async with Console(api, "caizheng") as c:
        pid = await open_programme(c)
        page = await c.get("/console/cross-check-lists")
        assert "下载比对名单模板" in page.text
        template = await c.get("/console/cross-check-lists/template.xlsx")
        assert template.status_code == 200 and template.content[:2] == b"PK"
        listed = f"身份证号,来源\n{LISTED_ID},车辆\n{LISTED_ID},财政供养\n".encode()
        page = await upload(c, "/console/cross-check-lists/upload", "list.csv", listed)
        assert page.status_code == 200 and "新增 2 条" in page.text and "车辆登记：新增 1 条" in page.text
        assert_no_full_numbers(page.text)
        again = await upload(c, "/console/cross-check-lists/upload", "list.csv", listed)
        assert again.status_code == 409 and "本次未重复导入" in again.text
        assert 'name="new_batch" value="true" checked' in again.text
        files = {"file": ("list.csv", listed, "application/octet-stream")}
        page = await c.post("/console/cross-check-lists/upload", {"new_batch": "true"}, files=files)
        assert page.status_code == 200 and "已在名单上 2 条" in page.text
        bad = await upload(c, "/console/cross-check-lists/upload", "bad.csv", "身份证号,来源\n123,飞机\n".encode())
        assert bad.status_code == 422 and "来源应为" in bad.text

        await reviewed_and_noticed(api, pid)
        await set_today(api, "2026-01-18")
        page = await c.post(f"/console/award-programs/{pid}/grants")
        program = await ok(await api.as_("caizheng", "GET", f"/award-programs/{pid}"))
        assert program["committed_fen"] == 60_000 and program["remaining_fen"] == 0
        assert "2 户，600.00 元" in page.text and '<dd class="num" id="run-over">1 户</dd>' in page.text
        for level in ("province", "city", "county"):
            figures = program["by_level"][level]
            assert f'<td class="num">{yuan(figures["committed_fen"])}</td>' in page.text
        assert program["counts"] == {"granted": 2, "over_budget": 1}
        assert "预算不足：剩余 0.00 元" in page.text
        # Granted is not paid: the page says what was approved and that the bank has still to pay it.
        assert "累计已批准发放" in page.text and "已发放" not in page.text
        assert "还没有打到农户的银行卡上" in page.text and f"program_id={pid}" in page.text
        granted = await ok(
            await api.as_("caizheng", "GET", f"/award-programs/{pid}/applications", params={"status": "granted"})
        )
        application = await c.get(f"/console/applications/{granted['items'][0]['id']}")
        assert "已批准发放" in application.text and "300.00 元，待发放" in application.text
        assert "已发放" not in application.text

        unpaid = await ok(
            await api.as_(
                "caizheng", "GET", "/payables", params={"county_code": COUNTY, "program_id": pid, "status": "unpaid"}
            )
        )
        assert sorted(p["amount_fen"] for p in unpaid["items"]) == [30_000, 30_000]
        page = await c.get("/console/payables", status="unpaid", program_id=pid)
        assert page.text.count('name="payable_id"') == 2
        picked = [p["id"] for p in unpaid["items"]]
        r = await c.client.post("/console/payment-batches", data={"csrf": c.csrf, "payable_id": picked})
        page = await c.follow(r)
        assert "批次已建立" in page.text
        bid = page.url.path.rsplit("/", 1)[1]
        r = await c.post(f"/console/payment-batches/{bid}/approve")
        assert r.status_code == 403 and "建立批次的人不能审批自己的批次" in r.text
        assert (await ok(await api.as_("caizheng", "GET", f"/payment-batches/{bid}")))["status"] == "draft"

    async with Console(api, "caizheng2") as checker:
        await checker.get(f"/console/payment-batches/{bid}")
        page = await checker.follow(await checker.post(f"/console/payment-batches/{bid}/approve"))
        assert "批次已审批" in page.text and "caizheng2" in page.text

    async with Console(api, "caizheng") as c:
        await c.get(f"/console/payment-batches/{bid}")
        for profile in ("csv", "xlsx"):
            assert (await c.get(f"/console/payment-batches/{bid}/bank-file", profile=profile)).status_code == 200
        sent = await c.get(f"/console/payment-batches/{bid}/bank-file", profile="pipe")
        assert sent.status_code == 200 and sent.content.decode("gb18030").startswith("HEAD|")
        page = await upload(
            c, f"/console/payment-batches/{bid}/returns", "return.txt", bank_answer(sent.content, {1}, "账户已销户")
        )
        assert page.status_code == 200, page.text
        batch = await ok(await api.as_("caizheng", "GET", f"/payment-batches/{bid}"))
        assert (batch["paid_fen"], batch["failed_fen"], batch["pending_fen"]) == (30_000, 30_000, 0)
        assert "成功 1 笔 300.00 元，失败 1 笔 300.00 元" in page.text and "账户已销户" in page.text
        assert_no_full_numbers(page.text)
        failed_line = next(line for line in batch["lines"] if line["status"] == "failed")

    async with Console(api, "cunwei") as registrar:
        path = f"/console/households/{failed_line['household_id']}"
        page = await registrar.get(path)
        assert "更正银行卡" in page.text
        r = await registrar.post(f"{path}/bank-account", {"bank_name": "甘肃省农村信用社", "bank_account": "12"})
        assert r.status_code == 422 and "12至19位" in r.text
        page = await registrar.follow(
            await registrar.post(f"{path}/bank-account", {"bank_name": "甘肃省农村信用社", "bank_account": NEW_CARD})
        )
        assert "银行卡已更正" in page.text and "6217 **** **** 0123" in page.text
        assert "2025 年（户有卡）" in page.text and "证书编号 TP-621223-2025-" in page.text
        assert_no_full_numbers(page.text)

    async with Console(api, "caizheng") as c:
        await c.get(f"/console/payment-batches/{bid}")
        page = await c.follow(await c.post("/console/payment-batches", {"payable_id": failed_line["payable_id"]}))
        again = page.url.path.rsplit("/", 1)[1]
        assert again != bid and "300.00 元" in page.text
    sent = await approve_and_send(api, again)
    assert "6217000099990000123" in sent.decode("gb18030")
    async with Console(api, "caizheng") as c:
        await c.get(f"/console/payment-batches/{again}")
        await upload(c, f"/console/payment-batches/{again}/returns", "return.txt", bank_answer(sent, set(), ""))
        county = await ok(await api.as_("caizheng", "GET", "/reconciliation", params={"county_code": COUNTY}))
        page = await c.get("/console/reconciliation")
        assert county["ok"] and county["difference_fen"] == 0 and county["ledger_difference_fen"] == 0
        assert f'id="county-difference">{yuan(0)}</td>' in page.text and "相符，无差额" in page.text
        assert f'<td class="num">{yuan(county["paid_fen"])}</td>' in page.text
        assert_no_full_numbers(page.text)


# ---- the household registry ------------------------------------------------------------------------


async def test_the_registry_pages_find_show_record_and_import_households(api):
    async with Console(api, "caizheng") as c:
        page = await c.get("/console/households", find="621223100201-00")
        assert page.status_code == 200 and "621223100201-001" in page.text and "621223100201-097" not in page.text
        assert "导入农户名册" not in page.text  # the finance office reads the registry; villages keep it
        assert (await c.get("/console/households/import")).status_code == 403
        sheet = await c.get("/console/households", status="poor", format="xlsx")
        assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
        assert_no_full_numbers(page.text)

    hid = await api.household_id(hh_no(60))
    async with Console(api, "cunwei") as c:
        page = await c.get(f"/console/households/{hid}")
        assert "建档立卡" in page.text and 'id="event"' in page.text
        r = await c.post(f"/console/households/{hid}/status-events", {"kind": "exited", "year": "2025"})
        assert r.status_code == 422 and "请填写生效日期" in r.text
        form = {"kind": "exited", "year": "2025", "effective_date": "2025年9月30日"}
        page = await c.follow(await c.post(f"/console/households/{hid}/status-events", form))
        assert "状态已登记" in page.text and "2025年9月30日" in page.text
        household = await ok(await api.as_("cunwei", "GET", f"/households/{hid}"))
        assert household["status"] == "exited" and '<dd id="status">已脱贫</dd>' in page.text

        page = await c.get("/console/households/import")
        assert "下载农户名册模板" in page.text
        assert (await c.get("/console/households/import/template.xlsx")).content[:2] == b"PK"
        good, bad = household_row(7001), household_row(7002, members="多")
        r = await upload(c, "/console/households/import", "名册.csv", csv_file([good, bad]))
        assert r.status_code == 422 and "家庭人口" in r.text and "未登记任何农户" in r.text
        assert_no_full_numbers(r.text)
        page = await c.follow(await upload(c, "/console/households/import", "名册.csv", csv_file([good])))
        assert "农户名册已导入" in page.text and "本次导入 1 户" in page.text
        found = await ok(await api.as_("cunwei", "GET", "/households", params={"village_code": VILLAGE, "limit": 500}))
        assert good["household_no"] in {h["household_no"] for h in found["items"]}


# ---- who may do what in these pages --------------------------------------------------------------


async def test_each_role_reaches_only_its_own_part_of_the_finance_pages(api):
    pid = await make_program(api, budget_fen=90_000)
    form = {"kind": "exit", "year": "2025", "amount": "300", "budget": "900", "notice_days": "7"}
    form |= {"province_pct": "50", "city_pct": "30", "county_pct": "20"}
    count = "SELECT count(*) FROM award_programs"
    conn = await api.connect()
    try:
        before = await conn.fetchval(count)
    finally:
        await conn.close()
    async with Console(api, "caizheng2") as approver:
        page = await approver.get(f"/console/award-programs/{pid}")
        assert page.status_code == 200 and "在预算内发放" not in page.text
        assert (await approver.get("/console/award-programs/new")).status_code == 403
        await approver.get("/console/award-programs")
        assert (await approver.post("/console/award-programs", form)).status_code == 403
        r = await upload(
            approver, "/console/cross-check-lists/upload", "l.csv", f"身份证号,来源\n{LISTED_ID},车辆\n".encode()
        )
        assert r.status_code == 403
        r = await approver.post("/console/payment-batches", {"source": "award"})
        assert r.status_code == 403 and "只有县财政经办人可以建立代发批次" in r.text
    async with Console(api, "shenji") as auditor:
        assert (await auditor.get("/console/reconciliation")).status_code == 200
        batches = await auditor.get("/console/payment-batches")
        assert batches.status_code == 200 and "按来源建立批次" not in batches.text
    async with Console(api, "kuaiji") as accountant:
        for path in (
            "/console/award-programs",
            "/console/payables",
            "/console/households",
            f"/console/award-programs/{pid}",
        ):
            assert (await accountant.get(path)).status_code in (403, 404), path
    async with Console(api, "cunwei") as village:
        assert (await village.get("/console/payables")).status_code == 403
        page = await village.get("/console/households")
        assert "621223100201-001" in page.text and "621223100202-" not in page.text
    conn = await api.connect()
    try:
        assert await conn.fetchval(count) == before
        assert await conn.fetchval("SELECT count(*) FROM cross_check_imports WHERE filename = 'l.csv'") == 0
    finally:
        await conn.close()


async def drafted_batch_of_two(api):
    """Two award payables of 123.45 元 in a batch built in the console: (its id, the batch page)."""
    conn = await api.connect()
    try:
        households = await conn.fetch("SELECT id FROM households ORDER BY household_no LIMIT 2")
        await make_payables(conn, COUNTY, [str(h["id"]) for h in households], 12_345, "award")
    finally:
        await conn.close()
    async with Console(api, "caizheng") as c:
        await c.get("/console/payment-batches")
        page = await c.follow(await c.post("/console/payment-batches", {"source": "award"}))
    return page.url.path.rsplit("/", 1)[1], page


async def test_a_draft_batch_cancelled_frees_its_payables_and_goes_to_no_bank(api):
    bid, page = await drafted_batch_of_two(api)
    async with Console(api, "caizheng") as c:
        await c.get(f"/console/payment-batches/{bid}")
        batch = await ok(await api.as_("caizheng", "GET", f"/payment-batches/{bid}"))
        assert f'id="total">{yuan(batch["total_fen"])} 元' in page.text and batch["total_fen"] == 24_690
        r = await c.get(f"/console/payment-batches/{bid}/bank-file", profile="pipe")
        assert r.status_code == 409 and "只有已审批且未结清的批次可以导出银行文件" in r.text
        page = await c.follow(await c.post(f"/console/payment-batches/{bid}/cancel"))
        assert "批次已撤销" in page.text and "已撤销" in page.text
        ids = {line["payable_id"] for line in batch["lines"]}
        unpaid = await ok(
            await api.as_(
                "caizheng", "GET", "/payables", params={"county_code": COUNTY, "status": "unpaid", "limit": 500}
            )
        )
        assert ids <= {p["id"] for p in unpaid["items"]}


async def approve_and_send(api, bid: str) -> bytes:
    """The batch approved by a second person (caizheng2), then its pipe bank file downloaded."""
    async with Console(api, "caizheng2") as checker:
        await checker.get(f"/console/payment-batches/{bid}")
        await checker.follow(await checker.post(f"/console/payment-batches/{bid}/approve"))
    async with Console(api, "caizheng") as c:
        await c.get(f"/console/payment-batches/{bid}")
        return (await c.get(f"/console/payment-batches/{bid}/bank-file", profile="pipe")).content


async def approved_batch_of_two(api) -> tuple[str, bytes]:
    """drafted_batch_of_two, approved by a second person: (its id, its pipe bank file)."""
    bid, _ = await drafted_batch_of_two(api)
    return bid, await approve_and_send(api, bid)


async def test_a_batch_page_says_what_the_bank_has_still_to_answer_and_warns_before_a_resend(api):
    bid, sent = await approved_batch_of_two(api)
    path = f"/console/payment-batches/{bid}"
    lines = [line for line in bank_answer(sent, {2}, "账户已销户").decode("gb18030").splitlines() if line]
    async with Console(api, "caizheng") as c:
        page = await c.get(path)
        # The identity holds (sent = paid + failed + pending), but nothing is settled yet.
        assert "待回盘 2 笔 246.90 元，银行回盘后才算对平" in page.text
        assert 'accept=".txt,.csv,.xlsx"' in page.text and "能对上本批次的行逐笔入账" in page.text
        assert 'id="resend-warning"' not in page.text
        # A return whose TAIL disagrees is refused in Chinese, naming the TAIL's count.
        bad = ("\r\n".join(lines) + "\r\nTAIL|3|246.90|\r\n").encode("gb18030")
        page = await upload(c, f"{path}/returns", "return.txt", bad)
        assert page.status_code == 422 and "尾行写的是 3 笔，文件中有 2 笔" in page.text and "尾行笔数" in page.text
        # A return of lines that are not this batch's settles nothing, and says so.
        stranger = lines[0].replace(lines[0].split("|")[0], "99", 1)
        page = await upload(c, f"{path}/returns", "return.txt", (stranger + "\r\n").encode("gb18030"))
        assert "没有一行对上本批次，未入账" in page.text
        # The bank answers line 1 only: the file may still be downloaded, with a warning.
        page = await upload(c, f"{path}/returns", "return.txt", (lines[0] + "\r\n").encode("gb18030"))
        assert page.status_code == 200 and 'class="ok"' in page.text
        assert "待回盘 1 笔 123.45 元" in page.text and 'id="resend-warning"' in page.text
        assert "不要再提交银行，以免重复支付" in page.text
        # The same return again settles nothing twice, and is not called a stranger's.
        page = await upload(c, f"{path}/returns", "return.txt", (lines[0] + "\r\n").encode("gb18030"))
        assert "以前已处理的 1 笔（未重复记账）" in page.text and "没有一行对上本批次" not in page.text
        # Line 2 fails; paid again in a batch of its own, its old failure is no longer its reason.
        page = await upload(c, f"{path}/returns", "return.txt", (lines[1] + "\r\n").encode("gb18030"))
        # Every line answered, one of them failed: the batch is not called 已结清 anywhere.
        for shown in (
            await c.get(path),
            await c.get("/console/payment-batches"),
            await c.get("/console/reconciliation"),
        ):
            assert "已全部回盘（失败 1 笔）" in shown.text and "已结清" not in shown.text
        assert "其中失败 1 笔（123.45 元）" in (await c.get(path)).text
        failed = await ok(
            await api.as_("caizheng", "GET", "/payables", params={"county_code": COUNTY, "status": "unpaid"})
        )
        assert "账户已销户" in (await c.get("/console/payables", status="unpaid")).text
        page = await c.follow(await c.post("/console/payment-batches", {"payable_id": failed["items"][0]["id"]}))
        again = page.url.path.rsplit("/", 1)[1]
    resent = await approve_and_send(api, again)
    async with Console(api, "caizheng") as c:
        await c.get(f"/console/payment-batches/{again}")
        await upload(c, f"/console/payment-batches/{again}/returns", "r.txt", bank_answer(resent, set(), ""))
        assert "批次已结清：银行已回盘，全部款项付款成功" in (await c.get(f"/console/payment-batches/{again}")).text
        # The first batch still says what stays true of it once its failure is paid elsewhere.
        assert "已全部回盘（失败 1 笔）" in (await c.get(path)).text
        paid = await c.get("/console/payables", status="paid")
        assert "246.90" not in paid.text and "账户已销户" not in paid.text and paid.text.count("123.45") >= 2


async def test_the_county_reconciliation_of_the_demo_year_is_the_apis_to_the_fen(demo):
    """The demo county's whole year (the console crawl, test_console_crawl.py, reaches every finance
    page for both finance logins): the county's reconciliation on the page is the API's, to the fen."""
    for login in ("caizheng", "caizheng2"):
        async with Console(demo, login) as c:
            page = await c.get("/console/reconciliation")
        county = await ok(await demo.as_(login, "GET", "/reconciliation", params={"county_code": COUNTY}))
        assert county["ok"] and county["sent_fen"] > 0
        for key in ("sent_fen", "paid_fen", "failed_fen", "pending_fen", "payments_fen", "ledger_fen"):
            assert f'<td class="num">{yuan(county[key])}</td>' in page.text, key
        assert "相符，无差额" in page.text


async def test_a_batch_longer_than_a_page_downloads_whole_and_lists_failures_past_the_page(api, monkeypatch):
    conn = await api.connect()
    try:
        households = [
            str(h["id"]) for h in await conn.fetch("SELECT id FROM households ORDER BY household_no LIMIT 130")
        ]
        for amount_fen in (101, 102, 103, 104):  # four payables a household: 520 lines
            await make_payables(conn, COUNTY, households, amount_fen, "award")
    finally:
        await conn.close()
    async with Console(api, "caizheng") as c:
        await c.get("/console/payment-batches")
        page = await c.follow(await c.post("/console/payment-batches", {"source": "award"}))
        bid = page.url.path.rsplit("/", 1)[1]
    batch = await ok(await api.as_("caizheng", "GET", f"/payment-batches/{bid}", params={"limit": 1}))
    assert batch["count"] == 520 and batch["total_fen"] == 130 * (101 + 102 + 103 + 104)
    sent = await approve_and_send(api, bid)
    monkeypatch.setattr(payment_pages, "FAILURES_SHOWN", 3)
    async with Console(api, "caizheng") as c:
        path = f"/console/payment-batches/{bid}"
        await upload(c, f"{path}/returns", "r.txt", bank_answer(sent, {2, 505, 510, 515, 520}, "户名不符"))
        page = await c.get(path)
        assert "全批次合计" in page.text and f"{yuan(batch['total_fen'])}" in page.text
        # Failures past the first page of lines are listed to pay again, the rest counted.
        failures = page.text[
            page.text.index('id="failures"') : page.text.index("</section>", page.text.index('id="failures"'))
        ]
        assert [int(s) for s in re.findall(r'<tr><td class="num">(\d+)</td>', failures)] == [2, 505, 510]
        assert "本批次共失败 5 笔，这里列出序号最前的 3 笔" in failures
        download = await c.get(path, format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.content)).worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 1 + 520 + 1 and values[-1][1] == "全批次合计", values[-1]
