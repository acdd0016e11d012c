"""A role's region scope is a region of the role's level (service/users/rules.py)."""

from __future__ import annotations

import pytest

from service.core.errors import Invalid
from service.core.principal import Role
from service.users.rules import ROLE_REGION_LEVEL, check_role_region

CODES = {
    "county": "621223000000",
    "township": "621223100000",
    "village": "621223100201",
}


@pytest.mark.parametrize("role", sorted(ROLE_REGION_LEVEL))
def test_a_scoped_role_takes_a_region_of_its_level_only(role):
    for level, code in CODES.items():
        if level == ROLE_REGION_LEVEL[role]:
            check_role_region(role, code)
        else:
            with pytest.raises(Invalid) as exc:
                check_role_region(role, code)
            assert exc.value.errors == [{"field": "region_code", "message": exc.value.detail}]
            assert "级区域代码" in exc.value.detail


@pytest.mark.parametrize("role", sorted(ROLE_REGION_LEVEL))
def test_a_scoped_role_must_name_its_region(role):
    for missing in (None, ""):
        with pytest.raises(Invalid, match="必须指定管辖区域") as exc:
            check_role_region(role, missing)
        assert exc.value.errors[0]["field"] == "region_code"


def test_every_region_scoped_role_has_a_level():
    from service.core.principal import REGION_SCOPED_ROLES

    assert {r.value for r in REGION_SCOPED_ROLES} == set(ROLE_REGION_LEVEL)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ACCOUNTANT])
def test_roles_without_a_region_scope_need_none(role):
    check_role_region(role, None)
