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

A GET pays a regex over its path and, with a query, a search of it for an escaped control
character: about 2 µs; a clerk's body some 10 µs over Litestar's own decoding (tests/bench/bench_intake.py).
"""

from __future__ import annotations

import datetime as dt
import re
import typing
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

# The depth scan: strings (escapes included) are text; of the rest only brackets count.
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPENERS = frozenset(b"[{")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
_FORMS = frozenset({RequestEncodingType.MULTI_PART.value, RequestEncodingType.URL_ENCODED.value})


def unreadable(slug: str, detail: str) -> Problem:
    """400: the body cannot be read at all (malformed, nested too deep); nothing was done."""
    return Problem(400, slug, "请求体无法读取", detail)


def depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` deep (strings skipped).
    Strings and every byte but a bracket are dropped in C; what is left is counted in one pass."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for char in _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS):
        if char in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
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


def refuse_future_dates(values: Mapping[str, Any], today: dt.date) -> None:
    """A recorded date (clock.RECORDED_DATES) later than today: 422 naming the field. `values` are
    a body's fields or a form's; a text that is not a date is left to the type check."""
    for field in RECORDED_DATES & values.keys():
        day = values[field]
        if isinstance(day, str):
            try:
                day = dt.date.fromisoformat(day)
            except ValueError:
                continue
        if isinstance(day, dt.date) and (message := future_date_error(day, today)):
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


class Intake(msgspec.Struct, frozen=True):
    """What a handler takes: its `data` type (Empty: no JSON body, a dataless action or a form)
    and the recorded dates among that type's fields."""

    wanted: Any
    dates: tuple[str, ...] = ()


_INTAKES: weakref.WeakKeyDictionary[HTTPRouteHandler, Intake] = weakref.WeakKeyDictionary()


def _struct_fields(annotation: Any) -> set[str]:
    fields: set[str] = set()
    for kind in typing.get_args(annotation) or (annotation,):
        if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
            fields.update(kind.__struct_fields__)
    return fields


def intake_of(handler: HTTPRouteHandler) -> Intake:
    if handler not in _INTAKES:
        field = handler.parsed_fn_signature.parameters.get("data")
        media_type = getattr(field.kwarg_definition, "media_type", None) if field is not None else None
        if field is None or media_type not in (None, RequestEncodingType.JSON, RequestEncodingType.JSON.value):
            _INTAKES[handler] = Intake(Empty)
        else:
            dates = tuple(sorted(RECORDED_DATES & _struct_fields(field.annotation)))
            _INTAKES[handler] = Intake(field.annotation, dates)
    return _INTAKES[handler]


def check_query(request: Request[Any, Any, Any]) -> None:
    query: bytes = request.scope.get("query_string", b"")
    if query and _ESCAPED_CONTROL.search(query):
        for name, value in request.query_params.multi_items():
            if isinstance(value, str) and LINE_CONTROL.search(value):
                raise invalid_field(name, "查询参数不能含控制字符")
    if LINE_CONTROL.search(request.scope["path"]):
        raise not_found("请求的资源")


def refuse_deep(body: bytes) -> None:
    if depth_exceeds(body):
        raise unreadable("too-deep", f"请求体嵌套超过 {MAX_DEPTH} 层，未作任何处理")


def decoded(body: bytes, wanted: Any) -> Any:
    """The body, decoded strictly as `wanted` (or as plain JSON when the handler takes none)."""
    try:
        return msgspec.json.decode(body) if wanted is Empty else msgspec.json.decode(body, type=wanted, strict=True)
    except msgspec.ValidationError as exc:
        malformed = _malformed(body)  # the typed decoder may stop at a wrong field before a broken end
        raise (malformed or _strict_error(exc)) from None
    except (msgspec.DecodeError, RecursionError):
        raise unreadable("malformed-body", "请求体不是有效的 JSON，未作任何处理") from None


def _malformed(body: bytes) -> Problem | None:
    try:
        msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return unreadable("malformed-body", "请求体不是有效的 JSON，未作任何处理")
    return None  # well formed: the field is what is wrong


async def check_body(request: Request[Any, Any, Any]) -> None:
    body = await request.body()
    if not body.strip():
        return  # no body: the handler's own signature says whether it needed one
    refuse_deep(body)
    intake = intake_of(request.route_handler)  # type: ignore[arg-type]
    value = decoded(body, intake.wanted)
    # JSON carries a control character only escaped (`\u0000`, `\n`) or as a raw DEL: most bodies
    # have neither, and their texts need no walk.
    if b"\\" in body or b"\x7f" in body:
        refuse_control_characters(value if intake.wanted is Empty else msgspec.json.decode(body))
    if intake.dates:
        today = request.app.state.clock.today()
        refuse_future_dates({f: getattr(value, f, None) for f in intake.dates}, today)


async def check_intake(request: Request[Any, Any, Any]) -> None:
    """The app's before_request hook: runs after routing and auth, before the handler's arguments."""
    check_query(request)
    if request.method in _NO_BODY_METHODS:
        return
    if request.content_type[0] in _FORMS:
        return  # uploads and console forms are read by their own parsers (core/uploads, console)
    await check_body(request)
