"""Who is asking, and what they may see: roles and their scopes (API.md, Auth)."""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Role(StrEnum):
    """The roles of API.md (Auth); a role's value is what tokens, users and guards carry."""

    ADMIN = "admin"
    ACCOUNTANT = "accountant"  # ventures it keeps
    VILLAGE_REVIEWER = "village_reviewer"  # a village
    TOWNSHIP_APPROVER = "township_approver"  # a township
    FINANCE_OFFICER = "finance_officer"  # a county
    FINANCE_APPROVER = "finance_approver"  # a county
    AUDITOR = "auditor"  # a county, read only
    HOUSEHOLD = "household"  # itself


STAFF_ROLES = tuple(r.value for r in Role if r is not Role.HOUSEHOLD)
REGION_SCOPED_ROLES = (
    Role.VILLAGE_REVIEWER,
    Role.TOWNSHIP_APPROVER,
    Role.FINANCE_OFFICER,
    Role.FINANCE_APPROVER,
    Role.AUDITOR,
)

# Statistical region codes: 2 digits province, 2 city, 2 county, 3 township, 3 village.
_GROUPS = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))


def region_prefix(code: str) -> str:
    """The significant digits of a region code: 621223000000 → 621223."""
    parts = [code[a:b] for a, b in _GROUPS]
    while parts and set(parts[-1]) == {"0"}:
        parts.pop()
    return "".join(parts)


def county_of(code: str) -> str:
    return code[:6] + "0" * 6


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    kind: str  # "user" or "household"
    id: str
    name: str
    role: str
    region_code: str | None = None
    venture_ids: frozenset[str] = frozenset()
    household_id: str | None = None
    county_code: str | None = None

    @classmethod
    def system(cls, name: str) -> Principal:
        """The service acting for itself (CLI, demo loader, benchmarks): admin scope, named in the audit."""
        return cls(kind="user", id="00000000-0000-0000-0000-000000000000", name=name, role=Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def covers_region(self, code: str) -> bool:
        """Whether a region (or anything located in it) is inside this principal's scope."""
        if self.is_admin:
            return True
        if self.role not in REGION_SCOPED_ROLES or not self.region_code:
            return False
        return code.startswith(region_prefix(self.region_code))

    def covers_county(self, county_code: str) -> bool:
        if self.is_admin:
            return True
        # An accountant's region says only where it may set up ventures: it reads its ventures.
        if not self.region_code or self.role == Role.ACCOUNTANT:
            return False
        # A township or village officer still belongs to its county for county-wide reads.
        return county_of(self.region_code) == county_code or county_code.startswith(region_prefix(self.region_code))

    @property
    def home_county(self) -> str | None:
        """The one county every row this principal may read lies in (a household's own, a county's
        or a smaller region's officer's), or None when its scope spans counties or is not a region.
        A lookup by id alone that names it goes to one shard on a cluster (docs/scale-out.md)."""
        if self.role == Role.HOUSEHOLD:
            return self.county_code
        if self.role in REGION_SCOPED_ROLES and self.region_code and len(region_prefix(self.region_code)) >= 6:
            return county_of(self.region_code)
        return None

    def covers_venture(self, venture_id: str) -> bool:
        return self.is_admin or (self.role == "accountant" and venture_id in self.venture_ids)

    def is_household(self, household_id: str) -> bool:
        return self.role == "household" and self.household_id == household_id
