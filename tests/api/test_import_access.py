"""Who may fetch the import templates (issue 12: every import offers one, next to its route).

The templates of the venture imports are in tests/api/test_venture_access.py (they name a
venture); the others are here. A template is the same for every caller it admits and names no
object of anyone's, so the table checks the guard: 401 without a token, 403 for the roles it does
not admit, the xlsx for those it does.
"""

from __future__ import annotations

import io
import uuid

import openpyxl

from tests import access
from tests.access import Route, World

REGISTRARS = frozenset({"admin", "village_reviewer", "township_approver"})
FINANCE_OFFICER = frozenset({"admin", "finance_officer"})
FINANCE = frozenset({"admin", "finance_officer", "finance_approver"})

ROUTES = [
    Route("GET", "/households/import-template", REGISTRARS),
    Route("GET", "/cross-check-lists/import-template", FINANCE_OFFICER),
    Route("GET", "/payment-batches/{batch}/returns/import-template", FINANCE),
]
CALLERS = access.demo_callers("621223100201-003")


def world(api) -> World:
    return World(api, ids={"batch": str(uuid.uuid4())})


async def test_without_a_token_templates_answer_401(api):
    await access.unauthenticated(world(api), ROUTES)


async def test_roles_the_guard_does_not_admit_get_403(api):
    await access.guard_refuses(world(api), ROUTES, CALLERS)


async def test_admitted_roles_get_the_xlsx(api):
    w = world(api)
    await access.admitted(w, ROUTES, CALLERS)
    for route in ROUTES:
        r = await w.send(route, CALLERS[0])
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats"), route.path
        assert "attachment" in r.headers["content-disposition"]
        assert openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames[1] == "填写说明"
