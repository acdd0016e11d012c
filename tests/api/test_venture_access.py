"""Who may call what on every /ventures and /ledger route (issue 3).

ROUTES is the table (tests/access.py Routes): method, path, the roles the route admits and a
factory for a valid request. Paths name their objects by placeholder: {coop} a cooperative of the
demo accountant kuaiji, {company} an enterprise of kuaiji (order farming is for companies),
{member} a member of {coop}, {proposal} a reallocation proposal of {coop}. Every check runs over
the whole table:

- without a token, or with a forged one, every route answers 401;
- every staff role the route does not admit, and a household, gets 403;
- every role the route admits gets through the guard and the venture scope (2xx for this issue's
  routes; for routes of other issues, whose own tests cover success, no 401, 403, 404 or 5xx and
  200 for a read);
- an accountant of another venture (created through POST /users, with a venture of its own) gets
  404 on every route that names a venture, both ways round, and a village reviewer gets 404 for a
  venture outside its village; none of those refusals changes anything, nor shows the ids refused.

A route served under /ventures or /ledger that is not in the table fails
test_every_venture_and_ledger_route_is_in_the_table: whoever adds one adds a row here.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests import access
from tests.access import Admitted, Call, Caller, Outsider, Route, World, add_user
from tests.conftest import DEMO_PASSWORD

VILLAGE = "621223100201"
OTHER_VILLAGE = "621223100202"
READERS = frozenset(
    {"admin", "accountant", "auditor", "township_approver", "village_reviewer", "finance_officer", "finance_approver"}
)
WRITERS = frozenset({"admin", "accountant"})
AUDITORS = frozenset({"admin", "auditor"})

# The demo staff all cover the demo village 621223100201.
CALLERS = access.demo_callers("621223100201-003")

# What a route naming {coop} or {company} acts on.
VENTURE = "venture"


def _row(
    method: str, path: str, roles: frozenset[str], body=access.no_body, *, others: bool = False, once: bool = False
) -> Route:
    """A venture route. This issue's routes must answer 2xx to an admitted caller; routes of other
    issues (`others`) need only get past the guard and the scope check (their success is tested
    where they are built). A request that can succeed once only (`once`: confirming a proposal)
    answers later admitted callers 422, which still shows that guard and scope let them through."""
    return Route(
        method,
        path,
        roles,
        body,
        acts_on=VENTURE if re.search(r"\{(coop|company)\}", path) else None,
        admitted=Admitted.PASSES_SCOPE if others else Admitted.SUCCEEDS,
        once=once,
    )


def _venture(c: Call) -> dict:
    return {
        "json": {
            "name": f"合作社{c.n}",
            "model": "cooperative",
            "village_code": VILLAGE,
            "registered_capital_fen": 1_000_000,
            "charter": {"patronage_bp": 7000},
        }
    }


def _member(c: Call) -> dict:
    return {"json": {"kind": "person", "name": f"社员{c.n}"}}


def _subscribe(c: Call) -> dict:
    return {
        "json": {
            "kind": "subscribe",
            "share_class": "ordinary",
            "shares": 10,
            "capital_fen": 1_000,
            "effective_date": "2025-02-01",
            "to_member_id": c.ids["member"],
        }
    }


def _subsidy(c: Call) -> dict:
    return {"json": {"amount_fen": 300 + c.n, "source": "省级财政专项", "received_on": "2025-05-01"}}


def _trade(c: Call) -> dict:
    return {
        "json": {
            "traded_on": "2025-05-01",
            "product": "鸡蛋",
            "quantity_g": 1000,
            "amount_fen": 1200,
            "member_id": c.ids["member"],
        }
    }


def _trade_file(c: Call) -> dict:
    text = f"traded_on,product,quantity_g,amount_fen\n2025-05-02,鸡蛋,{1000 + c.n},1500\n"
    return {"files": {"file": ("trades.csv", text.encode(), "text/csv")}}


def _confirm(c: Call) -> dict:
    return {"json": {}}


def _contract(c: Call) -> dict:
    return {
        "json": {
            "household_id": c.ids["household"],
            "crop": f"马铃薯{c.n}",
            "season_year": 2025,
            "contracted_g": 1_000_000,
            "floor_price_fen_per_kg": 120,
            "premium_bp": 500,
        }
    }


def _purchase_file(c: Call) -> dict:
    text = "contract_id,bought_on,grade,weight_g,market_price_fen_per_kg\n"
    return {"files": {"file": ("purchases.csv", text.encode(), "text/csv")}}


def _settlement(c: Call) -> dict:
    return {"json": {"season_year": 2025}}


def _distribution(c: Call) -> dict:
    return {"json": {"fiscal_year": 2025, "profit_fen": 100_000}}


ROUTES: list[Route] = [
    _row("POST", "/ventures", WRITERS, _venture),
    _row("GET", "/ventures", READERS),
    _row("GET", "/ventures/{coop}", READERS),
    _row("POST", "/ventures/{coop}/members", WRITERS, _member),
    _row("GET", "/ventures/{coop}/members", READERS),
    _row("GET", "/ventures/{coop}/members/{member}/account?year=2025", READERS),
    _row("POST", "/ventures/{coop}/share-movements", WRITERS, _subscribe),
    _row("GET", "/ventures/{coop}/register?as_of=2025-12-31", READERS),
    _row("POST", "/ventures/{coop}/subsidies", WRITERS, _subsidy),
    _row("POST", "/ventures/{coop}/transactions", WRITERS, _trade),
    _row("POST", "/ventures/{coop}/transactions/import", WRITERS, _trade_file),
    _row("GET", "/ventures/{coop}/transactions/import-template", WRITERS),
    _row("GET", "/ventures/{coop}/reallocations", READERS),
    _row("POST", "/ventures/{coop}/reallocations/{proposal}/confirm", WRITERS, _confirm, once=True),
    _row("GET", "/ledger/verify", AUDITORS | {"finance_officer", "finance_approver"}),
    # The lists the console and clients need (API.md).
    _row("GET", "/ventures/{coop}/share-movements?from=2025-01-01&to=2025-12-31", READERS),
    _row("GET", "/ventures/{coop}/transactions?year=2025", READERS),
    _row("GET", "/ventures/{coop}/distributions", READERS),
    _row("GET", "/ledger/accounts?venture_id={coop}&as_of=2025-12-31", READERS),
    _row("GET", "/ledger/entries?venture_id={coop}&from=2025-01-01", READERS),
    # Routes of other issues that name a venture.
    _row("POST", "/ventures/{company}/contracts", WRITERS, _contract, others=True),
    _row("GET", "/ventures/{company}/contracts", READERS, others=True),
    _row("POST", "/ventures/{company}/purchases/import", WRITERS, _purchase_file, others=True),
    _row("GET", "/ventures/{company}/purchases/import-template", WRITERS),
    _row("POST", "/ventures/{company}/settlements", WRITERS, _settlement, others=True),
    _row("GET", "/ventures/{company}/settlements", READERS, others=True),
    _row("POST", "/ventures/{coop}/distributions", WRITERS, _distribution, others=True),
    # Reports of issue 17: the guard and the venture's scope let readers through; what a year
    # without a posted plan answers (409, 404) is tested in tests/api/test_reports*.py.
    *(
        Route("GET", path, READERS, acts_on=VENTURE, admitted=Admitted.PASSES_GUARD)
        for path in (
            "/ventures/{coop}/reports/surplus-distribution?year=2025",
            "/ventures/{coop}/reports/member-equity?year=2025",
            "/ventures/{coop}/members/{member}/account-book?year=2025",
            "/ventures/{coop}/account-books?year=2025",
            "/ventures/{coop}/reports/profit-distribution?year=2025",
            "/ventures/{coop}/shareholders",
            "/ventures/{coop}/share-certificates/{member}",  # no such certificate: 404 past the guard
        )
    ),
]
NAMING_A_VENTURE = [r for r in ROUTES if r.acts_on == VENTURE]

# Places of the world: kuaiji2's venture and its member, and kuaiji's venture in another village.
THEIRS, ELSEWHERE = "theirs", "elsewhere"
# kuaiji2 at kuaiji's ventures; kuaiji at kuaiji2's venture (with kuaiji2's member where the path
# names one).
OTHER_ACCOUNTANTS = [
    Outsider(Caller("kuaiji2", "accountant"), frozenset({VENTURE})),
    Outsider(Caller("kuaiji", "accountant"), frozenset({VENTURE}), THEIRS),
]
# The demo village's reviewer at a venture in the next village.
OTHER_VILLAGES_REVIEWER = [Outsider(Caller("cunwei", "village_reviewer"), frozenset({VENTURE}), ELSEWHERE)]


async def _create(api, login: str, url: str, body: dict) -> str:
    r = await api.as_(login, "POST", url, json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def build_world(api) -> World:
    """kuaiji's cooperative and enterprise, kuaiji2's own venture, and a venture in another village."""
    ids: dict[str, str] = {}
    venture = {
        "name": "南沿沟养鸡合作社",
        "model": "cooperative",
        "village_code": VILLAGE,
        "registered_capital_fen": 100_000_000,
        "charter": {"patronage_bp": 7000, "poverty_follows_status": True},
    }
    coop = ids["coop"] = await _create(api, "kuaiji", "/ventures", venture)
    ids["company"] = await _create(
        api, "kuaiji", "/ventures", {**venture, "name": "宕昌马铃薯公司", "model": "enterprise", "charter": {}}
    )
    ids["household"] = await api.household_id("621223100201-002")
    collective = await _create(api, "kuaiji", f"/ventures/{coop}/members", {"kind": "collective", "name": "村集体"})
    leaving = await _create(
        api,
        "kuaiji",
        f"/ventures/{coop}/members",
        {"kind": "household", "name": "甲", "household_id": await api.household_id("621223100201-001")},
    )
    ids["member"] = await _create(
        api,
        "kuaiji",
        f"/ventures/{coop}/members",
        {"kind": "household", "name": "乙", "household_id": ids["household"]},
    )
    for body in (
        {
            "kind": "subscribe",
            "to_member_id": collective,
            "share_class": "ordinary",
            "shares": 1000,
            "capital_fen": 1_000_000,
            "effective_date": "2025-01-01",
        },
        {
            "kind": "allocate",
            "from_member_id": collective,
            "to_member_id": leaving,
            "share_class": "poverty",
            "shares": 100,
            "capital_fen": 100_000,
            "effective_date": "2025-01-02",
        },
    ):
        await _create(api, "kuaiji", f"/ventures/{coop}/share-movements", body)
    # 谁贫困谁享受: household 001 exits, its poverty shares return and a reallocation is proposed.
    r = await api.as_(
        "cunwei",
        "POST",
        f"/households/{await api.household_id('621223100201-001')}/status-events",
        json={"kind": "exited", "year": 2025, "effective_date": "2025-06-30"},
    )
    assert r.status_code == 201, r.text
    proposals = (await api.as_("kuaiji", "GET", f"/ventures/{coop}/reallocations")).json()
    assert len(proposals) == 1, proposals
    ids["proposal"] = proposals[0]["id"]

    await add_user(api, "kuaiji2", "accountant", "621223000000")
    theirs = ids["theirs"] = await _create(api, "kuaiji2", "/ventures", {**venture, "name": "别家合作社"})
    ids["their_member"] = await _create(
        api, "kuaiji2", f"/ventures/{theirs}/members", {"kind": "person", "name": "别家社员"}
    )
    ids["elsewhere"] = await _create(
        api,
        "kuaiji",
        "/ventures",
        {**venture, "name": "化马村合作社", "village_code": OTHER_VILLAGE, "charter": {"patronage_bp": 7000}},
    )
    return World(
        api,
        ids=ids,
        places={
            THEIRS: {"coop": theirs, "company": theirs, "member": ids["their_member"]},
            ELSEWHERE: {"coop": ids["elsewhere"], "company": ids["elsewhere"]},
        },
        # A refusal does not show the venture, member or proposal it refused.
        hidden=frozenset({"coop", "company", "member", "proposal"}),
    )


@pytest.fixture
async def world(api) -> World:
    return await build_world(api)


async def test_every_venture_and_ledger_route_is_in_the_table(world):
    handled = access.handled(world.api)
    ours = {(r.method, r.template) for r in ROUTES}
    assert len(ours) == len(ROUTES), "a route is in the table twice"
    assert ours - handled == set(), "rows for routes the app does not serve"
    missing = sorted(t for t in handled if t[1].startswith(("/ventures", "/ledger")) and t not in ours)
    assert missing == [], f"routes without an access row: {missing}"


async def test_without_a_token_every_route_answers_401(world):
    await access.unauthenticated(world, ROUTES)


async def test_roles_not_admitted_get_403(world):
    await access.guard_refuses(world, ROUTES, CALLERS)


async def test_admitted_roles_get_through(world):
    await access.admitted(world, ROUTES, CALLERS)


async def test_another_ventures_accountant_gets_404(world):
    assert NAMING_A_VENTURE
    await access.outsiders_refused(world, ROUTES, OTHER_ACCOUNTANTS, at_least=2 * len(NAMING_A_VENTURE))


async def test_reviewer_outside_the_village_gets_404(world):
    reviewed = [r for r in NAMING_A_VENTURE if "village_reviewer" in r.roles]
    assert reviewed
    await access.outsiders_refused(world, ROUTES, OTHER_VILLAGES_REVIEWER, at_least=len(reviewed))


async def test_objects_of_another_venture_are_not_reached_through_ones_own(world):
    """A member id of kuaiji2's venture, named under kuaiji's own venture, reaches nothing."""
    coop, theirs = world.ids["coop"], world.ids["their_member"]
    async with access.unchanged(world.api):
        r = await world.api.as_("kuaiji", "GET", f"/ventures/{coop}/members/{theirs}/account")
        assert r.status_code == 404, r.text
        for body in ({"kind": "subscribe", "to_member_id": theirs}, {"kind": "redeem", "from_member_id": theirs}):
            r = await world.api.as_(
                "kuaiji",
                "POST",
                f"/ventures/{coop}/share-movements",
                json={**body, "share_class": "ordinary", "shares": 1, "capital_fen": 0, "effective_date": "2025-03-01"},
            )
            assert r.status_code == 422, r.text
        r = await world.api.as_(
            "kuaiji",
            "POST",
            f"/ventures/{coop}/transactions",
            json={"traded_on": "2025-05-01", "product": "鸡蛋", "quantity_g": 1, "amount_fen": 1, "member_id": theirs},
        )
        assert r.status_code == 422, r.text
        r = await world.api.as_(
            "kuaiji2", "POST", f"/ventures/{world.ids['theirs']}/reallocations/{world.ids['proposal']}/confirm", json={}
        )
        assert r.status_code == 404, r.text
        r = await world.api.as_("kuaiji", "GET", f"/ventures/{uuid.uuid4()}")
        assert r.status_code == 404, r.text


async def test_a_township_accountant_creates_ventures_only_in_its_township(api):
    for code, name, level, parent in (
        ("621223101000", "哈达铺镇", "township", "621223000000"),
        ("621223101201", "哈达铺村", "village", "621223101000"),
    ):
        r = await api.as_(
            "admin", "PUT", f"/regions/{code}", json={"name": name, "level": level, "parent_code": parent}
        )
        assert r.status_code in (200, 201), r.text
    r = await api.as_(
        "admin",
        "POST",
        "/users",
        json={"username": "kuaiji3", "password": DEMO_PASSWORD, "role": "accountant", "region_code": "621223100000"},
    )
    assert r.status_code == 201, r.text
    body = {
        "name": "合作社",
        "model": "cooperative",
        "registered_capital_fen": 1_000_000,
        "charter": {"patronage_bp": 7000},
    }
    r = await api.as_("kuaiji3", "POST", "/ventures", json={**body, "village_code": VILLAGE})
    assert r.status_code == 201, r.text
    r = await api.as_("kuaiji3", "POST", "/ventures", json={**body, "village_code": "621223101201"})
    assert r.status_code == 403, r.text
