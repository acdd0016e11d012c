"""Who may call what on the award and notice routes (issue 6).

ROUTES lists every award and notice route (tests/access.py Routes) with the roles its guard admits;
PUBLIC the routes anyone may call (the public notice, filing an objection, verifying a
certificate). The checks: without a token, or with a forged one, every non-public route answers
401; every role the guard does not admit gets 403; every admitted role gets past the guard (what its
scope then allows is tested in test_awards.py). None of the refusals changes anything.
"""

from __future__ import annotations

from tests import access
from tests.access import Admitted, Call, Route, World
from tests.api.test_awards import AFTER_NOTICE, COUNTY, SHARES, ready_to_grant, set_today

STAFF = frozenset({"admin", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"})
FINANCE = frozenset({"admin", "finance_officer"})
TOWNSHIP = frozenset({"admin", "township_approver"})
HOUSEHOLD = "621223100201-008"
CALLERS = access.demo_callers(HOUSEHOLD)

PUBLIC = {("GET", "/notices/{}"), ("POST", "/notices/{}/objections"), ("GET", "/verify/{}")}


def _row(method: str, path: str, roles: frozenset[str], body=access.no_body) -> Route:
    return Route(method, path, roles, body, admitted=Admitted.PASSES_GUARD)


def _program(c: Call) -> dict:
    return {
        "json": {
            "county_code": COUNTY,
            "kind": "exit",
            "year": 2025,
            "amount_fen": 30_000,
            "budget_fen": 0,
            "cost_shares": SHARES,
        }
    }


def _application(c: Call) -> dict:
    return {"json": {"household_id": c.ids["household"], "declared_income_fen": 450_000}}


def _review(c: Call) -> dict:
    return {"json": {"level": "village", "decision": "approve", "reason": ""}}


def _decision(c: Call) -> dict:
    return {"json": {"release": True, "reason": "核实"}}


def _cross_check_list(c: Call) -> dict:
    return {"files": {"file": ("list.csv", b"id_number,source\n", "text/csv")}}


def _resolution(c: Call) -> dict:
    return {"json": {"upheld": False, "reason": "经核实不成立"}}


ROUTES = [
    _row("POST", "/award-programs", FINANCE, _program),
    _row("GET", "/award-programs", STAFF),
    _row("GET", "/award-programs/{program}", STAFF),
    _row(
        "POST",
        "/award-programs/{program}/applications",
        frozenset({"admin", "village_reviewer", "household"}),
        _application,
    ),
    _row("GET", "/award-programs/{program}/applications", STAFF),
    _row("POST", "/award-programs/{program}/notices", frozenset({"admin", "township_approver", "finance_officer"})),
    _row("POST", "/award-programs/{program}/grants", FINANCE),
    _row("GET", "/applications/{application}", STAFF | {"household"}),
    _row(
        "POST",
        "/applications/{application}/reviews",
        frozenset({"admin", "village_reviewer", "township_approver"}),
        _review,
    ),
    _row("POST", "/applications/{application}/decisions", TOWNSHIP, _decision),
    _row("POST", "/cross-check-lists/import", FINANCE, _cross_check_list),
    _row("GET", "/certificates/{serial}", STAFF | {"household"}),
    _row("GET", "/notices", STAFF),
    _row("GET", "/notices/{notice}/objections", STAFF),
    _row("POST", "/objections/{objection}/resolve", TOWNSHIP, _resolution),
]


async def build_world(api) -> World:
    """A granted programme: household 008's application granted, 009's objected to in the notice."""
    pid, (granted_app, objected_app), notice = await ready_to_grant(api, [8, 9])
    r = await api.client.post(
        f"/notices/{notice['id']}/objections", json={"subject_id": objected_app, "reason": "收入不实"}
    )
    assert r.status_code == 201, r.text
    await set_today(api, AFTER_NOTICE)
    grant = await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")
    ids = {
        "program": pid,
        "application": granted_app,
        "notice": notice["id"],
        "objection": r.json()["id"],
        "serial": grant.json()["awards"][0]["serial"],
        "household": await api.household_id(HOUSEHOLD),
    }
    return World(api, ids=ids)


async def test_award_routes_need_a_token(api):
    await access.unauthenticated(await build_world(api), ROUTES)


async def test_award_routes_refuse_roles_the_guard_does_not_admit(api):
    await access.guard_refuses(await build_world(api), ROUTES, CALLERS)


async def test_award_routes_let_admitted_roles_past_the_guard(api):
    await access.admitted(await build_world(api), ROUTES, CALLERS)


async def test_public_award_routes_need_no_token(api):
    world = await build_world(api)
    names = world.ids
    assert (await api.client.get(f"/notices/{names['notice']}")).status_code == 200
    assert (await api.client.get(f"/verify/{names['serial']}")).status_code == 200
    r = await api.client.post(
        f"/notices/{names['notice']}/objections", json={"subject_id": names["application"], "reason": "公示已结束"}
    )
    assert r.status_code == 409
