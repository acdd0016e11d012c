"""Creation and verification within one's county (issue 13, Authorization).

Decision: an accountant is given a region, as other staff are (a county, a township or a village:
the township's station keeps its villages' books, 村账乡管), and sets up ventures only inside it;
an accountant without a region sets up none and keeps the ventures it is given; no other role but
the admin sets up a venture. Before, an accountant without a region set up ventures anywhere
(POST /ventures with another county's village: 201).

GET /ledger/verify answers for the caller's county only (auditors and the finance office); the
admin names a county or gets them all. Before, any auditor learned whether every county's books
passed."""

from __future__ import annotations

import re

import pytest

from service.demo.people import DEMO_USERS
from tests import access
from tests.access import add_user
from tests.api.console_client import Console
from tests.api.test_access_matrix import FAR_COUNTY, FAR_TOWNSHIP, FAR_VILLAGE
from tests.api.test_auth_and_clock import assert_problem
from tests.api.test_household_import import household_json
from tests.payables_factory import make_payables

COUNTY, TOWNSHIP, VILLAGE = "621223000000", "621223100000", "621223100201"
OWN, OTHER = VILLAGE, FAR_VILLAGE

# Every staff role, each with a region in the demo county (the accountant's a county).
STAFF = [
    ("admin", "admin", None),
    ("kuaiji_county", "accountant", COUNTY),
    ("kuaiji_township", "accountant", TOWNSHIP),
    ("kuaiji_nowhere", "accountant", None),
    ("cunwei_x", "village_reviewer", VILLAGE),
    ("xiangzhen_x", "township_approver", TOWNSHIP),
    ("caizheng_x", "finance_officer", COUNTY),
    ("caizheng2_x", "finance_approver", COUNTY),
    ("shenji_x", "auditor", COUNTY),
]
# Who may set up a venture in (own county's village, the other county's village).
MAY_FOUND = {
    "admin": (True, True),
    "kuaiji_county": (True, False),
    "kuaiji_township": (True, False),
}


async def far_county(api) -> None:
    for code, name, level, parent in (
        (FAR_COUNTY, "文县", "county", "621200000000"),
        (FAR_TOWNSHIP, "城关镇", "township", FAR_COUNTY),
        (FAR_VILLAGE, "东峪村", "village", FAR_TOWNSHIP),
    ):
        r = await api.as_(
            "admin", "PUT", f"/regions/{code}", json={"name": name, "level": level, "parent_code": parent}
        )
        assert r.status_code == 200, r.text


def venture(village: str, name: str) -> dict:
    return {
        "name": name,
        "model": "cooperative",
        "village_code": village,
        "registered_capital_fen": 1_000_000,
        "charter": {"patronage_bp": 7000},
    }


async def test_every_role_sets_up_ventures_only_where_it_may(api):
    await far_county(api)
    for login, role, region in STAFF:
        if login != "admin":
            await add_user(api, login, role, region)
    household = await api.household_login("621223100201-001")
    wrong = []
    for login, role, _ in STAFF:
        for n, village in enumerate((OWN, OTHER)):
            before = await access.content(api)
            r = await api.as_(login, "POST", "/ventures", json=venture(village, f"{login}的合作社{n}"))
            allowed = MAY_FOUND.get(login, (False, False))[n]
            if allowed and r.status_code != 201:
                wrong.append(f"{login} in {village}: {r.status_code} {r.text[:100]}")
            if not allowed:
                if r.status_code != 403:
                    wrong.append(f"{login} ({role}) in {village}: {r.status_code}, not 403")
                elif await access.changes(api, before):
                    wrong.append(f"{login} in {village}: refused, yet something changed")
            if allowed and role == "accountant":
                # It keeps what it set up.
                vid = r.json()["id"]
                assert (await api.as_(login, "GET", f"/ventures/{vid}")).status_code == 200
    r = await api.client.post("/ventures", json=venture(OWN, "农户的合作社"), headers=household)
    if r.status_code != 403:
        wrong.append(f"household: {r.status_code}")
    assert not wrong, "\n".join(wrong)


async def test_the_demo_accountant_works_in_the_demo_county(api):
    assert ("kuaiji", "accountant", COUNTY) in DEMO_USERS
    r = await api.as_("kuaiji", "POST", "/ventures", json=venture(VILLAGE, "新合作社"))
    assert r.status_code == 201, r.text
    assert (await api.as_("kuaiji", "GET", f"/ventures/{r.json()['id']}")).status_code == 200
    await far_county(api)
    assert_problem(await api.as_("kuaiji", "POST", "/ventures", json=venture(FAR_VILLAGE, "别县合作社")), 403)
    # Its region gives it nothing of the county's beyond its ventures.
    for url in ("/payables", "/payment-batches", f"/ledger/accounts?county_code={COUNTY}", "/ledger/verify"):
        r = await api.as_("kuaiji", "GET", url)
        assert r.status_code in (403, 404), f"{url}: {r.status_code}"


async def _break_far_county(api) -> None:
    """A kept balance one fen off its lines, in the far county: its books fail one check."""
    await far_county(api)
    r = await api.as_("admin", "POST", "/households", json=_far_household())
    assert r.status_code == 201, r.text
    conn = await api.connect()
    try:
        await make_payables(conn, FAR_COUNTY, [r.json()["id"]], 100)
        await conn.execute(
            """UPDATE account_balances SET balance_fen = balance_fen + 1
               WHERE county_code = $1 AND account_id = (
                   SELECT account_id FROM account_balances WHERE county_code = $1 LIMIT 1)""",
            FAR_COUNTY,
        )
    finally:
        await conn.close()


def _far_household() -> dict:
    return household_json(1, village=FAR_VILLAGE)


@pytest.mark.parametrize("login", ["shenji", "caizheng", "caizheng2"])
async def test_ledger_verify_answers_for_the_callers_county(api, login):
    await _break_far_county(api)
    r = await api.as_(login, "GET", "/ledger/verify")
    assert r.status_code == 200, r.text
    assert r.json()["ok"] and r.json()["county_code"] == COUNTY, r.json()
    assert_problem(await api.as_(login, "GET", "/ledger/verify", params={"county_code": FAR_COUNTY}), 403)
    await add_user(api, "shenji_far", "auditor", FAR_COUNTY)
    r = await api.as_("shenji_far", "GET", "/ledger/verify")
    assert r.status_code == 200 and not r.json()["ok"] and r.json()["county_code"] == FAR_COUNTY, r.text


async def test_the_admin_verifies_any_county_or_all(api):
    await _break_far_county(api)
    everything = (await api.as_("admin", "GET", "/ledger/verify")).json()
    assert not everything["ok"] and everything["county_code"] is None
    assert (await api.as_("admin", "GET", "/ledger/verify", params={"county_code": COUNTY})).json()["ok"]
    far = (await api.as_("admin", "GET", "/ledger/verify", params={"county_code": FAR_COUNTY})).json()
    (failed,) = [c for c in far["checks"] if not c["ok"]]
    assert failed["name"] == "balances_equal_lines"
    for login in ("kuaiji", "cunwei", "xiangzhen"):
        assert (await api.as_(login, "GET", "/ledger/verify")).status_code == 403


async def test_the_console_verifies_the_auditors_own_county_only(api):
    """/console/verify answers as GET /ledger/verify does. Before, it checked every county's books
    and listed the first problem found, another county's included, to any county's auditor."""
    await _break_far_county(api)
    await add_user(api, "shenji_far", "auditor", FAR_COUNTY)
    async with Console(api, "shenji") as auditor:
        page = await auditor.get("/console/verify")
        assert page.status_code == 200 and "全部 8 项核验通过" in page.text, page.text
        assert f"核验范围：宕昌县（{COUNTY}）" in page.text and FAR_COUNTY not in page.text
        # The admin's choice of county is not the auditor's: still its own county.
        page = await auditor.get("/console/verify", county=FAR_COUNTY)
        assert "全部 8 项核验通过" in page.text and FAR_COUNTY not in page.text
    async with Console(api, "shenji_far") as far:
        page = await far.get("/console/verify")
        assert page.status_code == 200 and "1 项核验未通过" in page.text and f"文县（{FAR_COUNTY}）" in page.text
        assert re.search(r'<tr id="check-balances_equal_lines">.*?<td>未通过</td>', page.text)
    async with Console(api, "admin") as admin:
        page = await admin.get("/console/verify")
        assert "1 项核验未通过" in page.text and "核验范围：全部县" in page.text
        page = await admin.get("/console/verify", county=COUNTY)
        assert "全部 8 项核验通过" in page.text and f"宕昌县（{COUNTY}）" in page.text
        bad = await admin.get("/console/verify", county="宕昌")
        assert bad.status_code == 422 and "县级区域代码应为 12 位数字" in bad.text
