"""Payables, payment batches, bank files, return imports and reconciliation through the API."""

import asyncio
import io
import uuid

import openpyxl

from tests.conftest import DATA_KEY, assert_no_full_numbers
from tests.payables_factory import make_payables

COUNTY = "621223000000"
VILLAGE = "621223100201"


async def households(api, count, village=VILLAGE):
    conn = await api.connect()
    try:
        rows = await conn.fetch(
            "SELECT id FROM households WHERE village_code = $1 ORDER BY household_no LIMIT $2", village, count
        )
        return [str(r["id"]) for r in rows]
    finally:
        await conn.close()


async def payables_for(api, household_ids, amount_fen, source="award"):
    conn = await api.connect()
    try:
        return await make_payables(conn, COUNTY, household_ids, amount_fen, source)
    finally:
        await conn.close()


async def fetch(api, sql, *args):
    conn = await api.connect()
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def call(api, user, method, url, **kw):
    """A call whose JSON answer is also checked for full ID and card numbers."""
    r = await api.as_(user, method, url, **kw)
    if r.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
        assert_no_full_numbers(r.text)
    return r


async def build(api, user="caizheng", **body):
    return await call(api, user, "POST", "/payment-batches", json={"county_code": COUNTY, **body})


async def approved_batch(api, **body):
    r = await build(api, **body)
    assert r.status_code == 201, r.text
    batch = r.json()
    r = await call(api, "caizheng2", "POST", f"/payment-batches/{batch['id']}/approve")
    assert r.status_code == 200, r.text
    return r.json()


def return_file(bank_file: bytes, outcome=lambda seq: ("成功", "")) -> bytes:
    """The bank's answer to a pipe bank file: each sent line with 状态|失败原因| added."""
    out = []
    for line in bank_file.decode("gb18030").splitlines():
        if line.startswith(("HEAD|", "TAIL|")) or not line:
            continue
        status, reason = outcome(int(line.split("|")[0]))
        out.append(f"{line}{status}|{reason}|")
    return ("\r\n".join(out) + "\r\n").encode("gb18030")


async def import_return(api, batch_id, content, user="caizheng", name="return.txt", headers=None):
    return await call(
        api,
        user,
        "POST",
        f"/payment-batches/{batch_id}/returns",
        files={"file": (name, content, "text/plain")},
        headers=headers or {},
    )


async def bank_file(api, batch_id, profile="pipe", user="caizheng"):
    r = await api.as_(user, "GET", f"/payment-batches/{batch_id}/bank-file", params={"profile": profile})
    assert r.status_code == 200, r.text
    return r.content


async def test_batch_export_return_and_reconcile(api):
    hh = await households(api, 5)
    ids = await payables_for(api, hh, 30_000)
    r = await call(api, "shenji", "GET", "/payables", params={"county_code": COUNTY, "status": "unpaid"})
    assert r.status_code == 200 and {p["id"] for p in r.json()["items"]} == set(ids)
    r = await call(api, "cunwei", "GET", "/payables", params={"county_code": COUNTY})
    assert r.status_code == 403

    r = await build(api, source="award")
    assert r.status_code == 201, r.text
    batch = r.json()
    assert (batch["status"], batch["count"], batch["total_fen"], batch["max_payable_fen"]) == (
        "draft",
        5,
        150_000,
        150_000,
    )
    bid = batch["id"]
    # A draft goes to no bank; the maker cannot approve their own batch.
    r = await api.as_("caizheng", "GET", f"/payment-batches/{bid}/bank-file")
    assert r.status_code == 409
    r = await call(api, "caizheng", "POST", f"/payment-batches/{bid}/approve")
    assert r.status_code == 403
    r = await call(api, "caizheng2", "POST", f"/payment-batches/{bid}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = await call(api, "caizheng2", "POST", f"/payment-batches/{bid}/approve")
    assert r.status_code == 409

    # The bank file: only finance roles, every fetch audited, full numbers only here.
    for user in ("shenji", "cunwei", "xiangzhen", "kuaiji"):
        r = await api.as_(user, "GET", f"/payment-batches/{bid}/bank-file")
        assert r.status_code == 403, (user, r.status_code)
    pipe = await bank_file(api, bid)
    text = pipe.decode("gb18030")
    lines = text.split("\r\n")
    assert lines[0] == f"HEAD|{bid}|5|1500.00|" and lines[6] == "TAIL|5|1500.00|" and lines[7] == ""
    from service.core.crypto import CARD_CONTEXT, DataCipher

    cipher = DataCipher(DATA_KEY)
    first = (await fetch(api, "SELECT bank_account_enc FROM households WHERE id = $1::uuid", hh[0]))[0]
    card = cipher.decrypt(bytes(first[0]), context=CARD_CONTEXT)
    assert f"|{card}|300.00|" in text
    csv_file = await bank_file(api, bid, "csv", user="caizheng2")
    assert csv_file.startswith(b"\xef\xbb\xbf")
    rows = csv_file.decode("utf-8-sig").split("\r\n")
    assert rows[0] == "序号,流水号,姓名,帐号,金额,身份证号" and len(rows) == 7
    assert sum(int(row.split(",")[4].replace(".", "")) for row in rows[1:6]) == 150_000
    sheet = openpyxl.load_workbook(io.BytesIO(await bank_file(api, bid, "xlsx"))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[-1][0] == "合计" and values[-1][2] == "共5笔" and values[-1][4] == "1500.00"
    audited = await fetch(api, "SELECT detail FROM audit_log WHERE action = 'batch.bank_file' AND object_id = $1", bid)
    assert [a["detail"]["profile"] for a in audited] == ["pipe", "csv", "xlsx"]

    # The bank pays 1–3, fails 4; the file also has a line for a 序号 not in the batch and a wrong amount.
    content = return_file(pipe, lambda seq: ("成功", "") if seq <= 3 else ("失败", "户名与帐号不符"))
    rows = content.decode("gb18030").split("\r\n")
    fifth = rows[4]
    rows = (
        rows[:4]
        + ["99|某某|6228000000000000000|1.00|620102199001011234|成功||", fifth.replace("300.00", "300.01")]
        + [""]
    )
    content = "\r\n".join(rows).encode("gb18030")
    r = await import_return(api, bid, content)
    assert r.status_code == 201, r.text
    result = r.json()
    assert (result["paid"], result["failed"], result["unmatched"], result["paid_fen"]) == (3, 1, 2, 90_000)
    assert result["batch_status"] == "approved"
    reasons = {line["seq"]: line.get("reason", "") for line in result["lines"]}
    assert "批次中没有序号 99" in reasons[99] and "金额不符" in reasons[5] and reasons[4] == "户名与帐号不符"

    # The same file again changes nothing.
    before = await fetch(
        api, "SELECT (SELECT count(*) FROM payable_payments) AS p, (SELECT count(*) FROM journal_entries) AS e"
    )
    r = await import_return(api, bid, content)
    again = r.json()
    assert (again["paid"], again["failed"], again["already_paid"], again["already_failed"]) == (0, 0, 3, 1)
    after = await fetch(
        api, "SELECT (SELECT count(*) FROM payable_payments) AS p, (SELECT count(*) FROM journal_entries) AS e"
    )
    assert before == after and after[0]["p"] == 3

    r = await call(api, "shenji", "GET", f"/payment-batches/{bid}/reconciliation")
    rec = r.json()
    assert (rec["sent_fen"], rec["paid_fen"], rec["failed_fen"], rec["pending_fen"]) == (
        150_000,
        90_000,
        30_000,
        30_000,
    )
    assert rec["difference_fen"] == 0 and rec["ledger_fen"] == 90_000 and rec["payments_fen"] == 90_000 and rec["ok"]

    # The last line settles and the batch closes.
    r = await import_return(api, bid, "5|x|6228|300.00|x|成功|\r\n".encode(), name="r2.txt")
    assert r.status_code == 201 and r.json()["unmatched"] == 1 and "后四位" in r.json()["lines"][0]["reason"]
    r = await import_return(api, bid, "5|x|62|300.00|x|成功|\r\n".encode(), name="r2.txt")
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 1  # malformed: nothing changes
    last4 = rows[5].split("|")[2][-4:]
    r = await import_return(api, bid, f"序号,帐号,金额,状态\r\n5,{last4},300.00,成功\r\n".encode(), name="r2.csv")
    assert r.status_code == 201 and r.json()["paid"] == 1 and r.json()["batch_status"] == "closed", r.text
    r = await call(api, "caizheng", "GET", f"/payment-batches/{bid}")
    detail = r.json()
    assert (detail["status"], detail["paid_count"], detail["failed_count"], detail["pending_count"]) == (
        "closed",
        4,
        1,
        0,
    )
    assert [line["status"] for line in detail["lines"]] == ["paid", "paid", "paid", "failed", "paid"]
    # What the batch can still pay: the four it paid; the failed line goes to another batch.
    assert detail["max_payable_fen"] == 120_000 and detail["total_fen"] == 150_000

    # Paid payables: once each, on today's date, Dr payable (party household) / Cr bank.
    paid = await fetch(api, "SELECT id, status, paid_on, batch_id FROM payables WHERE status = 'paid'")
    assert len(paid) == 4 and all(p["batch_id"] is None and p["paid_on"] is not None for p in paid)
    legs = await fetch(
        api,
        """SELECT l.amount_fen, l.party_id, a.code FROM journal_lines l
                               JOIN journal_entries e ON e.id = l.entry_id JOIN accounts a ON a.id = l.account_id
                               WHERE e.source_type = 'bank_return' ORDER BY l.entry_id, l.line_no""",
    )
    assert sum(l["amount_fen"] for l in legs if l["code"] == "award_payable") == 120_000
    assert sum(l["amount_fen"] for l in legs if l["code"] == "treasury") == -120_000
    assert all(l["party_id"] is not None for l in legs)

    # Re-issue: the failed payable is unpaid with the bank's reason; the card is corrected, a new batch pays it.
    failed_id = detail["lines"][3]["payable_id"]
    r = await call(api, "caizheng", "GET", "/payables", params={"county_code": COUNTY, "status": "unpaid"})
    (item,) = r.json()["items"]
    assert item["id"] == failed_id and item["failure_reason"] == "户名与帐号不符"
    household = detail["lines"][3]["household_id"]
    r = await call(
        api,
        "caizheng",
        "PUT",
        f"/households/{household}/bank-account",
        json={"bank_name": "甘肃农信", "bank_account": "6228480402564890018"},
    )
    assert r.status_code == 403
    r = await call(
        api,
        "cunwei",
        "PUT",
        f"/households/{household}/bank-account",
        json={"bank_name": "甘肃农信", "bank_account": "6228480402564890018"},
    )
    assert r.status_code == 200 and r.json()["bank_account"] == "6228 **** **** 0018", r.text
    assert (await fetch(api, "SELECT count(*) FROM audit_log WHERE action = 'household.bank_account'"))[0][0] == 1
    again = await approved_batch(api, payable_ids=[failed_id])
    r = await call(api, "caizheng", "GET", f"/payment-batches/{again['id']}")
    assert r.json()["lines"][0]["bank_account"] == "6228 **** **** 0018"
    assert "|6228480402564890018|" in (await bank_file(api, again["id"])).decode("gb18030")

    r = await call(api, "shenji", "GET", "/reconciliation", params={"county_code": COUNTY})
    rec = r.json()
    assert (rec["sent_count"], rec["paid_fen"], rec["failed_fen"], rec["pending_fen"]) == (6, 120_000, 30_000, 30_000)
    assert rec["difference_fen"] == 0 and rec["ok"]
    r = await api.as_("shenji", "GET", "/ledger/verify")
    assert r.json()["ok"], r.text


async def test_explicit_list_with_a_taken_payable_is_refused_whole(api):
    hh = await households(api, 3)
    p1, p2, p3 = await payables_for(api, hh, 10_000)
    r = await build(api, payable_ids=[p1, p2])
    assert r.status_code == 201
    r = await build(api, payable_ids=[p2, p3])
    assert r.status_code == 409 and p2 in r.json()["detail"], r.text
    assert [p["payable_id"] for p in r.json()["payables"]] == [p2]
    rows = await fetch(api, "SELECT status FROM payables WHERE id = $1::uuid", p3)
    assert rows[0]["status"] == "unpaid"
    assert (await fetch(api, "SELECT count(*) FROM payment_batches"))[0][0] == 1
    r = await build(api, payable_ids=[p3], source="award")
    assert r.status_code == 422
    r = await build(api, source="distribution")
    assert r.status_code == 409 and r.json()["type"].endswith("nothing-to-pay")
    r = await build(api, user="caizheng2", source="award")
    assert r.status_code == 403


async def test_cancel_returns_payables_and_only_drafts(api):
    hh = await households(api, 4)
    await payables_for(api, hh, 20_000)
    r = await build(api, village_code=VILLAGE)
    bid = r.json()["id"]
    r = await call(api, "caizheng2", "POST", f"/payment-batches/{bid}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["max_payable_fen"] == 0  # a cancelled batch pays nothing
    rows = await fetch(api, "SELECT status, batch_id FROM payables")
    assert all(r["status"] == "unpaid" and r["batch_id"] is None for r in rows)
    batch = await approved_batch(api, source="award")
    assert batch["count"] == 4
    r = await call(api, "caizheng", "POST", f"/payment-batches/{batch['id']}/cancel")
    assert r.status_code == 409
    r = await import_return(api, bid, b"1|a|6228000000001234|200.00|x|ok|\r\n")
    assert r.status_code == 409


async def test_no_full_numbers_and_scope(api):
    hh = await households(api, 2)
    await payables_for(api, hh, 5_000)
    batch = await approved_batch(api, source="award")
    for user in ("caizheng", "caizheng2", "shenji"):
        r = await call(api, user, "GET", f"/payment-batches/{batch['id']}")
        assert r.status_code == 200
        r = await call(api, user, "GET", "/payment-batches", params={"county_code": COUNTY})
        assert r.status_code == 200 and len(r.json()["items"]) == 1
    r = await call(api, "cunwei", "GET", f"/payment-batches/{batch['id']}")
    assert r.status_code == 403
    r = await call(api, "caizheng", "GET", f"/payment-batches/{uuid.uuid4()}")
    assert r.status_code == 404
    r = await call(api, "caizheng", "GET", "/payables", params={"county_code": "620102000000"})
    assert r.status_code == 403
    r = await api.as_("caizheng", "GET", f"/payment-batches/{batch['id']}/bank-file", params={"profile": "fax"})
    assert r.status_code == 422


async def test_idempotency_key_replays_a_return_import(api):
    hh = await households(api, 2)
    await payables_for(api, hh, 7_000)
    batch = await approved_batch(api, source="award")
    content = return_file(await bank_file(api, batch["id"]))
    # The retry is the same file under a new multipart boundary: it is still the same request.
    headers = {"Idempotency-Key": "return-import-0001"}
    r1 = await import_return(api, batch["id"], content, headers=headers)
    r2 = await import_return(api, batch["id"], content, headers=headers)
    assert r1.status_code == r2.status_code == 201, r1.text
    assert r2.headers.get("idempotent-replayed") == "true" and r1.json() == r2.json()
    assert r1.json()["paid"] == 2
    assert (await fetch(api, "SELECT count(*) FROM payment_returns"))[0][0] == 1


async def test_two_officers_build_from_overlapping_selections(api):
    r = await api.as_(
        "admin",
        "POST",
        "/users",
        json={"username": "caizheng3", "password": "huinong-demo", "role": "finance_officer", "region_code": COUNTY},
    )
    assert r.status_code == 201, r.text
    for user in ("caizheng", "caizheng3"):
        await api.login(user)  # once, not once per concurrent call
    hh = await households(api, 60) + await households(api, 30, "621223100202")
    ids = await payables_for(api, hh, 1_000) + await payables_for(api, hh, 2_000, source="settlement")
    selections = [
        {"source": "award"},
        {"village_code": VILLAGE},
        {},
        {"source": "settlement"},
        {"payable_ids": ids[:50]},
        {"payable_ids": ids[40:120]},
        {"village_code": "621223100202"},
        {"payable_ids": ids[100:180:3]},
    ]
    calls = [build(api, user=("caizheng", "caizheng3")[n % 2], **selections[n % len(selections)]) for n in range(24)]
    answers = await asyncio.gather(*calls)
    assert {r.status_code for r in answers} <= {201, 409}, [r.text for r in answers if r.status_code not in (201, 409)]
    made = [r.json() for r in answers if r.status_code == 201]
    assert made
    lines = await fetch(api, "SELECT batch_id, payable_id FROM payment_batch_lines")
    assert len(lines) == len({l["payable_id"] for l in lines}), "a payable is in two batches"
    assert sum(b["count"] for b in made) == len(lines)
    in_batch = await fetch(api, "SELECT id, batch_id FROM payables WHERE status = 'in_batch'")
    assert {(p["id"], p["batch_id"]) for p in in_batch} == {(l["payable_id"], l["batch_id"]) for l in lines}
    total = await fetch(api, "SELECT count(*) FROM payables WHERE status IN ('unpaid', 'in_batch')")
    assert total[0][0] == len(ids)


async def test_hundred_concurrent_approvals_and_imports_pay_once(api):
    for user in ("caizheng", "caizheng2"):
        await api.login(user)  # once, not once per concurrent call
    hh = await households(api, 50)
    await payables_for(api, hh, 12_345)
    r = await build(api, source="award")
    bid = r.json()["id"]
    approvals = await asyncio.gather(
        *[api.as_("caizheng2", "POST", f"/payment-batches/{bid}/approve") for _ in range(100)]
    )
    assert sorted(r.status_code for r in approvals) == [200] + [409] * 99
    content = return_file(await bank_file(api, bid))
    imports = await asyncio.gather(
        *[import_return(api, bid, content, user=("caizheng", "caizheng2")[n % 2]) for n in range(100)]
    )
    assert all(r.status_code == 201 for r in imports), [r.text for r in imports if r.status_code != 201][:1]
    results = [r.json() for r in imports]
    assert sorted(r["paid"] for r in results) == [0] * 99 + [50]
    assert all(r["already_paid"] == 50 for r in results if r["paid"] == 0)
    payments = await fetch(api, "SELECT count(*), count(DISTINCT payable_id) FROM payable_payments")
    assert tuple(payments[0]) == (50, 50)
    legs = await fetch(
        api,
        """SELECT count(DISTINCT e.id) AS entries, sum(l.amount_fen) FILTER (WHERE l.amount_fen > 0) AS paid
                               FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
                               WHERE e.source_type = 'bank_return'""",
    )
    assert (legs[0]["entries"], legs[0]["paid"]) == (1, 50 * 12_345)
    r = await api.as_("shenji", "GET", f"/payment-batches/{bid}/reconciliation")
    assert r.json()["ok"] and r.json()["paid_fen"] == 50 * 12_345 and r.json()["difference_fen"] == 0
    r = await api.as_("shenji", "GET", "/ledger/verify")
    assert r.json()["ok"], r.text
