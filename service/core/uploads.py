"""Routes that take a file (imports, return files) accept up to Settings.max_upload_bytes; every
other body is held to Settings.max_body_bytes. A route says it takes a file with opt=UPLOAD, and
create_app gives exactly those routes the larger limit, so the limit lives in one setting."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Controller
from litestar.handlers import HTTPRouteHandler

UPLOAD = {"upload": True}


def _handlers(route_handlers: Iterable[Any]) -> Iterable[HTTPRouteHandler]:
    for item in route_handlers:
        if isinstance(item, type) and issubclass(item, Controller):
            yield from (v for v in vars(item).values() if isinstance(v, HTTPRouteHandler))
        elif isinstance(item, HTTPRouteHandler):
            yield item


def apply_upload_limit(route_handlers: Iterable[Any], max_upload_bytes: int) -> None:
    for handler in _handlers(route_handlers):
        if handler.opt.get("upload"):
            handler.request_max_body_size = max_upload_bytes
