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
from litestar.handlers.base import BaseRouteHandler

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


async def _authorize_without_copies(self: BaseRouteHandler, connection: ASGIConnection) -> None:
    """BaseRouteHandler.authorize_connection, each guard given the handler itself.

    Litestar hands every guard a shallow copy of the route handler, so that a guard may not change
    the handler for the next request: a copy of a large object on every request (some 30 µs, a
    few percent of a household's statement). The service's guards (service/core/auth.py) never
    read the handler, let alone change it; tests/unit/test_guards.py holds them to that."""
    for guard in self.resolve_guards():
        await guard(connection, self)  # type: ignore[misc]


def patch_litestar_request_path() -> None:
    """Installed once by create_app (service/app.py): dependencies resolved in order, guards
    without handler copies. Both replace private parts of Litestar 2.25.0 (pinned); on an upgrade
    compare each with its original (litestar/_kwargs/kwargs_model.py, litestar/handlers/base.py)."""
    KwargsModel.resolve_dependencies = _resolve_in_order  # type: ignore[method-assign]
    BaseRouteHandler.authorize_connection = _authorize_without_copies  # type: ignore[method-assign]
