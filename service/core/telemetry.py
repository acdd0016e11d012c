"""What the service tells its operators about requests: one JSON log line per request and the
counters /metrics renders (service/core/metrics.py), both fed by one middleware (issue 13).

The access line says who asked (the user's id, never its name), in what role and county, which
route (its template, `/households/{household_id}`, never the path or the query, which may carry
a name being searched for) answered what and how fast. It carries no ID, card or phone number, no
name, PIN or token, because nothing it is made of can hold one. Each request costs one msgspec
encode, a few dictionary updates and no database query: the service's hot path stays its own.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import os
import time
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.core.metrics import AccessLine, Metrics
from service.core.principal import Principal, county_of

_ACCESS = "huinong.access"
access_log = logging.getLogger(_ACCESS)
_encode = msgspec.json.Encoder().encode
# Request ids: this process's random prefix and a counter, unique without a system call each; the
# counter in hex never makes a run of digits long enough to pass for a phone or card number.
_PROCESS = base64.urlsafe_b64encode(os.urandom(6)).decode()
_serial = itertools.count(1)


def _who(scope: Scope) -> tuple[str | None, str | None, str | None]:
    principal = scope.get("user")
    if not isinstance(principal, Principal):
        return None, None, None
    county = principal.county_code or (county_of(principal.region_code) if principal.region_code else None)
    return principal.id, principal.role, county


class RequestTelemetry:
    """ASGI middleware (outermost): times each HTTP request, logs its access line, counts it and
    answers its id in `X-Request-Id` (what a clerk quotes when reporting a problem)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        metrics = self.metrics
        method, route = scope.get("method", "GET"), scope["path_template"]
        request_id = f"{_PROCESS}-{next(_serial):x}"
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        metrics.started(method, route)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # answered by the app's exception handlers outside this middleware
            status = int(getattr(exc, "status_code", 500))
            raise
        except asyncio.CancelledError:  # the client went away before its answer: not the service's 500
            status = 499
            raise
        finally:
            seconds = time.perf_counter() - started
            metrics.finished(method, route, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                user, role, county = _who(scope)
                line = AccessLine(request_id, method, route, status, round(seconds * 1000, 2), user, role, county)
                # A record made directly: logger.info() would look up the caller's frame, 3-4x the cost.
                access_log.handle(logging.LogRecord(_ACCESS, logging.INFO, "", 0, _encode(line).decode(), None, None))


class JsonLines(logging.Formatter):
    """The served process's log format: access lines as they are (already JSON), anything else as
    a JSON object with its level, logger, message and traceback."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == access_log.name:
            return record.getMessage()
        entry: dict[str, Any] = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encode(entry).decode()
