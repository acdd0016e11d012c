"""A console page answered straight from its route (工作台直通): the home every staff member opens
first and comes back to between tasks.

Litestar spends on a console page, beside the page itself, its handler's signature model, the
resolution of its dependencies (the pooled connection, the settings, the clock, the desk) and the
handler's response hooks: a fifth of the county finance office's home (issue 19, README
"Benchmarks"). This middleware sits on the route of one such page, inside everything the app puts
around every route (the access line and its counters), under the route's own exception handlers
(service/core/direct.py). For the plain request it builds the desk with the very function the handler's dependency is
(`provide_desk`), calls the page's own function with it, and sends the page's own response. It
hands everything else to the handler unchanged.

What is plain, and why the rest goes to the handler:
- a GET with no query string (HEAD and OPTIONS take Litestar's answers; a query is the page's to
  read, a `?done=` among them);
- one Cookie header holding a staff session that signs in (`staff_session`): a missing, expired,
  invalid or disabled one is refused by the handler, which sends the reader to the login page with
  the reason.
The answer is the handler's to the byte (tests/api/test_console_direct.py compares them for every
role): the same desk, the same page function, the app's intake check, the same Response turned
into the same bytes. What the page function raises is answered by the route's exception handlers
inside the access line, as the handler's would be (service/core/direct.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.types import Receive, Scope, Send

from service.console.layout import Desk
from service.console.routing import provide_desk
from service.console.session import SESSION_COOKIE, SignInRequired
from service.core.direct import DirectAnswer
from service.core.intake import check_intake

Page = Callable[[Desk, asyncpg.Connection], Awaitable[Response[Any]]]


def _one_session_cookie(scope: Scope) -> bool:
    cookies = [value for name, value in scope["headers"] if name == b"cookie"]
    return len(cookies) == 1 and SESSION_COOKIE.encode() in cookies[0]


class DirectPage(DirectAnswer):
    """Route middleware (Litestar's `middleware=` of a console GET handler whose only arguments
    are `desk` and `conn`), made per page by `direct_page(page)`."""

    page: Page

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "GET" or scope.get("query_string") or not _one_session_cookie(scope):
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        state = scope["litestar_app"].state
        desk: Desk | None
        async with state.pool.acquire() as conn:
            try:
                desk = await provide_desk(request, conn, state.settings, state.clock)
            except SignInRequired:
                desk = None
            if desk is not None:
                await check_intake(request)
                response = await self.page(desk, conn)
        if desk is None:
            await self.app(scope, receive, send)
            return
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)


def direct_page(page: Page) -> type[DirectPage]:
    """The middleware answering `page` (the handler's own function) for the plain request."""
    return type("DirectPage", (DirectPage,), {"page": staticmethod(page)})
