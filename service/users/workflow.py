"""Use cases of logins and user administration.

The logins run outside any transaction (or in one the caller commits whatever they answer): a
failed attempt is recorded for the throttle and must stay recorded although the call raises.
The others run in the caller's transaction, except ensure_admin, which startup code calls on a
bare connection and which keeps the user and its audit row together itself.
"""

from __future__ import annotations

import asyncpg

from db import users as q
from db.ids import as_uuid
from schemas.auth import TokenResponse, UserCreate, UserOut
from service.core import credentials
from service.core.audit import GLOBAL_COUNTY, Actor, record
from service.core.crypto import DataCipher
from service.core.errors import Unauthenticated, conflict, invalid_field
from service.core.settings import Settings
from service.users.rules import check_role_region

LIST_LIMIT = 500


def _throttle_keys(account_key: str, address: str | None) -> list[tuple[str, int]]:
    """The throttle counts failures per account and per client address."""
    return [
        (account_key, credentials.FAILURES_PER_ACCOUNT),
        (f"addr:{address or 'unknown'}", credentials.FAILURES_PER_ADDRESS),
    ]


def _token(settings: Settings, *, sub: str, kind: str, role: str) -> TokenResponse:
    token = credentials.issue_token(settings.secret_key, sub=sub, kind=kind, ttl_seconds=settings.token_ttl_seconds)
    return TokenResponse(token, "bearer", settings.token_ttl_seconds, role)


async def login(
    conn: asyncpg.Connection, settings: Settings, *, username: str, password: str, address: str | None
) -> TokenResponse:
    """A staff user's bearer token. A wrong password and an unknown user answer alike (401), and
    too many failures per account or address answer 429 (RateLimited) even for the right one."""
    keys = _throttle_keys(f"user:{username.lower()}", address)
    await credentials.check_throttle(conn, keys)
    row = await q.user_credentials(conn, username)
    if row is None or not credentials.password_matches(row["password_hash"], password):
        await credentials.record_failure(conn, [k for k, _ in keys])
        raise Unauthenticated("用户名或密码错误", slug="bad-credentials")
    return _token(settings, sub=str(row["id"]), kind="user", role=row["role"])


async def household_login(
    conn: asyncpg.Connection,
    settings: Settings,
    cipher: DataCipher,
    *,
    household_no: str,
    pin: str,
    address: str | None,
) -> TokenResponse:
    """A household's bearer token for its household number and PIN, throttled as staff logins are."""
    keys = _throttle_keys(f"household:{household_no}", address)
    await credentials.check_throttle(conn, keys)
    row = await q.household_credentials(conn, household_no)
    if row is None or not cipher.pin_matches(household_no, pin, row["pin_hash"]):
        await credentials.record_failure(conn, [k for k, _ in keys])
        raise Unauthenticated("户号或密码错误", slug="bad-credentials")
    return _token(settings, sub=str(row["id"]), kind="household", role="household")


def user_out(row: asyncpg.Record) -> UserOut:
    return UserOut(
        str(row["id"]), row["username"], row["role"], row["region_code"], [str(v) for v in row["venture_ids"]]
    )


async def create_user(conn: asyncpg.Connection, actor: Actor, data: UserCreate) -> UserOut:
    """A staff user with the scope its role has (a region of the role's level, or ventures)."""
    check_role_region(data.role, data.region_code)
    venture_ids = [as_uuid(v) for v in data.venture_ids]
    if None in venture_ids:
        raise invalid_field("venture_ids", "经营主体编号格式无效")
    try:
        row = await q.insert_user(
            conn,
            username=data.username,
            password_hash=credentials.hash_password(data.password),
            role=data.role,
            region_code=data.region_code,
            venture_ids=[str(v) for v in venture_ids],
        )
    except asyncpg.UniqueViolationError:
        raise conflict("duplicate-username", f"用户名 {data.username} 已存在") from None
    out = user_out(row)
    await record(
        conn,
        actor,
        county_code=GLOBAL_COUNTY,
        action="user.create",
        object_type="user",
        object_id=out.id,
        after={"username": out.username, "role": out.role, "region": out.region_code},
    )
    return out


async def list_users(conn: asyncpg.Connection) -> list[UserOut]:
    """The users by name (the first 500)."""
    return [user_out(r) for r in await q.users(conn, LIST_LIMIT)]


async def ensure_admin(conn: asyncpg.Connection, password: str) -> None:
    """HUINONG_ADMIN_PASSWORD creates the user admin, or resets its password (audited)."""
    async with conn.transaction():  # a savepoint when the caller holds a transaction
        existed = await q.admin_id(conn)
        row_id = await q.put_admin(conn, credentials.hash_password(password))
        await record(
            conn,
            Actor.system("startup"),
            county_code=GLOBAL_COUNTY,
            action="user.admin_reset" if existed else "user.create",
            object_type="user",
            object_id=str(row_id),
        )
