"""Who may call what on the routes that move money: order-farming contracts and settlements,
distributions, payables and payment batches (bank file, bank return, reconciliation), a household's
bank card and its statement.

ROUTES is the table: method, path, the roles the route's guard admits (admin included wherever the
guard admits staff), a factory for a valid request, and the kind of object it acts on, which says
who lies outside its scope. Paths name the world's objects by placeholder: {contract} an unsettled
contract of kuaiji's enterprise, {settlement} that enterprise's settlement for household HOME,
{distribution} a distribution of kuaiji's cooperative that kuaiji submitted, {batch} an approved
payment batch and {draft} a draft one (one award payable each; a third is left unpaid),
{household} household HOME (621223100201-001), {county} the demo county. Every check runs over the
whole table:

- without a token, or with a forged one, every route answers 401 problem+json;
- every role the guard does not admit, a household included, gets 403 problem+json;
- every admitted role gets past the guard and the scope check for its own objects: a read answers
  200, a write anything but 401, 403, 404 or 5xx (a business rule may still refuse, e.g. approving
  a draft an earlier caller approved answers 409);
- callers outside the object's scope get 404 for an object named by id (403 for a county named in
  the query or body): another venture's accountant, a reviewer of another village, the township
  approver, finance officer, finance approver and auditor of another county, another household;
- none of the refusals changes anything (payables, journal entries, audit rows, batches, ...).

test_access_matrix.test_every_served_route_is_in_the_table reads ROUTES from this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from tests.api.test_access_matrix import FAR_COUNTY, FAR_TOWNSHIP
from tests.api.test_access_matrix import build_world as build_regions
from tests.api.test_auth_and_clock import assert_problem
from tests.api.test_distribution_workflow import cooperative_of_design_md, set_today
from tests.api.test_order_farming_api import contract, make_enterprise, purchase, settle
from tests.api.test_venture_access import Route as VentureRoute
from tests.conftest import DEMO_PASSWORD
from tests.payables_factory import make_payables

COUNTY = "621223000000"
HOME, NEIGHBOUR = "621223100201-001", "621223100201-002"

STAFF = frozenset(
    {"admin", "accountant", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"}
)
VENTURE_READERS = STAFF
VENTURE_WRITERS = frozenset({"admin", "accountant"})
SETTLEMENT_READERS = STAFF | {"household"}
APPROVERS_OF_PLANS = frozenset({"admin", "township_approver"})
PAYMENT_READERS = frozenset({"admin", "finance_officer", "finance_approver", "auditor"})
FINANCE = frozenset({"admin", "finance_officer", "finance_approver"})
MAKERS = frozenset({"admin", "finance_officer"})
CHECKERS = frozenset({"admin", "finance_approver"})
REGISTRARS = frozenset({"admin", "village_reviewer", "township_approver"})
# An accountant sees its venture's members, not what other ventures and the county pay them.
STATEMENT_READERS = frozenset(
    {"admin", "household", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"}
)

# The kinds of object a route acts on; each decides who lies outside its scope.
VENTURE, HOUSEHOLD, BATCH, COUNTY_NAMED = "venture", "household", "batch", "county"

# (login, role) of the demo county, all covering household HOME and kuaiji's ventures.
PLAYERS = [
    ("admin", "admin"),
    ("kuaiji", "accountant"),
    ("cunwei", "village_reviewer"),
    ("xiangzhen", "township_approver"),
    ("caizheng", "finance_officer"),
    ("caizheng2", "finance_approver"),
    ("shenji", "auditor"),
    (HOME, "household"),
]

# (login, role, the kinds of object of the demo county it must not reach). kuaiji2 keeps a venture
# of its own; cunwei2 reviews the next village; the *_far users serve the second county.
OUTSIDERS = [
    ("kuaiji2", "accountant", {VENTURE}),
    ("cunwei2", "village_reviewer", {VENTURE, HOUSEHOLD}),
    ("xiangzhen_far", "township_approver", {VENTURE, HOUSEHOLD}),
    ("caizheng_far", "finance_officer", {VENTURE, HOUSEHOLD, BATCH, COUNTY_NAMED}),
    ("caizheng2_far", "finance_approver", {VENTURE, HOUSEHOLD, BATCH, COUNTY_NAMED}),
    ("shenji_far", "auditor", {VENTURE, HOUSEHOLD, BATCH, COUNTY_NAMED}),
    (NEIGHBOUR, "household", {VENTURE, HOUSEHOLD}),
]
FAR_USERS = [
    ("xiangzhen_far", "township_approver", FAR_TOWNSHIP),
    ("caizheng_far", "finance_officer", FAR_COUNTY),
    ("caizheng2_far", "finance_approver", FAR_COUNTY),
    ("shenji_far", "auditor", FAR_COUNTY),
]


@dataclass(frozen=True)
class Route(VentureRoute):
    """A row of the venture table (its body factories here take the world's ids) that also says
    what kind of object it acts on."""

    acts_on: str = VENTURE

    @property
    def refused(self) -> int:
        # Objects named by id do not exist for outsiders; a county named in the query is refused.
        return 403 if self.acts_on == COUNTY_NAMED else 404


def _advance(ids: dict[str, str]) -> dict:
    return {"json": {"amount_fen": 2_500, "given_on": "2026-01-05", "item": "化肥"}}


def _purchase(ids: dict[str, str]) -> dict:
    return {"json": {"bought_on": "2026-01-05", "grade": "一等", "weight_g": 1_000, "market_price_fen_per_kg": 900}}


def _approve_plan(ids: dict[str, str]) -> dict:
    return {"json": {}}


def _batch(ids: dict[str, str]) -> dict:
    return {"json": {"county_code": ids["county"], "source": "award"}}


def _bank_return(ids: dict[str, str]) -> dict:
    # An empty return is refused by the import (422), after the guard and the scope let it through.
    return {"files": {"file": ("return.txt", b"", "text/plain")}}


def _card(ids: dict[str, str]) -> dict:
    return {"json": {"bank_name": "甘肃省农村信用社", "bank_account": "6228480402564890018"}}


ROUTES: list[Route] = [
    Route("GET", "/contracts/{contract}", VENTURE_READERS),
    Route("POST", "/contracts/{contract}/advances", VENTURE_WRITERS, _advance),
    Route("POST", "/contracts/{contract}/purchases", VENTURE_WRITERS, _purchase),
    Route("GET", "/settlements/{settlement}", SETTLEMENT_READERS),
    Route("POST", "/settlements/{settlement}/reverse", VENTURE_WRITERS),
    Route("GET", "/distributions/{distribution}", VENTURE_READERS),
    Route("GET", "/distributions/{distribution}/lines", VENTURE_READERS),
    Route("POST", "/distributions/{distribution}/submit", VENTURE_WRITERS),
    Route("POST", "/distributions/{distribution}/approve", APPROVERS_OF_PLANS, _approve_plan),
    Route("POST", "/distributions/{distribution}/post", VENTURE_WRITERS),
    Route("POST", "/distributions/{distribution}/reverse", VENTURE_WRITERS),
    Route("GET", "/payables?county_code={county}", PAYMENT_READERS, acts_on=COUNTY_NAMED),
    Route("POST", "/payment-batches", MAKERS, _batch, acts_on=COUNTY_NAMED),
    Route("GET", "/payment-batches?county_code={county}", PAYMENT_READERS, acts_on=COUNTY_NAMED),
    Route("GET", "/payment-batches/{batch}", PAYMENT_READERS, acts_on=BATCH),
    Route("POST", "/payment-batches/{draft}/approve", CHECKERS, acts_on=BATCH),
    Route("POST", "/payment-batches/{draft}/cancel", FINANCE, acts_on=BATCH),
    Route("GET", "/payment-batches/{batch}/bank-file", FINANCE, acts_on=BATCH),
    Route("POST", "/payment-batches/{batch}/returns", FINANCE, _bank_return, acts_on=BATCH),
    Route("GET", "/payment-batches/{batch}/reconciliation", PAYMENT_READERS, acts_on=BATCH),
    Route("GET", "/reconciliation?county_code={county}", PAYMENT_READERS, acts_on=COUNTY_NAMED),
    Route("PUT", "/households/{household}/bank-account", REGISTRARS, _card, acts_on=HOUSEHOLD),
    Route("GET", "/households/{household}/statement?year=2025", STATEMENT_READERS, acts_on=HOUSEHOLD),
]


@dataclass
class World:
    api: object
    ids: dict[str, str] = field(default_factory=dict)
    _households: dict[str, dict[str, str]] = field(default_factory=dict)

    async def headers(self, login: str) -> dict[str, str]:
        if "-" not in login:
            return await self.api.login(login)  # cached by Api
        if login not in self._households:
            self._households[login] = await self.api.household_login(login)
        return self._households[login]

    async def send(self, route: Route, login: str | None, headers: dict[str, str] | None = None) -> httpx.Response:
        if login:
            headers = await self.headers(login)
        return await self.api.client.request(
            route.method, route.path.format(**self.ids), headers=headers or {}, **route.body(self.ids)
        )

    async def snapshot(self) -> tuple:
        """Everything a money route could change: counts, statuses and the household's card."""
        conn = await self.api.connect()
        try:
            counts = [
                await conn.fetchval(f"SELECT count(*) FROM {t}")
                for t in (
                    "journal_entries",
                    "journal_lines",
                    "audit_log",
                    "payables",
                    "payable_payments",
                    "payment_batches",
                    "payment_batch_lines",
                    "payment_returns",
                    "farming_advances",
                    "farming_purchases",
                    "farming_settlements",
                    "distributions",
                    "notices",
                    "idempotency_keys",
                )
            ]
            statuses = [
                tuple(await conn.fetch(f"SELECT status, count(*) FROM {t} GROUP BY 1 ORDER BY 1"))
                for t in ("payables", "payment_batches", "farming_settlements", "distributions")
            ]
            card = await conn.fetchrow(
                "SELECT bank_name, bank_account_hash, bank_account_masked FROM households WHERE id = $1::uuid",
                self.ids["household"],
            )
            return (*counts, *statuses, tuple(card))
        finally:
            await conn.close()


async def _created(r: httpx.Response) -> dict:
    assert r.status_code in (200, 201), r.text
    return r.json()


async def build_world(api) -> World:
    """The demo county with one object of every kind, plus the outsiders of OUTSIDERS."""
    # cunwei2, the second county 621222 and a household there.
    await build_regions(api)
    for login, role, region in FAR_USERS:
        await _created(
            await api.as_(
                "admin",
                "POST",
                "/users",
                json={"username": login, "password": DEMO_PASSWORD, "role": role, "region_code": region},
            )
        )
    await _created(
        await api.as_(
            "admin", "POST", "/users", json={"username": "kuaiji2", "password": DEMO_PASSWORD, "role": "accountant"}
        )
    )
    await _created(
        await api.as_(
            "kuaiji2",
            "POST",
            "/ventures",
            json={
                "name": "别家合作社",
                "model": "cooperative",
                "village_code": "621223100201",
                "registered_capital_fen": 1_000_000,
                "charter": {"patronage_bp": 7000},
            },
        )
    )

    world = World(api)
    world.ids.update(county=COUNTY, household=await api.household_id(HOME))
    await set_today(api, "2026-01-10")
    company = await make_enterprise(api)
    settled = await contract(api, company, HOME, season_year=2025, contracted_g=10_000, floor=1000)
    await purchase(api, settled, "2025-10-01", 1_000, 1000)
    (item,) = (await _created(await settle(api, company, 2025)))["items"]
    assert item["household_id"] == world.ids["household"] and item["payable_fen"] == 1_000
    world.ids["settlement"] = item["id"]
    world.ids["contract"] = await contract(api, company, HOME, season_year=2026, contracted_g=10_000, floor=1000)

    coop, _ = await cooperative_of_design_md(api)
    plan = world.ids["distribution"] = (
        await _created(
            await api.as_(
                "kuaiji",
                "POST",
                f"/ventures/{coop}/distributions",
                json={"fiscal_year": 2025, "profit_fen": 40_000_000},
            )
        )
    )["id"]
    # Submitted by kuaiji, so that any admitted approver may approve it (nobody approves their own).
    await _created(await api.as_("kuaiji", "POST", f"/distributions/{plan}/submit"))

    conn = await api.connect()
    try:
        # One for each batch, and one left unpaid for the first admitted maker of a new batch.
        to_send, to_draft, _ = await make_payables(conn, COUNTY, [world.ids["household"]] * 3, 30_000)
    finally:
        await conn.close()
    batch = await _created(
        await api.as_("caizheng", "POST", "/payment-batches", json={"county_code": COUNTY, "payable_ids": [to_send]})
    )
    await _created(await api.as_("caizheng2", "POST", f"/payment-batches/{batch['id']}/approve"))
    world.ids["batch"] = batch["id"]
    world.ids["draft"] = (
        await _created(
            await api.as_(
                "caizheng", "POST", "/payment-batches", json={"county_code": COUNTY, "payable_ids": [to_draft]}
            )
        )
    )["id"]
    return world


# --- the checks --------------------------------------------------------------------------------


def expect(wrong: list[str], who: str, route: Route, r: httpx.Response, status: int) -> dict | None:
    """The problem+json body when r answers status; otherwise notes r in wrong, so that one run
    lists every route that answers wrongly."""
    if r.status_code != status:
        wrong.append(f"{who} {route.method} {route.path}: {r.status_code} {r.text[:200]}")
        return None
    return assert_problem(r, status)


async def test_without_a_token_every_money_route_is_401(api):
    world = await build_world(api)
    before = await world.snapshot()
    wrong = []
    for route in ROUTES:
        for headers in ({}, {"Authorization": "Bearer forged.token"}):
            r = await world.send(route, None, headers)
            if expect(wrong, str(headers), route, r, 401) is not None:
                assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert wrong == []
    assert await world.snapshot() == before


async def test_roles_the_guard_does_not_admit_get_403(api):
    world = await build_world(api)
    before = await world.snapshot()
    wrong = []
    for route in ROUTES:
        for login, role in PLAYERS:
            if role in route.roles:
                continue
            expect(wrong, login, route, await world.send(route, login), 403)
    assert wrong == []
    assert await world.snapshot() == before, "a refused request changed something"


async def test_admitted_roles_get_past_guard_and_scope(api):
    world = await build_world(api)
    wrong, tried = [], 0
    for route in ROUTES:
        for login, role in PLAYERS:
            if role not in route.roles:
                continue
            tried += 1
            r = await world.send(route, login)
            # A read answers its object. A write may be refused by a business rule (409, 422: an
            # earlier caller already approved the draft), but neither by the guard nor the scope.
            refused = r.status_code in (401, 403, 404) or r.status_code >= 500
            if refused or route.method == "GET" and r.status_code != 200:
                wrong.append(f"{login} {route.method} {route.path}: {r.status_code} {r.text[:200]}")
    assert wrong == []
    assert tried >= 60


async def test_callers_outside_the_objects_scope_are_refused(api):
    world = await build_world(api)
    before = await world.snapshot()
    wrong, tried = [], 0
    for route in ROUTES:
        for login, role, outside in OUTSIDERS:
            if role not in route.roles or route.acts_on not in outside:
                continue
            tried += 1
            body = expect(wrong, login, route, await world.send(route, login), route.refused)
            # A refusal does not describe what it refused.
            assert not any(v in str(body) for k, v in world.ids.items() if k != "county"), body
    assert wrong == []
    assert tried >= 60
    assert await world.snapshot() == before, "a refused request changed something"
