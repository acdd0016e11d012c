"""Ventures, the share register and member accounts through the API."""

import datetime as dt

VILLAGE = "621223100201"


async def make_venture(api, model="cooperative", **charter):
    body = {
        "name": "南沿沟养鸡合作社",
        "model": model,
        "village_code": VILLAGE,
        "registered_capital_fen": 100_000_000,
        "record_date_mmdd": "12-31",
        "charter": {"patronage_bp": 7000, "reserve_bp": 1000, **charter},
    }
    r = await api.as_("kuaiji", "POST", "/ventures", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def add_member(api, vid, kind, name, household_no=None):
    body = {"kind": kind, "name": name}
    if household_no:
        body["household_id"] = await api.household_id(household_no)
    r = await api.as_("kuaiji", "POST", f"/ventures/{vid}/members", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def move(api, vid, **body):
    body.setdefault("share_class", "ordinary")
    return await api.as_("kuaiji", "POST", f"/ventures/{vid}/share-movements", json=body)


async def test_register_as_of_dates_and_negative_refused(api):
    vid = await make_venture(api)
    collective = await add_member(api, vid, "collective", "南沿沟村集体")
    hh = await add_member(api, vid, "household", "农户一", "621223100201-001")
    r = await move(
        api,
        vid,
        kind="subscribe",
        to_member_id=collective,
        shares=1000,
        capital_fen=1_000_000,
        effective_date="2025-01-10",
    )
    assert r.status_code == 201, r.text
    r = await move(
        api,
        vid,
        kind="allocate",
        from_member_id=collective,
        to_member_id=hh,
        share_class="poverty",
        shares=120,
        capital_fen=120_000,
        effective_date="2025-03-01",
    )
    assert r.status_code == 201, r.text
    # Redeeming more than the collective holds on that day is refused and changes nothing.
    r = await move(
        api, vid, kind="redeem", from_member_id=collective, shares=881, capital_fen=881_000, effective_date="2025-04-01"
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "shares"
    # Back-dated allocation that would overdraw the collective before its subscription.
    r = await move(
        api,
        vid,
        kind="allocate",
        from_member_id=collective,
        to_member_id=hh,
        share_class="poverty",
        shares=10,
        capital_fen=10_000,
        effective_date="2025-01-01",
    )
    assert r.status_code == 422

    r = await api.as_("kuaiji", "GET", f"/ventures/{vid}/register", params={"as_of": "2025-02-01"})
    items = r.json()["items"]
    assert [(i["share_class"], i["shares"], i["capital_fen"]) for i in items] == [("ordinary", 1000, 1_000_000)]
    r = await api.as_("kuaiji", "GET", f"/ventures/{vid}/register", params={"as_of": "2025-12-31"})
    items = {(i["member_id"], i["share_class"]): i for i in r.json()["items"]}
    assert items[(collective, "ordinary")]["shares"] == 880
    assert items[(hh, "poverty")]["capital_fen"] == 120_000
    assert items[(hh, "poverty")]["certificate_no"].startswith("GQ")

    r = await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{hh}/account", params={"year": 2025})
    assert r.json()["capital_fen"] == 120_000

    r = await api.as_("shenji", "GET", "/ledger/verify")
    assert r.status_code == 200 and r.json()["ok"], r.json()


async def test_subsidy_quantified_equally_to_the_fen(api):
    vid = await make_venture(api)
    members = [await add_member(api, vid, "household", f"农户{i}", f"621223100201-00{i}") for i in range(1, 4)]
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{vid}/subsidies",
        json={"amount_fen": 100, "source": "省级财政专项", "received_on": "2025-05-01"},
    )
    assert r.status_code == 201, r.text
    # 100 fen over three members: 33 each and the odd fen to the smallest member id.
    assert sorted(r.json()["shares"].values()) == [33, 33, 34]
    total = 0
    for m in members:
        a = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{m}/account", params={"year": 2025})).json()
        total += a["subsidy_share_fen"]
    assert total == 100


async def test_charter_validation_names_the_field(api):
    r = await api.as_(
        "kuaiji",
        "POST",
        "/ventures",
        json={
            "name": "x",
            "model": "cooperative",
            "village_code": VILLAGE,
            "registered_capital_fen": 1,
            "charter": {"patronage_bp": 5000},
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "charter.patronage_bp"


async def test_poverty_shares_follow_status(api):
    vid = await make_venture(api, model="branch_company", floor_mode="fixed", floor_bp=500, poverty_follows_status=True)
    collective = await add_member(api, vid, "collective", "村集体")
    a = await add_member(api, vid, "household", "甲", "621223100201-001")
    b = await add_member(api, vid, "household", "乙", "621223100201-002")
    c = await add_member(api, vid, "household", "丙", "621223100201-003")
    await move(
        api,
        vid,
        kind="subscribe",
        to_member_id=collective,
        shares=1000,
        capital_fen=1_000_000,
        effective_date="2025-01-01",
    )
    for m in (a, b, c):
        r = await move(
            api,
            vid,
            kind="allocate",
            from_member_id=collective,
            to_member_id=m,
            share_class="poverty",
            shares=101,
            capital_fen=101_000,
            effective_date="2025-01-02",
        )
        assert r.status_code == 201
    hid = await api.household_id("621223100201-001")
    r = await api.as_(
        "cunwei",
        "POST",
        f"/households/{hid}/status-events",
        json={"kind": "exited", "year": 2025, "effective_date": "2025-06-30"},
    )
    assert r.status_code == 201, r.text
    reg = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/register", params={"as_of": "2025-06-30"})).json()
    held = {(i["member_id"], i["share_class"]): i["shares"] for i in reg["items"]}
    assert (a, "poverty") not in held and held[(collective, "poverty")] == 101
    props = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/reallocations")).json()
    assert len(props) == 1 and sorted(i["shares"] for i in props[0]["items"]) == [50, 51]
    r = await api.as_("kuaiji", "POST", f"/ventures/{vid}/reallocations/{props[0]['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    reg = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/register", params={"as_of": "2025-07-01"})).json()
    held = {(i["member_id"], i["share_class"]): i for i in reg["items"]}
    assert held[(b, "poverty")]["shares"] + held[(c, "poverty")]["shares"] == 303 - 101 + 101
    assert held[(b, "poverty")]["capital_fen"] + held[(c, "poverty")]["capital_fen"] == 303_000
    assert dt.date.fromisoformat(reg["as_of"]) == dt.date(2025, 7, 1)


async def test_trades_import_all_rows_or_none(api):
    vid = await make_venture(api)
    await add_member(api, vid, "household", "社员1", "621223100201-001")
    await add_member(api, vid, "household", "社员2", "621223100201-002")
    bad = (
        "member_no,traded_on,product,quantity_g,amount_fen\n"
        "1,2025-03-01,鸡蛋,50000,60000\n"
        "7,2025-03-02,鸡蛋,10000,12000\n"  # row 3: no member 7
        "2,2025-13-01,鸡蛋,10000,12000\n"  # row 4: no 13th month
        ",2025-03-03,鸡蛋,10000,12000\n"
    )  # a non-member trade (art. 41)
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{vid}/transactions/import",
        files={"file": ("trades.csv", bad.encode("gb18030"), "text/csv")},
    )
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(3, "member_no"), (4, "traded_on")}
    good = bad.replace("7,2025-03-02", "2,2025-03-02").replace("2025-13-01", "2025-12-01")
    r = await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{vid}/transactions/import",
        files={"file": ("trades.csv", good.encode("utf-8-sig"), "text/csv")},
    )
    assert r.status_code == 201 and r.json() == {"created": 4}
    members = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/members")).json()
    volumes = []
    for m in members:
        a = await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{m['id']}/account", params={"year": 2025})
        volumes.append(a.json()["transaction_volume_fen"])
    # member 1: 60,000; member 2: 12,000 + 12,000; the non-member's 12,000 is in nobody's account
    assert sorted(volumes) == [24_000, 60_000]
