"""Who may call what on the routes that move money: order-farming contracts and settlements,
distributions, payables and payment batches (bank file, bank return, reconciliation), a household's
bank card and its statement.

ROUTES is the table (tests/access.py Routes): method, path, the roles the route's guard admits
(admin included wherever the guard admits staff), a factory for a valid request, and the kind of
object it acts on, which says who lies outside its scope. Paths name the world's objects by
placeholder: {contract} an unsettled contract of kuaiji's enterprise, {settlement} that
enterprise's settlement for household HOME, {distribution} a distribution of kuaiji's cooperative
that kuaiji submitted, {batch} an approved payment batch and {draft} a draft one (one award payable
each; a third is left unpaid), {household} household HOME (621223100201-001), {county} the demo
county. Every check runs over the whole table:

- without a token, or with a forged one, every route answers 401 problem+json;
- every role the guard does not admit, a household included, gets 403 problem+json;
- every admitted role gets past the guard and the scope check for its own objects: a read answers
  200, a write anything but 401, 403, 404 or 5xx (a business rule may still refuse, e.g. approving
  a draft an earlier caller approved answers 409);
- callers outside the object's scope get 404 for an object named by id (403 for a county named in
  the query or body): another venture's accountant, a reviewer of another village, the township
  approver, finance officer, finance approver and auditor of another county, another household;
- none of the refusals changes anything (tests/access.py compares every table).

test_access_matrix.test_every_served_route_is_in_the_table reads ROUTES from this module.
"""

from __future__ import annotations

import httpx

from tests import access
from tests.access import STAFF, Admitted, Call, Caller, Outsider, Route, World, add_user
from tests.api.test_access_matrix import FAR_COUNTY, FAR_TOWNSHIP
from tests.api.test_access_matrix import build_world as build_regions
from tests.api.test_distribution_workflow import cooperative_of_design_md, set_today
from tests.api.test_order_farming_api import contract, make_enterprise, purchase, settle
from tests.payables_factory import make_payables

COUNTY = "621223000000"
HOME, NEIGHBOUR = "621223100201-001", "621223100201-002"

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

# The demo county's staff and household HOME, all covering household HOME and kuaiji's ventures.
CALLERS = access.demo_callers(HOME)

# Outsiders, with the kinds of object of the demo county they must not reach. kuaiji2 keeps a
# venture of its own; cunwei2 reviews the next village; the *_far users serve the second county.
FAR_USERS = [
    ("xiangzhen_far", "township_approver", FAR_TOWNSHIP),
    ("caizheng_far", "finance_officer", FAR_COUNTY),
    ("caizheng2_far", "finance_approver", FAR_COUNTY),
    ("shenji_far", "auditor", FAR_COUNTY),
]
OUTSIDERS = [
    Outsider(Caller("kuaiji2", "accountant"), frozenset({VENTURE})),
    Outsider(Caller("cunwei2", "village_reviewer"), frozenset({VENTURE, HOUSEHOLD})),
    Outsider(Caller("xiangzhen_far", "township_approver"), frozenset({VENTURE, HOUSEHOLD})),
    Outsider(Caller("caizheng_far", "finance_officer"), frozenset({VENTURE, HOUSEHOLD, BATCH, COUNTY_NAMED})),
    Outsider(Caller("caizheng2_far", "finance_approver"), frozenset({VENTURE, HOUSEHOLD, BATCH, COUNTY_NAMED})),
    Outsider(Caller("shenji_far", "auditor"), frozenset({VENTURE, HOUSEHOLD, BATCH, COUNTY_NAMED})),
    Outsider(Caller(NEIGHBOUR, "household"), frozenset({VENTURE, HOUSEHOLD})),
]


def _row(method: str, path: str, roles: frozenset[str], body=access.no_body, acts_on: str = VENTURE) -> Route:
    """A money route: admitted callers get past guard and scope; objects named by id do not exist
    for outsiders (404), a county named in the query or body is refused (403)."""
    refused = frozenset({403}) if acts_on == COUNTY_NAMED else frozenset({404})
    return Route(method, path, roles, body, acts_on=acts_on, refused=refused, admitted=Admitted.PASSES_SCOPE)


def _advance(c: Call) -> dict:
    return {"json": {"amount_fen": 2_500, "given_on": "2026-01-05", "item": "化肥"}}


def _purchase(c: Call) -> dict:
    return {"json": {"bought_on": "2026-01-05", "grade": "一等", "weight_g": 1_000, "market_price_fen_per_kg": 900}}


def _approve_plan(c: Call) -> dict:
    return {"json": {}}


def _return_plan(c: Call) -> dict:
    return {"json": {"reason": "请核对交易量"}}


def _batch(c: Call) -> dict:
    return {"json": {"county_code": c.ids["county"], "source": "award"}}


def _bank_return(c: Call) -> dict:
    # An empty return is refused by the import (422), after the guard and the scope let it through.
    return {"files": {"file": ("return.txt", b"", "text/plain")}}


def _card(c: Call) -> dict:
    return {"json": {"bank_name": "甘肃省农村信用社", "bank_account": "6228480402564890018"}}


ROUTES: list[Route] = [
    _row("GET", "/contracts/{contract}", VENTURE_READERS),
    _row("POST", "/contracts/{contract}/advances", VENTURE_WRITERS, _advance),
    _row("POST", "/contracts/{contract}/purchases", VENTURE_WRITERS, _purchase),
    _row("GET", "/settlements/{settlement}", SETTLEMENT_READERS),
    _row("POST", "/settlements/{settlement}/reverse", VENTURE_WRITERS),
    _row("GET", "/distributions/{distribution}", VENTURE_READERS),
    _row("GET", "/distributions/{distribution}/lines", VENTURE_READERS),
    _row("POST", "/distributions/{distribution}/submit", VENTURE_WRITERS),
    _row("POST", "/distributions/{distribution}/approve", APPROVERS_OF_PLANS, _approve_plan),
    _row("POST", "/distributions/{distribution}/post", VENTURE_WRITERS),
    _row("POST", "/distributions/{distribution}/return", APPROVERS_OF_PLANS, _return_plan),
    _row("POST", "/distributions/{distribution}/reverse", VENTURE_WRITERS),
    _row("GET", "/payables?county_code={county}", PAYMENT_READERS, acts_on=COUNTY_NAMED),
    _row("POST", "/payment-batches", MAKERS, _batch, acts_on=COUNTY_NAMED),
    _row("GET", "/payment-batches?county_code={county}", PAYMENT_READERS, acts_on=COUNTY_NAMED),
    _row("GET", "/payment-batches/{batch}", PAYMENT_READERS, acts_on=BATCH),
    _row("POST", "/payment-batches/{draft}/approve", CHECKERS, acts_on=BATCH),
    _row("POST", "/payment-batches/{draft}/cancel", FINANCE, acts_on=BATCH),
    _row("GET", "/payment-batches/{batch}/bank-file", FINANCE, acts_on=BATCH),
    _row("POST", "/payment-batches/{batch}/returns", FINANCE, _bank_return, acts_on=BATCH),
    _row("GET", "/payment-batches/{batch}/reconciliation", PAYMENT_READERS, acts_on=BATCH),
    _row("GET", "/reconciliation?county_code={county}", PAYMENT_READERS, acts_on=COUNTY_NAMED),
    _row("PUT", "/households/{household}/bank-account", REGISTRARS, _card, acts_on=HOUSEHOLD),
    _row("GET", "/households/{household}/statement?year=2025", STATEMENT_READERS, acts_on=HOUSEHOLD),
]


async def _created(r: httpx.Response) -> dict:
    assert r.status_code in (200, 201), r.text
    return r.json()


async def build_world(api) -> World:
    """The demo county with one object of every kind, plus the outsiders of OUTSIDERS."""
    # cunwei2, the second county 621222 and a household there.
    await build_regions(api)
    for login, role, region in FAR_USERS:
        await add_user(api, login, role, region)
    await add_user(api, "kuaiji2", "accountant", "621223000000")
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

    ids = {"county": COUNTY, "household": await api.household_id(HOME)}
    await set_today(api, "2026-01-10")
    company = await make_enterprise(api)
    settled = await contract(api, company, HOME, season_year=2025, contracted_g=10_000, floor=1000)
    await purchase(api, settled, "2025-10-01", 1_000, 1000)
    (item,) = (await _created(await settle(api, company, 2025)))["items"]
    assert item["household_id"] == ids["household"] and item["payable_fen"] == 1_000
    ids["settlement"] = item["id"]
    ids["contract"] = await contract(api, company, HOME, season_year=2026, contracted_g=10_000, floor=1000)

    coop, _ = await cooperative_of_design_md(api)
    plan = ids["distribution"] = (
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
        to_send, to_draft, _ = await make_payables(conn, COUNTY, [ids["household"]] * 3, 30_000)
    finally:
        await conn.close()
    batch = await _created(
        await api.as_("caizheng", "POST", "/payment-batches", json={"county_code": COUNTY, "payable_ids": [to_send]})
    )
    await _created(await api.as_("caizheng2", "POST", f"/payment-batches/{batch['id']}/approve"))
    ids["batch"] = batch["id"]
    ids["draft"] = (
        await _created(
            await api.as_(
                "caizheng", "POST", "/payment-batches", json={"county_code": COUNTY, "payable_ids": [to_draft]}
            )
        )
    )["id"]
    # A refusal describes none of the objects (the county is named by the request itself).
    return World(api, ids=ids, hidden=frozenset(ids) - {"county"})


# --- the checks --------------------------------------------------------------------------------


async def test_without_a_token_every_money_route_is_401(api):
    await access.unauthenticated(await build_world(api), ROUTES)


async def test_roles_the_guard_does_not_admit_get_403(api):
    await access.guard_refuses(await build_world(api), ROUTES, CALLERS)


async def test_admitted_roles_get_past_guard_and_scope(api):
    await access.admitted(await build_world(api), ROUTES, CALLERS, at_least=60)


async def test_callers_outside_the_objects_scope_are_refused(api):
    await access.outsiders_refused(await build_world(api), ROUTES, OUTSIDERS, at_least=60)
