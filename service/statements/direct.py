"""A household's statement JSON answered straight from the route (年终查询直通): the one read every
household of a county makes in the same few days at year end.

Litestar spends more of a statement request than the statement does: the request object, the
handler's signature model, its dependencies, the response object and its encoding, about as much
CPU again as the queries and the statement's own code (issue 19, README "Benchmarks"). This
middleware sits on the statement's route alone, inside everything the app puts around every
route: the access line and its counters, the sign-in (the bearer token checked, the principal
from the same cache); under the route's exception handlers (service/core/direct.py). It answers the plain request itself, through
the same workflow the handler calls, and hands everything else to the handler unchanged.

What is plain, and why the rest goes to the handler:
- GET (HEAD and OPTIONS take Litestar's own answers) of a household id of at most 64 letters,
  digits and hyphens (anything else is the handler's 404 or its intake's refusal);
- no query, or only `year=` with four digits in the handler's 2000–2100 (any other query is the
  handler's to refuse or to read; so is a repeated `year`);
- an Accept header that does not name the PDF (the handler decides between JSON and PDF);
- a principal whose role the route's guard admits (`STATEMENT_READERS.roles`): anyone else gets
  the guard's 403 from the handler.
The answer is the handler's to the byte (tests/api/test_statement_direct.py asks both): the same
workflow (`read_statement`: its scope check and its 404 answered by the same exception handlers,
inside the access line: service/core/direct.py),
Litestar's own JSON encoder, the same two headers.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from litestar.serialization import encode_json
from litestar.types import Receive, Scope, Send

from service.core.direct import DirectAnswer
from service.core.principal import Principal
from service.statements.workflow import read_statement

_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
_YEAR = re.compile(rb"year=(20\d\d|2100)")
_PDF = b"application/pdf"


def plain_year(query: bytes) -> tuple[bool, int | None]:
    """(plain, year) of a statement's query string: plain when empty or only `year=` 2000–2100."""
    if not query:
        return True, None
    found = _YEAR.fullmatch(query)
    return (True, int(found.group(1))) if found else (False, None)


def _accepts_pdf(scope: Scope) -> bool:
    return any(name == b"accept" and _PDF in value.lower() for name, value in scope["headers"])


class DirectStatement(DirectAnswer):
    """Route middleware (Litestar's `middleware=` of the statement's handler), made per route by
    `direct_statement(roles)`."""

    roles: Collection[str] = ()

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain, year = plain_year(scope.get("query_string", b""))
        principal = scope.get("user")
        household_id = scope["path_params"].get("household_id", "")
        if (
            not plain
            or scope.get("method") != "GET"
            or not isinstance(principal, Principal)
            or principal.role not in self.roles
            or not _ID.fullmatch(household_id)
            or _accepts_pdf(scope)
        ):
            await self.app(scope, receive, send)
            return
        state = scope["litestar_app"].state
        async with state.pool.acquire() as conn:
            statement = await read_statement(conn, principal, household_id, year=year, today=state.clock.today())
        body = encode_json(statement)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def direct_statement(roles: Collection[str]) -> type[DirectStatement]:
    """The middleware for a route whose guard admits `roles`: pass the guard's own `roles`
    (`allow(...)` in service/core/auth.py), so that the two cannot admit different readers."""
    return type("DirectStatement", (DirectStatement,), {"roles": frozenset(roles)})
