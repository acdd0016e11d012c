"""The distribution workflow through the API: draft, two-person approval, 公示, objection, post, reverse."""

import datetime as dt
import logging
from dataclasses import dataclass

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
    # Read back later, the plan still says how many payables its posting created (issue 13).
    assert (await api.as_("shenji", "GET", f"/distributions/{did}")).json()["payables_created"] == 6

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
    assert r.json()["status"] == "reversed" and r.json()["payables_created"] == 6  # created, since cancelled
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


# ---- years of every shape (issue 12) -------------------------------------------------------------


async def _company(api, *, registered_capital_fen, **charter):
    body = {
        "name": "凤凰谷旅游开发有限公司",
        "model": "branch_company",
        "village_code": "621223100201",
        "registered_capital_fen": registered_capital_fen,
        "record_date_mmdd": "12-31",
        "charter": {"patronage_bp": 6000, "reserve_bp": 1000, **charter},
    }
    r = await api.as_("kuaiji", "POST", "/ventures", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _moved(api, vid, **body):
    r = await move(api, vid, **body)
    assert r.status_code == 201, r.text


async def _founded(api, vid, on, *, collective, ordinary=(), poverty=()) -> dict[str, str]:
    """A register as of `on`: the collective subscribes (shares, capital); each ordinary holder
    (name, household_no, shares, capital) subscribes; each poverty holder is allocated (配股) its
    shares and capital out of the collective's. Member ids by name, the collective's as "村集体"."""
    ids = {"村集体": await add_member(api, vid, "collective", "村集体")}
    shares, capital = collective
    await _moved(
        api, vid, kind="subscribe", to_member_id=ids["村集体"], shares=shares, capital_fen=capital, effective_date=on
    )
    for name, household_no, shares, capital in ordinary:
        ids[name] = await add_member(api, vid, "household", name, household_no)
        await _moved(
            api, vid, kind="subscribe", to_member_id=ids[name], shares=shares, capital_fen=capital, effective_date=on
        )
    for name, household_no, shares, capital in poverty:
        ids[name] = await add_member(api, vid, "household", name, household_no)
        await _moved(
            api,
            vid,
            kind="allocate",
            from_member_id=ids["村集体"],
            to_member_id=ids[name],
            share_class="poverty",
            shares=shares,
            capital_fen=capital,
            effective_date=on,
        )
    return ids


async def _balances(api, vid) -> dict[str, int]:
    """The venture's account balances by code (debit +, credit −), as the ledger keeps them."""
    conn = await api.connect()
    try:
        rows = await conn.fetch(
            """SELECT a.code, coalesce(b.balance_fen, 0) AS balance FROM accounts a
               LEFT JOIN account_balances b ON b.county_code = a.county_code AND b.account_id = a.id
               WHERE a.owner_type = 'venture' AND a.owner_id = $1""",
            vid,
        )
    finally:
        await conn.close()
    return {r["code"]: r["balance"] for r in rows}


async def _ledger_verifies(api):
    r = await api.as_("shenji", "GET", "/ledger/verify")
    assert r.status_code == 200 and r.json()["ok"], r.json()


async def _draft(api, vid, year, profit):
    r = await api.as_(
        "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": year, "profit_fen": profit}
    )
    assert r.status_code == 201, r.text
    return r.json()


@dataclass(frozen=True)
class Year:
    """A year through the whole workflow, and what it left behind."""

    plan: dict  # the draft as computed
    notice: dict  # its public notice, as anyone reads it
    posted: dict  # the answer of post
    amounts: dict[tuple[str, str], int]  # (member, basis) → fen
    books: dict[str, int]  # the venture's balances by account code, after posting


async def _year(api, vid, year, profit) -> Year:
    """Draft on 10 January of the next year, submit, approve (公示), post the day after the notice
    ends; the plan read back says what posting created, and the ledger verifies."""
    await set_today(api, f"{year + 1}-01-10")
    plan = await _draft(api, vid, year, profit)
    did = plan["id"]
    assert (await api.as_("kuaiji", "POST", f"/distributions/{did}/submit")).status_code == 200
    r = await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve")
    assert r.status_code == 200, r.text
    approved = r.json()
    notice = await api.client.get(f"/notices/{approved['notice_id']}")
    assert notice.status_code == 200, notice.text
    await set_today(api, (dt.date.fromisoformat(approved["notice_ends_on"]) + dt.timedelta(days=1)).isoformat())
    r = await api.as_("kuaiji", "POST", f"/distributions/{did}/post")
    assert r.status_code == 200, r.text
    posted = r.json()
    assert posted["status"] == "posted"
    read_back = (await api.as_("shenji", "GET", f"/distributions/{did}")).json()
    assert read_back["payables_created"] == posted["payables_created"]
    await _ledger_verifies(api)
    lines = (await api.as_("kuaiji", "GET", f"/distributions/{did}/lines")).json()["items"]
    amounts = {(line["member_id"], line["basis"]): line["amount_fen"] for line in lines}
    return Year(plan, notice.json(), posted, amounts, await _balances(api, vid))


async def test_four_years_of_a_company_profit_loss_recovery_past_the_cap_and_a_thin_year(api):
    """A branch-held company with registered capital 20,000 yuan (the statutory reserve stops at
    10,000 yuan) and a `minimum` floor of 10% on poverty shares, through four years of the same
    workflow: draft, submit, approve with its 公示, post, and the ledger verified after each.

    Shares (1,900): the collective 1,350 (after allocating 150), villagers A 300 and B 100, poor
    households P1 100 on 100,000 fen of capital (floor 10,000) and P2 50 on 20,000 (floor 2,000)."""
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
    collective, a, b, p1, p2 = m["村集体"], m["A"], m["B"], m["P1"], m["P2"]

    # 2022, a profit of 38,000 yuan: statutory reserve 10% = 3,800; distributable 34,200 yuan,
    # 18 yuan a share, above both floors (P1 1,800 > 100 yuan, P2 900 > 20 yuan).
    y = await _year(api, vid, 2022, 3_800_000)
    assert y.plan["waterfall"]["statutory_reserve_fen"] == 380_000
    assert y.plan["waterfall"]["distributable_fen"] == 3_420_000
    assert y.amounts == {
        (collective, "shares"): 2_430_000,
        (a, "shares"): 540_000,
        (b, "shares"): 180_000,
        (p1, "shares"): 180_000,
        (p2, "shares"): 90_000,
    }
    assert y.posted["payables_created"] == 4  # the four households; the collective's stays in 2232
    assert y.books["4104"] == 0 and y.books["410101"] == -380_000 and y.books["2232"] == -3_420_000

    # 2023, a loss of 12,000 yuan: carried forward, the reserve untouched, nothing to anyone; the
    # plan is still approved with a public notice (of no household) and posted.
    y = await _year(api, vid, 2023, -1_200_000)
    assert y.plan["waterfall"]["loss_added_fen"] == 1_200_000
    assert y.plan["waterfall"]["statutory_reserve_fen"] == y.plan["waterfall"]["distributable_fen"] == 0
    assert y.plan["lines_total"] == 0 and y.plan["carried_out"]["losses_carried_fen"] == 1_200_000
    assert y.plan["carried_out"]["statutory_reserve_balance_fen"] == 380_000
    assert y.notice["items"] == [] and y.amounts == {}
    assert y.posted["entry_id"] and y.posted["payables_created"] == 0
    assert y.books["4104"] == 1_200_000 and y.books["410101"] == -380_000  # the loss, carried in 4104

    # 2024, a profit of 94,200 yuan: the loss of 12,000 covered first → 82,200; 10% would be
    # 8,220 but only 10,000 − 3,800 = 6,200 fits under the cap; distributable 76,000 yuan, 40 a share.
    y = await _year(api, vid, 2024, 9_420_000)
    assert y.plan["carried_in"]["losses_carried_fen"] == 1_200_000
    assert y.plan["carried_in"]["statutory_reserve_balance_fen"] == 380_000
    w = y.plan["waterfall"]
    assert (w["losses_covered_fen"], w["statutory_reserve_fen"], w["distributable_fen"]) == (
        1_200_000,
        620_000,
        7_600_000,
    )
    assert y.amounts == {
        (collective, "shares"): 5_400_000,
        (a, "shares"): 1_200_000,
        (b, "shares"): 400_000,
        (p1, "shares"): 400_000,
        (p2, "shares"): 200_000,
    }
    assert y.posted["payables_created"] == 4
    assert y.books["4104"] == 0 and y.books["410101"] == -1_000_000  # exactly 50% of registered capital

    # 2025, a thin profit of 1,000.03 yuan: the reserve is at its cap, so all of it is
    # distributable. Per share 52.6 fen: P1 (100 fen of floor per share) falls below and gets its
    # 10,000; of the 90,003 left, per share 50.0 fen over 1,800 shares, above P2's 40: P2 is not
    # set aside and shares by weight with everyone else, in one largest-remainder step:
    #   collective 90,003 × 1,350 / 1,800 = 67,502.25  → 67,502
    #   A          90,003 ×   300 / 1,800 = 15,000.5   → 15,000, and the one fen left over (.5)
    #   B          90,003 ×   100 / 1,800 =  5,000.17  →  5,000
    #   P2         90,003 ×    50 / 1,800 =  2,500.08  →  2,500, above its 2,000 floor
    y = await _year(api, vid, 2025, 100_003)
    assert y.plan["waterfall"]["statutory_reserve_fen"] == 0 and y.plan["waterfall"]["distributable_fen"] == 100_003
    assert y.plan["waterfall"]["floor_paid_fen"] == 10_000
    assert y.amounts == {
        (collective, "shares"): 67_502,
        (a, "shares"): 15_001,
        (b, "shares"): 5_000,
        (p1, "floor"): 10_000,
        (p2, "shares"): 2_500,
    }
    assert y.posted["payables_created"] == 4
    assert y.books["410101"] == -1_000_000


async def test_approve_a_loss_year_with_an_empty_body_and_refuse_a_broken_one(api):
    """Issue 13: approve with an empty body answered 500 on a plan with no household line (its
    notice was refused for having no subject). An empty or absent body takes the default period;
    a body that is there must parse, or nothing happens."""
    await set_today(api, "2026-01-10")
    vid = await _company(api, registered_capital_fen=2_000_000)
    await _founded(api, vid, "2025-01-01", collective=(10, 1_000))
    did = (await _draft(api, vid, 2025, -5))["id"]
    assert (await api.as_("kuaiji", "POST", f"/distributions/{did}/submit")).status_code == 200
    json_type = {"content-type": "application/json"}
    r = await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve", content=b'{"a": 1,', headers=json_type)
    assert r.status_code == 400, r.text
    r = await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve", json={"notice_days": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "notice_days"
    assert (await api.as_("kuaiji", "GET", f"/distributions/{did}")).json()["status"] == "submitted"
    r = await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve", content=b"", headers=json_type)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_notice" and r.json()["notice_ends_on"] == "2026-01-20"  # a company: 10 days


async def test_fixed_guaranteed_returns_are_owed_against_6603_every_year(api):
    """A company with a `fixed` 10% guaranteed return (资产收益) on 80,000 yuan of poverty capital:
    8,000 yuan a year, a cost its income statement already carries. DESIGN.md's figures: a
    profit of 50,000 yuan leaves reserve 5,000 and distributable 45,000 (it was 4,200 and 37,800
    when the returns were deducted a second time); a loss year still owes the returns."""
    await set_today(api, "2024-01-05")
    vid = await _company(
        api, registered_capital_fen=100_000_000, floor_mode="fixed", floor_bp=1000, poverty_participates=False
    )
    m = await _founded(
        api,
        vid,
        "2024-01-01",
        collective=(28_000, 28_000_000),
        ordinary=[("V", "621223100201-021", 5_000, 5_000_000)],
        poverty=[("P1", "621223100201-022", 5_000, 5_000_000), ("P2", "621223100201-023", 3_000, 3_000_000)],
    )
    collective, v, p1, p2 = m["村集体"], m["V"], m["P1"], m["P2"]

    y = await _year(api, vid, 2024, 5_000_000)
    w = y.plan["waterfall"]
    assert (w["statutory_reserve_fen"], w["distributable_fen"], w["floor_expense_fen"]) == (500_000, 4_500_000, 800_000)
    # The ordinary shares 20,000 : 5,000 share the 45,000 yuan; the returns are on top of it.
    assert y.amounts == {
        (collective, "shares"): 3_600_000,
        (v, "shares"): 900_000,
        (p1, "floor"): 500_000,
        (p2, "floor"): 300_000,
    }
    assert y.posted["payables_created"] == 3
    assert y.books["6603"] == 800_000 and y.books["2231"] == -800_000  # Dr 财务费用 / Cr 应付利息
    assert y.books["2232"] == -4_500_000 and y.books["410101"] == -500_000 and y.books["4104"] == 0

    # 2025 loses 10,000 yuan: the loss is carried as it is (not 18,000), and the two returns are
    # owed all the same, publicly noticed and posted as payables against 6603.
    y = await _year(api, vid, 2025, -1_000_000)
    assert y.plan["waterfall"]["loss_added_fen"] == 1_000_000
    assert y.plan["carried_out"]["losses_carried_fen"] == 1_000_000
    assert sorted(item["amount_fen"] for item in y.notice["items"]) == [300_000, 500_000]
    assert y.amounts == {(p1, "floor"): 500_000, (p2, "floor"): 300_000}
    assert y.posted["payables_created"] == 2
    assert y.books["4104"] == 1_000_000 and y.books["6603"] == 1_600_000 and y.books["2231"] == -1_600_000
    conn = await api.connect()
    try:
        owed = await conn.fetch(
            """SELECT a.code, p.amount_fen FROM payables p JOIN accounts a ON a.id = p.payable_account_id
               WHERE p.source = 'distribution' AND p.source_id = $1 ORDER BY p.amount_fen""",
            y.plan["id"],
        )
    finally:
        await conn.close()
    assert [(r["code"], r["amount_fen"]) for r in owed] == [("2231", 300_000), ("2231", 500_000)]

    # 2026 earns 4,000 yuan, less than the 10,000 yuan carried: all of it covers losses, nothing is
    # distributable and the reserve is untouched; the returns are owed once more.
    y = await _year(api, vid, 2026, 400_000)
    w = y.plan["waterfall"]
    assert (w["losses_covered_fen"], w["statutory_reserve_fen"], w["distributable_fen"]) == (400_000, 0, 0)
    assert y.plan["carried_out"]["losses_carried_fen"] == 600_000
    assert y.amounts == {(p1, "floor"): 500_000, (p2, "floor"): 300_000}
    assert y.posted["payables_created"] == 2
    assert y.books["4104"] == 600_000 and y.books["410101"] == -500_000 and y.books["6603"] == 2_400_000


async def test_a_cooperatives_loss_year_closes_to_332_and_owes_its_guaranteed_returns_against_524(api):
    """A cooperative with a `fixed` 5% return on a member's 1,000 yuan of poverty shares (50 yuan)
    loses 200 yuan: the loss goes to 332 盈余分配 as it is, nothing is returned or distributed, the
    reserve fund is untouched, and the 50 yuan are owed against 524 财务费用 (Cr 211 应付款) after a
    15-day notice (art. 40)."""
    await set_today(api, "2025-01-05")
    vid = await make_venture(api, model="cooperative", floor_mode="fixed", floor_bp=500)
    a = await add_member(api, vid, "household", "社员", "621223100201-041")
    p = await add_member(api, vid, "household", "贫困户社员", "621223100201-042")
    await _moved(
        api, vid, kind="subscribe", to_member_id=a, shares=500, capital_fen=50_000, effective_date="2025-01-01"
    )
    await _moved(
        api,
        vid,
        kind="subscribe",
        to_member_id=p,
        share_class="poverty",
        shares=1000,
        capital_fen=100_000,
        effective_date="2025-01-01",
    )
    y = await _year(api, vid, 2025, -20_000)
    w = y.plan["waterfall"]
    assert (w["loss_added_fen"], w["reserve_fen"], w["patronage_fen"], w["floor_expense_fen"]) == (20_000, 0, 0, 5_000)
    assert y.posted["notice_ends_on"] == "2026-01-25"
    assert y.amounts == {(p, "floor"): 5_000}
    assert y.posted["payables_created"] == 1
    assert y.books["332"] == 20_000 and y.books["524"] == 5_000 and y.books["211"] == -5_000
    assert y.books.get("322", 0) == 0 and y.books.get("222", 0) == 0


async def test_poverty_shares_reclaimed_to_the_collective_earn_it_no_floor(api):
    """谁贫困谁享受: household A leaves poverty on 30 June 2025 and its 100 poverty shares go back to
    the collective, not yet reallocated. At the record date they count as the collective's
    ordinary shares, with no floor; B's floor stays."""
    await set_today(api, "2025-01-05")
    vid = await _company(
        api, registered_capital_fen=100_000_000, floor_mode="minimum", floor_bp=1000, poverty_follows_status=True
    )
    m = await _founded(
        api,
        vid,
        "2025-01-02",
        collective=(1150, 1_150_000),
        poverty=[("A", "621223100201-031", 100, 100_000), ("B", "621223100201-032", 50, 50_000)],
    )
    await set_today(api, "2025-07-01")
    hid = await api.household_id("621223100201-031")
    r = await api.as_(
        "cunwei",
        "POST",
        f"/households/{hid}/status-events",
        json={"kind": "exited", "year": 2025, "effective_date": "2025-06-30"},
    )
    assert r.status_code == 201, r.text

    # Profit 1,000 yuan: reserve 100, distributable 900 yuan over 1,150 shares: the collective's
    # 1,000 ordinary and 100 reclaimed, B's 50. B's share, 90,000 × 50 / 1,150 = 3,913 fen, is
    # below its 5,000 floor: B gets 5,000; the other 85,000 go to the collective's 1,100 shares.
    # (The reclaimed shares used to earn the collective a floor line of 10,000 fen, topped up from
    # the others where by weight they come to 7,826.)
    y = await _year(api, vid, 2025, 100_000)
    assert y.amounts == {(m["村集体"], "shares"): 85_000, (m["B"], "floor"): 5_000}
    assert y.plan["waterfall"]["floor_paid_fen"] == 5_000
    assert y.posted["payables_created"] == 1
