"""Bearer tokens, passwords, login throttling, the authentication middleware and role guards."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

import asyncpg
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

# Passwords, tokens and throttling live in service/core/credentials.py (no web framework there,
# so workflows can use them); they are re-exported here for the callers that know them as auth's.
from db import users as users_q
from service.core.credentials import FAILURE_WINDOW_SECONDS as FAILURE_WINDOW_SECONDS
from service.core.credentials import FAILURES_PER_ACCOUNT as FAILURES_PER_ACCOUNT
from service.core.credentials import FAILURES_PER_ADDRESS as FAILURES_PER_ADDRESS
from service.core.credentials import TokenClaims as TokenClaims
from service.core.credentials import check_throttle as check_throttle
from service.core.credentials import hash_password as hash_password
from service.core.credentials import issue_token as issue_token
from service.core.credentials import password_matches as password_matches
from service.core.credentials import read_token as read_token
from service.core.credentials import record_failure as record_failure
from service.core.principal import Principal


async def load_principal(conn: asyncpg.Connection, claims: TokenClaims) -> Principal | None:
    if claims.kind == "user":
        row = await users_q.active_user(conn, claims.sub)
        if row is None:
            return None
        return Principal(
            kind="user",
            id=str(row["id"]),
            name=row["username"],
            role=row["role"],
            region_code=row["region_code"],
            venture_ids=frozenset(str(v) for v in row["venture_ids"]),
        )
    if claims.kind == "household":
        row = await users_q.household_principal(conn, claims.sub)
        if row is None:
            return None
        return Principal(
            kind="household",
            id=str(row["id"]),
            name=row["household_no"],
            role="household",
            household_id=str(row["id"]),
            county_code=row["county_code"],
            region_code=row["village_code"],
        )
    return None


READS = frozenset({"GET", "HEAD"})


def _writes(connection: ASGIConnection) -> bool:
    """Whether the request may change things (its principal is then read fresh)."""
    return connection.scope.get("method", "GET") not in READS


async def _read_principal(pool: asyncpg.Pool, claims: TokenClaims) -> Principal | None:
    async with pool.acquire() as conn:
        return await load_principal(cast(asyncpg.Connection, conn), claims)


async def cached_principal(
    connection: ASGIConnection, conn: asyncpg.Connection, claims: TokenClaims
) -> Principal | None:
    """The principal of a checked token for a page that holds a connection (service/core/principals.py)."""
    return await connection.app.state.principals.principal(
        claims, lambda: load_principal(conn, claims), fresh=_writes(connection)
    )


async def authenticate(connection: ASGIConnection) -> tuple[Principal, TokenClaims]:
    """The principal of the request's bearer token; NotAuthorizedException (401) without one."""
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException("请先登录（缺少 Bearer 令牌）")
    state = connection.app.state
    claims = read_token(state.settings.secret_key, token.strip())
    if claims is None:
        raise NotAuthorizedException("登录已过期或令牌无效，请重新登录")
    principal = await state.principals.principal(
        claims, lambda: _read_principal(state.pool, claims), fresh=_writes(connection)
    )
    if principal is None:
        raise NotAuthorizedException("账户不存在或已停用")
    return principal, claims


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        principal, claims = await authenticate(connection)
        return AuthenticationResult(user=principal, auth=claims)


LOOPBACK = frozenset({"127.0.0.1", "::1"})


async def loopback_or_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A guard for operators' routes (/metrics): a scraper on the machine itself, or the admin.
    A request that came through a proxy (it says whom for) is not the machine's own, even though
    the proxy connects from the loopback address."""
    client = connection.client.host if connection.client else None
    proxied = "x-forwarded-for" in connection.headers or "forwarded" in connection.headers
    if client in LOOPBACK and not proxied:
        return
    principal, _claims = await authenticate(connection)
    if not principal.is_admin:
        raise PermissionDeniedException("仅管理员或本机可查看运行指标")


def allow(*roles: str) -> Callable[[ASGIConnection, BaseRouteHandler], Coroutine[Any, Any, None]]:
    """A guard admitting the given roles; admin is admitted everywhere staff are."""
    allowed = set(roles)
    if allowed - {"household"}:
        allowed.add("admin")

    # A coroutine: Litestar runs a plain function guard in a worker thread, a hop on every request.
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return  # a preflight is not authenticated (the middleware lets it by) and reads nothing
        principal: Principal = connection.user
        if principal.role not in allowed:
            raise PermissionDeniedException(f"角色 {principal.role} 无权执行此操作")

    guard.__name__ = "allow_" + "_".join(sorted(allowed))
    guard.roles = frozenset(allowed)  # type: ignore[attr-defined]  # read by routes that answer directly
    return guard


# Who keeps a venture's books, and who may read them (each within its scope, service/core/policy.py).
VENTURE_WRITERS = allow("accountant")
VENTURE_READERS = allow(
    "accountant", "auditor", "township_approver", "village_reviewer", "finance_officer", "finance_approver"
)
