"""Logins for staff and households, and user administration."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_200_OK

from schemas.auth import HouseholdTokenRequest, TokenRequest, TokenResponse, UserCreate, UserOut
from service.core import auth
from service.core.audit import GLOBAL_COUNTY, Actor, record
from service.core.crypto import DataCipher
from service.core.errors import Unauthenticated, conflict, invalid_field
from service.core.principal import REGION_SCOPED_ROLES, region_prefix
from service.core.settings import Settings

PUBLIC = {"exclude_from_auth": True}

# Scopes are those of API.md: a reviewer a village, an approver a township, finance and auditors
# a county — a finance officer scoped below a county would otherwise reach the county's money.
ROLE_REGION_LEVEL = {
    "village_reviewer": "village",
    "township_approver": "township",
    "finance_officer": "county",
    "finance_approver": "county",
    "auditor": "county",
}
REGION_PREFIX_LENGTH = {"county": 6, "township": 9, "village": 12}
REGION_LEVEL_WORDS = {"county": "县", "township": "乡镇", "village": "村"}


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _bad_login() -> Unauthenticated:
    return Unauthenticated("用户名或密码错误", slug="bad-credentials")


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/token", opt=PUBLIC, status_code=HTTP_200_OK, operation_id="login")
    async def login(
        self, request: Request, data: TokenRequest, conn: asyncpg.Connection, settings: Settings
    ) -> TokenResponse:
        keys = [
            (f"user:{data.username.lower()}", auth.FAILURES_PER_ACCOUNT),
            (f"addr:{_client_address(request)}", auth.FAILURES_PER_ADDRESS),
        ]
        await auth.check_throttle(conn, keys)
        row = await conn.fetchrow(
            "SELECT id, password_hash, role FROM users WHERE username = $1 AND NOT disabled",
            data.username,
        )
        if row is None or not auth.password_matches(row["password_hash"], data.password):
            await auth.record_failure(conn, [k for k, _ in keys])
            raise _bad_login()
        token = auth.issue_token(
            settings.secret_key, sub=str(row["id"]), kind="user", ttl_seconds=settings.token_ttl_seconds
        )
        return TokenResponse(token, "bearer", settings.token_ttl_seconds, row["role"])

    @post("/household-token", opt=PUBLIC, status_code=HTTP_200_OK, operation_id="household_login")
    async def household_login(
        self,
        request: Request,
        data: HouseholdTokenRequest,
        conn: asyncpg.Connection,
        settings: Settings,
        cipher: DataCipher,
    ) -> TokenResponse:
        keys = [
            (f"household:{data.household_no}", auth.FAILURES_PER_ACCOUNT),
            (f"addr:{_client_address(request)}", auth.FAILURES_PER_ADDRESS),
        ]
        await auth.check_throttle(conn, keys)
        row = await conn.fetchrow("SELECT id, pin_hash FROM households WHERE household_no = $1", data.household_no)
        if row is None or not cipher.pin_matches(data.household_no, data.pin, row["pin_hash"]):
            await auth.record_failure(conn, [k for k, _ in keys])
            raise Unauthenticated("户号或密码错误", slug="bad-credentials")
        token = auth.issue_token(
            settings.secret_key, sub=str(row["id"]), kind="household", ttl_seconds=settings.token_ttl_seconds
        )
        return TokenResponse(token, "bearer", settings.token_ttl_seconds, "household")


def _user_out(row: asyncpg.Record) -> UserOut:
    return UserOut(
        str(row["id"]), row["username"], row["role"], row["region_code"], [str(v) for v in row["venture_ids"]]
    )


class UserController(Controller):
    path = "/users"
    tags = ["users"]
    guards = [auth.allow("admin")]

    @post("/", operation_id="create_user")
    async def create_user(self, data: UserCreate, conn: asyncpg.Connection, actor: Actor) -> UserOut:
        return await create_user(conn, actor, data)

    @get("/", operation_id="list_users")
    async def list_users(self, conn: asyncpg.Connection) -> list[UserOut]:
        rows = await conn.fetch("SELECT * FROM users ORDER BY username LIMIT 500")
        return [_user_out(r) for r in rows]


async def create_user(conn: asyncpg.Connection, actor: Actor, data: UserCreate) -> UserOut:
    if data.role in REGION_SCOPED_ROLES and not data.region_code:
        raise invalid_field("region_code", f"角色 {data.role} 必须指定管辖区域")
    level = ROLE_REGION_LEVEL.get(data.role)
    if level and data.region_code and len(region_prefix(data.region_code)) != REGION_PREFIX_LENGTH[level]:
        raise invalid_field("region_code", f"角色 {data.role} 的管辖区域应为{REGION_LEVEL_WORDS[level]}级区域代码")
    try:
        venture_ids = [str(uuid.UUID(v)) for v in data.venture_ids]
    except ValueError:
        raise invalid_field("venture_ids", "经营主体编号格式无效") from None
    async with conn.transaction():
        try:
            row = await conn.fetchrow(
                "INSERT INTO users (username, password_hash, role, region_code, venture_ids) "
                "VALUES ($1, $2, $3, $4, $5::uuid[]) RETURNING *",
                data.username,
                auth.hash_password(data.password),
                data.role,
                data.region_code,
                venture_ids,
            )
        except asyncpg.UniqueViolationError:
            raise conflict("duplicate-username", f"用户名 {data.username} 已存在") from None
        out = _user_out(row)
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


async def ensure_admin(conn: asyncpg.Connection, password: str) -> None:
    """HUINONG_ADMIN_PASSWORD creates the user admin, or resets its password."""
    async with conn.transaction():
        existed = await conn.fetchval("SELECT id FROM users WHERE username = 'admin'")
        row_id = await conn.fetchval(
            "INSERT INTO users (username, password_hash, role) VALUES ('admin', $1, 'admin') "
            "ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, "
            "role = 'admin', disabled = false RETURNING id",
            auth.hash_password(password),
        )
        await record(
            conn,
            Actor.system("startup"),
            county_code=GLOBAL_COUNTY,
            action="user.admin_reset" if existed else "user.create",
            object_type="user",
            object_id=str(row_id),
        )


ROUTES = [AuthController, UserController]
