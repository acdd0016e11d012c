"""A household applies for its exit or 小康 award itself, through the API (issue 18): the programmes
open to it, its income breakdown and commitment, one application per programme, withdrawal before
the village review, and following its own application to the certificate and the payment."""

from __future__ import annotations

import asyncpg
import pytest

from tests.api.test_awards import (
    AFTER_NOTICE,
    START,
    hh_no,
    ledger_ok,
    make_program,
    publish,
    record_exit,
    review,
    set_today,
)
from tests.api.test_statements import SETTLEMENT_A, settle_potatoes

A, B = hh_no(1), hh_no(2)


def breakdown(wage=700_001, business=SETTLEMENT_A, prop=0, transfer=50_000, people=2) -> dict:
    return {
        "wage_fen": wage,
        "business_net_fen": business,
        "property_net_fen": prop,
        "transfer_net_fen": transfer,
        "people": people,
    }


async def as_household(api, household_no: str, method: str, url: str, **kw):
    headers = await api.household_login(household_no)
    return await api.client.request(method, url, headers=headers, **kw)


async def household_applies(api, pid: str, household_no: str, declared: int, parts: dict, accepted=True):
    body = {
        "household_id": await api.household_id(household_no),
        "declared_income_fen": declared,
        "income_breakdown": parts,
        "commitment_accepted": accepted,
    }
    return await as_household(api, household_no, "POST", f"/award-programs/{pid}/applications", json=body)


async def applications_of(api, pid: str) -> list[dict]:
    r = await api.as_("caizheng", "GET", f"/award-programs/{pid}/applications")
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_household_applies_with_its_income_breakdown_and_commitment(api):
    await set_today(api, START)
    await settle_potatoes(api, A)  # 1,500.00 yuan of 2025 purchase settlements the service knows of
    pid = await make_program(api)
    await record_exit(api, A)
    a_id, b_id = await api.household_id(A), await api.household_id(B)

    r = await as_household(api, A, "GET", f"/households/{a_id}/award-programs")
    assert r.status_code == 200, r.text
    (offer,) = r.json()["items"]
    assert offer["id"] == pid and offer["can_apply"] and offer["application"] is None
    assert offer["line_fen"] == 400_000 and offer["line_name"] == "脱贫标准" and offer["amount_fen"] == 30_000
    assert offer["recorded_income"] == {"business_net_fen": SETTLEMENT_A, "property_net_fen": 0, "transfer_net_fen": 0}
    assert (await as_household(api, A, "GET", f"/households/{b_id}/award-programs")).status_code == 404

    # (700,001 + 150,000 + 0 + 50,000) ÷ 2 = 450,000.5 fen, rounded half up to 450,001.
    parts = breakdown()
    refused = [
        ({"household_id": a_id, "declared_income_fen": 450_001}, {"income_breakdown", "commitment_accepted"}),
        ({"household_id": a_id, "declared_income_fen": 450_001, "income_breakdown": parts}, {"commitment_accepted"}),
        (
            {
                "household_id": a_id,
                "declared_income_fen": 450_001,
                "income_breakdown": parts,
                "commitment_accepted": False,
            },
            {"commitment_accepted"},
        ),
        (
            {
                "household_id": a_id,
                "declared_income_fen": 450_000,
                "income_breakdown": parts,
                "commitment_accepted": True,
            },
            {"declared_income_fen"},
        ),
    ]
    for body, fields in refused:
        r = await as_household(api, A, "POST", f"/award-programs/{pid}/applications", json=body)
        assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == fields, r.text
    r = await household_applies(api, pid, A, 450_000, parts)
    assert "4500.01" in r.json()["errors"][0]["message"]  # says what the figure should be
    r = await household_applies(api, pid, A, 450_001, {**parts, "people": 0})
    assert r.status_code == 422 and "people" in r.text
    assert await applications_of(api, pid) == []  # nothing was filed

    r = await household_applies(api, pid, A, 450_001, parts)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["status"] == "pending_village" and got["stage"] == "village" and got["filed_by_household"]
    assert got["income_breakdown"] == parts and got["declared_income_fen"] == 450_001
    assert got["income_recorded"] == offer["recorded_income"]
    assert got["commitment"]["title"] == "脱贫承诺" and "真实" in got["commitment"]["text"]
    assert got["commitment"]["accepted_at"]
    plain = {c["name"]: c["plain"] for c in got["checks"]}
    assert plain["registered_poor_at_year_start"] == "您家是 2016 年登记的贫困户"
    assert plain["income_at_or_above_line"] == "您家人均纯收入 4,500.01 元，达到 2025 年脱贫标准 4,000.00 元"

    # Applying again shows the one in progress.
    again = await household_applies(api, pid, A, 450_001, parts)
    assert again.status_code == 409 and again.json()["application_id"] == got["id"], again.text
    offer = (await as_household(api, A, "GET", f"/households/{a_id}/award-programs")).json()["items"][0]
    assert offer["application"] == {"id": got["id"], "status": "pending_village", "stage": "village"}
    assert not offer["can_apply"]

    # Its own application, for itself and its reviewers; nobody else's.
    assert (await as_household(api, A, "GET", f"/applications/{got['id']}")).json()["id"] == got["id"]
    assert (await as_household(api, B, "GET", f"/applications/{got['id']}")).status_code == 404
    seen = (await api.as_("cunwei", "GET", f"/applications/{got['id']}")).json()
    assert seen["filed_by_household"] and seen["income_breakdown"] == parts
    (listed,) = await applications_of(api, pid)
    assert listed["filed_by_household"] and listed["income_breakdown"] == parts

    # The database holds the figure to its breakdown as well.
    conn = await api.connect()
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "UPDATE award_applications SET declared_income_fen = 450000 WHERE id = $1::uuid", got["id"]
            )
    finally:
        await conn.close()
    audit = (await api.as_("shenji", "GET", "/audit-log", params={"limit": 500})).json()["items"]
    (filed,) = [e for e in audit if e["action"] == "award_application.submit"]
    assert filed["actor"].startswith("household:") and filed["object_id"] == got["id"] and filed["after_digest"]


async def test_a_household_withdraws_before_the_village_review_and_may_apply_again(api):
    await set_today(api, START)
    pid = await make_program(api)
    await record_exit(api, A)
    parts = breakdown()
    first = (await household_applies(api, pid, A, 450_001, parts)).json()
    assert (await api.as_("cunwei", "POST", f"/applications/{first['id']}/withdraw")).status_code == 403
    assert (await as_household(api, B, "POST", f"/applications/{first['id']}/withdraw")).status_code == 404
    r = await as_household(api, A, "POST", f"/applications/{first['id']}/withdraw")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn" and r.json()["stage"] == "withdrawn", r.text
    assert (await as_household(api, A, "POST", f"/applications/{first['id']}/withdraw")).status_code == 409

    second = await household_applies(api, pid, A, 450_001, parts)
    assert second.status_code == 201 and second.json()["id"] != first["id"], second.text
    assert (await review(api, second.json()["id"], "village")).status_code == 201
    r = await as_household(api, A, "POST", f"/applications/{second.json()['id']}/withdraw")
    assert r.status_code == 409 and "不能再撤回" in r.json()["detail"]
    statuses = sorted(a["status"] for a in await applications_of(api, pid))
    assert statuses == ["pending_township", "withdrawn"]


async def test_a_household_follows_its_application_to_the_certificate_and_the_payment(api):
    await set_today(api, START)
    pid = await make_program(api)
    await record_exit(api, A)
    app_id = (await household_applies(api, pid, A, 450_001, breakdown())).json()["id"]
    await review(api, app_id, "village")
    r = await review(api, app_id, "township", "approve", "经入户核实")
    assert r.json()["stage"] == "notice"
    notice = await publish(api, pid)
    got = (await as_household(api, A, "GET", f"/applications/{app_id}")).json()
    assert got["status"] == "in_notice" and got["stage"] == "notice"
    assert (got["notice_id"], got["notice_starts_on"], got["notice_ends_on"]) == (notice["id"], START, "2026-01-17")
    assert got["certificate_serial"] is None and got["payment"] is None
    assert [v["reason"] for v in got["reviews"]] == ["情况属实", "经入户核实"]

    await set_today(api, AFTER_NOTICE)
    assert (await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")).json()["granted"] == 1
    got = (await as_household(api, A, "GET", f"/applications/{app_id}")).json()
    assert got["status"] == "granted" and got["stage"] == "granted"
    assert got["certificate_serial"] == "TP-621223-2025-000001"
    payment = got["payment"]
    assert (payment["amount_fen"], payment["status"], payment["paid_on"]) == (30_000, "unpaid", None)
    headers = await api.household_login(A)
    assert (await api.client.get(f"/certificates/{got['certificate_serial']}", headers=headers)).status_code == 200
    await ledger_ok(api)


async def test_the_programmes_open_to_a_household(api):
    await set_today(api, START)
    exit_pid = await make_program(api)
    xiaokang = await make_program(api, kind="xiaokang", amount_fen=50_000)
    await make_program(api, opens_on="2026-02-01", closes_on="2026-03-01")  # not yet open
    a_id = await api.household_id(A)

    async def offered() -> dict[str, bool]:
        r = await as_household(api, A, "GET", f"/households/{a_id}/award-programs")
        assert r.status_code == 200, r.text
        return {o["id"]: o["can_apply"] for o in r.json()["items"]}

    # No exit recorded: only the 小康 award is open to it.
    assert await offered() == {xiaokang: True}
    await record_exit(api, A)
    assert await offered() == {exit_pid: True, xiaokang: True}
    # Staff who may read the household see the same; a household of another county's scope does not.
    r = await api.as_("cunwei", "GET", f"/households/{a_id}/award-programs")
    assert {o["id"] for o in r.json()["items"]} == {exit_pid, xiaokang}
    assert (await api.as_("kuaiji", "GET", f"/households/{a_id}/award-programs")).status_code == 403

    # Rejected for its income, it may apply again (a corrected figure); the rejection stays visible.
    low = breakdown(wage=50_000, business=50_000, transfer=0, people=1)
    r = await household_applies(api, exit_pid, A, 100_000, low)
    assert r.status_code == 201 and r.json()["status"] == "rejected", r.text
    items = (await as_household(api, A, "GET", f"/households/{a_id}/award-programs")).json()["items"]
    (mine,) = [o for o in items if o["id"] == exit_pid]
    assert mine["can_apply"] and mine["application"]["status"] == "rejected"
