"""Who may call the routes of a household's own award application (issue 18): the programmes open
to a household, and withdrawing an application. The same checks as tests/api/test_award_access.py,
on its World (household 008's granted application); what each scope then allows is tested in
tests/api/test_award_applications.py."""

from __future__ import annotations

from tests import access
from tests.access import Admitted, Route
from tests.api.test_award_access import CALLERS, STAFF, build_world

ROUTES = [
    Route(
        "GET",
        "/households/{household}/award-programs",
        STAFF | {"household"},
        admitted=Admitted.PASSES_GUARD,
    ),
    Route("POST", "/applications/{application}/withdraw", frozenset({"household"}), admitted=Admitted.PASSES_GUARD),
]


async def test_household_application_routes_need_a_token(api):
    await access.unauthenticated(await build_world(api), ROUTES)


async def test_household_application_routes_refuse_roles_the_guard_does_not_admit(api):
    await access.guard_refuses(await build_world(api), ROUTES, CALLERS)


async def test_household_application_routes_let_admitted_roles_past_the_guard(api):
    await access.admitted(await build_world(api), ROUTES, CALLERS)
