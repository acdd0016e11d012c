"""The edge's intake: every request's body, query and path are bounded and checked here, once,
before a handler sees them (wired in service/app.py as the app's before_request hook).

- A JSON body is at most Settings.max_body_bytes (413, Litestar's limit) and at most MAX_DEPTH
  levels deep, measured on the bytes before anything is decoded (400): a body nested 100,000
  levels deep never reaches the decoder, whose recursion it would exhaust.
- A body that is present must parse, also on an action that takes none (400): a malformed body
  does not run the action. An empty body is no body.
- A body is decoded strictly against the handler's `data` type: `"123"` is not an integer, `1.0`
  is not an integer (422 naming the field).
- A recorded date (a trade, a subsidy, a share movement, an advance, a purchase, a change of
  status: service/core/clock.py RECORDED_DATES) is not later than the service's today (422).
- No text carries a control character (NUL and the other C0 characters, DEL): PostgreSQL refuses
  NUL, and none belongs in a name, a reason or a code. Tab, CR and LF are allowed only in
  multi-line texts (reasons, notes). 422 naming the field; the same for a query parameter.

GET requests without a query string pay one dictionary look-up; the hot read paths stay fast.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.types import Empty

from service.core.clock import RECORDED_DATES, future_date_error
from service.core.errors import bad_input, field_error, invalid_field, not_found
from service.core.problems import Problem

MAX_DEPTH = 64

# C0 controls and DEL, but tab, LF and CR: refused in every text.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# ... and tab, LF and CR too, in a single-line text.
LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPED_CONTROL = re.compile(rb"%(?:[01][0-9a-fA-F]|7[fF])")
# Fields that are free multi-line text (a reason given, a note): the only place a line break belongs.
MULTILINE_SUFFIXES = ("reason", "text", "note", "notes", "memo", "description", "comment", "detail")

# What the depth scan reads: a string (skipped whole, escapes included) or a bracket.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset(b"[{")
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
_FORMS = frozenset({RequestEncodingType.MULTI_PART.value, RequestEncodingType.URL_ENCODED.value})


def unreadable(slug: str, detail: str) -> Problem:
    """400: the body cannot be read at all (malformed, nested too deep); nothing was done."""
    return Problem(400, slug, "请求体无法读取", detail)


def depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` deep (strings skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for token in _TOKENS.finditer(body):
        char = token.group()[0]
        if char in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        elif char != 0x22:  # a closing bracket, not a string
            depth -= 1
    return False


def is_multiline(field: str) -> bool:
    return field.rsplit(".", 1)[-1].endswith(MULTILINE_SUFFIXES)


def control_character_error(field: str, text: str) -> str | None:
    """The message for a text with a character it may not carry, or None when it is clean."""
    pattern = CONTROL if is_multiline(field) else LINE_CONTROL
    found = pattern.search(text)
    if found is None:
        return None
    return f"不能含控制字符（U+{ord(found.group()):04X}），请删去后重新提交"


def _walk_texts(value: Any, path: str) -> tuple[str, str] | None:
    """The first (field, message) of a text with a control character, keys included."""
    if isinstance(value, str):
        message = control_character_error(path or "body", value)
        return (path or "body", message) if message else None
    if isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and LINE_CONTROL.search(key):
                return field, "字段名不能含控制字符"
            found = _walk_texts(item, field)
            if found:
                return found
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found = _walk_texts(item, f"{path}.{n}" if path else str(n))
            if found:
                return found
    return None


def refuse_control_characters(value: Any, path: str = "") -> None:
    found = _walk_texts(value, path)
    if found:
        field, message = found
        raise bad_input(f"{field}: {message}", [field_error(field, message)])


def refuse_future_dates(values: Any, today: dt.date) -> None:
    """A recorded date (clock.RECORDED_DATES) later than today: 422 naming the field. `values` is
    a decoded body or a form; a date that does not parse is left to the type check."""
    if not isinstance(values, Mapping):
        return
    for field in RECORDED_DATES & values.keys():
        try:
            day = dt.date.fromisoformat(values[field])
        except (TypeError, ValueError):
            continue
        message = future_date_error(day, today)
        if message:
            raise bad_input(f"{field}: {message}", [field_error(field, message)])


def refuse_control_characters_in_form(form: Any) -> None:
    """The same rule for a console form post (its Chinese message is shown on the page)."""
    for name, value in form.multi_items():
        if isinstance(value, str):
            message = control_character_error(name, value)
            if message:
                raise invalid_field(name, f"“{name}”{message}")


_AT = re.compile(r"^(.*?)(?: - at `\$\.?([^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def _strict_error(exc: msgspec.ValidationError) -> Exception:
    """msgspec's message names the field only as `- at `$.a[0].b``, a missing one only by name."""
    found = _AT.match(str(exc))
    message, at = found.groups() if found else (str(exc), None)
    path = (at or "").replace("[", ".").replace("]", "")
    named = _NAMED.search(message)
    if named:
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    field = path or "body"
    return bad_input(f"{field}: {message}", [field_error(field, message)])


# The `data` type of each handler: Empty when it takes no JSON body (a dataless action or a form).
_DATA_TYPES: weakref.WeakKeyDictionary[HTTPRouteHandler, Any] = weakref.WeakKeyDictionary()


def data_type(handler: HTTPRouteHandler) -> Any:
    if handler not in _DATA_TYPES:
        field = handler.parsed_fn_signature.parameters.get("data")
        wants_json = field is not None and getattr(field.kwarg_definition, "media_type", None) in (
            None,
            RequestEncodingType.JSON,
            RequestEncodingType.JSON.value,
        )
        _DATA_TYPES[handler] = field.annotation if field is not None and wants_json else Empty
    return _DATA_TYPES[handler]


def check_query(request: Request[Any, Any, Any]) -> None:
    query: bytes = request.scope.get("query_string", b"")
    if query and _ESCAPED_CONTROL.search(query):
        for name, value in request.query_params.multi_items():
            if isinstance(value, str) and LINE_CONTROL.search(value):
                raise invalid_field(name, "查询参数不能含控制字符")
    if LINE_CONTROL.search(request.scope["path"]):
        raise not_found("请求的资源")


async def check_body(request: Request[Any, Any, Any]) -> None:
    body = await request.body()
    wanted = data_type(request.route_handler)  # type: ignore[arg-type]
    if not body.strip():
        return  # no body: the handler's own signature says whether it needed one
    if depth_exceeds(body):
        raise unreadable("too-deep", f"请求体嵌套超过 {MAX_DEPTH} 层，未作任何处理")
    try:
        decoded = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        raise unreadable("malformed-body", "请求体不是有效的 JSON，未作任何处理") from None
    refuse_control_characters(decoded)
    if wanted is not Empty:
        try:
            msgspec.convert(decoded, wanted, strict=True, str_keys=True)
        except msgspec.ValidationError as exc:
            raise _strict_error(exc) from None
        refuse_future_dates(decoded, request.app.state.clock.today())
    request._connection_state.json = decoded  # decoded once: Litestar reads it from here


async def check_intake(request: Request[Any, Any, Any]) -> None:
    """The app's before_request hook: runs after routing and auth, before the handler's arguments."""
    check_query(request)
    if request.method in _NO_BODY_METHODS:
        return
    if request.content_type[0] in _FORMS:
        return  # uploads and console forms are read by their own parsers (core/uploads, console)
    await check_body(request)
