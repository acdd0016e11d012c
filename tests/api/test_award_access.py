"""Who may call what on the award and notice routes (issue 6).

ROUTES lists every award and notice route with the roles its guard admits; PUBLIC the routes
anyone may call (the public notice, filing an objection, verifying a certificate). The checks:
without a token every non-public route answers 401; every role the guard does not admit gets 403;
every admitted role gets past the guard (what its scope then allows is tested in test_awards.py).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from tests.api.test_awards import AFTER_NOTICE, COUNTY, SHARES, ready_to_grant, set_today

STAFF = frozenset({"admin", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"})
FINANCE = frozenset({"admin", "finance_officer"})
TOWNSHIP = frozenset({"admin", "township_approver"})
PLAYERS = [
    ("admin", "admin"),
    ("kuaiji", "accountant"),
    ("cunwei", "village_reviewer"),
    ("xiangzhen", "township_approver"),
    ("caizheng", "finance_officer"),
    ("caizheng2", "finance_approver"),
    ("shenji", "auditor"),
    ("621223100201-008", "household"),
]

PUBLIC = {("GET", "/notices/{}"), ("POST", "/notices/{}/objections"), ("GET", "/verify/{}")}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    roles: frozenset[str]
    body: dict | None = None
    upload: bool = False

    @property
    def template(self) -> str:
        return re.sub(r"\{[^}]*\}", "{}", self.path)


PROGRAM = {
    "county_code": COUNTY,
    "kind": "exit",
    "year": 2025,
    "amount_fen": 30_000,
    "budget_fen": 0,
    "cost_shares": SHARES,
}
ROUTES = [
    Route("POST", "/award-programs", FINANCE, PROGRAM),
    Route("GET", "/award-programs/{program}", STAFF),
    Route(
        "POST",
        "/award-programs/{program}/applications",
        frozenset({"admin", "village_reviewer", "household"}),
        {"household_id": "{household}", "declared_income_fen": 450_000},
    ),
    Route("GET", "/award-programs/{program}/applications", STAFF),
    Route("POST", "/award-programs/{program}/notices", frozenset({"admin", "township_approver", "finance_officer"})),
    Route("POST", "/award-programs/{program}/grants", FINANCE),
    Route("GET", "/applications/{application}", STAFF | {"household"}),
    Route(
        "POST",
        "/applications/{application}/reviews",
        frozenset({"admin", "village_reviewer", "township_approver"}),
        {"level": "village", "decision": "approve", "reason": ""},
    ),
    Route("POST", "/applications/{application}/decisions", TOWNSHIP, {"release": True, "reason": "核实"}),
    Route("POST", "/cross-check-lists/import", FINANCE, upload=True),
    Route("GET", "/certificates/{serial}", STAFF | {"household"}),
    Route("GET", "/notices/{notice}/objections", STAFF),
    Route("POST", "/objections/{objection}/resolve", TOWNSHIP, {"upheld": False, "reason": "经核实不成立"}),
]


async def world(api) -> dict[str, str]:
    pid, (granted_app, objected_app), notice = await ready_to_grant(api, [8, 9])
    r = await api.client.post(
        f"/notices/{notice['id']}/objections", json={"subject_id": objected_app, "reason": "收入不实"}
    )
    assert r.status_code == 201, r.text
    await set_today(api, AFTER_NOTICE)
    grant = await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")
    return {
        "program": pid,
        "application": granted_app,
        "notice": notice["id"],
        "objection": r.json()["id"],
        "serial": grant.json()["awards"][0]["serial"],
        "household": await api.household_id("621223100201-008"),
    }


async def send(api, route: Route, names: dict[str, str], headers: dict[str, str] | None):
    path = route.path.format(**names)
    kw: dict = {"headers": headers or {}}
    if route.upload:
        kw["files"] = {"file": ("list.csv", io.BytesIO(b"id_number,source\n"), "text/csv")}
    elif route.body is not None:
        kw["json"] = {k: (v.format(**names) if isinstance(v, str) else v) for k, v in route.body.items()}
    return await api.client.request(route.method, path, **kw)


async def login(api, name: str, role: str) -> dict[str, str]:
    return await api.household_login(name) if role == "household" else await api.login(name)


async def test_award_routes_need_a_token_and_the_right_role(api):
    names = await world(api)
    wrong = []
    for route in ROUTES:
        r = await send(api, route, names, None)
        if r.status_code != 401:
            wrong.append(f"{route.method} {route.path} without a token: {r.status_code}")
        for name, role in PLAYERS:
            r = await send(api, route, names, await login(api, name, role))
            guard_refused = r.status_code == 403 and "角色" in r.json().get("detail", "")
            if role in route.roles and (r.status_code == 401 or guard_refused):
                wrong.append(f"{route.method} {route.path} {role}: refused by the guard ({r.status_code})")
            if role not in route.roles and r.status_code != 403:
                wrong.append(f"{route.method} {route.path} {role}: {r.status_code}, expected 403")
    assert not wrong, "\n".join(wrong)


async def test_public_award_routes_need_no_token(api):
    names = await world(api)
    assert (await api.client.get(f"/notices/{names['notice']}")).status_code == 200
    assert (await api.client.get(f"/verify/{names['serial']}")).status_code == 200
    r = await api.client.post(
        f"/notices/{names['notice']}/objections", json={"subject_id": names["application"], "reason": "公示已结束"}
    )
    assert r.status_code == 409
