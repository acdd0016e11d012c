"""Which county a principal's reads lie in (Principal.home_county): what a lookup by id names so
that a cluster asks one shard, and None wherever naming a county could hide a row the principal
may read."""

from __future__ import annotations

from service.core.principal import Principal


def staff(role: str, region: str | None) -> Principal:
    return Principal(kind="user", id="u", name="u", role=role, region_code=region)


def test_a_household_and_officers_of_a_county_or_below_read_in_that_county():
    household = Principal(
        kind="household",
        id="h",
        name="621223100201-001",
        role="household",
        household_id="h",
        county_code="621223000000",
        region_code="621223100201",
    )
    assert household.home_county == "621223000000"
    assert staff("village_reviewer", "621223100201").home_county == "621223000000"
    assert staff("township_approver", "621223100000").home_county == "621223000000"
    for role in ("finance_officer", "finance_approver", "auditor"):
        assert staff(role, "621223000000").home_county == "621223000000"


def test_scopes_spanning_counties_name_none():
    assert staff("auditor", "620000000000").home_county is None  # a province's auditor
    assert staff("finance_officer", "621200000000").home_county is None  # a prefecture's office
    assert staff("admin", None).home_county is None
    assert staff("accountant", "621223000000").home_county is None  # reads its ventures, wherever
    assert staff("auditor", None).home_county is None
