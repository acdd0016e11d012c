"""Who may call what, over every route the app serves (issue 2: guards on every route).

ROUTES is the table: one entry per route with the roles its guard admits and a factory for a
valid request. Path templates name the object they act on through a Target's fields ({household},
{village}, {township}, {county}, {year}), so the same entry is sent at a player's own object and at
objects outside its scope. A later issue that adds routes adds entries here (and, if its routes
act on new kinds of object, fields to Target and World), or keeps a table of its own in a module
tests/api/test_*access*.py exposing ROUTES, whose entries have .method and .template, and PUBLIC,
the (method, template) pairs anyone may call; test_every_served_route_is_in_the_table fails until
one of the tables lists every route the app serves.

The checks, each over the whole table:
- without a token every non-public route answers 401;
- every role the guard does not admit gets 403;
- every admitted role gets a 2xx for an object in its own scope;
- for a route that acts on a household or a region, another household's or region's object
  answers 403 or 404 and changes nothing.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from tests.api.test_auth_and_clock import assert_problem
from tests.api.test_household_import import COUNTY, household_json, household_row, upload
from tests.conftest import DEMO_PASSWORD

STAFF = frozenset(
    {"admin", "accountant", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"}
)
EVERYONE = STAFF | {"household"}
REGISTRARS = frozenset({"admin", "village_reviewer", "township_approver"})
REGION_READERS = frozenset(
    {"admin", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"}
)
ADMIN = frozenset({"admin"})

# Routes anyone may call, and the OpenAPI documents themselves.
PUBLIC = {("POST", "/auth/token"), ("POST", "/auth/household-token"), ("GET", "/health")}


@dataclass(frozen=True)
class Target:
    """An object a request can be aimed at: a household and the regions it lies in."""

    household: str
    village: str
    village_name: str
    township: str
    county: str
    year: int = 2024


class Ctx:
    """Hands out numbers so that every request a factory builds creates something new."""

    def __init__(self) -> None:
        self._n = 50_000

    def next(self) -> int:
        self._n += 1
        return self._n


Body = Callable[[Ctx, Target], dict]


def no_body(ctx: Ctx, t: Target) -> dict:
    return {}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    roles: frozenset[str]
    body: Body = no_body
    # Whether the request acts on a household's or a region's object, so that aiming it outside
    # the caller's scope must be refused.
    scoped: bool = False
    # What a refusal outside one's scope may be. A file names each out-of-scope row with its row
    # number (422), as it names every other bad row.
    refused: frozenset[int] = frozenset({403, 404})

    @property
    def template(self) -> str:
        return re.sub(r"\{[^}]*\}", "{}", self.path.split("?")[0]).rstrip("/") or "/"

    def url(self, t: Target) -> str:
        return self.path.format(**asdict(t))


def _new_user(ctx: Ctx, t: Target) -> dict:
    return {
        "json": {
            "username": f"user{ctx.next()}",
            "password": "long-enough-password",
            "role": "auditor",
            "region_code": t.county,
        }
    }


def _same_village(ctx: Ctx, t: Target) -> dict:
    return {"json": {"name": t.village_name, "level": "village", "parent_code": t.township}}


def _new_household(ctx: Ctx, t: Target) -> dict:
    return {"json": household_json(ctx.next(), village=t.village)}


def _import_one(ctx: Ctx, t: Target) -> dict:
    return upload("csv-utf8", [household_row(ctx.next(), village=t.village)])


def _status_event(ctx: Ctx, t: Target) -> dict:
    return {"json": {"kind": "registered", "year": t.year, "effective_date": f"{t.year}-03-01"}}


def _lines(ctx: Ctx, t: Target) -> dict:
    return {"json": {"poverty_line_fen": 400_000, "xiaokang_line_fen": 1_000_000}}


def _clock(ctx: Ctx, t: Target) -> dict:
    return {"json": {"today": "2030-01-15"}}


ROUTES: list[Route] = [
    Route("GET", "/users", ADMIN),
    Route("POST", "/users", ADMIN, _new_user),
    # Region names are reference data every signed-in user may read.
    Route("GET", "/regions/{village}", EVERYONE),
    Route("PUT", "/regions/{village}", ADMIN, _same_village),
    Route("GET", "/households?village_code={village}", REGION_READERS, scoped=True),
    Route("POST", "/households", REGISTRARS, _new_household, scoped=True),
    Route("POST", "/households/import", REGISTRARS, _import_one, scoped=True, refused=frozenset({403, 404, 422})),
    Route("GET", "/households/{household}", EVERYONE, scoped=True),
    Route("POST", "/households/{household}/status-events", REGISTRARS, _status_event, scoped=True),
    Route("GET", "/poverty-lines/{year}", EVERYONE),
    Route("PUT", "/poverty-lines/{year}", ADMIN, _lines),
    Route("GET", "/audit-log?county_code={county}", frozenset({"admin", "auditor"}), scoped=True),
    Route("GET", "/admin/clock", ADMIN),
    Route("PUT", "/admin/clock", ADMIN, _clock),
]


# --- the people and objects the table is played against ----------------------------------------

HOME = "home"  # 621223100201-001, in the demo reviewer's village
NEIGHBOUR = "neighbour"  # 621223100201-002, same village, another household
NEXT_VILLAGE = "next"  # 621223100202-001, same township, another village
FAR = "far"  # a household in another county, built by World


@dataclass(frozen=True)
class Player:
    login: str
    role: str
    home: str | None  # the target inside its scope; None when it has no households (yet)
    away: tuple[str, ...] = ()  # targets outside its scope


PLAYERS = [
    Player("admin", "admin", HOME),
    # An accountant sees households only through its ventures; the demo one has none yet.
    Player("kuaiji", "accountant", None, (HOME,)),
    Player("cunwei", "village_reviewer", HOME, (NEXT_VILLAGE, FAR)),
    Player("cunwei2", "village_reviewer", NEXT_VILLAGE, (HOME, FAR)),
    Player("xiangzhen", "township_approver", HOME, (FAR,)),
    Player("caizheng", "finance_officer", HOME, (FAR,)),
    Player("caizheng2", "finance_approver", HOME, (FAR,)),
    Player("shenji", "auditor", HOME, (FAR,)),
    Player("621223100201-001", "household", HOME, (NEIGHBOUR, NEXT_VILLAGE, FAR)),
    Player("621223100201-002", "household", NEIGHBOUR, (HOME,)),
]

FAR_COUNTY, FAR_TOWNSHIP, FAR_VILLAGE = "621222000000", "621222100000", "621222100201"


@dataclass
class World:
    api: object
    targets: dict[str, Target] = field(default_factory=dict)
    ctx: Ctx = field(default_factory=Ctx)
    _household_tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    async def headers(self, player: Player) -> dict[str, str]:
        if player.role != "household":
            return await self.api.login(player.login)
        if player.login not in self._household_tokens:
            self._household_tokens[player.login] = await self.api.household_login(player.login)
        return self._household_tokens[player.login]

    async def send(self, route: Route, player: Player | None, target: Target) -> httpx.Response:
        headers = await self.headers(player) if player else {}
        return await self.api.client.request(
            route.method, route.url(target), headers=headers, **route.body(self.ctx, target)
        )


async def build_world(api) -> World:
    """The demo county plus a second village reviewer and a second county with one household."""
    world = World(api)
    r = await api.as_(
        "admin",
        "POST",
        "/users",
        json={
            "username": "cunwei2",
            "password": DEMO_PASSWORD,
            "role": "village_reviewer",
            "region_code": "621223100202",
        },
    )
    assert r.status_code == 201, r.text
    for code, name, level, parent in (
        (FAR_COUNTY, "文县", "county", "621200000000"),
        (FAR_TOWNSHIP, "城关镇", "township", FAR_COUNTY),
        (FAR_VILLAGE, "东峪村", "village", FAR_TOWNSHIP),
    ):
        r = await api.as_(
            "admin", "PUT", f"/regions/{code}", json={"name": name, "level": level, "parent_code": parent}
        )
        assert r.status_code == 200, r.text
    r = await api.as_("admin", "POST", "/households", json=household_json(1, village=FAR_VILLAGE))
    assert r.status_code == 201, r.text
    far_id = r.json()["id"]
    township = "621223100000"
    world.targets = {
        HOME: Target(await api.household_id("621223100201-001"), "621223100201", "南沿沟村", township, COUNTY),
        NEIGHBOUR: Target(await api.household_id("621223100201-002"), "621223100201", "南沿沟村", township, COUNTY),
        NEXT_VILLAGE: Target(await api.household_id("621223100202-001"), "621223100202", "王何村", township, COUNTY),
        FAR: Target(far_id, FAR_VILLAGE, "东峪村", FAR_TOWNSHIP, FAR_COUNTY),
    }
    return world


async def _changes(api) -> tuple[int, int, int]:
    conn = await api.connect()
    try:
        return tuple(
            await conn.fetchrow(
                "SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM households), "
                "(SELECT count(*) FROM household_status_events)"
            )
        )
    finally:
        await conn.close()


# --- the checks --------------------------------------------------------------------------------


async def test_every_served_route_is_in_the_table(api):
    paths = (await api.client.get("/schema/openapi.json")).json()["paths"]
    served = {
        (method.upper(), re.sub(r"\{[^}]*\}", "{}", path).rstrip("/") or "/")
        for path, ops in paths.items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }
    tabled = {(r.method, r.template) for r in ROUTES}
    assert len(tabled) == len(ROUTES), "a route is in the table twice"
    assert tabled - served == set(), "entries for routes the app does not serve"
    elsewhere = set()
    for module in sorted(Path(__file__).parent.glob("test_*access*.py")):
        if module.stem != Path(__file__).stem:
            other = importlib.import_module(f"{__package__}.{module.stem}")
            elsewhere |= {(r.method, r.template.rstrip("/") or "/") for r in other.ROUTES}
            elsewhere |= set(getattr(other, "PUBLIC", ()))
    missing = sorted(served - PUBLIC - tabled - elsewhere, key=lambda m: (m[1], m[0]))
    assert not missing, "routes in no access table:\n" + "\n".join(f"  {m} {p}" for m, p in missing)


async def test_without_a_token_every_route_is_401(api):
    world = await build_world(api)
    wrong = []
    for route in ROUTES:
        r = await world.send(route, None, world.targets[HOME])
        if r.status_code != 401:
            wrong.append(f"{route.method} {route.path}: {r.status_code}")
            continue
        assert_problem(r, 401)
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert wrong == []


async def test_roles_the_guard_does_not_admit_get_403(api):
    world = await build_world(api)
    before = await _changes(api)
    wrong = []
    for route in ROUTES:
        for player in PLAYERS:
            if player.role in route.roles:
                continue
            target = world.targets[player.home or HOME]
            r = await world.send(route, player, target)
            if r.status_code != 403:
                wrong.append(f"{player.login} {route.method} {route.path}: {r.status_code}")
            else:
                assert_problem(r, 403)
    assert wrong == []
    assert await _changes(api) == before


async def test_admitted_roles_reach_their_own_objects(api):
    world = await build_world(api)
    wrong = []
    for route in ROUTES:
        for player in PLAYERS:
            if player.role not in route.roles or (route.scoped and player.home is None):
                continue
            r = await world.send(route, player, world.targets[player.home or HOME])
            if not 200 <= r.status_code < 300:
                wrong.append(f"{player.login} {route.method} {route.path}: {r.status_code} {r.text[:200]}")
    assert wrong == []


async def test_objects_outside_ones_scope_are_refused(api):
    world = await build_world(api)
    before = await _changes(api)
    wrong, tried = [], 0
    for route in ROUTES:
        if not route.scoped:
            continue
        for player in PLAYERS:
            if player.role not in route.roles:
                continue
            for away in player.away:
                tried += 1
                r = await world.send(route, player, world.targets[away])
                if r.status_code not in route.refused:
                    wrong.append(f"{player.login} {route.method} {route.path} at {away}: {r.status_code}")
                else:
                    body = assert_problem(r, r.status_code)
                    # A refusal does not describe the object it refused.
                    assert world.targets[away].household not in str(body)
    assert wrong == []
    assert tried > 20
    assert await _changes(api) == before, "a refused request changed something"


async def test_household_list_shows_only_the_readers_region(api):
    world = await build_world(api)
    for login, prefix in (
        ("cunwei", "621223100201"),
        ("cunwei2", "621223100202"),
        ("xiangzhen", "621223100"),
        ("caizheng", "621223"),
    ):
        seen, cursor = set(), None
        while True:
            url = "/households?limit=500" + (f"&cursor={cursor}" if cursor else "")
            page = (await api.as_(login, "GET", url)).json()
            seen |= {h["village_code"] for h in page["items"]}
            if not (cursor := page["next_cursor"]):
                break
        assert seen and all(v.startswith(prefix) for v in seen), (login, seen)
    # The other county's household exists: the readers above were kept from it, not missing it.
    r = await api.as_("admin", "GET", f"/households?village_code={FAR_VILLAGE}")
    assert [h["id"] for h in r.json()["items"]] == [world.targets[FAR].household]


async def test_every_error_is_a_problem(api):
    admin = await api.login("admin")
    cases = [
        ("GET", "/no-such-route", {}, 404),
        ("DELETE", "/users", {}, 405),
        ("POST", "/users", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ("POST", "/users", {"json": {"username": "x"}}, 422),
        ("GET", "/households?limit=501", {}, 422),
        ("GET", "/households?cursor=%%%", {}, 422),
        ("GET", "/households/not-a-uuid", {}, 404),
        ("PUT", "/regions/62", {"json": {"name": "x", "level": "village", "parent_code": "621223100000"}}, 422),
        (
            "POST",
            "/users",
            {"content": b"{" + b" " * 2_000_000 + b"}", "headers": {"Content-Type": "application/json"}},
            413,
        ),
    ]
    for method, url, kw, status in cases:
        headers = {**admin, **kw.pop("headers", {})}
        r = await api.client.request(method, url, headers=headers, **kw)
        assert_problem(r, status)
