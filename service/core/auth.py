"""Bearer tokens, passwords, login throttling, the authentication middleware and role guards."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

import asyncpg
import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from service.core.errors import RateLimited
from service.core.principal import Principal

_hasher = PasswordHasher()

# Failed logins: at most this many per account (or per address) in the window, then 429.
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 30
FAILURE_WINDOW_SECONDS = 15 * 60


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


class TokenClaims(msgspec.Struct, frozen=True):
    sub: str
    kind: str
    exp: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(secret: bytes, *, sub: str, kind: str, ttl_seconds: int) -> str:
    payload = msgspec.json.encode(TokenClaims(sub=sub, kind=kind, exp=int(time.time()) + ttl_seconds))
    body = _b64(payload)
    signature = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def read_token(secret: bytes, token: str) -> TokenClaims | None:
    try:
        body, signature = token.split(".", 1)
        expected = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return None
        claims = msgspec.json.decode(_unb64(body), type=TokenClaims)
    except (ValueError, msgspec.DecodeError):
        return None
    if claims.exp < time.time():
        return None
    return claims


async def load_principal(conn: asyncpg.Connection, claims: TokenClaims) -> Principal | None:
    if claims.kind == "user":
        row = await conn.fetchrow(
            "SELECT id, username, role, region_code, venture_ids FROM users WHERE id = $1::uuid AND NOT disabled",
            claims.sub,
        )
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
        row = await conn.fetchrow(
            "SELECT id, household_no, county_code, village_code FROM households WHERE id = $1::uuid",
            claims.sub,
        )
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


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("请先登录（缺少 Bearer 令牌）")
        state = connection.app.state
        claims = read_token(state.settings.secret_key, token.strip())
        if claims is None:
            raise NotAuthorizedException("登录已过期或令牌无效，请重新登录")
        async with state.pool.acquire() as conn:
            principal = await load_principal(conn, claims)
        if principal is None:
            raise NotAuthorizedException("账户不存在或已停用")
        return AuthenticationResult(user=principal, auth=claims)


def allow(*roles: str) -> Callable[[ASGIConnection, BaseRouteHandler], None]:
    """A guard admitting the given roles; admin is admitted everywhere staff are."""
    allowed = set(roles)
    if allowed - {"household"}:
        allowed.add("admin")

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if principal.role not in allowed:
            raise PermissionDeniedException(f"角色 {principal.role} 无权执行此操作")

    guard.__name__ = "allow_" + "_".join(sorted(allowed))
    return guard


async def check_throttle(conn: asyncpg.Connection, keys: list[tuple[str, int]]) -> None:
    for key, limit in keys:
        count = await conn.fetchval(
            "SELECT count(*) FROM login_failures WHERE key = $1 AND at > now() - make_interval(secs => $2)",
            key,
            FAILURE_WINDOW_SECONDS,
        )
        if count >= limit:
            raise RateLimited(
                "登录失败次数过多，请 15 分钟后再试",
                slug="too-many-attempts",
                retry_after_seconds=FAILURE_WINDOW_SECONDS,
            )


async def record_failure(conn: asyncpg.Connection, keys: list[str]) -> None:
    # Failures older than the window no longer count; dropping them keeps the table small.
    await conn.execute(
        "DELETE FROM login_failures WHERE key = ANY($1::text[]) AND at < now() - make_interval(secs => $2)",
        keys,
        FAILURE_WINDOW_SECONDS,
    )
    await conn.executemany("INSERT INTO login_failures (key) VALUES ($1)", [(k,) for k in keys])


# Who keeps a venture's books, and who may read them (each within its scope, service/core/policy.py).
VENTURE_WRITERS = allow("accountant")
VENTURE_READERS = allow(
    "accountant", "auditor", "township_approver", "village_reviewer", "finance_officer", "finance_approver"
)
