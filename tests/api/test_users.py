"""Users are created with the scope their role has in API.md, and nothing wider or narrower."""

import pytest


@pytest.mark.parametrize(
    ("role", "region", "ok"),
    [
        ("finance_officer", "621223000000", True),
        ("finance_officer", "621223100000", False),  # a township cannot hold a county's money
        ("auditor", "621223100201", False),
        ("township_approver", "621223100000", True),
        ("township_approver", "621223000000", False),
        ("village_reviewer", "621223100201", True),
        ("village_reviewer", "621223100000", False),
    ],
)
async def test_role_scope_matches_its_region_level(api, role, region, ok):
    r = await api.as_(
        "admin",
        "POST",
        "/users",
        json={"username": f"u-{role}-{region}", "password": "a-long-password", "role": role, "region_code": region},
    )
    if ok:
        assert r.status_code == 201, r.text
    else:
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "region_code"


async def test_only_admin_creates_users_and_names_are_unique(api):
    body = {"username": "kuaiji9", "password": "a-long-password", "role": "accountant"}
    assert (await api.as_("caizheng", "POST", "/users", json=body)).status_code == 403
    assert (await api.as_("admin", "POST", "/users", json=body)).status_code == 201
    assert (await api.as_("admin", "POST", "/users", json=body)).status_code == 409
