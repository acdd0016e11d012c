"""Who may call what on every /ventures and /ledger route (issue 3).

ROUTES is the table: method, path, the roles the route admits and a factory for a valid request.
Paths name their objects by placeholder: {coop} a cooperative of the demo accountant kuaiji,
{company} an enterprise of kuaiji (order farming is for companies), {member} a member of {coop},
{proposal} a reallocation proposal of {coop}. Every check runs over the whole table:

- without a token, or with a forged one, every route answers 401;
- every staff role the route does not admit, and a household, gets 403;
- every role the route admits gets through the guard and the venture scope (2xx for this issue's
  routes; anything but 401/403/404 for routes of other issues, whose own tests cover success);
- an accountant of another venture (created through POST /users, with a venture of its own) gets
  404 on every route that names a venture, both ways round, and a village reviewer gets 404 for a
  venture outside its village; none of those refusals changes anything.

A route served under /ventures or /ledger that is not in the table fails
test_every_venture_and_ledger_route_is_in_the_table: whoever adds one adds a row here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.conftest import DEMO_PASSWORD

VILLAGE = "621223100201"
OTHER_VILLAGE = "621223100202"
READERS = frozenset(
    {"admin", "accountant", "auditor", "township_approver", "village_reviewer", "finance_officer", "finance_approver"}
)
WRITERS = frozenset({"admin", "accountant"})
AUDITORS = frozenset({"admin", "auditor"})

# login, role; the demo staff all cover the demo village 621223100201.
PLAYERS = [
    ("admin", "admin"),
    ("kuaiji", "accountant"),
    ("cunwei", "village_reviewer"),
    ("xiangzhen", "township_approver"),
    ("caizheng", "finance_officer"),
    ("caizheng2", "finance_approver"),
    ("shenji", "auditor"),
    ("621223100201-003", "household"),
]


class Ctx:
    """Numbers so that every request a factory builds asks for something new."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


Body = Callable[[Ctx], dict]


def no_body(ctx: Ctx) -> dict:
    return {}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    roles: frozenset[str]
    body: Body = no_body
    # This issue's routes must answer 2xx to an admitted caller; other issues' routes need only get
    # past the guard and the scope check (their success is tested where they are built).
    strict: bool = True
    # A request that can succeed once only (confirming a proposal): later admitted callers are
    # answered 422 by the handler, which still shows that guard and scope let them through.
    once: bool = False

    @property
    def template(self) -> str:
        return re.sub(r"\{[^}]*\}", "{}", self.path.split("?")[0])

    @property
    def venture(self) -> str | None:
        found = re.search(r"\{(coop|company)\}", self.path)
        return found.group(1) if found else None


def _venture(ctx: Ctx) -> dict:
    return {
        "json": {
            "name": f"合作社{ctx.next()}",
            "model": "cooperative",
            "village_code": VILLAGE,
            "registered_capital_fen": 1_000_000,
            "charter": {"patronage_bp": 7000},
        }
    }


def _member(ctx: Ctx) -> dict:
    return {"json": {"kind": "person", "name": f"社员{ctx.next()}"}}


def _subscribe(ctx: Ctx) -> dict:
    return {
        "json": {
            "kind": "subscribe",
            "share_class": "ordinary",
            "shares": 10,
            "capital_fen": 1_000,
            "effective_date": "2025-02-01",
            "to_member_id": ctx.world.ids["member"],
        }
    }


def _subsidy(ctx: Ctx) -> dict:
    return {"json": {"amount_fen": 300 + ctx.next(), "source": "省级财政专项", "received_on": "2025-05-01"}}


def _trade(ctx: Ctx) -> dict:
    return {
        "json": {
            "traded_on": "2025-05-01",
            "product": "鸡蛋",
            "quantity_g": 1000,
            "amount_fen": 1200,
            "member_id": ctx.world.ids["member"],
        }
    }


def _trade_file(ctx: Ctx) -> dict:
    text = f"traded_on,product,quantity_g,amount_fen\n2025-05-02,鸡蛋,{1000 + ctx.next()},1500\n"
    return {"files": {"file": ("trades.csv", text.encode(), "text/csv")}}


def _confirm(ctx: Ctx) -> dict:
    return {"json": {}}


def _contract(ctx: Ctx) -> dict:
    return {
        "json": {
            "household_id": ctx.world.ids["household"],
            "crop": f"马铃薯{ctx.next()}",
            "season_year": 2025,
            "contracted_g": 1_000_000,
            "floor_price_fen_per_kg": 120,
            "premium_bp": 500,
        }
    }


def _purchase_file(ctx: Ctx) -> dict:
    text = "contract_id,bought_on,grade,weight_g,market_price_fen_per_kg\n"
    return {"files": {"file": ("purchases.csv", text.encode(), "text/csv")}}


def _settlement(ctx: Ctx) -> dict:
    return {"json": {"season_year": 2025}}


def _distribution(ctx: Ctx) -> dict:
    return {"json": {"fiscal_year": 2025, "profit_fen": 100_000}}


ROUTES: list[Route] = [
    Route("POST", "/ventures", WRITERS, _venture),
    Route("GET", "/ventures/{coop}", READERS),
    Route("POST", "/ventures/{coop}/members", WRITERS, _member),
    Route("GET", "/ventures/{coop}/members", READERS),
    Route("GET", "/ventures/{coop}/members/{member}/account?year=2025", READERS),
    Route("POST", "/ventures/{coop}/share-movements", WRITERS, _subscribe),
    Route("GET", "/ventures/{coop}/register?as_of=2025-12-31", READERS),
    Route("POST", "/ventures/{coop}/subsidies", WRITERS, _subsidy),
    Route("POST", "/ventures/{coop}/transactions", WRITERS, _trade),
    Route("POST", "/ventures/{coop}/transactions/import", WRITERS, _trade_file),
    Route("GET", "/ventures/{coop}/reallocations", READERS),
    Route("POST", "/ventures/{coop}/reallocations/{proposal}/confirm", WRITERS, _confirm, once=True),
    Route("GET", "/ledger/verify", AUDITORS),
    # Routes of other issues that name a venture.
    Route("POST", "/ventures/{company}/contracts", WRITERS, _contract, strict=False),
    Route("GET", "/ventures/{company}/contracts", READERS, strict=False),
    Route("POST", "/ventures/{company}/purchases/import", WRITERS, _purchase_file, strict=False),
    Route("POST", "/ventures/{company}/settlements", WRITERS, _settlement, strict=False),
    Route("GET", "/ventures/{company}/settlements", READERS, strict=False),
    Route("POST", "/ventures/{coop}/distributions", WRITERS, _distribution, strict=False),
]


@dataclass
class World:
    """kuaiji's cooperative and enterprise, kuaiji2's own venture, and a venture in another village."""

    api: object
    ids: dict[str, str] = field(default_factory=dict)
    served: set[tuple[str, str]] = field(default_factory=set)
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    async def headers(self, login: str) -> dict[str, str]:
        if login not in self._tokens:
            if "-" in login:
                self._tokens[login] = await self.api.household_login(login)
            else:
                self._tokens[login] = await self.api.login(login)
        return self._tokens[login]

    def url(self, route: Route, **ids: str) -> str:
        return route.path.format(**{**self.ids, **ids})

    async def send(self, route: Route, login: str | None, ctx: Ctx, **ids: str):
        headers = await self.headers(login) if login else {}
        return await self.api.client.request(route.method, self.url(route, **ids), headers=headers, **route.body(ctx))

    async def snapshot(self) -> tuple:
        """Counts that any accepted write under /ventures would change."""
        conn = await self.api.connect()
        try:
            tables = (
                "ventures",
                "venture_members",
                "share_movements",
                "subsidies",
                "trades",
                "journal_entries",
                "member_account_movements",
                "idempotency_keys",
            )
            counts = [await conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables]
            confirmed = await conn.fetchval("SELECT count(*) FROM reallocation_proposals WHERE status <> 'proposed'")
            return (*counts, confirmed)
        finally:
            await conn.close()


async def _create(api, login: str, url: str, body: dict) -> str:
    r = await api.as_(login, "POST", url, json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def build_world(api) -> World:
    world = World(api)
    world.served = {
        (m, re.sub(r"\{[^}]*\}", "{}", r.path))
        for r in api.app.routes
        for h in r.route_handlers
        for m in h.http_methods
        if m not in ("OPTIONS", "HEAD")
    }
    venture = {
        "name": "南沿沟养鸡合作社",
        "model": "cooperative",
        "village_code": VILLAGE,
        "registered_capital_fen": 100_000_000,
        "charter": {"patronage_bp": 7000, "poverty_follows_status": True},
    }
    coop = world.ids["coop"] = await _create(api, "kuaiji", "/ventures", venture)
    world.ids["company"] = await _create(
        api, "kuaiji", "/ventures", {**venture, "name": "宕昌马铃薯公司", "model": "enterprise", "charter": {}}
    )
    world.ids["household"] = await api.household_id("621223100201-002")
    collective = await _create(api, "kuaiji", f"/ventures/{coop}/members", {"kind": "collective", "name": "村集体"})
    leaving = await _create(
        api,
        "kuaiji",
        f"/ventures/{coop}/members",
        {"kind": "household", "name": "甲", "household_id": await api.household_id("621223100201-001")},
    )
    world.ids["member"] = await _create(
        api,
        "kuaiji",
        f"/ventures/{coop}/members",
        {"kind": "household", "name": "乙", "household_id": world.ids["household"]},
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
    world.ids["proposal"] = proposals[0]["id"]

    r = await api.as_(
        "admin", "POST", "/users", json={"username": "kuaiji2", "password": DEMO_PASSWORD, "role": "accountant"}
    )
    assert r.status_code == 201, r.text
    theirs = world.ids["theirs"] = await _create(api, "kuaiji2", "/ventures", {**venture, "name": "别家合作社"})
    world.ids["their_member"] = await _create(
        api, "kuaiji2", f"/ventures/{theirs}/members", {"kind": "person", "name": "别家社员"}
    )
    world.ids["elsewhere"] = await _create(
        api,
        "kuaiji",
        "/ventures",
        {**venture, "name": "化马村合作社", "village_code": OTHER_VILLAGE, "charter": {"patronage_bp": 7000}},
    )
    return world


@pytest.fixture
async def world(api) -> World:
    return await build_world(api)


def served(world: World) -> list[Route]:
    return [r for r in ROUTES if (r.method, r.template) in world.served]


async def test_every_venture_and_ledger_route_is_in_the_table(world):
    ours = {(r.method, r.template) for r in ROUTES}
    missing = sorted(t for t in world.served if t[1].startswith(("/ventures", "/ledger")) and t not in ours)
    assert missing == [], f"routes without an access row: {missing}"


async def test_without_a_token_every_route_answers_401(world):
    ctx = Ctx(world)
    before = await world.snapshot()
    for route in served(world):
        for headers in ({}, {"Authorization": "Bearer forged.token"}):
            r = await world.api.client.request(route.method, world.url(route), headers=headers, **route.body(ctx))
            assert r.status_code == 401, (route.method, route.path, headers, r.text)
    assert await world.snapshot() == before


async def test_roles_not_admitted_get_403(world):
    ctx = Ctx(world)
    before = await world.snapshot()
    for route in served(world):
        for login, role in PLAYERS:
            if role in route.roles:
                continue
            r = await world.send(route, login, ctx)
            assert r.status_code == 403, (route.method, route.path, login, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    assert await world.snapshot() == before


async def test_admitted_roles_get_through(world):
    ctx = Ctx(world)
    for route in served(world):
        succeeded = False
        for login, role in PLAYERS:
            if role not in route.roles:
                continue
            r = await world.send(route, login, ctx)
            if route.once and succeeded:
                assert r.status_code == 422, (route.method, route.path, login, r.text)
            elif route.strict:
                assert 200 <= r.status_code < 300, (route.method, route.path, login, r.text)
            else:
                assert r.status_code not in (401, 403, 404), (route.method, route.path, login, r.text)
            succeeded = succeeded or 200 <= r.status_code < 300


async def test_another_ventures_accountant_gets_404(world):
    ctx = Ctx(world)
    before = await world.snapshot()
    named = [r for r in served(world) if r.venture]
    assert named
    for route in named:
        # kuaiji2 at kuaiji's ventures.
        r = await world.send(route, "kuaiji2", ctx)
        assert r.status_code == 404, (route.method, route.path, r.text)
        # kuaiji at kuaiji2's venture, with kuaiji2's member where the path names one.
        ids = {route.venture: world.ids["theirs"], "member": world.ids["their_member"]}
        r = await world.send(route, "kuaiji", ctx, **ids)
        assert r.status_code == 404, (route.method, route.path, r.text)
    assert await world.snapshot() == before


async def test_reviewer_outside_the_village_gets_404(world):
    ctx = Ctx(world)
    before = await world.snapshot()
    for route in served(world):
        if not route.venture or "village_reviewer" not in route.roles:
            continue
        r = await world.send(route, "cunwei", ctx, **{route.venture: world.ids["elsewhere"]})
        assert r.status_code == 404, (route.method, route.path, r.text)
    assert await world.snapshot() == before


async def test_objects_of_another_venture_are_not_reached_through_ones_own(world):
    """A member id of kuaiji2's venture, named under kuaiji's own venture, reaches nothing."""
    before = await world.snapshot()
    coop, theirs = world.ids["coop"], world.ids["their_member"]
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
    assert await world.snapshot() == before


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
