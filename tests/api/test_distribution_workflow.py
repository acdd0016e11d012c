"""The distribution workflow through the API: draft, two-person approval, 公示, objection, post, reverse."""

import datetime as dt
import logging

import pytest

from tests.api.test_ventures import add_member, make_venture, move


async def set_today(api, day: str):
    r = await api.as_("admin", "PUT", "/admin/clock", json={"today": day})
    assert r.status_code == 200, r.text


async def cooperative_of_design_md(api):
    """Three member households; capital 60,000 / 30,000 / 10,000 yuan; 2025 egg deliveries
    50,000 / 30,000 / 20,000 yuan."""
    vid = await make_venture(api, model="cooperative", patronage_bp=7000, reserve_bp=1000)
    members = [await add_member(api, vid, "household", f"社员{i}", f"621223100201-00{i}") for i in (1, 2, 3)]
    for m, capital in zip(members, (6_000_000, 3_000_000, 1_000_000)):
        r = await move(
            api,
            vid,
            kind="subscribe",
            to_member_id=m,
            shares=capital // 100,
            capital_fen=capital,
            effective_date="2025-01-05",
        )
        assert r.status_code == 201, r.text
    for m, volume in zip(members, (5_000_000, 3_000_000, 2_000_000)):
        r = await api.as_(
            "kuaiji",
            "POST",
            f"/ventures/{vid}/transactions",
            json={
                "member_id": m,
                "traded_on": "2025-06-01",
                "product": "鸡蛋",
                "quantity_g": volume * 100,
                "amount_fen": volume,
            },
        )
        assert r.status_code == 201, r.text
    # A non-member's trade is kept apart (art. 41) and earns no patronage refund.
    await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{vid}/transactions",
        json={"traded_on": "2025-06-02", "product": "鸡蛋", "quantity_g": 1000, "amount_fen": 9_999_999},
    )
    return vid, members


async def test_cooperative_worked_example_from_design(api):
    await set_today(api, "2026-01-10")
    vid, (a, b, c) = await cooperative_of_design_md(api)
    r = await api.as_(
        "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 40_000_000}
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    w = plan["waterfall"]
    # surplus 400,000 yuan → reserve 10% = 40,000 → distributable 360,000 → 70% = 252,000 by deliveries
    assert w["reserve_fen"] == 4_000_000 and w["distributable_fen"] == 36_000_000
    assert w["patronage_fen"] == 25_200_000
    lines = (await api.as_("kuaiji", "GET", f"/distributions/{plan['id']}/lines")).json()["items"]
    by = {(l["member_id"], l["basis"]): l["amount_fen"] for l in lines}
    # patronage by deliveries 5:3:2 of 25,200,000
    assert (by[(a, "patronage")], by[(b, "patronage")], by[(c, "patronage")]) == (12_600_000, 7_560_000, 5_040_000)
    # the remaining 108,000 yuan by member account = capital + this year's reserve share (by deliveries):
    # A 6,000,000 + 2,000,000 = 8,000,000; B 3,000,000 + 1,200,000 = 4,200,000; C 1,000,000 + 800,000 = 1,800,000
    # A 10,800,000 × 8/14 = 6,171,428.57; B = 3,240,000; C = 1,388,571.43 → the odd fen to A (.57)
    assert (by[(a, "capital")], by[(b, "capital")], by[(c, "capital")]) == (6_171_429, 3_240_000, 1_388_571)
    assert plan["lines_total_fen"] == 36_000_000
    assert all("元" in l["explanation"] for l in lines)


async def test_workflow_second_approver_objection_post_and_reverse(api):
    await set_today(api, "2026-01-10")
    vid, (a, b, c) = await cooperative_of_design_md(api)
    plan = (
        await api.as_(
            "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 40_000_000}
        )
    ).json()
    did = plan["id"]
    # Recomputing a draft replaces it.
    again = (
        await api.as_(
            "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 40_000_000}
        )
    ).json()
    assert again["id"] != did
    did = again["id"]
    assert (await api.as_("kuaiji", "GET", f"/distributions/{plan['id']}")).status_code == 404

    assert (await api.as_("kuaiji", "POST", f"/distributions/{did}/submit")).json()["status"] == "submitted"
    # The accountant cannot approve its own plan; a village reviewer is not a township approver.
    assert (await api.as_("kuaiji", "POST", f"/distributions/{did}/approve")).status_code == 403
    assert (await api.as_("cunwei", "POST", f"/distributions/{did}/approve")).status_code == 403
    r = await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve", json={"notice_days": 3})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "notice_days"
    r = await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve")
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "in_notice"
    assert approved["notice_ends_on"] == "2026-01-25"  # cooperatives: 15 days (art. 40)

    notice = (await api.client.get(f"/notices/{approved['notice_id']}")).json()
    household_a = await api.household_id("621223100201-001")
    r = await api.client.post(
        f"/notices/{approved['notice_id']}/objections", json={"subject_id": household_a, "reason": "交售量登记有误"}
    )
    assert r.status_code == 201, r.text
    objection = r.json()
    assert "*" in str(notice)

    r = await api.as_("kuaiji", "POST", f"/distributions/{did}/post")
    assert r.status_code == 409 and r.json()["type"].endswith("notice-not-ended")
    await set_today(api, "2026-01-26")
    r = await api.as_("kuaiji", "POST", f"/distributions/{did}/post")
    assert r.status_code == 409 and r.json()["type"].endswith("open-objection")
    r = await api.as_(
        "xiangzhen",
        "POST",
        f"/objections/{objection['id']}/resolve",
        json={"upheld": False, "reason": "经核实交售记录无误"},
    )
    assert r.status_code in (200, 201), r.text
    r = await api.as_("kuaiji", "POST", f"/distributions/{did}/post")
    assert r.status_code == 200, r.text
    posted = r.json()
    assert posted["status"] == "posted" and posted["payables_created"] == 6

    conn = await api.connect()
    try:
        total = await conn.fetchval("SELECT sum(amount_fen) FROM payables WHERE source_id = $1", did)
        assert total == 36_000_000
        reserve = await conn.fetchval("SELECT sum(amount_fen) FROM member_account_movements WHERE kind = 'reserve'")
        assert reserve == 4_000_000
    finally:
        await conn.close()
    account = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{a}/account", params={"year": 2025})).json()
    assert account["reserve_share_fen"] == 2_000_000
    assert (await api.as_("shenji", "GET", "/ledger/verify")).json()["ok"]

    # One posted distribution per venture and year.
    r = await api.as_("kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 1})
    assert r.status_code == 409

    r = await api.as_("kuaiji", "POST", f"/distributions/{did}/reverse")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "reversed"
    conn = await api.connect()
    try:
        statuses = await conn.fetch("SELECT DISTINCT status FROM payables WHERE source_id = $1", did)
        assert [s["status"] for s in statuses] == ["cancelled"]
        assert await conn.fetchval("SELECT sum(amount_fen) FROM member_account_movements WHERE kind = 'reserve'") == 0
        # every venture account is back where it started
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM account_balances b JOIN accounts a ON a.id = b.account_id "
                "WHERE a.owner_id = $1 AND a.code NOT IN ('102', '301') AND b.balance_fen <> 0",
                vid,
            )
            == 0
        )
    finally:
        await conn.close()
    assert (await api.as_("shenji", "GET", "/ledger/verify")).json()["ok"]
    # The year is free again for a corrected plan.
    r = await api.as_(
        "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 39_000_000}
    )
    assert r.status_code == 201


async def test_admin_cannot_approve_what_it_submitted(api):
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    did = (
        await api.as_(
            "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 1_000_000}
        )
    ).json()["id"]
    assert (await api.as_("admin", "POST", f"/distributions/{did}/submit")).status_code == 200
    r = await api.as_("admin", "POST", f"/distributions/{did}/approve")
    assert r.status_code == 403


async def test_preferred_arrears_carry_through_the_ledger(api):
    """A branch company with a 10% preferred floor on 100,000 fen of poverty capital: 2024 profit
    covers only part of the floor, the shortfall is carried in the ledger and paid first in 2025."""
    await set_today(api, "2025-01-05")
    vid = await make_venture(
        api, model="branch_company", floor_mode="preferred", floor_bp=1000, poverty_participates=False, reserve_bp=1000
    )
    collective = await add_member(api, vid, "collective", "村集体")
    poor = await add_member(api, vid, "household", "贫困户", "621223100201-001")
    await move(
        api,
        vid,
        kind="subscribe",
        to_member_id=collective,
        shares=1000,
        capital_fen=1_000_000,
        effective_date="2024-01-01",
    )
    await move(
        api,
        vid,
        kind="allocate",
        from_member_id=collective,
        to_member_id=poor,
        share_class="poverty",
        shares=100,
        capital_fen=100_000,
        effective_date="2024-01-02",
    )

    async def run_year(year, profit):
        did = (
            await api.as_(
                "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": year, "profit_fen": profit}
            )
        ).json()["id"]
        await api.as_("kuaiji", "POST", f"/distributions/{did}/submit")
        ends = (await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve")).json()["notice_ends_on"]
        await set_today(api, (dt.date.fromisoformat(ends) + dt.timedelta(days=1)).isoformat())
        r = await api.as_("kuaiji", "POST", f"/distributions/{did}/post")
        assert r.status_code == 200, r.text
        return r.json()

    # 2024: profit 5,000 fen; statutory reserve 10% = 500; distributable 4,500; the floor owed is
    # 10% × 100,000 = 10,000 fen, so 4,500 is paid and 5,500 carried as arrears.
    y1 = await run_year(2024, 5_000)
    assert y1["waterfall"]["floor_paid_fen"] == 4_500 and y1["waterfall"]["arrears_fen"] == 5_500
    # 2025: profit 100,000; reserve 10,000; distributable 90,000: arrears 5,500 first, then this
    # year's floor 10,000, and the rest 74,500 to the ordinary shares (poverty does not participate).
    await set_today(api, "2026-01-05")
    y2 = await run_year(2025, 100_000)
    assert y2["carried_in"]["arrears_by_member"] == {poor: 5_500}
    assert y2["waterfall"]["arrears_paid_fen"] == 5_500 and y2["waterfall"]["arrears_fen"] == 0
    lines = (await api.as_("kuaiji", "GET", f"/distributions/{y2['id']}/lines")).json()["items"]
    by = {(l["member_id"], l["basis"]): l["amount_fen"] for l in lines}
    assert by[(poor, "arrears")] == 5_500 and by[(poor, "floor")] == 10_000 and by[(collective, "shares")] == 74_500
    assert (await api.as_("shenji", "GET", "/ledger/verify")).json()["ok"]


async def test_notice_period_is_a_setting(demo_db):
    """HUINONG_NOTICE_DAYS_COOPERATIVE_PLAN raises the least 公示 period of a cooperative's plan."""
    from service.core.settings import load_settings
    from tests.conftest import _api

    assert load_settings({"HUINONG_NOTICE_DAYS_COOPERATIVE_PLAN": "20"}).notice_days_cooperative_plan == 20
    async for api in _api(demo_db, notice_days_cooperative_plan=20):
        await set_today(api, "2026-01-10")
        vid, _ = await cooperative_of_design_md(api)
        did = (
            await api.as_(
                "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 1_000_000}
            )
        ).json()["id"]
        await api.as_("kuaiji", "POST", f"/distributions/{did}/submit")
        r = await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve", json={"notice_days": 15})
        assert r.status_code == 422 and "20" in r.json()["detail"]
        r = await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve")
        assert r.json()["notice_ends_on"] == "2026-01-30"


async def test_submit_is_refused_once_submitted(api):
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    did = (
        await api.as_(
            "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 1_000_000}
        )
    ).json()["id"]
    assert (await api.as_("kuaiji", "POST", f"/distributions/{did}/submit")).status_code == 200
    r = await api.as_("kuaiji", "POST", f"/distributions/{did}/submit")
    assert r.status_code == 409 and r.json()["type"].endswith("distribution-status")
    assert r.json()["detail"] == "方案当前提交审核，不能提交"


async def _plans_of(api, vid) -> int:
    conn = await api.connect()
    try:
        return await conn.fetchval("SELECT count(*) FROM distributions WHERE venture_id = $1::uuid", vid)
    finally:
        await conn.close()


async def test_a_rule_bug_is_a_500_with_a_short_detail_and_a_log_line(api, monkeypatch, caplog):
    """A plan that does not account for every fen is the service's bug, not the user's input: 500,
    a short detail with none of the plan in it, a log line, and nothing written."""
    from service.distributions import rules

    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    real_allocate = rules.allocate

    def one_fen_too_many(amount, weights):
        parts = real_allocate(amount, weights)
        parts[next(iter(parts))] += 1
        return parts

    monkeypatch.setattr(rules, "allocate", one_fen_too_many)
    with caplog.at_level(logging.ERROR, logger="huinong"):
        r = await api.as_(
            "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 40_000_000}
        )
    assert r.status_code == 500, r.text
    assert r.json()["type"].endswith("/internal") and len(r.json()["detail"]) < 60
    assert "Plan" not in r.text and "fen" not in r.text
    logged = [rec for rec in caplog.records if rec.exc_info and isinstance(rec.exc_info[1], rules.ConservationError)]
    assert logged, "the bug is logged"
    assert all("PlanLine(" not in str(rec.exc_info[1]) for rec in logged)
    assert await _plans_of(api, vid) == 0


async def test_an_unexpected_value_error_from_the_rules_is_a_500_not_a_422(api):
    """A record date no year has (02-30) is refused when the venture is registered; one found in
    the database anyway is bad state the rules trip over, not the accountant's input."""
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    conn = await api.connect()
    try:
        await conn.execute("UPDATE ventures SET record_date_mmdd = '02-30' WHERE id = $1::uuid", vid)
    finally:
        await conn.close()
    r = await api.as_(
        "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 1_000_000}
    )
    assert r.status_code == 500, r.text
    assert r.json()["type"].endswith("/internal") and "day is out of range" not in r.text
    assert await _plans_of(api, vid) == 0


async def test_the_workflow_checks_the_bounds_the_schema_declares(api):
    """The CLI reaches the workflow without the API's schema: the same bounds, named by field."""
    from service.core.audit import Actor
    from service.core.errors import Invalid
    from service.core.principal import Principal
    from service.distributions.workflow import draft_distribution

    vid = await make_venture(api, model="branch_company")
    conn = await api.connect()
    try:
        for year, profit, field in ((2025, 10**16, "profit_fen"), (1999, 1_000, "fiscal_year")):
            with pytest.raises(Invalid) as caught:
                async with conn.transaction():
                    await draft_distribution(conn, Actor.system("test"), Principal.system("test"), vid, year, profit)
            assert caught.value.errors[0]["field"] == field
    finally:
        await conn.close()
    assert await _plans_of(api, vid) == 0
