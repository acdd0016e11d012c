"""Order farming through the API: contracts, advances, purchases, the year-end settlement, its
ledger entries and payables, reversal, the weighing station's import, and who may see what."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import asyncpg
import pytest

from tests.api.test_ledger import books  # noqa: F401  (the fixture: one server's checks, or a shard's)

VILLAGE = "621223100201"
HH1, HH2, HH3 = "621223100201-001", "621223100201-002", "621223100201-003"


async def set_today(api, day: str) -> None:
    r = await api.as_("admin", "PUT", "/admin/clock", json={"today": day})
    assert r.status_code == 200, r.text


async def make_enterprise(api, user: str = "kuaiji") -> str:
    body = {
        "name": "宕昌药业有限公司",
        "model": "enterprise",
        "village_code": VILLAGE,
        "registered_capital_fen": 500_000_000,
        "charter": {"reserve_bp": 1000},
    }
    r = await api.as_(user, "POST", "/ventures", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def contract(api, vid, household_no, *, crop="当归", season_year=2025, contracted_g, floor, premium_bp=0):
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{vid}/contracts",
        json={
            "household_id": await api.household_id(household_no),
            "crop": crop,
            "season_year": season_year,
            "contracted_g": contracted_g,
            "floor_price_fen_per_kg": floor,
            "premium_bp": premium_bp,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def purchase(api, cid, bought_on, weight_g, market, grade="一等"):
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/contracts/{cid}/purchases",
        json={"bought_on": bought_on, "grade": grade, "weight_g": weight_g, "market_price_fen_per_kg": market},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def advance(api, cid, amount_fen, given_on, item, **kw):
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/contracts/{cid}/advances",
        json={"amount_fen": amount_fen, "given_on": given_on, "item": item},
        **kw,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def settle(api, vid, season_year):
    return await api.as_("kuaiji", "POST", f"/ventures/{vid}/settlements", json={"season_year": season_year})


async def ledger_ok(api):
    r = await api.as_("shenji", "GET", "/ledger/verify")
    assert r.status_code == 200 and r.json()["ok"], r.json()


async def party_balance(api, vid, code, household_id):
    conn = await api.connect()
    try:
        return await conn.fetchval(
            """SELECT coalesce(sum(l.amount_fen), 0)::bigint FROM journal_lines l
               JOIN accounts a ON a.county_code = l.county_code AND a.id = l.account_id
               WHERE a.owner_type = 'venture' AND a.owner_id = $1 AND a.code = $2 AND l.party_id = $3::uuid""",
            vid,
            code,
            household_id,
        )
    finally:
        await conn.close()


async def payables_of(api, settlement_id):
    conn = await api.connect()
    try:
        return [
            dict(r)
            for r in await conn.fetch(
                """SELECT p.*, pa.code AS payable_code, ba.code AS paying_code FROM payables p
               JOIN accounts pa ON pa.county_code = p.county_code AND pa.id = p.payable_account_id
               JOIN accounts ba ON ba.county_code = p.county_code AND ba.id = p.paying_account_id
               WHERE p.source = 'settlement' AND p.source_id = $1""",
                settlement_id,
            )
        ]
    finally:
        await conn.close()


async def test_crossing_delivery_floor_and_market_advances_deducted(api):
    await set_today(api, "2025-12-20")
    vid = await make_enterprise(api)
    hid = await api.household_id(HH1)
    # 100 kg contracted at a floor of 12.00 yuan/kg, market price + 5%.
    cid = await contract(api, vid, HH1, contracted_g=100_000, floor=1200, premium_bp=500)
    await advance(api, cid, 30_000, "2025-03-01", "当归种苗")
    await advance(api, cid, 20_000, "2025-04-01", "复合肥")
    # Advances given: Dr 1221 / Cr 1002, 500.00 yuan owed by the household.
    assert await party_balance(api, vid, "1221", hid) == 50_000
    # 60 kg, market 10.00 -> 10.50 with the premium, below the floor: 60 x 12.00 = 720.00 yuan.
    await purchase(api, cid, "2025-10-10", 60_000, 1000)
    # 50 kg, market 12.00 -> 12.60, above the floor; it crosses the 100 kg line after 40 kg:
    # 40 x 12.60 = 504.00 within, 10 x 12.60 = 126.00 beyond.
    await purchase(api, cid, "2025-10-20", 50_000, 1200)
    # 5.001 kg beyond, market 10.01 -> 10.5105: 5.001 x 10.5105 = 52.5630105 -> 52.56 yuan.
    await purchase(api, cid, "2025-11-01", 5_001, 1001, grade="二等")

    r = await settle(api, vid, 2025)
    assert r.status_code == 201, r.text
    (item,) = r.json()["items"]
    # Gross 720.00 + 504.00 + 126.00 + 52.56 = 1402.56; advances 300 + 200 = 500.00 deducted.
    assert item["contract_id"] == cid and item["household_id"] == hid
    assert item["gross_fen"] == 72_000 + 50_400 + 12_600 + 5_256 == 140_256
    assert item["advances_deducted_fen"] == 50_000
    assert item["payable_fen"] == 90_256
    assert item["advance_carried_fen"] == 0
    assert item["gross_fen"] == item["advances_deducted_fen"] + item["payable_fen"]

    s = (await api.as_("kuaiji", "GET", f"/settlements/{item['id']}")).json()
    assert [(x["weight_g"], x["reason"], x["amount_fen"]) for x in s["lines"]] == [
        (60_000, "floor", 72_000),
        (40_000, "market_premium", 50_400),
        (10_000, "beyond_contract", 12_600),
        (5_001, "beyond_contract", 5_256),
    ]
    assert s["lines"][0]["price_fen_per_kg_x10000"] == 1200 * 10_000
    assert s["lines"][3]["price_fen_per_kg_x10000"] == 1001 * 10_500
    for words in (
        "保底价 12.00 元/公斤",
        "超出合同数量",
        "低于保底价",
        "当归种苗",
        "复合肥",
        "扣除赊销农资款 500.00 元",
        "实付 902.56 元",
        "交售 60.000 公斤",
    ):
        assert words in s["explanation"], words

    # Ledger: Dr 1403 1402.56 / Cr 2202 1402.56; Dr 2202 500.00 / Cr 1221 500.00.
    assert await party_balance(api, vid, "2202", hid) == -90_256
    assert await party_balance(api, vid, "1221", hid) == 0
    (payable,) = await payables_of(api, item["id"])
    assert payable["amount_fen"] == 90_256 and payable["status"] == "unpaid"
    assert (payable["payable_code"], payable["paying_code"]) == ("2202", "1002")
    assert str(payable["household_id"]) == hid and payable["source_ref"] == cid
    await ledger_ok(api)

    # The household reads its own settlement.
    own = await api.household_login(HH1)
    r = await api.client.get(f"/settlements/{item['id']}", headers=own)
    assert r.status_code == 200 and r.json()["payable_fen"] == 90_256

    # A second settlement of the season is refused, and so is a late delivery.
    r = await settle(api, vid, 2025)
    assert r.status_code == 409, r.text
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/contracts/{cid}/purchases",
        json={"bought_on": "2025-12-01", "grade": "一等", "weight_g": 1000, "market_price_fen_per_kg": 1000},
    )
    assert r.status_code == 409


async def test_advances_larger_than_gross_carry_to_next_season(api):
    await set_today(api, "2026-12-20")
    vid = await make_enterprise(api)
    hid = await api.household_id(HH2)
    c2025 = await contract(api, vid, HH2, contracted_g=50_000, floor=1000)
    await advance(api, c2025, 25_000, "2025-03-10", "党参种子")
    # 10 kg at market 8.00, below the 10.00 floor: 100.00 yuan gross, all of it taken by the 250.00 advance.
    await purchase(api, c2025, "2025-10-15", 10_000, 800)
    r = await settle(api, vid, 2025)
    assert r.status_code == 201, r.text
    (item,) = r.json()["items"]
    assert (item["gross_fen"], item["advances_deducted_fen"], item["payable_fen"], item["advance_carried_fen"]) == (
        10_000,
        10_000,
        0,
        15_000,
    )
    assert await payables_of(api, item["id"]) == []  # nothing to pay
    assert await party_balance(api, vid, "1221", hid) == 15_000
    s = (await api.as_("kuaiji", "GET", f"/settlements/{item['id']}")).json()
    assert "尚欠农资款 150.00 元结转下季" in s["explanation"]

    # 2026: two contracts, signed in this order. The 150.00 carried is recovered first, from the
    # first contract as far as its gross allows, the rest from the second.
    c_hongqi = await contract(api, vid, HH2, crop="红芪", season_year=2026, contracted_g=20_000, floor=800)
    c_danggui = await contract(api, vid, HH2, season_year=2026, contracted_g=50_000, floor=1000)
    await advance(api, c_danggui, 5_000, "2026-03-01", "地膜")
    # 红芪 10 kg, market 7.00 below the 8.00 floor: 80.00 yuan.
    await purchase(api, c_hongqi, "2026-10-01", 10_000, 700)
    # 当归 40 kg, market 11.00 above the 10.00 floor: 440.00 yuan.
    await purchase(api, c_danggui, "2026-10-02", 40_000, 1100)
    r = await settle(api, vid, 2026)
    assert r.status_code == 201, r.text
    items = {i["contract_id"]: i for i in r.json()["items"]}
    # 红芪: carried in min(150.00, 80.00) = 80.00, all deducted, nothing payable.
    h = items[c_hongqi]
    assert (
        h["gross_fen"],
        h["carried_in_fen"],
        h["advances_deducted_fen"],
        h["payable_fen"],
        h["advance_carried_fen"],
    ) == (8_000, 8_000, 8_000, 0, 0)
    # 当归: the remaining 70.00 carried plus its own 50.00 = 120.00 deducted from 440.00: 320.00 payable.
    d = items[c_danggui]
    assert (
        d["gross_fen"],
        d["carried_in_fen"],
        d["own_advances_fen"],
        d["advances_deducted_fen"],
        d["payable_fen"],
        d["advance_carried_fen"],
    ) == (44_000, 7_000, 5_000, 12_000, 32_000, 0)
    # Over both seasons: advances 250 + 50 = 300.00 all recovered; gross 100 + 80 + 440 = 620 = 300 + 320.
    assert await party_balance(api, vid, "1221", hid) == 0
    assert await party_balance(api, vid, "2202", hid) == -32_000
    s = (await api.as_("kuaiji", "GET", f"/settlements/{d['id']}")).json()
    assert "往季结转未扣清的农资款 70.00 元" in s["explanation"] and "先扣往季结转" in s["explanation"]
    await ledger_ok(api)

    # The 2025 settlement cannot be reversed while 2026 has taken in what it carried.
    r = await api.as_("kuaiji", "POST", f"/settlements/{item['id']}/reverse")
    assert r.status_code == 409 and r.json()["type"].endswith("carry-taken")


async def test_reverse_then_settle_again(api):
    await set_today(api, "2025-12-20")
    vid = await make_enterprise(api)
    hid = await api.household_id(HH1)
    cid = await contract(api, vid, HH1, contracted_g=100_000, floor=1200)
    other = await contract(api, vid, HH3, contracted_g=10_000, floor=1000)
    await advance(api, cid, 10_000, "2025-04-01", "种苗")
    # 50 kg at market 13.00 (above the 12.00 floor) = 650.00; less 100.00 advance = 550.00.
    await purchase(api, cid, "2025-10-10", 50_000, 1300)
    await purchase(api, other, "2025-10-10", 1_000, 900)  # 1 kg at the 10.00 floor = 10.00
    first = {i["contract_id"]: i for i in (await settle(api, vid, 2025)).json()["items"]}
    s1 = first[cid]
    assert (s1["gross_fen"], s1["payable_fen"]) == (65_000, 55_000)

    key = {"Idempotency-Key": "reverse-settlement-0001"}
    r = await api.as_("kuaiji", "POST", f"/settlements/{s1['id']}/reverse", headers=key)
    assert r.status_code == 200, r.text
    assert r.json()["payables_cancelled"] == 1 and r.json()["reversal_entry_id"]
    replay = await api.as_("kuaiji", "POST", f"/settlements/{s1['id']}/reverse", headers=key)
    assert replay.status_code == 200 and replay.json() == r.json()
    r = await api.as_("kuaiji", "POST", f"/settlements/{s1['id']}/reverse")
    assert r.status_code == 409
    assert [p["status"] for p in await payables_of(api, s1["id"])] == ["cancelled"]
    # The reversal puts the advance back on 1221 and clears the payable.
    assert await party_balance(api, vid, "1221", hid) == 10_000
    assert await party_balance(api, vid, "2202", hid) == 0
    assert (await api.as_("kuaiji", "GET", f"/settlements/{s1['id']}")).json()["status"] == "reversed"

    # The correction: a delivery that was missed, 10 kg at market 11.00 -> floor 12.00 = 120.00.
    await purchase(api, cid, "2025-10-12", 10_000, 1100)
    r = await settle(api, vid, 2025)
    assert r.status_code == 201, r.text
    (again,) = r.json()["items"]  # only the freed contract is settled again
    assert again["contract_id"] == cid and again["id"] != s1["id"]
    # 650.00 + 120.00 = 770.00 gross, 100.00 advance, 670.00 payable.
    assert (again["gross_fen"], again["advances_deducted_fen"], again["payable_fen"]) == (77_000, 10_000, 67_000)
    assert [p["amount_fen"] for p in await payables_of(api, again["id"])] == [67_000]
    assert await party_balance(api, vid, "2202", hid) == -67_000
    listed = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/settlements", params={"season_year": 2025})).json()
    assert sorted(i["status"] for i in listed["items"]) == ["reversed", "settled", "settled"]
    await ledger_ok(api)


async def test_idempotent_advance_and_contract_rules(api):
    await set_today(api, "2025-12-20")
    vid = await make_enterprise(api)
    cid = await contract(api, vid, HH1, contracted_g=1_000, floor=100)
    # Several contracts per household are allowed.
    await contract(api, vid, HH1, crop="黄芪", contracted_g=1_000, floor=100)
    key = {"Idempotency-Key": "advance-key-0001"}
    a = await advance(api, cid, 1_234, "2025-03-01", "化肥", headers=key)
    b = await api.as_(
        "kuaiji",
        "POST",
        f"/contracts/{cid}/advances",
        json={"amount_fen": 1_234, "given_on": "2025-03-01", "item": "化肥"},
        headers=key,
    )
    assert b.status_code == 201 and b.json() == a
    conn = await api.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM farming_advances WHERE contract_id = $1::uuid", cid) == 1
    finally:
        await conn.close()
    # A cooperative does not sign order-farming purchase contracts here.
    coop = (
        await api.as_(
            "kuaiji",
            "POST",
            "/ventures",
            json={
                "name": "合作社",
                "model": "cooperative",
                "village_code": VILLAGE,
                "registered_capital_fen": 1,
                "charter": {"patronage_bp": 6000},
            },
        )
    ).json()["id"]
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{coop}/contracts",
        json={
            "household_id": await api.household_id(HH1),
            "crop": "当归",
            "season_year": 2025,
            "contracted_g": 1,
            "floor_price_fen_per_kg": 1,
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "venture_id"
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{vid}/contracts",
        json={
            "household_id": "00000000-0000-0000-0000-000000000000",
            "crop": "当归",
            "season_year": 2025,
            "contracted_g": 1,
            "floor_price_fen_per_kg": 1,
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "household_id"
    page = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/contracts", params={"limit": 1})).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = (
        await api.as_("kuaiji", "GET", f"/ventures/{vid}/contracts", params={"limit": 1, "cursor": page["next_cursor"]})
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert rest["items"][0]["id"] != page["items"][0]["id"]
    r = await settle(api, vid, 2031)
    assert r.status_code == 422


def _sheet(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    out.write("contract_id,bought_on,grade,weight_g,market_price_fen_per_kg\n")
    for row in rows:
        out.write(",".join(str(x) for x in row) + "\n")
    return out.getvalue().encode("utf-8-sig")


async def purchase_count(api, vid):
    conn = await api.connect()
    try:
        return await conn.fetchval(
            """SELECT count(*) FROM farming_purchases p JOIN farming_contracts c ON c.id = p.contract_id
               WHERE c.venture_id = $1::uuid""",
            vid,
        )
    finally:
        await conn.close()


async def test_import_20000_rows_all_or_nothing(api):
    await set_today(api, "2025-12-20")
    vid = await make_enterprise(api)
    contracts = [
        await contract(api, vid, f"621223100201-00{i}", contracted_g=5_000_000, floor=1200) for i in range(1, 6)
    ]
    rows = [
        (contracts[i % 5], f"2025-10-{1 + i % 28:02d}", "一等" if i % 3 else "二等", 1_000 + i % 997, 1100 + i % 300)
        for i in range(20_000)
    ]
    bad = list(rows)
    # Data row i is spreadsheet row i + 2 (the header is row 1).
    bad[999] = (contracts[0], "2025-10-01", "一等", "12.5", 1100)  # row 1001: not whole grams
    bad[15_000] = ("5d3f0a4e-0000-4000-8000-000000000000", "2025-10-01", "一等", 1000, 1100)  # row 15002
    r = await api.as_(
        "kuaiji", "POST", f"/ventures/{vid}/purchases/import", files={"file": ("称重单.csv", _sheet(bad), "text/csv")}
    )
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(1001, "weight_g"), (15002, "contract_id")]
    assert await purchase_count(api, vid) == 0

    # A retry sends the very same bytes, multipart boundary included.
    boundary = "weighing-station-sheet"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="sheet.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + _sheet(rows)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Idempotency-Key": "import-purchases-0001", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    r = await api.as_("kuaiji", "POST", f"/ventures/{vid}/purchases/import", content=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == {"created": 20_000}
    assert await purchase_count(api, vid) == 20_000
    # The same upload under the same key replays the answer and writes nothing more.
    r = await api.as_("kuaiji", "POST", f"/ventures/{vid}/purchases/import", content=body, headers=headers)
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true"
    assert await purchase_count(api, vid) == 20_000
    r = await settle(api, vid, 2025)
    assert r.status_code == 201
    items = r.json()["items"]
    assert len(items) == 5
    assert all(i["gross_fen"] == i["payable_fen"] for i in items)
    # Every kilogram here is within the contract, so nothing is paid below the floor.
    delivered = sum(w for *_, w, _ in rows)
    assert sum(i["delivered_g"] for i in items) == delivered
    assert sum(i["gross_fen"] for i in items) >= delivered * 1200 // 1000
    await ledger_ok(api)


async def one_small_settlement(api):
    """1 kg at the 10.00 floor: 10.00 yuan gross and payable."""
    await set_today(api, "2025-12-20")
    vid = await make_enterprise(api)
    cid = await contract(api, vid, HH1, contracted_g=10_000, floor=1000)
    await purchase(api, cid, "2025-10-01", 1_000, 1000)
    (item,) = (await settle(api, vid, 2025)).json()["items"]
    assert item["gross_fen"] == item["payable_fen"] == 1_000
    return vid, cid, item


async def test_who_may_see_and_change(api):
    vid, cid, item = await one_small_settlement(api)

    r = await api.as_(
        "admin", "POST", "/users", json={"username": "kuaiji2", "password": "another-accountant", "role": "accountant"}
    )
    assert r.status_code == 201, r.text
    await api.login("kuaiji2", "another-accountant")
    # Another venture's accountant: the venture, its contracts and settlements do not exist for them.
    assert (await api.as_("kuaiji2", "GET", f"/ventures/{vid}/contracts")).status_code == 404
    assert (await api.as_("kuaiji2", "GET", f"/settlements/{item['id']}")).status_code == 404
    assert (await api.as_("kuaiji2", "GET", f"/contracts/{cid}")).status_code == 404
    r = await api.as_(
        "kuaiji2",
        "POST",
        f"/contracts/{cid}/purchases",
        json={"bought_on": "2025-10-01", "grade": "一等", "weight_g": 1, "market_price_fen_per_kg": 1},
    )
    assert r.status_code == 404
    assert (await api.as_("kuaiji2", "POST", f"/settlements/{item['id']}/reverse")).status_code == 404
    assert (
        await api.as_("kuaiji2", "POST", f"/ventures/{vid}/settlements", json={"season_year": 2025})
    ).status_code == 404
    # Another household cannot see it; no household may write; the auditor reads but does not write.
    other = await api.household_login(HH2)
    assert (await api.client.get(f"/settlements/{item['id']}", headers=other)).status_code == 404
    r = await api.client.post(f"/ventures/{vid}/settlements", json={"season_year": 2025}, headers=other)
    assert r.status_code == 403
    assert (await api.as_("shenji", "GET", f"/settlements/{item['id']}")).status_code == 200
    assert (await api.as_("shenji", "POST", f"/settlements/{item['id']}/reverse")).status_code == 403
    # Without a token.
    assert (await api.client.get(f"/settlements/{item['id']}")).status_code == 401
    assert (await api.client.post(f"/ventures/{vid}/contracts", json={})).status_code == 401
    # Every change left an audit row.
    conn = await api.connect()
    try:
        actions = {r["action"] for r in await conn.fetch("SELECT action FROM audit_log")}
    finally:
        await conn.close()
    assert {"contract.create", "purchase.record", "settlement.run"} <= actions


async def test_database_holds_the_invariants(books):  # noqa: F811  (the imported fixture)
    """On one server (O5 per statement) and as a Citus shard checks it (foreign keys per row)."""
    api = books
    _, _, item = await one_small_settlement(api)
    conn = await api.connect()
    try:
        # A purchase naming no contract, or a priced line no settlement, even through COPY, is refused.
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.copy_records_to_table(
                "farming_purchases",
                records=[("621223000000", uuid.uuid4(), dt.date(2025, 1, 1), "一等", 1, 1)],
                columns=["county_code", "contract_id", "bought_on", "grade", "weight_g", "market_price_fen_per_kg"],
            )
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute(
                "INSERT INTO farming_settlement_lines VALUES ('621223000000', $1, 1, $2, 1, 0, 'floor', 0, 'x')",
                uuid.uuid4(),
                uuid.uuid4(),
            )
        # A settlement's figures cannot be edited, and it cannot be deleted.
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "UPDATE farming_settlements SET payable_fen = payable_fen + 1, gross_fen = gross_fen + 1 "
                "WHERE id = $1::uuid",
                item["id"],
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM farming_settlements WHERE id = $1::uuid", item["id"])
        # Money is conserved row by row.
        assert await conn.fetchval(
            "SELECT bool_and(gross_fen = advances_deducted_fen + payable_fen) FROM farming_settlements"
        )
    finally:
        await conn.close()
