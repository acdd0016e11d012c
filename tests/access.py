"""Who may call what: the one way the access tables (tests/api/test_*access*.py) are played.

A table is a list of Route rows: method, path, the roles the route's guard admits, a factory for a
valid request, the kind of object the route acts on, what an admitted caller gets and what a caller
outside the object's scope gets. Paths name their objects by placeholder ({household}, {coop},
{batch} ...). A World holds the values: `ids`, the objects in the scope of every Caller, and named
`places`, other objects (another village's household, another accountant's venture ...) whose ids
override `ids` when a request is aimed there.

The checks, each over a whole table, list every wrong answer of a run at once:
- `unauthenticated`: without a token and with a forged one, 401 problem+json with a Bearer challenge;
- `guard_refuses`: every caller whose role the guard does not admit gets 403 problem+json;
- `admitted`: every caller whose role the guard admits gets what the row's `admitted` says;
- `outsiders_refused`: a caller aimed at an object outside its scope gets one of the row's
  `refused` statuses as problem+json, which does not show the ids it refused;
and none of the refusals changes anything: each of those checks compares the content of every
table before and after (`content`, `changes`; `unchanged` does the same for a test's own block).
Callers sign in before the first snapshot; a household signs in with its number and PIN.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.api.test_auth_and_clock import assert_problem
from tests.conftest import DEMO_PASSWORD, Api

STAFF = frozenset(
    {"admin", "accountant", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"}
)
EVERYONE = STAFF | {"household"}

NO_TOKEN: dict[str, str] = {}
FORGED = {"Authorization": "Bearer forged.token"}


@dataclass(frozen=True)
class Call:
    """What a body factory builds a request from: the ids of the objects the request is aimed at,
    and a number no other request of the World has had (for names and amounts that must be new)."""

    ids: Mapping[str, Any]
    n: int


Body = Callable[[Call], dict]


def no_body(call: Call) -> dict:
    return {}


class Admitted(enum.Enum):
    """What a caller the guard admits must get, aimed at its own objects."""

    # A 2xx.
    SUCCEEDS = "a 2xx"
    # Neither the guard nor the scope refuses (no 401, 403, 404) and nothing breaks (no 5xx); a
    # read answers 200. A business rule may still refuse a write (409, 422: an earlier caller
    # already approved the draft); its success is tested where the route is built.
    PASSES_SCOPE = "no 401, 403, 404 or 5xx, and 200 for a read"
    # The guard lets it through (no 401, no 403 naming the role) and nothing breaks; what its scope
    # then allows is tested elsewhere.
    PASSES_GUARD = "no 401, no 403 from the guard, no 5xx"


NOT_FOUND = frozenset({404})


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # placeholders name the World's ids; a query string may follow
    roles: frozenset[str]  # the roles its guard admits
    body: Body = no_body
    # The kind of object the request acts on (a venture, a household, a batch ...): an Outsider of
    # that kind aimed at it must be refused. None: it acts on nothing scoped.
    acts_on: str | None = None
    # What a refusal outside one's scope may be: an object named by id does not exist for an
    # outsider (404); a region named in the query or body is forbidden (403).
    refused: frozenset[int] = NOT_FOUND
    admitted: Admitted = Admitted.SUCCEEDS
    # A request that can succeed once only (confirming a proposal): admitted callers after the first
    # success must be answered 422, which still shows that guard and scope let them through.
    once: bool = False

    @property
    def scoped(self) -> bool:
        """Whether it acts on an object of someone's scope."""
        return self.acts_on is not None

    @property
    def template(self) -> str:
        """The path as the app's route table spells it, every placeholder `{}`."""
        return template(self.path)

    def url(self, ids: Mapping[str, Any]) -> str:
        return self.path.format(**ids)


def template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0]).rstrip("/") or "/"


async def served(api: Api) -> set[tuple[str, str]]:
    """(method, template) of every route of the HTTP API (the OpenAPI document: no pages)."""
    paths = (await api.client.get("/schema/openapi.json")).json()["paths"]
    return {
        (method.upper(), template(path))
        for path, ops in paths.items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }


def handled(api: Api) -> set[tuple[str, str]]:
    """(method, template) of every route the app handles: the API, its pages and its schema."""
    return {
        (method, template(route.path))
        for route in api.app.routes
        for handler in route.route_handlers
        for method in handler.http_methods
        if method not in ("OPTIONS", "HEAD")
    }


@dataclass(frozen=True)
class Caller:
    login: str  # a username, or the household number of a household
    role: str
    # The place of the World its own objects are at ("": the World's ids). None: it has no objects
    # of its own, so routes acting on an object are not tried for it as an admitted caller.
    home: str | None = ""


def demo_staff() -> list[Caller]:
    """The demo county's staff (README, "Demo logins"): each covers the whole demo village 621223100201."""
    return [
        Caller("admin", "admin"),
        Caller("kuaiji", "accountant"),
        Caller("cunwei", "village_reviewer"),
        Caller("xiangzhen", "township_approver"),
        Caller("caizheng", "finance_officer"),
        Caller("caizheng2", "finance_approver"),
        Caller("shenji", "auditor"),
    ]


def demo_callers(household: str) -> list[Caller]:
    """The demo staff and one demo household (its number), all at the World's ids."""
    return [*demo_staff(), Caller(household, "household")]


async def add_user(api: Api, login: str, role: str, region: str | None = None) -> Caller:
    """A staff user made by the admin through POST /users, signing in with the demo password."""
    body: dict[str, Any] = {"username": login, "password": DEMO_PASSWORD, "role": role}
    if region is not None:
        body["region_code"] = region
    r = await api.as_("admin", "POST", "/users", json=body)
    assert r.status_code == 201, r.text
    return Caller(login, role)


@dataclass(frozen=True)
class Outsider:
    """A caller that must not reach the objects of the given kinds at a place of the World."""

    caller: Caller
    kinds: frozenset[str]
    at: str = ""  # "": the World's ids


Place = str | Mapping[str, Any] | None


@dataclass
class World:
    api: Api
    ids: dict[str, Any] = field(default_factory=dict)
    places: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Keys of ids whose values a refusal must not show (it does not describe what it refused).
    hidden: frozenset[str] = frozenset()
    numbers: int = 0  # the last number handed to a body factory
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def at(self, place: Place) -> dict[str, Any]:
        """The ids of a place: its name in `places`, or ids of its own; "" or None: `ids`."""
        if isinstance(place, Mapping):
            return {**self.ids, **place}
        return {**self.ids, **self.places[place]} if place else dict(self.ids)

    async def headers(self, caller: Caller) -> dict[str, str]:
        if caller.login not in self._tokens:
            if caller.role == "household":
                self._tokens[caller.login] = await self.api.household_login(caller.login)
            else:
                self._tokens[caller.login] = await self.api.login(caller.login)
        return self._tokens[caller.login]

    async def sign_in(self, callers: Iterable[Caller]) -> None:
        """Tokens for every caller, before a check takes its snapshot."""
        for caller in callers:
            await self.headers(caller)

    async def send(
        self, route: Route, caller: Caller | None, place: Place = "", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        if caller is not None:
            headers = await self.headers(caller)
        ids = self.at(place)
        self.numbers += 1
        kw = route.body(Call(ids, self.numbers))
        return await self.api.client.request(route.method, route.url(ids), headers=headers or {}, **kw)


# --- nothing changed ---------------------------------------------------------------------------


async def content(api: Api) -> dict[str, str]:
    """A digest of every row of every table of the database."""
    conn = await api.connect()
    try:
        tables = [
            r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {
            table: await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(r::text, chr(10) ORDER BY r::text), '')) FROM \"{table}\" r"
            )
            for table in tables
        }
    finally:
        await conn.close()


async def changes(api: Api, before: Mapping[str, str], what: str = "a refused request") -> list[str]:
    """What changed since `before` (a `content`), as the line of a report; none: []."""
    after = await content(api)
    changed = sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
    return [f"{what} changed {', '.join(changed)}"] if changed else []


@contextlib.asynccontextmanager
async def unchanged(api: Api, what: str = "a refused request") -> AsyncIterator[None]:
    """Asserts that the block leaves every table as it found it."""
    before = await content(api)
    yield
    assert await changes(api, before, what) == []


# --- the checks --------------------------------------------------------------------------------


def _wrong(wrong: list[str], who: str, route: Route, r: httpx.Response, why: str = "") -> None:
    wrong.append(f"{who} {route.method} {route.path}: {r.status_code} {why or r.text[:200]}")


def _problem(wrong: list[str], who: str, route: Route, r: httpx.Response, statuses: Collection[int]) -> dict | None:
    """The problem+json body when r answers one of statuses; otherwise notes r in wrong."""
    if r.status_code not in statuses:
        _wrong(wrong, who, route, r)
        return None
    try:
        return assert_problem(r, r.status_code)
    except AssertionError as e:
        _wrong(wrong, who, route, r, f"not a problem: {e}")
        return None


def _report(wrong: list[str]) -> None:
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)


async def unauthenticated(world: World, routes: Iterable[Route]) -> None:
    """Without a token, or with a forged one, every route answers 401 and changes nothing."""
    wrong: list[str] = []
    before = await content(world.api)
    for route in routes:
        for who, headers in (("no token", NO_TOKEN), ("forged token", FORGED)):
            r = await world.send(route, None, headers=headers)
            if _problem(wrong, who, route, r, {401}) is not None:
                if not r.headers.get("WWW-Authenticate", "").startswith("Bearer"):
                    _wrong(wrong, who, route, r, "no Bearer challenge")
    _report(wrong + await changes(world.api, before))


async def guard_refuses(world: World, routes: Iterable[Route], callers: Iterable[Caller]) -> None:
    """Every caller whose role the guard does not admit gets 403 at its own objects; nothing changes."""
    callers = list(callers)
    await world.sign_in(callers)
    wrong: list[str] = []
    before = await content(world.api)
    for route in routes:
        for caller in callers:
            if caller.role not in route.roles:
                r = await world.send(route, caller, caller.home)
                _problem(wrong, caller.login, route, r, {403})
    _report(wrong + await changes(world.api, before))


def refused_by_guard(r: httpx.Response) -> bool:
    """A 403 of service.core.auth.allow, which names the caller's role."""
    return r.status_code == 403 and "角色" in r.json().get("detail", "")


def _admits(route: Route, r: httpx.Response) -> bool:
    status = r.status_code
    if route.admitted is Admitted.SUCCEEDS:
        return 200 <= status < 300
    if route.admitted is Admitted.PASSES_SCOPE:
        return status not in (401, 403, 404) and status < 500 and (route.method != "GET" or status == 200)
    return status != 401 and not refused_by_guard(r) and status < 500


async def admitted(world: World, routes: Iterable[Route], callers: Iterable[Caller], at_least: int = 1) -> None:
    """Every caller whose role the guard admits gets what its row's `admitted` says at its own
    objects (after a `once` row's first success: 422)."""
    callers = list(callers)
    wrong: list[str] = []
    tried = 0
    for route in routes:
        succeeded = False
        for caller in callers:
            if caller.role not in route.roles or (route.scoped and caller.home is None):
                continue
            tried += 1
            r = await world.send(route, caller, caller.home)
            if route.once and succeeded:
                if r.status_code != 422:
                    _wrong(wrong, caller.login, route, r, f"expected 422 after a success: {r.text[:200]}")
            elif not _admits(route, r):
                _wrong(wrong, caller.login, route, r, f"expected {route.admitted.value}: {r.text[:200]}")
            succeeded = succeeded or 200 <= r.status_code < 300
    _report(wrong)
    assert tried >= at_least, f"only {tried} admitted calls tried"


async def outsiders_refused(
    world: World, routes: Iterable[Route], outsiders: Iterable[Outsider], at_least: int = 1
) -> None:
    """Every admitted caller aimed at an object outside its scope is refused as its row says,
    without the refusal showing the ids it refused; nothing changes."""
    outsiders = list(outsiders)
    await world.sign_in(o.caller for o in outsiders)
    wrong: list[str] = []
    tried = 0
    before = await content(world.api)
    for route in routes:
        for o in outsiders:
            if o.caller.role not in route.roles or route.acts_on not in o.kinds:
                continue
            tried += 1
            who = f"{o.caller.login} at {o.at or 'the world'}"
            r = await world.send(route, o.caller, o.at)
            body = _problem(wrong, who, route, r, route.refused)
            ids = world.at(o.at)
            shown = sorted(k for k in world.hidden if k in ids and str(ids[k]) in str(body))
            if body is not None and shown:
                _wrong(wrong, who, route, r, f"the refusal shows {shown}: {body}")
    _report(wrong + await changes(world.api, before))
    assert tried >= at_least, f"only {tried} outsider calls tried"
