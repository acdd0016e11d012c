"""RFC 9457 problem details: the one place where errors become HTTP answers.

Every answer has a stable `type` (/problems/<slug>), a Chinese `title` and `detail`, and for bad
fields or rows `errors: [{row?, field, message}]`. Typed domain errors (service/core/errors.py)
map by kind; Litestar's own exceptions (validation, auth, 404, 405, 413) map to the same shape;
anything else is a bug: a 500 with a short detail and a log line, never internal state.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import ExceptionHandlersMap

from service.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
    Unavailable,
    bad_input,
    field_error,
)

log = logging.getLogger("huinong")

PROBLEM_BASE = "/problems/"

# status and title of each kind of domain error
KINDS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "未找到"),
    Forbidden: (403, "无权访问"),
    Unauthenticated: (401, "需要登录"),
    Conflict: (409, "状态冲突"),
    Invalid: (422, "输入有误"),
    TooLarge: (413, "内容过大"),
    RateLimited: (429, "请求过于频繁"),
    Unavailable: (503, "服务不可用"),
}


class Problem(ProblemDetailsException):
    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        body: dict[str, Any] = dict(extra or {})
        if errors is not None:
            body["errors"] = errors
        super().__init__(
            detail=detail,
            status_code=status,
            headers=headers,
            extra=body or None,
            type_=PROBLEM_BASE + slug,
            title=title,
        )


def status_of(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in KINDS:
            return KINDS[kind][0]
    return 500


def problem_of(exc: DomainError) -> Problem:
    status, title = next((KINDS[k] for k in type(exc).__mro__ if k in KINDS), (500, "服务器内部错误"))
    headers = dict(exc.headers or {})
    if isinstance(exc, Unauthenticated):
        headers.setdefault("WWW-Authenticate", "Bearer")
    return Problem(
        status, exc.slug, title, exc.detail, errors=exc.errors, headers=headers or None, extra=exc.extra or None
    )


_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")
_AT_PATH = re.compile(r"- at `\$\.?([^`]*)`")


def _field_of(key: str, message: str) -> str:
    """msgspec names a missing or unknown field only in its message; Litestar's key is then 'data'."""
    named = _NAMED_FIELD.search(message)
    at = _AT_PATH.search(message)
    path = at.group(1).replace("[", ".").replace("]", "") if at else ""
    if named:
        return f"{path}.{named.group(1)}" if path else named.group(1)
    if key in ("data", "body", "") and path:
        return path
    return key or "body"


def _validation_errors(exc: ValidationException) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid"))
            key = str(item.get("key") or item.get("source") or "body")
            errors.append(field_error(_field_of(key, message), message))
    if not errors:
        errors.append(field_error("body", str(exc.detail)))
    return errors


def handle_domain_error(request: Request, exc: DomainError) -> Response:
    return problem_of(exc).to_response(request)


def handle_problem(request: Request, exc: Problem) -> Response:
    return exc.to_response(request)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_of(bad_input(detail, errors)).to_response(request)
    if isinstance(exc, NotAuthorizedException):
        return problem_of(Unauthenticated(exc.detail or "请先登录")).to_response(request)
    if isinstance(exc, PermissionDeniedException):
        return problem_of(Forbidden(exc.detail or "无权执行此操作")).to_response(request)
    if isinstance(exc, NotFoundException):
        return Problem(404, "not-found", "未找到", "请求的资源不存在").to_response(request)
    status = exc.status_code
    if status == 413:
        return problem_of(TooLarge("请求体超过上限，未作任何处理")).to_response(request)
    slug = {405: "method-not-allowed", 429: "too-many-requests"}.get(status, "http-error")
    return Problem(status, slug, str(exc.detail or "请求错误"), str(exc.detail or ""), headers=exc.headers).to_response(
        request
    )


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return Problem(500, "internal", "服务器内部错误", "服务器处理请求时出错，未作任何更改，请稍后再试").to_response(
        request
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: handle_domain_error,
    Problem: handle_problem,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
