"""The access policy: who may see and change which object (API.md, Auth; DESIGN.md, People and privacy).

Roles are scoped: an accountant to its ventures, a reviewer to a village or township, a finance
officer and an auditor to a county, a household to itself. Role guards on routes say who may call
at all; the loaders here say whether this caller may touch this object. An object outside the
caller's scope answers 404, exactly like one that does not exist, so ids cannot be probed; a
caller who may read but not change it gets 403.
"""

from __future__ import annotations

import asyncpg

from db import awards as awards_q
from db import distributions as distributions_q
from db import order_farming as farming_q
from db import payments as payments_q
from db import registry as registry_q
from db import ventures as ventures_q
from service.core.errors import forbidden, not_found
from service.core.principal import Principal, Role, county_of, region_prefix

HOUSEHOLD_READERS = (
    Role.ADMIN,
    Role.VILLAGE_REVIEWER,
    Role.TOWNSHIP_APPROVER,
    Role.FINANCE_OFFICER,
    Role.FINANCE_APPROVER,
    Role.AUDITOR,
)
REGISTRARS = (Role.ADMIN, Role.VILLAGE_REVIEWER, Role.TOWNSHIP_APPROVER)


# ---- households -------------------------------------------------------------------------------


async def can_read_household(
    conn: asyncpg.Connection, principal: Principal, household_id: str, village_code: str
) -> bool:
    if principal.role == Role.HOUSEHOLD:
        return principal.household_id == household_id
    if principal.role in HOUSEHOLD_READERS:
        return principal.covers_region(village_code)
    if principal.role == Role.ACCOUNTANT and principal.venture_ids:
        return await registry_q.is_member_of_any(conn, household_id, list(principal.venture_ids))
    return False


async def household_or_404(conn: asyncpg.Connection, principal: Principal, household_id: str) -> asyncpg.Record:
    row = await registry_q.household(conn, household_id, principal.home_county)
    if row is None or not await can_read_household(conn, principal, str(row["id"]), row["village_code"]):
        raise not_found("农户")
    return row


def can_register_in(principal: Principal, village_code: str) -> bool:
    """Who keeps the registry of a village: its reviewers and township, and the admin."""
    return principal.role in REGISTRARS and principal.covers_region(village_code)


# ---- ventures and what belongs to them ------------------------------------------------------------


def can_read_venture(principal: Principal, venture: asyncpg.Record) -> bool:
    if principal.role == Role.ACCOUNTANT:
        return principal.covers_venture(str(venture["id"]))
    return principal.covers_region(venture["village_code"])


async def venture_for(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, *, write: bool = False, for_update: bool = False
) -> asyncpg.Record:
    row = await ventures_q.venture(conn, venture_id, for_update=for_update)
    if row is None or not can_read_venture(principal, row):
        raise not_found("经营主体")
    if write and not principal.covers_venture(str(row["id"])):
        raise forbidden("只有本经营主体的会计可以修改")
    return row


def may_found_venture_in(principal: Principal, village_code: str) -> bool:
    """Who sets up a venture in a village: the admin anywhere, an accountant inside its region (a
    county, a township or a village: 村账乡管, the township's station keeps its villages' books).
    An accountant without a region sets up none: it keeps the ventures it is given (POST /users
    venture_ids, create-user --venture). No other role sets up ventures."""
    if principal.is_admin:
        return True
    if principal.role == Role.ACCOUNTANT and principal.region_code:
        return village_code.startswith(region_prefix(principal.region_code))
    return False


async def distribution_for(
    conn: asyncpg.Connection, principal: Principal, distribution_id: str
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """A distribution plan and its venture, when the caller may read the venture."""
    row = await distributions_q.distribution(conn, distribution_id)
    venture = row and await ventures_q.venture(conn, str(row["venture_id"]))
    if not row or not venture or not can_read_venture(principal, venture):
        raise not_found("分配方案")
    return row, venture


async def contract_for(
    conn: asyncpg.Connection, principal: Principal, contract_id: str, *, write: bool = False
) -> tuple[asyncpg.Record, asyncpg.Record]:
    c = await farming_q.contract(conn, contract_id)
    if c is None:
        raise not_found("订单合同")
    v = await venture_for(conn, principal, str(c["venture_id"]), write=write)
    return c, v


# ---- award programmes, applications ----------------------------------------------------------------


async def program_for(
    conn: asyncpg.Connection, principal: Principal, program_id: str, *, for_update: bool = False
) -> asyncpg.Record:
    p = await awards_q.program(conn, program_id, for_update=for_update)
    if p is None:
        raise not_found("奖励项目")
    if principal.role == Role.HOUSEHOLD:
        visible = principal.county_code == p["county_code"]
    else:
        visible = principal.role != Role.ACCOUNTANT and principal.covers_county(p["county_code"])
    if not visible:
        raise not_found("奖励项目")
    return p


async def application_for(conn: asyncpg.Connection, principal: Principal, application_id: str) -> asyncpg.Record:
    row = await awards_q.application(conn, application_id)
    if row is None:
        raise not_found("申请")
    if principal.role == Role.HOUSEHOLD:
        visible = principal.household_id == str(row["household_id"])
    else:
        visible = principal.role != Role.ACCOUNTANT and principal.covers_region(row["village_code"])
    if not visible:
        raise not_found("申请")
    return row


# ---- county money --------------------------------------------------------------------------------


def require_county(principal: Principal, county_code: str) -> None:
    """Payables, batches and reconciliation are the county finance office's."""
    if not principal.covers_county(county_code):
        raise forbidden("只能处理本县的款项")


def own_county(principal: Principal) -> str:
    """The county a county-scoped officer works in."""
    return county_of(principal.region_code or "")


async def batch_for(
    conn: asyncpg.Connection, principal: Principal, batch_id: str, *, for_update: bool = False
) -> asyncpg.Record:
    b = await payments_q.batch(conn, batch_id, for_update=for_update)
    if b is None or not principal.covers_county(b["county_code"]):
        raise not_found("代发批次")
    return b
