"""Who may call what, over every route the app serves (issue 2: guards on every route).

ROUTES is the table (a tests/access.py Route per route): the roles its guard admits and a factory
for a valid request. Paths name the object they act on through a target's ids ({household},
{village}, {village_name}, {township}, {county}, {year}): the World's ids are household HOME's, and
its places are the other targets, so the same entry is sent at a caller's own object and at objects
outside its scope. A later issue that adds routes adds entries here, or keeps a table of its own in
a module tests/api/test_*access*.py exposing ROUTES, whose entries have .method and .template, and
PUBLIC, the (method, template) pairs anyone may call; test_every_served_route_is_in_the_table fails
until one of the tables lists every route the app serves.

The checks, each over the whole table (tests/access.py):
- without a token, or with a forged one, every non-public route answers 401;
- every role the guard does not admit gets 403;
- every admitted role gets a 2xx for an object in its own scope;
- for a route that acts on a household or a region, another household's or region's object
  answers 403 or 404 (422 for a file row) and changes nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from pathlib import Path

from tests import access
from tests.access import EVERYONE, Call, Caller, Outsider, Route, World, add_user
from tests.api.test_auth_and_clock import assert_problem
from tests.api.test_household_import import COUNTY, household_json, household_row, upload

REGISTRARS = frozenset({"admin", "village_reviewer", "township_approver"})
REGION_READERS = frozenset(
    {"admin", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"}
)
ADMIN = frozenset({"admin"})

# Routes anyone may call, and the OpenAPI documents themselves.
# /metrics is open to this machine only (the suite's client is the loopback address); from
# elsewhere it is the admin's: tests/api/test_operations.py.
PUBLIC = {
    ("POST", "/auth/token"),
    ("POST", "/auth/household-token"),
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
}

# The kind of object of every scoped route here: a household, or the region it lies in.
REGIONAL = "household or region"
# A file names each out-of-scope row with its row number (422), as it names every other bad row.
REFUSED = frozenset({403, 404})
REFUSED_ROW = frozenset({403, 404, 422})


def _new_user(c: Call) -> dict:
    return {
        "json": {
            "username": f"user{c.n}",
            "password": "long-enough-password",
            "role": "auditor",
            "region_code": c.ids["county"],
        }
    }


def _same_village(c: Call) -> dict:
    return {"json": {"name": c.ids["village_name"], "level": "village", "parent_code": c.ids["township"]}}


def _new_household(c: Call) -> dict:
    return {"json": household_json(c.n, village=c.ids["village"])}


def _import_one(c: Call) -> dict:
    return upload("csv-utf8", [household_row(c.n, village=c.ids["village"])])


def _status_event(c: Call) -> dict:
    year = c.ids["year"]
    return {"json": {"kind": "registered", "year": year, "effective_date": f"{year}-03-01"}}


def _lines(c: Call) -> dict:
    return {"json": {"poverty_line_fen": 400_000, "xiaokang_line_fen": 1_000_000}}


def _clock(c: Call) -> dict:
    return {"json": {"today": "2030-01-15"}}


def _scoped(method: str, path: str, roles: frozenset[str], body=access.no_body, refused=REFUSED) -> Route:
    return Route(method, path, roles, body, acts_on=REGIONAL, refused=refused)


ROUTES: list[Route] = [
    Route("GET", "/users", ADMIN),
    Route("POST", "/users", ADMIN, _new_user),
    # Region names are reference data every signed-in user may read.
    Route("GET", "/regions/{village}", EVERYONE),
    Route("GET", "/regions?parent_code={township}", EVERYONE),
    Route("PUT", "/regions/{village}", ADMIN, _same_village),
    _scoped("GET", "/households?village_code={village}", REGION_READERS),
    _scoped("POST", "/households", REGISTRARS, _new_household),
    _scoped("POST", "/households/import", REGISTRARS, _import_one, refused=REFUSED_ROW),
    _scoped("GET", "/households/{household}", EVERYONE),
    _scoped("POST", "/households/{household}/status-events", REGISTRARS, _status_event),
    Route("GET", "/poverty-lines/{year}", EVERYONE),
    Route("PUT", "/poverty-lines/{year}", ADMIN, _lines),
    _scoped("GET", "/audit-log?county_code={county}", frozenset({"admin", "auditor"})),
    Route("GET", "/admin/clock", ADMIN),
    Route("PUT", "/admin/clock", ADMIN, _clock),
]


# --- the people and objects the table is played against ----------------------------------------


@dataclass(frozen=True)
class Target:
    """An object a request can be aimed at: a household and the regions it lies in."""

    household: str
    village: str
    village_name: str
    township: str
    county: str
    year: int = 2024


HOME = "home"  # 621223100201-001, in the demo reviewer's village
NEIGHBOUR = "neighbour"  # 621223100201-002, same village, another household
NEXT_VILLAGE = "next"  # 621223100202-001, same township, another village
FAR = "far"  # a household in another county, built by build_world

# Each caller at its own target (its home), with the targets outside its scope.
HOMES_AND_AWAY: list[tuple[Caller, tuple[str, ...]]] = [
    (Caller("admin", "admin", HOME), ()),
    # An accountant sees households only through its ventures; the demo one has none yet.
    (Caller("kuaiji", "accountant", None), (HOME,)),
    (Caller("cunwei", "village_reviewer", HOME), (NEXT_VILLAGE, FAR)),
    (Caller("cunwei2", "village_reviewer", NEXT_VILLAGE), (HOME, FAR)),
    (Caller("xiangzhen", "township_approver", HOME), (FAR,)),
    (Caller("caizheng", "finance_officer", HOME), (FAR,)),
    (Caller("caizheng2", "finance_approver", HOME), (FAR,)),
    (Caller("shenji", "auditor", HOME), (FAR,)),
    (Caller("621223100201-001", "household", HOME), (NEIGHBOUR, NEXT_VILLAGE, FAR)),
    (Caller("621223100201-002", "household", NEIGHBOUR), (HOME,)),
]
PLAYERS = [caller for caller, _ in HOMES_AND_AWAY]
OUTSIDERS = [Outsider(caller, frozenset({REGIONAL}), place) for caller, away in HOMES_AND_AWAY for place in away]

FAR_COUNTY, FAR_TOWNSHIP, FAR_VILLAGE = "621222000000", "621222100000", "621222100201"


@dataclass
class Regions(World):
    """A World whose places are the targets, by name (tests/api/test_privacy.py aims GETs at them)."""

    @property
    def targets(self) -> dict[str, dict]:
        return self.places


async def build_world(api) -> Regions:
    """The demo county plus a second village reviewer and a second county with one household."""
    await add_user(api, "cunwei2", "village_reviewer", "621223100202")
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
    targets = {
        HOME: Target(await api.household_id("621223100201-001"), "621223100201", "南沿沟村", township, COUNTY),
        NEIGHBOUR: Target(await api.household_id("621223100201-002"), "621223100201", "南沿沟村", township, COUNTY),
        NEXT_VILLAGE: Target(await api.household_id("621223100202-001"), "621223100202", "王何村", township, COUNTY),
        FAR: Target(far_id, FAR_VILLAGE, "东峪村", FAR_TOWNSHIP, FAR_COUNTY),
    }
    # Numbers from 50 001 on: household numbers and ID numbers the demo and FAR do not use.
    return Regions(
        api,
        ids=asdict(targets[HOME]),
        places={name: asdict(target) for name, target in targets.items()},
        hidden=frozenset({"household"}),
        numbers=50_000,
    )


# --- the checks --------------------------------------------------------------------------------


async def test_every_served_route_is_in_the_table(api):
    served = await access.served(api)
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
    await access.unauthenticated(await build_world(api), ROUTES)


async def test_roles_the_guard_does_not_admit_get_403(api):
    await access.guard_refuses(await build_world(api), ROUTES, PLAYERS)


async def test_admitted_roles_reach_their_own_objects(api):
    await access.admitted(await build_world(api), ROUTES, PLAYERS)


async def test_objects_outside_ones_scope_are_refused(api):
    await access.outsiders_refused(await build_world(api), ROUTES, OUTSIDERS, at_least=21)


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
    assert [h["id"] for h in r.json()["items"]] == [world.targets[FAR]["household"]]


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
