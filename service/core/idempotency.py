"""Idempotency keys for every POST that creates or moves money (API.md).

The key is claimed in its own committed statement; the work and the stored answer then commit
together, so a crash either leaves no effect (the key can be taken over after its lease) or the
effect and its answer. Same key + same body replays the first answer; another body is refused
with 422; a key still in flight answers 409; a request refused with 4xx keeps being refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response

from service.core.errors import DomainError, Invalid, conflict, invalid_field
from service.core.principal import Principal
from service.core.problems import problem_of, status_of

HEADER = "idempotency-key"
LEASE_SECONDS = 300
_encoder = msgspec.json.Encoder()

Work = Callable[[asyncpg.Connection], Awaitable[Any]]


def _response(status: int, body: bytes, *, replayed: bool = False) -> Response:
    media = "application/problem+json" if status >= 400 else "application/json"
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(content=body, status_code=status, media_type=media, headers=headers)


async def _digest(request: Request) -> str:
    """What the request asks for: for an upload, its fields and file contents, not the raw bytes,
    since a client retrying the same file picks a new multipart boundary each time.

    An upload handler must read `request.body()` before anything parses the form (Litestar keeps
    those bytes, so the form can still be parsed afterwards)."""
    h = hashlib.sha256()
    h.update(f"{request.method} {request.url.path}?{request.url.query or ''}\n".encode())
    body = await request.body()
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        for name, value in sorted(form.multi_items(), key=lambda item: item[0]):
            h.update(name.encode() + b"\x00")
            if hasattr(value, "read"):
                h.update((value.filename or "").encode() + b"\x00")
                h.update(await value.read())
                await value.seek(0)
            else:
                h.update(str(value).encode())
            h.update(b"\x00")
    else:
        h.update(body)
    return h.hexdigest()


async def run_idempotent(
    request: Request,
    conn: asyncpg.Connection,
    principal: Principal,
    work: Work,
    *,
    status_code: int = 201,
) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        async with conn.transaction():
            result = await work(conn)
        return _response(status_code, _encoder.encode(result))
    if not 8 <= len(key) <= 255:
        raise invalid_field("Idempotency-Key", "幂等键长度应为8至255个字符")
    scope = f"{principal.kind}:{principal.id}"
    digest = await _digest(request)
    claimed = await conn.fetchval(
        """INSERT INTO idempotency_keys (scope, key, request_digest, method, path, state)
           VALUES ($1, $2, $3, $4, $5, 'in_flight') ON CONFLICT DO NOTHING RETURNING true""",
        scope,
        key,
        digest,
        request.method,
        request.url.path,
    )
    if not claimed:
        row = await conn.fetchrow("SELECT * FROM idempotency_keys WHERE scope = $1 AND key = $2", scope, key)
        assert row is not None, "a key that could not be claimed exists"
        if row["request_digest"] != digest:
            raise Invalid(
                "该 Idempotency-Key 已用于内容不同的请求，请使用新的键",
                slug="idempotency-key-reused",
                errors=[{"field": "Idempotency-Key", "message": "键已用于内容不同的请求"}],
            )
        if row["state"] == "done":
            return _response(row["response_status"], bytes(row["response_body"]), replayed=True)
        taken = await conn.fetchval(
            """UPDATE idempotency_keys SET locked_at = clock_timestamp()
               WHERE scope = $1 AND key = $2 AND state = 'in_flight'
                 AND locked_at < clock_timestamp() - make_interval(secs => $3)
               RETURNING true""",
            scope,
            key,
            LEASE_SECONDS,
        )
        if not taken:
            raise conflict("idempotency-in-flight", "相同 Idempotency-Key 的请求正在处理，请稍后重试")
    try:
        async with conn.transaction():
            result = await work(conn)
            body = _encoder.encode(result)
            await conn.execute(
                """UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4
                   WHERE scope = $1 AND key = $2""",
                scope,
                key,
                status_code,
                body,
            )
        return _response(status_code, body)
    except DomainError as error:
        status = status_of(error)
        if status < 500:
            body = _encoder.encode(problem_of(error).to_response(request).content)
            await conn.execute(
                """UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4
                   WHERE scope = $1 AND key = $2""",
                scope,
                key,
                status,
                body,
            )
        else:
            await _release(conn, scope, key)
        raise
    except BaseException:
        await _release(conn, scope, key)
        raise


async def _release(conn: asyncpg.Connection, scope: str, key: str) -> None:
    # An unexpected failure left no effect (its transaction rolled back): let a retry run.
    try:
        await conn.execute(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'in_flight'", scope, key
        )
    except Exception:  # the connection may be gone; the lease lets a retry take over later
        pass
