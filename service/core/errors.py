"""Typed domain errors: what a workflow raises when a user's request cannot be carried out.

They know nothing of HTTP. The edge maps each kind to an RFC 9457 answer in one place
(service/core/problems.py); pages show their `detail` in Chinese next to the form; the CLI prints
it. Bad input names the field (and the row, for files) in `errors`, and changes nothing: a
workflow validates before it writes, and a failure inside a transaction rolls it back.

A bug is not one of these: it surfaces as a 500 with a short detail and a log line.
"""

from __future__ import annotations

from typing import Any

FieldErrors = list[dict[str, Any]]


class DomainError(Exception):
    """Base of every error a user can act on. `slug` is the stable problem type."""

    slug = "error"

    def __init__(
        self,
        detail: str,
        *,
        slug: str | None = None,
        errors: FieldErrors | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug
        self.errors = errors
        self.headers = headers
        self.extra = extra or {}


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does (out of scope)."""

    slug = "not-found"


class Forbidden(DomainError):
    slug = "forbidden"


class Unauthenticated(DomainError):
    slug = "unauthenticated"


class Conflict(DomainError):
    """The object is not in a state that allows the action (already posted, budget spent ...)."""

    slug = "conflict"


class Invalid(DomainError):
    """Bad input: every bad field (and row) is named in `errors`."""

    slug = "validation"


class TooLarge(DomainError):
    slug = "too-large"


class RateLimited(DomainError):
    slug = "too-many-requests"

    def __init__(self, detail: str, *, slug: str | None = None, retry_after_seconds: int) -> None:
        super().__init__(detail, slug=slug, headers={"Retry-After": str(retry_after_seconds)})


class Unavailable(DomainError):
    slug = "unavailable"


def field_error(field: str, message: str, row: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"field": field, "message": message}
    if row is not None:
        error["row"] = row
    return error


def bad_input(detail: str, errors: FieldErrors) -> Invalid:
    return Invalid(detail, errors=errors)


def invalid_field(field: str, message: str) -> Invalid:
    return bad_input(message, [field_error(field, message)])


def refuse_rows(errors: FieldErrors, what: str = "未导入任何数据") -> None:
    """Raise one Invalid naming every bad row, or return when there is none."""
    if errors:
        errors.sort(key=lambda e: (e.get("row") or 0, e["field"]))
        rows = {e.get("row") for e in errors}
        detail = f"{len(rows)} 行有误，{what}" if None not in rows else errors[0]["message"]
        raise bad_input(detail, errors)


def not_found(what: str) -> NotFound:
    return NotFound(f"{what}不存在或无权查看")


def forbidden(detail: str = "无权执行此操作") -> Forbidden:
    return Forbidden(detail)


def conflict(slug: str, detail: str, **extra: Any) -> Conflict:
    return Conflict(detail, slug=slug, extra=extra or None)
