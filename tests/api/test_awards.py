"""The exit award (脱贫奖) and the 小康 award through the API: eligibility, review, 公示, grants, certificates."""

import asyncio
import io

import asyncpg
import openpyxl
import pypdf
import pytest

from service.core.crypto import ID_CONTEXT, DataCipher
from tests.conftest import DATA_KEY, assert_no_full_numbers

COUNTY = "621223000000"
VILLAGE = "621223100201"
START = "2026-01-10"
AFTER_NOTICE = "2026-01-18"  # a 7-day notice published on START ends 2026-01-17
SHARES = {"province_bp": 5000, "city_bp": 3000, "county_bp": 2000}


def hh_no(n: int, village: str = VILLAGE) -> str:
    return f"{village}-{n:03d}"


async def set_today(api, day: str) -> None:
    r = await api.as_("admin", "PUT", "/admin/clock", json={"today": day})
    assert r.status_code == 200, r.text


async def make_program(api, *, budget_fen=3_000_000, kind="exit", year=2025, amount_fen=30_000, **extra) -> str:
    body = {
        "county_code": COUNTY,
        "kind": kind,
        "year": year,
        "amount_fen": amount_fen,
        "budget_fen": budget_fen,
        "cost_shares": SHARES,
        **extra,
    }
    r = await api.as_("caizheng", "POST", "/award-programs", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def record_exit(api, household_no: str, year: int = 2025) -> None:
    hid = await api.household_id(household_no)
    r = await api.as_(
        "cunwei",
        "POST",
        f"/households/{hid}/status-events",
        json={"kind": "exited", "year": year, "effective_date": f"{year}-09-30"},
    )
    assert r.status_code == 201, r.text


def breakdown_of(income: int, people: int = 2) -> dict:
    """An income breakdown whose per-person figure is exactly `income`."""
    return {
        "wage_fen": income * people,
        "business_net_fen": 0,
        "property_net_fen": 0,
        "transfer_net_fen": 0,
        "people": people,
    }


async def apply(api, pid: str, household_no: str, income: int = 450_000, as_household: bool = False):
    hid = await api.household_id(household_no)
    body = {"household_id": hid, "declared_income_fen": income}
    if as_household:
        body |= {"income_breakdown": breakdown_of(income), "commitment_accepted": True}
        headers = await api.household_login(household_no)
        return await api.client.post(f"/award-programs/{pid}/applications", json=body, headers=headers)
    return await api.as_("cunwei", "POST", f"/award-programs/{pid}/applications", json=body)


async def review(api, app_id: str, level: str, decision: str = "approve", reason: str = "情况属实"):
    user = "cunwei" if level == "village" else "xiangzhen"
    return await api.as_(
        user, "POST", f"/applications/{app_id}/reviews", json={"level": level, "decision": decision, "reason": reason}
    )


async def approved(api, pid: str, numbers: list[int]) -> list[str]:
    """Households exit, apply, and pass both reviews; answers the application ids."""
    ids = []
    for n in numbers:
        await record_exit(api, hh_no(n))
        r = await apply(api, pid, hh_no(n))
        assert r.status_code == 201 and r.json()["status"] == "pending_village", r.text
        ids.append(r.json()["id"])
    for app_id in ids:
        assert (await review(api, app_id, "village")).json()["status"] == "pending_township"
        assert (await review(api, app_id, "township")).json()["status"] == "approved"
    return ids


async def publish(api, pid: str) -> dict:
    r = await api.as_("xiangzhen", "POST", f"/award-programs/{pid}/notices")
    assert r.status_code == 201, r.text
    return r.json()["notice"]


async def ready_to_grant(api, numbers: list[int], **program) -> tuple[str, list[str], dict]:
    await set_today(api, START)
    pid = await make_program(api, **program)
    ids = await approved(api, pid, numbers)
    notice = await publish(api, pid)
    assert notice["starts_on"] == START and notice["ends_on"] == "2026-01-17"
    return pid, ids, notice


async def ledger_ok(api) -> None:
    r = await api.as_("shenji", "GET", "/ledger/verify")
    assert r.status_code == 200 and r.json()["ok"], r.json()


async def test_thousand_concurrent_grants_award_each_household_once(api):
    pid, ids, _ = await ready_to_grant(api, list(range(1, 11)))
    # Still in the notice: nothing is granted.
    r = await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")
    assert r.status_code == 200 and r.json()["granted"] == 0, r.text
    await set_today(api, AFTER_NOTICE)

    headers = await api.login("caizheng")
    responses = await asyncio.gather(
        *[api.client.post(f"/award-programs/{pid}/grants", headers=headers) for _ in range(1000)]
    )
    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["granted"] for r in responses) == 10
    serials = [a["serial"] for r in responses for a in r.json()["awards"]]
    assert len(set(serials)) == 10

    program = (await api.as_("caizheng", "GET", f"/award-programs/{pid}")).json()
    assert program["committed_fen"] == 300_000 and program["remaining_fen"] == 3_000_000 - 300_000
    assert program["counts"] == {"granted": 10}
    # 30,000 fen split 50/30/20 by level.
    assert {k: v["committed_fen"] for k, v in program["by_level"].items()} == {
        "province": 150_000,
        "city": 90_000,
        "county": 60_000,
    }
    assert {k: v["budget_fen"] for k, v in program["by_level"].items()} == {
        "province": 1_500_000,
        "city": 900_000,
        "county": 600_000,
    }

    conn = await api.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM awards WHERE program_id = $1::uuid", pid) == 10
        payables = await conn.fetch(
            "SELECT amount_fen, status FROM payables WHERE source = 'award' AND source_id = $1", pid
        )
        assert [(p["amount_fen"], p["status"]) for p in payables] == [(30_000, "unpaid")] * 10
        balances = dict(
            await conn.fetch(
                """SELECT a.code, b.balance_fen FROM accounts a JOIN account_balances b ON b.account_id = a.id
               WHERE a.owner_type = 'program' AND a.owner_id = $1""",
                pid,
            )
        )
        assert balances == {
            "funding.province": 150_000,
            "funding.city": 90_000,
            "funding.county": 60_000,
            "award_payable": -300_000,
        }
    finally:
        await conn.close()
    for app_id in ids:
        got = (await api.as_("caizheng", "GET", f"/applications/{app_id}")).json()
        assert got["status"] == "granted" and got["certificate_serial"] in serials
    await ledger_ok(api)


async def two_finance_officers(api) -> list[dict[str, str]]:
    """Sign-ins of the demo's finance officer and of a second one of the same county."""
    r = await api.as_(
        "admin",
        "POST",
        "/users",
        json={"username": "caizheng3", "password": "huinong-demo", "role": "finance_officer", "region_code": COUNTY},
    )
    assert r.status_code == 201, r.text
    return [await api.login("caizheng"), await api.login("caizheng3")]


async def test_budget_for_seven_grants_exactly_seven(api):
    pid, ids, _ = await ready_to_grant(api, list(range(1, 11)), budget_fen=210_000 + 29_999)
    await set_today(api, AFTER_NOTICE)
    # Two offices grant at once, some naming single applications, some with Idempotency-Keys.
    offices = await two_finance_officers(api)
    calls = []
    for n in range(200):
        headers = dict(offices[n % 2])
        if n % 5 == 0:
            headers["Idempotency-Key"] = f"grant-run-{n:04d}"
        body = {"application_ids": [ids[n % 10]]} if n % 3 == 0 else None
        calls.append(api.client.post(f"/award-programs/{pid}/grants", headers=headers, json=body))
    responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["granted"] for r in responses) == 7
    assert all(r.json()["committed_fen"] <= 239_999 for r in responses)
    program = (await api.as_("caizheng", "GET", f"/award-programs/{pid}")).json()
    assert program["committed_fen"] == 210_000 and program["remaining_fen"] == 29_999
    assert program["counts"] == {"granted": 7, "over_budget": 3}
    # The first seven to apply are the ones granted.
    statuses = [(await api.as_("caizheng", "GET", f"/applications/{i}")).json()["status"] for i in ids]
    assert statuses.count("granted") == 7 and statuses.count("over_budget") == 3
    # A replayed key answers what it answered first, and grants nothing more.
    first = next(r for n, r in enumerate(responses) if n % 5 == 0)
    again = await api.client.post(
        f"/award-programs/{pid}/grants",
        json={"application_ids": [ids[0]]},
        headers={**offices[0], "Idempotency-Key": "grant-run-0000"},
    )
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert (await api.as_("caizheng", "GET", f"/award-programs/{pid}")).json()["committed_fen"] == 210_000
    await ledger_ok(api)


async def split_household(api, parent: str, number: int, name: str, id_number: str, card: str) -> str:
    """A household split (分户) from `parent`, registered poor since 2016 and exited in 2025."""
    r = await api.as_(
        "cunwei",
        "POST",
        "/households",
        json={
            "household_no": hh_no(number),
            "village_code": VILLAGE,
            "head_name": name,
            "head_id_number": id_number,
            "members": 2,
            "bank_name": "甘肃省农村信用社",
            "bank_account": card,
            "split_from": parent,
        },
    )
    assert r.status_code == 201, r.text
    child = r.json()["id"]
    for kind, year, day in (("registered", 2016, "2016-03-01"), ("exited", 2025, "2025-10-01")):
        r = await api.as_(
            "cunwei",
            "POST",
            f"/households/{child}/status-events",
            json={"kind": kind, "year": year, "effective_date": day},
        )
        assert r.status_code == 201, r.text
    return child


async def test_split_household_cannot_receive_a_second_exit_award(api):
    pid, (first,), _ = await ready_to_grant(api, [1])
    await set_today(api, AFTER_NOTICE)
    assert (await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")).json()["granted"] == 1
    parent = await api.household_id(hh_no(1))

    # 分户: a household split from the one that was awarded.
    child = await split_household(api, parent, 901, "王小明", "62122319900101001X", "6228480012345678901")
    r = await api.as_(
        "cunwei",
        "POST",
        f"/award-programs/{pid}/applications",
        json={"household_id": child, "declared_income_fen": 500_000},
    )
    assert r.status_code == 201 and r.json()["status"] == "rejected", r.text
    checks = {c["name"]: c for c in r.json()["checks"]}
    assert not checks["no_earlier_exit_award"]["passed"] and "分出前的原户" in checks["no_earlier_exit_award"]["detail"]
    assert not checks["split_after_registration"]["passed"]

    # The awarded household itself, in a later programme: refused by the checks ...
    later = await make_program(api, year=2026)
    await api.as_(
        "cunwei",
        "POST",
        f"/households/{parent}/status-events",
        json={"kind": "returned", "year": 2026, "effective_date": "2026-01-05"},
    )
    r = await apply(api, later, hh_no(1))
    assert r.json()["status"] == "rejected"
    # ... and by the database, whatever the code above it does.
    conn = await api.connect()
    try:
        award = await conn.fetchrow("SELECT * FROM awards WHERE household_id = $1::uuid", parent)
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                """INSERT INTO awards (county_code, program_id, application_id, household_id, kind, year, amount_fen,
                       province_fen, city_fen, county_fen, serial, entry_id, payable_id, granted_on, granted_by)
                   VALUES ($1, $2, $3, $4, 'exit', 2026, 30000, 30000, 0, 0, 'TP-621223-2026-999999', $5, $6,
                           DATE '2026-02-01', 'test')""",
                award["county_code"],
                award["program_id"],
                award["application_id"],
                award["household_id"],
                award["entry_id"],
                award["payable_id"],
            )
    finally:
        await conn.close()


async def test_split_pair_in_one_programme_gets_one_award(api):
    await set_today(api, START)
    pid = await make_program(api)
    parent = await api.household_id(hh_no(2))
    child = await split_household(api, parent, 902, "李春花", "621223198805050020", "6228480012345678902")
    (parent_app,) = await approved(api, pid, [2])
    r = await api.as_(
        "cunwei",
        "POST",
        f"/award-programs/{pid}/applications",
        json={"household_id": child, "declared_income_fen": 500_000},
    )
    assert r.json()["status"] == "held", r.text
    child_app = r.json()["id"]
    # Held for a written decision: reviews are refused until the township decides.
    assert (await review(api, child_app, "village")).status_code == 409
    r = await api.as_(
        "xiangzhen", "POST", f"/applications/{child_app}/decisions", json={"release": True, "reason": "分户经核实属实"}
    )
    assert r.status_code == 201 and r.json()["status"] == "pending_village", r.text
    assert r.json()["reviews"][0]["level"] == "hold"
    await review(api, child_app, "village")
    await review(api, child_app, "township")
    await publish(api, pid)
    await set_today(api, AFTER_NOTICE)
    r = await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")
    assert r.json()["granted"] == 1 and r.json()["rejected"] == 1, r.text
    assert (await api.as_("caizheng", "GET", f"/applications/{parent_app}")).json()["status"] == "granted"
    assert (await api.as_("caizheng", "GET", f"/applications/{child_app}")).json()["status"] == "rejected"


async def _plain_id(api, household_no: str) -> str:
    conn = await api.connect()
    try:
        blob = await conn.fetchval("SELECT head_id_enc FROM households WHERE household_no = $1", household_no)
    finally:
        await conn.close()
    return DataCipher(DATA_KEY).decrypt(blob, context=ID_CONTEXT)


async def import_list(api, text: str, user: str = "caizheng", name: str = "list.csv"):
    return await api.as_(
        user, "POST", "/cross-check-lists/import", files={"file": (name, io.BytesIO(text.encode()), "text/csv")}
    )


async def test_cross_check_hit_holds_the_application(api):
    await set_today(api, START)
    pid = await make_program(api)
    hit_id = await _plain_id(api, hh_no(3))
    # A bad row refuses the whole file; nothing is stored.
    r = await import_list(api, f"id_number,source\n{hit_id},vehicle\n123,payroll\n{hit_id},boat\n")
    assert r.status_code == 422 and {e["row"] for e in r.json()["errors"]} == {3, 4}, r.text
    assert "123" not in r.text and hit_id not in r.text
    r = await import_list(api, f"id_number,source\n{hit_id},vehicle\n{hit_id},payroll\n{hit_id},vehicle\n")
    assert r.status_code == 201 and r.json()["added"] == 2, r.text
    assert (await import_list(api, "id_number,source\n", user="cunwei")).status_code == 403
    conn = await api.connect()
    try:
        stored = await conn.fetch("SELECT id_hash FROM cross_check_entries")
        assert all(hit_id.encode() not in bytes(s["id_hash"]) for s in stored) and len(stored) == 2
    finally:
        await conn.close()

    # The same list as xlsx adds nothing new.
    sheet = openpyxl.Workbook()
    sheet.active.append(["id_number", "source"])
    sheet.active.append([hit_id, "payroll"])
    data = io.BytesIO()
    sheet.save(data)
    r = await api.as_(
        "caizheng",
        "POST",
        "/cross-check-lists/import",
        files={"file": ("list.xlsx", io.BytesIO(data.getvalue()), "application/octet-stream")},
    )
    assert r.status_code == 201 and (r.json()["added"], r.json()["already_listed"]) == (0, 1), r.text

    await record_exit(api, hh_no(3))
    r = await apply(api, pid, hh_no(3), as_household=True)
    assert r.status_code == 201 and r.json()["status"] == "held", r.text
    checks = {c["name"]: c for c in r.json()["checks"]}
    assert not checks["no_cross_check_hit"]["passed"] and "车辆登记" in checks["no_cross_check_hit"]["detail"]
    assert all(c["passed"] for n, c in checks.items() if n != "no_cross_check_hit")
    r = await api.as_(
        "xiangzhen",
        "POST",
        f"/applications/{r.json()['id']}/decisions",
        json={"release": False, "reason": "户主名下有营运车辆，收入核实后不符合条件"},
    )
    assert r.json()["status"] == "rejected"


async def test_list_imported_after_review_holds_at_grant(api):
    pid, (app_id,), _ = await ready_to_grant(api, [4])
    r = await import_list(api, f"id_number,source\n{await _plain_id(api, hh_no(4))},business\n")
    assert r.status_code == 201
    await set_today(api, AFTER_NOTICE)
    r = await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")
    assert r.json()["granted"] == 0 and r.json()["held"] == 1
    assert (await api.as_("caizheng", "GET", f"/applications/{app_id}")).json()["status"] == "held"


async def test_objection_blocks_the_grant_until_resolved(api):
    pid, ids, notice = await ready_to_grant(api, [5, 6, 7])
    nid = notice["id"]
    page = await api.client.get(f"/notices/{nid}")
    assert page.status_code == 200 and page.json()["state"] == "open" and len(page.json()["items"]) == 3
    assert_no_full_numbers(page.text)
    r = await api.client.post(f"/notices/{nid}/objections", json={"subject_id": ids[0], "reason": "该户家中有小轿车"})
    assert r.status_code == 201, r.text
    kept = r.json()["id"]
    r = await api.client.post(f"/notices/{nid}/objections", json={"subject_id": ids[1], "reason": "收入不实"})
    upheld = r.json()["id"]
    got = (await api.as_("cunwei", "GET", f"/applications/{ids[0]}")).json()
    assert got["status"] == "objected" and got["objections"][0]["status"] == "open"

    await set_today(api, AFTER_NOTICE)
    r = await api.client.post(f"/notices/{nid}/objections", json={"subject_id": ids[2], "reason": "迟到的异议"})
    assert r.status_code == 409
    r = await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")
    assert r.json()["granted"] == 1 and r.json()["awards"][0]["application_id"] == ids[2]

    # Only the township resolves.
    r = await api.as_("cunwei", "POST", f"/objections/{kept}/resolve", json={"upheld": False, "reason": "核实无车"})
    assert r.status_code == 403
    r = await api.as_(
        "xiangzhen", "POST", f"/objections/{kept}/resolve", json={"upheld": False, "reason": "经核实该车为亲属所有"}
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed", r.text
    r = await api.as_(
        "xiangzhen", "POST", f"/objections/{upheld}/resolve", json={"upheld": True, "reason": "收入核实高于申报"}
    )
    assert r.json()["status"] == "upheld"
    assert (
        await api.as_("xiangzhen", "POST", f"/objections/{upheld}/resolve", json={"upheld": False, "reason": "再次"})
    ).status_code == 409
    r = await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")
    assert r.json()["granted"] == 1 and r.json()["awards"][0]["application_id"] == ids[0]
    got = (await api.as_("cunwei", "GET", f"/applications/{ids[1]}")).json()
    assert got["status"] == "rejected" and "异议成立" in got["status_reason"]
    program = (await api.as_("caizheng", "GET", f"/award-programs/{pid}")).json()
    assert program["counts"] == {"granted": 2, "rejected": 1} and program["committed_fen"] == 60_000
    await ledger_ok(api)


async def test_certificate_pdf_in_chinese_and_public_verification(api):
    pid, (app_id,), _ = await ready_to_grant(api, [8])
    await set_today(api, AFTER_NOTICE)
    serial = (await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")).json()["awards"][0]["serial"]
    masked = (await api.as_("cunwei", "GET", f"/applications/{app_id}")).json()["household_name"]
    assert "*" in masked

    own = await api.household_login(hh_no(8))
    r = await api.client.get(f"/certificates/{serial}", headers=own)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(r.content)).pages)
    assert "光荣脱贫证" in text and serial in text and "300.00" in text
    # The certificate is the household's own paper: it names the head in full (issue 17).
    conn = await api.connect()
    try:
        full = await conn.fetchval("SELECT head_name FROM households WHERE household_no = $1", hh_no(8))
    finally:
        await conn.close()
    assert full in text and masked not in text
    assert (await api.as_("caizheng", "GET", f"/certificates/{serial}")).status_code == 200
    other = await api.household_login(hh_no(9))
    assert (await api.client.get(f"/certificates/{serial}", headers=other)).status_code == 404
    assert (await api.client.get(f"/certificates/{serial}")).status_code == 401

    r = await api.client.get(f"/verify/{serial}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["holder"] == masked and body["amount_fen"] == 30_000 and body["year"] == 2025
    assert body["county_name"] == "宕昌县" and body["award"] == "光荣脱贫证"
    assert "valid" not in body  # an answer is a real certificate; an unknown serial is a 404
    assert (await api.client.get("/verify/TP-621223-2025-999999")).status_code == 404
    got = await api.household_login(hh_no(8))
    r = await api.client.get(f"/applications/{app_id}", headers=got)
    assert r.json()["certificate_serial"] == serial


async def test_eligibility_checks_are_shown_and_rejections_are_final(api):
    await set_today(api, START)
    pid = await make_program(api)
    # No exit recorded and income below the line: rejected, every check shown.
    r = await apply(api, pid, hh_no(10), income=300_000)
    assert r.status_code == 201 and r.json()["status"] == "rejected"
    checks = {c["name"]: c["passed"] for c in r.json()["checks"]}
    assert checks == {
        "registered_poor_at_year_start": True,
        "exit_recorded": False,
        "income_at_or_above_line": False,
        "no_earlier_exit_award": True,
        "no_cross_check_hit": True,
        "split_after_registration": True,
    }
    # A rejected application does not block a corrected one; a live one does.
    await record_exit(api, hh_no(10))
    r = await apply(api, pid, hh_no(10))
    assert r.json()["status"] == "pending_village"
    assert (await apply(api, pid, hh_no(10))).status_code == 409
    app_id = r.json()["id"]
    # Township cannot review before the village; a village rejection is final.
    assert (await review(api, app_id, "township")).status_code == 409
    assert (await review(api, app_id, "village", "reject", "")).status_code == 422
    r = await review(api, app_id, "village", "reject", "实际收入未达标")
    assert r.json()["status"] == "rejected" and r.json()["reviews"][0]["reason"] == "实际收入未达标"
    assert (await review(api, app_id, "village")).status_code == 409

    # 小康 award: only the income against the 小康 line and the lists.
    xk = await make_program(api, kind="xiaokang", amount_fen=50_000)
    r = await apply(api, xk, hh_no(11), income=1_000_000)
    assert r.json()["status"] == "pending_village"
    assert [c["name"] for c in r.json()["checks"]] == ["income_at_or_above_line", "no_cross_check_hit"]
    r = await apply(api, xk, hh_no(12), income=999_999)
    assert r.json()["status"] == "rejected"

    r = await api.as_("caizheng", "GET", f"/award-programs/{pid}/applications", params={"limit": 1})
    assert len(r.json()["items"]) == 1 and r.json()["next_cursor"]
    r2 = await api.as_(
        "caizheng", "GET", f"/award-programs/{pid}/applications", params={"limit": 1, "cursor": r.json()["next_cursor"]}
    )
    assert r2.json()["items"][0]["id"] != r.json()["items"][0]["id"] and r2.json()["next_cursor"] is None


async def test_programme_rules_and_idempotency(api):
    base = {"county_code": COUNTY, "kind": "exit", "year": 2025, "amount_fen": 30_000, "budget_fen": 300_000}
    r = await api.as_(
        "caizheng",
        "POST",
        "/award-programs",
        json={**base, "cost_shares": {"province_bp": 5000, "city_bp": 3000, "county_bp": 1000}},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cost_shares"
    r = await api.as_("caizheng", "POST", "/award-programs", json={**base, "cost_shares": SHARES, "notice_days": 5})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "notice_days"
    r = await api.as_(
        "caizheng", "POST", "/award-programs", json={**base, "county_code": "620102000000", "cost_shares": SHARES}
    )
    assert r.status_code == 403
    key = {"Idempotency-Key": "programme-2025-exit"}
    first = await api.as_("caizheng", "POST", "/award-programs", json={**base, "cost_shares": SHARES}, headers=key)
    again = await api.as_("caizheng", "POST", "/award-programs", json={**base, "cost_shares": SHARES}, headers=key)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    # Application window.
    await set_today(api, START)
    closed = await make_program(api, opens_on="2026-02-01", closes_on="2026-03-01")
    await record_exit(api, hh_no(13))
    assert (await apply(api, closed, hh_no(13))).status_code == 409
    audit = await api.as_("shenji", "GET", "/audit-log", params={"limit": 500})
    assert "award_program.create" in {e["action"] for e in audit.json()["items"]}


async def test_access_is_scoped(api):
    await set_today(api, START)
    pid = await make_program(api)
    await record_exit(api, hh_no(14))
    # Wrong roles.
    body = {
        "county_code": COUNTY,
        "kind": "exit",
        "year": 2025,
        "amount_fen": 30_000,
        "budget_fen": 1,
        "cost_shares": SHARES,
    }
    assert (await api.as_("kuaiji", "POST", "/award-programs", json=body)).status_code == 403
    assert (await api.as_("cunwei", "POST", "/award-programs", json=body)).status_code == 403
    assert (await api.as_("cunwei", "POST", f"/award-programs/{pid}/grants")).status_code == 403
    assert (await api.as_("xiangzhen", "POST", f"/award-programs/{pid}/grants")).status_code == 403
    hid = await api.household_id(hh_no(14))
    assert (
        await api.as_(
            "caizheng",
            "POST",
            f"/award-programs/{pid}/applications",
            json={"household_id": hid, "declared_income_fen": 450_000},
        )
    ).status_code == 403
    # A household applies only for itself.
    other = await api.household_id(hh_no(15))
    r = await api.client.post(
        f"/award-programs/{pid}/applications",
        json={"household_id": other, "declared_income_fen": 450_000},
        headers=await api.household_login(hh_no(14)),
    )
    assert r.status_code == 403
    r = await apply(api, pid, hh_no(14), as_household=True)
    assert r.status_code == 201
    app_id = r.json()["id"]

    # A reviewer of another village neither sees nor reviews it.
    r = await api.as_(
        "admin",
        "POST",
        "/users",
        json={
            "username": "cunwei2",
            "password": "huinong-demo",
            "role": "village_reviewer",
            "region_code": "621223100202",
        },
    )
    assert r.status_code == 201, r.text
    assert (await api.as_("cunwei2", "GET", f"/applications/{app_id}")).status_code == 404
    r = await api.as_(
        "cunwei2",
        "POST",
        f"/applications/{app_id}/reviews",
        json={"level": "village", "decision": "approve", "reason": ""},
    )
    assert r.status_code in (403, 404)
    assert (
        await api.as_(
            "cunwei2",
            "POST",
            f"/award-programs/{pid}/applications",
            json={"household_id": hid, "declared_income_fen": 1},
        )
    ).status_code == 404
    # The village reviewer cannot do the township's review, nor the township the village's.
    assert (await review(api, app_id, "village")).status_code == 201
    r = await api.as_(
        "cunwei",
        "POST",
        f"/applications/{app_id}/reviews",
        json={"level": "township", "decision": "approve", "reason": ""},
    )
    assert r.status_code == 403
    r = await api.as_("kuaiji", "GET", f"/applications/{app_id}")
    assert r.status_code == 403
    other_household = await api.household_login(hh_no(15))
    assert (await api.client.get(f"/applications/{app_id}", headers=other_household)).status_code == 404


THIRDS = {"province_bp": 3333, "city_bp": 3333, "county_bp": 3334}


async def test_no_level_passes_its_share_under_concurrent_grants(api):
    # 100-fen awards at 3333/3333/3334 bp: split alike, ten would commit the county 340 of its 334 fen.
    pid, ids, _ = await ready_to_grant(api, list(range(1, 13)), amount_fen=100, budget_fen=1_000, cost_shares=THIRDS)
    program = (await api.as_("caizheng", "GET", f"/award-programs/{pid}")).json()
    assert program["by_level"] == {
        "province": {"share_bp": 3333, "budget_fen": 333, "committed_fen": 0, "remaining_fen": 333},
        "city": {"share_bp": 3333, "budget_fen": 333, "committed_fen": 0, "remaining_fen": 333},
        "county": {"share_bp": 3334, "budget_fen": 334, "committed_fen": 0, "remaining_fen": 334},
    }
    await set_today(api, AFTER_NOTICE)
    offices = await two_finance_officers(api)
    # Two finance officers at once, mostly one application a call, so the runs interleave.
    calls = [
        api.client.post(
            f"/award-programs/{pid}/grants",
            headers=offices[n % 2],
            json={"application_ids": [ids[n % 12]]} if n % 4 else None,
        )
        for n in range(120)
    ]
    responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["granted"] for r in responses) == 10
    program = (await api.as_("caizheng", "GET", f"/award-programs/{pid}")).json()
    assert program["committed_fen"] == 1_000 and program["remaining_fen"] == 0
    assert {k: (v["committed_fen"], v["remaining_fen"]) for k, v in program["by_level"].items()} == {
        "province": (333, 0),
        "city": (333, 0),
        "county": (334, 0),
    }
    assert program["counts"] == {"granted": 10, "over_budget": 2}

    conn = await api.connect()
    try:
        # Every award is split within a fen of its thirds, and the funding accounts agree by level.
        splits = await conn.fetch(
            "SELECT province_fen, city_fen, county_fen FROM awards WHERE program_id = $1::uuid ORDER BY serial", pid
        )
        assert all(sorted(s.values()) == [33, 33, 34] for s in splits)
        balances = dict(
            await conn.fetch(
                """SELECT a.code, b.balance_fen FROM accounts a JOIN account_balances b ON b.account_id = a.id
                   WHERE a.owner_type = 'program' AND a.owner_id = $1""",
                pid,
            )
        )
        assert balances == {"funding.province": 333, "funding.city": 333, "funding.county": 334, "award_payable": -1000}
        # The database refuses a level past its share whatever the code above it does: one fen moved
        # from another level to it keeps every total, and only the level's own CHECK fails.
        for level, other in (("province", "city"), ("city", "county"), ("county", "province")):
            with pytest.raises(asyncpg.CheckViolationError) as refused:
                await conn.execute(
                    f"""UPDATE award_programs SET {level}_committed_fen = {level}_committed_fen + 1,
                            {other}_committed_fen = {other}_committed_fen - 1 WHERE id = $1::uuid""",
                    pid,
                )
            assert refused.value.constraint_name == f"award_programs_{level}_within_share"
    finally:
        await conn.close()
    await ledger_ok(api)


async def test_a_second_exit_programme_of_the_county_and_year_numbers_on(api):
    first, _, _ = await ready_to_grant(api, [1, 2])
    second, _, _ = await ready_to_grant(api, [3, 4])
    small = await make_program(api, kind="xiaokang", amount_fen=50_000)
    await set_today(api, AFTER_NOTICE)
    serials = []
    for pid in (first, second):
        r = await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")
        assert r.status_code == 200 and r.json()["granted"] == 2, r.text
        serials += [a["serial"] for a in r.json()["awards"]]
    assert serials == [f"TP-621223-2025-{n:06d}" for n in (1, 2, 3, 4)]
    for serial in serials:
        r = await api.client.get(f"/verify/{serial}")
        assert r.status_code == 200 and r.json()["serial"] == serial
    # Serial parsing takes ASCII digits only: a look-alike is an unknown serial, never a 500.
    for fake in ("TP-62122²-2025-000001", "TP-621223-2025-00000²", "TP-６２１２２３-2025-000001"):
        assert (await api.client.get(f"/verify/{fake}")).status_code == 404
    # Another kind counts on its own.
    await set_today(api, START)
    r = await apply(api, small, hh_no(5), income=1_000_000)
    app_id = r.json()["id"]
    await review(api, app_id, "village")
    await review(api, app_id, "township")
    await publish(api, small)
    await set_today(api, AFTER_NOTICE)
    r = await api.as_("caizheng", "POST", f"/award-programs/{small}/grants")
    assert [a["serial"] for a in r.json()["awards"]] == ["XK-621223-2025-000001"]
    await ledger_ok(api)
