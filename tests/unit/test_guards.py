"""Every guard of the service decides from the request alone and leaves its route handler be:
the service hands guards the handler itself, not Litestar's per-request copy (service/core/deps.py),
so a guard that wrote to it would change the route for every later request."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from service.app import create_app
from service.core.principal import Principal
from service.core.settings import Settings


class Tripwire:
    """A route handler no guard may touch."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a guard read the route handler's {name}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AssertionError(f"a guard changed the route handler's {name}")


def _request(role: str, method: str) -> SimpleNamespace:
    user = Principal(kind="user", id="u", name="u", role=role, region_code="621223000000", venture_ids=frozenset())
    return SimpleNamespace(
        scope={"method": method}, user=user, headers={}, client=SimpleNamespace(host="127.0.0.1"), app=None
    )


def _guarded_handlers() -> list[Any]:
    app = create_app(Settings(database_url="postgresql://unused/unused", secret_key=b"s" * 32, data_key=b"d" * 32))
    return [h for route in app.routes for h in getattr(route, "route_handlers", ()) if h.resolve_guards()]


@pytest.mark.parametrize("role", ["admin", "household", "auditor"])
async def test_no_guard_reads_or_changes_its_route_handler(role):
    handlers = _guarded_handlers()
    assert len(handlers) > 50  # the API's routes are guarded
    decided = 0
    for handler in handlers:
        for method in sorted(handler.http_methods):
            for guard in handler.resolve_guards():
                try:
                    await guard(_request(role, method), Tripwire())
                except (PermissionDeniedException, NotAuthorizedException):
                    pass  # refused: decided from the request, as it should be
                decided += 1
    assert decided >= len(handlers)
