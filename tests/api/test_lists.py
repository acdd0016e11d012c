"""The lists the console and clients need (API.md): plans, share movements, trades, the trial
balance, the journal and regions, each paginated and within the caller's scope."""

from __future__ import annotations

from tests.api.test_distribution_workflow import cooperative_of_design_md, set_today


async def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


async def test_a_venture_lists_its_plans_movements_and_trades(api):
    await set_today(api, "2026-01-10")
    vid, (a, b, c) = await cooperative_of_design_md(api)
    plan = await ok(
        await api.as_(
            "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 40_000_000}
        ),
        201,
    )
    plans = await ok(await api.as_("kuaiji", "GET", f"/ventures/{vid}/distributions"))
    assert [p["id"] for p in plans["items"]] == [plan["id"]] and plans["next_cursor"] is None

    moves = await ok(await api.as_("kuaiji", "GET", f"/ventures/{vid}/share-movements", params={"limit": 2}))
    assert [m["register_no"] for m in moves["items"]] == [1, 2] and moves["next_cursor"]
    rest = await ok(
        await api.as_("kuaiji", "GET", f"/ventures/{vid}/share-movements", params={"cursor": moves["next_cursor"]})
    )
    assert [m["to_member_id"] for m in rest["items"]] == [c] and rest["items"][0]["capital_fen"] == 1_000_000
    none = await ok(
        await api.as_(
            "kuaiji", "GET", f"/ventures/{vid}/share-movements", params={"from": "2025-02-01", "to": "2025-12-31"}
        )
    )
    assert none["items"] == []

    trades = await ok(await api.as_("kuaiji", "GET", f"/ventures/{vid}/transactions", params={"year": 2025}))
    assert sum(t["amount_fen"] for t in trades["items"]) == 10_000_000 + 9_999_999
    mine = await ok(await api.as_("kuaiji", "GET", f"/ventures/{vid}/transactions", params={"member_id": a}))
    assert [t["amount_fen"] for t in mine["items"]] == [5_000_000]
    assert (await api.as_("kuaiji", "GET", f"/ventures/{vid}/transactions", params={"year": 2024})).json()[
        "items"
    ] == []

    # Outside the venture's region nobody sees its lists; a township approver of its region does.
    r = await api.as_("kuaiji", "GET", f"/ventures/{vid}/transactions", params={"member_id": "nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "member_id"
    assert (await api.as_("xiangzhen", "GET", f"/ventures/{vid}/distributions")).status_code == 200


async def test_trial_balance_and_journal_of_a_venture(api):
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    tb = await ok(await api.as_("kuaiji", "GET", "/ledger/accounts", params={"venture_id": vid}))
    by_code = {a["code"]: a for a in tb["items"]}
    # Capital of 100,000 yuan paid in: Dr 102 银行存款, Cr 301 股金.
    assert by_code["102"]["debit_fen"] == 10_000_000 and by_code["102"]["balance_fen"] == 10_000_000
    assert by_code["301"]["credit_fen"] == 10_000_000 and by_code["301"]["balance_fen"] == -10_000_000
    assert sum(a["balance_fen"] for a in tb["items"]) == 0
    before = await ok(
        await api.as_("kuaiji", "GET", "/ledger/accounts", params={"venture_id": vid, "as_of": "2025-01-04"})
    )
    assert all(a["balance_fen"] == 0 for a in before["items"])

    journal = await ok(await api.as_("kuaiji", "GET", "/ledger/entries", params={"venture_id": vid, "limit": 2}))
    assert len(journal["items"]) == 2 and journal["next_cursor"]
    entry = journal["items"][0]
    assert entry["posted_on"] == "2025-01-05" and sum(l["debit_fen"] - l["credit_fen"] for l in entry["lines"]) == 0
    assert {l["code"] for l in entry["lines"]} == {"102", "301"}

    # A county's books are the finance office's and the auditor's; an accountant reads only its ventures'.
    county = await api.as_("shenji", "GET", "/ledger/accounts", params={"county_code": "621223000000"})
    assert county.status_code == 200
    assert (
        await api.as_("kuaiji", "GET", "/ledger/accounts", params={"county_code": "621223000000"})
    ).status_code == 403
    assert (await api.as_("kuaiji", "GET", "/ledger/accounts")).status_code == 422


async def test_regions_by_parent_and_level(api):
    villages = await ok(await api.as_("kuaiji", "GET", "/regions", params={"parent_code": "621223100000"}))
    names = [r["name"] for r in villages["items"]]
    assert "南沿沟村" in names and all(r["level"] == "village" for r in villages["items"])
    every = await ok(await api.as_("kuaiji", "GET", "/regions", params={"level": "township"}))
    assert any(r["code"] == "621223100000" for r in every["items"])
    assert (await api.as_("kuaiji", "GET", "/regions", params={"level": "planet"})).status_code == 422
