"""The Litestar application: create_app(settings)."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.problem_details import ProblemDetailsPlugin

from db.pool import create_pool
from service.auth import BearerAuthMiddleware
from service.clock import Clock
from service.controllers import ROUTE_HANDLERS
from service.crypto import DataCipher
from service.deps import DEPENDENCIES
from service.errors import EXCEPTION_HANDLERS
from service.settings import Settings

PUBLIC_PATHS = ["^/schema", "^/static"]


def create_app(settings: Settings) -> Litestar:
    if not settings.database_url:
        raise RuntimeError("settings.database_url must be set (the CLI starts the embedded database)")

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await create_pool(settings.database_url, min_size=settings.pool_min_size,
                                 max_size=settings.pool_max_size)
        app.state.pool = pool
        try:
            if settings.admin_password:
                from service.controllers.auth import ensure_admin

                async with pool.acquire() as conn:
                    await ensure_admin(conn, settings.admin_password)
            yield
        finally:
            await pool.close()

    return Litestar(
        route_handlers=ROUTE_HANDLERS,
        lifespan=[database],
        state=State({"settings": settings, "clock": Clock(movable=settings.test_clock),
                     "cipher": DataCipher(settings.data_key)}),
        dependencies=DEPENDENCIES,
        middleware=[DefineMiddleware(BearerAuthMiddleware, exclude=PUBLIC_PATHS)],
        plugins=[ProblemDetailsPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Huinong 惠农", version="0.1.0", path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"]), SwaggerRenderPlugin(path="/swagger")],
            description="Incentive and cooperative dividend accounting for poverty-alleviation ventures.",
        ),
        logging_config=None,
        debug=False,
    )


logging.getLogger("huinong").setLevel(logging.INFO)
