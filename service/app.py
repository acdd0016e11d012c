"""The one place the service is wired: routes of every feature, hooks between features, the
database pool, auth, errors and the OpenAPI document. create_app(settings) builds the app."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import cast

import asyncpg
from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.problem_details import ProblemDetailsPlugin
from litestar.types import ControllerRouterHandler

from db.pool import create_pool
from service.awards import pages as award_pages
from service.awards import program_pages, review_pages
from service.awards import routes as awards
from service.awards.workflow import AWARD_OBJECTION_HOOKS
from service.console import pages as console_pages
from service.core.auth import BearerAuthMiddleware
from service.core.clock import Clock
from service.core.crypto import DataCipher
from service.core.deps import DEPENDENCIES, patch_litestar_request_path
from service.core.hooks import Hooks
from service.core.intake import check_intake
from service.core.metrics import Metrics
from service.core.openapi import RequestBodySchemaPlugin
from service.core.principals import PrincipalCache
from service.core.problems import EXCEPTION_HANDLERS
from service.core.settings import Settings
from service.core.telemetry import RequestTelemetry
from service.core.uploads import apply_upload_limit
from service.distributions import pages as distribution_pages
from service.distributions import routes as distributions
from service.distributions import workflow as distribution_workflow
from service.ledger import pages as ledger_pages
from service.ledger import routes as ledger
from service.notices import pages as notice_pages
from service.notices import routes as notices
from service.order_farming import pages as farming_pages
from service.order_farming import routes as order_farming
from service.payments import pages as payment_pages
from service.payments import routes as payments
from service.registry import pages as registry_pages
from service.registry import routes as registry
from service.reports import pages as report_pages
from service.reports import routes as reports
from service.statements import pages as statement_pages
from service.statements import routes as statements
from service.system import pages as system_pages
from service.system import routes as system
from service.system.workflow import check_data_key
from service.users import pages as user_pages
from service.users import routes as users
from service.users.workflow import ensure_admin
from service.ventures import pages as venture_pages
from service.ventures import routes as ventures
from service.ventures import trade_pages
from service.ventures import workflow as ventures_workflow

PUBLIC_PATHS = ["^/schema", "^/static"]

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    *users.ROUTES,
    *registry.ROUTES,
    *system.ROUTES,
    *ledger.ROUTES,
    *ventures.ROUTES,
    *order_farming.ROUTES,
    *distributions.ROUTES,
    *payments.ROUTES,
    *awards.ROUTES,
    *notices.ROUTES,
    *statements.ROUTES,
    *reports.ROUTES,
    *user_pages.PAGES,
    *statement_pages.PAGES,
    *award_pages.PAGES,
    *review_pages.PAGES,
    *notice_pages.PAGES,
    *system_pages.PAGES,
    *console_pages.PAGES,
    *venture_pages.PAGES,
    *trade_pages.PAGES,
    *distribution_pages.PAGES,
    *farming_pages.PAGES,
    *ledger_pages.PAGES,
    *report_pages.PAGES,
    *program_pages.PAGES,
    *payment_pages.PAGES,
    *registry_pages.PAGES,
]


def feature_hooks() -> Hooks:
    """What each feature does when another's event fires (service/core/hooks.py)."""
    return Hooks(
        objections={
            "award": AWARD_OBJECTION_HOOKS,
            "distribution": distribution_workflow.DISTRIBUTION_OBJECTION_HOOKS,
        },
        status_listeners=(ventures_workflow.poverty_shares_follow_status,),
    )


def create_app(settings: Settings) -> Litestar:
    database_url = settings.database_url
    if not database_url:
        raise RuntimeError("settings.database_url must be set (the CLI starts the embedded database)")

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await create_pool(database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size)
        app.state.pool = pool
        await principals.start(database_url)
        try:
            async with pool.acquire() as conn:
                # A service with another data key than the database's refuses to start (DataKeyMismatch).
                await check_data_key(cast(asyncpg.Connection, conn), app.state.cipher)
                if settings.admin_password:
                    await ensure_admin(cast(asyncpg.Connection, conn), settings.admin_password)
            yield
        finally:
            await principals.stop()
            await pool.close()

    patch_litestar_request_path()
    principals = PrincipalCache(settings.principal_cache_seconds)
    apply_upload_limit(ROUTE_HANDLERS, settings.max_upload_bytes)
    metrics = Metrics()
    return Litestar(
        route_handlers=ROUTE_HANDLERS,
        lifespan=[database],
        state=State(
            {
                "settings": settings,
                "clock": Clock(movable=settings.test_clock),
                "cipher": DataCipher(settings.data_key),
                "hooks": feature_hooks(),
                "metrics": metrics,
                "principals": principals,
            }
        ),
        dependencies=DEPENDENCIES,
        # The access log and the metrics see every routed request, refused by auth or not (outermost).
        middleware=[
            DefineMiddleware(RequestTelemetry, metrics=metrics),
            DefineMiddleware(BearerAuthMiddleware, exclude=PUBLIC_PATHS),
        ],
        plugins=[ProblemDetailsPlugin(), RequestBodySchemaPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=check_intake,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Huinong 惠农",
            version="0.1.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"]), SwaggerRenderPlugin(path="/swagger")],
            description="Incentive and cooperative dividend accounting for poverty-alleviation ventures.",
        ),
        logging_config=None,
        debug=False,
    )


logging.getLogger("huinong").setLevel(logging.INFO)
