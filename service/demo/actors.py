"""Who does each step of the demo: the service itself, or a demo user where a rule needs two
different people (a batch's maker and checker, a plan's submitter and approver)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from db import users as users_q
from service.core.audit import Actor
from service.core.auth import load_principal
from service.core.credentials import TokenClaims
from service.core.principal import Principal


@dataclass(frozen=True)
class Person:
    principal: Principal
    actor: Actor


SYSTEM = Person(Principal.system("seed-demo"), Actor.system("seed-demo"))


async def staff(conn: asyncpg.Connection, username: str) -> Person:
    """A demo staff user as its token would make it (role, region, the ventures it keeps now)."""
    row = await users_q.user_credentials(conn, username)
    principal = None if row is None else await load_principal(conn, TokenClaims(str(row["id"]), "user", 0))
    if principal is None:
        raise LookupError(f"the demo user {username} is missing: load the base demo first")
    return Person(principal, Actor.of(principal, None))
