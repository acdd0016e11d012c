"""Dependencies injected into handlers."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import asyncpg
from litestar import Request
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.connection import ASGIConnection
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


async def _resolve_in_order(self: KwargsModel, connection: ASGIConnection, kwargs: dict) -> DependencyCleanupGroup:
    """KwargsModel.resolve_dependencies, each batch's dependencies one after another.

    Litestar resolves the dependencies of a batch (those not needing one another: `conn`,
    `principal`, `clock` of most handlers) concurrently in an anyio task group, a task each: on
    every request the cost of three tasks and a cancel scope, to run one pool acquire beside a
    few attribute reads. In order, the same values, the same cleanup. A dependency that raises
    releases those already resolved (the pooled connection) here and now."""
    cleanup_group = DependencyCleanupGroup()
    try:
        for batch in self.dependency_batches:
            for dependency in batch:
                await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    except BaseException as exc:
        await cleanup_group.close(exc)
        raise
    return cleanup_group


def resolve_dependencies_in_order() -> None:
    """Installed once by create_app (service/app.py)."""
    KwargsModel.resolve_dependencies = _resolve_in_order  # type: ignore[method-assign]
