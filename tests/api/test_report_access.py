"""Who may read the reports and registers (issue 17), on tests/access.py.

Each report is scoped like the object it describes: a venture's statements by the venture's
readers (its accountant, the reviewers of its region, the county's finance and audit), a
household's card by the household and its region's readers, a region's register by the readers of
that region. The printed notice is public, as the notice is. Scope inside a role (another
accountant, another village) is tested in test_reports.py and test_reports_registers.py.
"""

from __future__ import annotations

from tests import access
from tests.access import STAFF, Admitted, Route, World
from tests.api.test_distribution_workflow import cooperative_of_design_md
from tests.api.test_reports import INCOME_2025, post_year

VENTURE_READERS = frozenset(
    {"admin", "accountant", "auditor", "township_approver", "village_reviewer", "finance_officer", "finance_approver"}
)
REGION_READERS = frozenset(
    {"admin", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"}
)
CARD_READERS = REGION_READERS | {"household"}
PASSES = Admitted.PASSES_SCOPE

ROUTES = [
    Route("GET", "/ventures/{coop}/reports/surplus-distribution?year=2025", VENTURE_READERS, admitted=PASSES),
    Route("GET", "/ventures/{coop}/reports/member-equity?year=2025", VENTURE_READERS, admitted=PASSES),
    Route("GET", "/ventures/{coop}/members/{member}/account-book?year=2025", VENTURE_READERS, admitted=PASSES),
    Route("GET", "/ventures/{coop}/account-books?year=2025", VENTURE_READERS, admitted=PASSES),
    Route("GET", "/ventures/{coop}/reports/profit-distribution?year=2025", VENTURE_READERS, admitted=PASSES),
    Route("GET", "/ventures/{coop}/shareholders", VENTURE_READERS, admitted=PASSES),
    Route("GET", "/ventures/{coop}/share-certificates/{certificate}", VENTURE_READERS, admitted=PASSES),
    Route("GET", "/households/{household}/card?year=2025", CARD_READERS, admitted=PASSES),
    Route("GET", "/regions/{village}/register?year=2025", REGION_READERS, admitted=PASSES),
    Route("GET", "/regions/{county}/year-report?year=2025", REGION_READERS, admitted=Admitted.PASSES_GUARD),
]
PUBLIC = {("GET", "/notices/{}/print")}


async def world(api) -> World:
    vid, members = await cooperative_of_design_md(api)
    await post_year(api, vid, 2025, 40_000_000, INCOME_2025)
    register = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/shareholders")).json()
    return World(
        api,
        ids={
            "coop": vid,
            "member": members[0],
            "certificate": register["items"][0]["certificate_no"],
            "household": await api.household_id("621223100201-001"),
            "village": "621223100201",
            "county": "621223000000",
        },
    )


async def test_reports_without_a_token_are_401(api):
    await access.unauthenticated(await world(api), ROUTES)


async def test_roles_the_guard_does_not_admit_get_403_and_readers_get_their_report(api):
    w = await world(api)
    callers = [c for c in access.demo_staff() if c.role in STAFF] + [access.Caller("621223100201-001", "household")]
    await access.guard_refuses(w, ROUTES, callers)
    await access.admitted(w, ROUTES, callers)
