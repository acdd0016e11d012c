"""Logins for staff and households, and user administration: thin controllers over
service/users/workflow.py."""

from __future__ import annotations

import asyncpg
from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_200_OK

from schemas.auth import HouseholdTokenRequest, TokenRequest, TokenResponse, UserCreate, UserOut
from service.core import auth
from service.core.audit import Actor
from service.core.crypto import DataCipher
from service.core.settings import Settings
from service.users import workflow

PUBLIC = {"exclude_from_auth": True}


def _client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    # No transaction around a login: a failed attempt stays recorded for the throttle.
    @post("/token", opt=PUBLIC, status_code=HTTP_200_OK, operation_id="login")
    async def login(
        self, request: Request, data: TokenRequest, conn: asyncpg.Connection, settings: Settings
    ) -> TokenResponse:
        return await workflow.login(
            conn, settings, username=data.username, password=data.password, address=_client_address(request)
        )

    @post("/household-token", opt=PUBLIC, status_code=HTTP_200_OK, operation_id="household_login")
    async def household_login(
        self,
        request: Request,
        data: HouseholdTokenRequest,
        conn: asyncpg.Connection,
        settings: Settings,
        cipher: DataCipher,
    ) -> TokenResponse:
        return await workflow.household_login(
            conn, settings, cipher, household_no=data.household_no, pin=data.pin, address=_client_address(request)
        )


class UserController(Controller):
    path = "/users"
    tags = ["users"]
    guards = [auth.allow("admin")]

    @post("/", operation_id="create_user")
    async def create_user(self, data: UserCreate, conn: asyncpg.Connection, actor: Actor) -> UserOut:
        async with conn.transaction():
            return await workflow.create_user(conn, actor, data)

    @get("/", operation_id="list_users")
    async def list_users(self, conn: asyncpg.Connection) -> list[UserOut]:
        return await workflow.list_users(conn)


ROUTES = [AuthController, UserController]
