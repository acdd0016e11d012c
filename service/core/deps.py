"""Dependencies injected into handlers."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from service.core.audit import Actor
from service.core.clock import Clock
from service.core.crypto import DataCipher
from service.core.hooks import Hooks
from service.core.principal import Principal
from service.core.settings import Settings


async def provide_conn(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    async with state.pool.acquire() as conn:
        yield conn


def provide_settings(state: State) -> Settings:
    return state.settings


def provide_clock(state: State) -> Clock:
    return state.clock


def provide_cipher(state: State) -> DataCipher:
    return state.cipher


def provide_hooks(state: State) -> Hooks:
    return state.hooks


def provide_actor(request: Request) -> Actor:
    return Actor.of(request.scope.get("user"), request.client.host if request.client else None)


def provide_principal(request: Request) -> Principal:
    return request.user


DEPENDENCIES = {
    "conn": Provide(provide_conn),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "clock": Provide(provide_clock, sync_to_thread=False),
    "cipher": Provide(provide_cipher, sync_to_thread=False),
    "hooks": Provide(provide_hooks, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
}
