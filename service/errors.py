"""RFC 9457 problem details: every error the service answers has a stable `type`.

Bad input names the field (and the row, for files) in `errors`, and changes nothing: handlers
validate before they open a transaction, and a failure inside one rolls it back.
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

log = logging.getLogger("huinong")

PROBLEM_BASE = "/problems/"


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


def field_error(field: str, message: str, row: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"field": field, "message": message}
    if row is not None:
        error["row"] = row
    return error


def bad_input(detail: str, errors: list[dict[str, Any]]) -> Problem:
    return Problem(422, "validation", "输入有误", detail, errors=errors)


def invalid_field(field: str, message: str) -> Problem:
    return bad_input(message, [field_error(field, message)])


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", "未找到", f"{what}不存在或无权查看")


def forbidden(detail: str = "无权执行此操作") -> Problem:
    return Problem(403, "forbidden", "无权访问", detail)


def conflict(slug: str, detail: str, **extra: Any) -> Problem:
    return Problem(409, slug, "状态冲突", detail, extra=extra or None)


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


def _problem_response(request: Request, problem: Problem) -> Response:
    return problem.to_response(request)


def handle_problem(request: Request, exc: Problem) -> Response:
    return exc.to_response(request)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return _problem_response(request, bad_input(detail, errors))
    if isinstance(exc, NotAuthorizedException):
        problem = Problem(
            401, "unauthenticated", "需要登录", exc.detail or "请先登录",
            headers={"WWW-Authenticate": "Bearer"},
        )
        return _problem_response(request, problem)
    if isinstance(exc, PermissionDeniedException):
        return _problem_response(request, forbidden(exc.detail or "无权执行此操作"))
    if isinstance(exc, NotFoundException):
        return _problem_response(request, Problem(404, "not-found", "未找到", "请求的资源不存在"))
    status = exc.status_code
    slug = {405: "method-not-allowed", 413: "too-large", 429: "too-many-requests"}.get(status, "http-error")
    return _problem_response(
        request, Problem(status, slug, str(exc.detail or "请求错误"), str(exc.detail or ""), headers=exc.headers)
    )


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _problem_response(
        request, Problem(500, "internal", "服务器内部错误", "服务器处理请求时出错，未作任何更改，请稍后再试")
    )


EXCEPTION_HANDLERS = {
    Problem: handle_problem,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
