"""What a route's direct answer (a middleware that answers the plain request itself, skipping the
handler's layers: statements/direct.py, console/direct.py) runs under.

Litestar puts a route's exception handlers between the route's own middleware and its handler,
and the app's middleware (the access line and its counters, RequestTelemetry) around both. An
exception raised by a direct answer would pass the access line unanswered and be answered by the
app's outermost handler: with no X-Request-Id, and counted as the 500 it is not (a 404 of a
household out of the reader's scope). `under_route_handlers` puts the same exception handlers
around the direct answer itself, so that a refusal is answered, identified and counted as the
handler's would be.
"""

from __future__ import annotations

from litestar._asgi.utils import wrap_in_exception_handler
from litestar.types import ASGIApp, Receive, Scope, Send


def under_route_handlers(answer: ASGIApp) -> ASGIApp:
    """`answer` with the route's exception handlers (those of the route being served, which the
    router has put in the request's scope) answering what it raises. Private in Litestar 2.25.0
    (pinned): on an upgrade compare with litestar/_asgi/utils.py."""
    return wrap_in_exception_handler(app=answer)


class DirectAnswer:
    """A route middleware that answers the plain request itself (`answer`, a subclass's, under the
    route's exception handlers) and passes everything else to the handler (`self.app`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._answered = under_route_handlers(self.answer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._answered(scope, receive, send)

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
