"""Idempotency keys for every POST that creates or moves money, uploads included (API.md).

The key is claimed by inserting its row inside the request's own transaction, before the work;
the work (in a savepoint) and the stored answer then commit with the claim. So the claim lives
exactly as long as the request's transaction:
- a request killed mid-flight (crash, SIGKILL, restart, a dropped connection) rolls back with its
  claim, and the retry runs at once; one that committed is replayed;
- a second request with the same key waits on the first's row (at most WAIT_SECONDS), then replays
  its answer, or runs if the first rolled back; only a wait that runs out answers 409;
- same key + same request replays the first answer; another request is refused with 422;
- a request refused with 4xx keeps being refused with that answer (the work's savepoint is rolled
  back and the answer stored); a 5xx or any unexpected failure stores nothing and lets a retry run.
What a request asks for is its method, path, query and body; for an upload (multipart) the form's
fields and the file's name and contents (service/core/uploads.py), not the multipart boundary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response

from db import idempotency as q
from service.core.errors import DomainError, Invalid, conflict, invalid_field
from service.core.principal import Principal
from service.core.problems import problem_of, status_of
from service.core.uploads import Upload, read_upload

HEADER = "idempotency-key"
WAIT_SECONDS = 30
_encoder = msgspec.json.Encoder()

Work = Callable[[asyncpg.Connection], Awaitable[Any]]


def _response(status: int, body: bytes, *, replayed: bool = False) -> Response[bytes]:
    media = "application/problem+json" if status >= 400 else "application/json"
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(content=body, status_code=status, media_type=media, headers=headers)


async def request_digest(request: Request[Any, Any, Any], upload: Upload | None = None) -> str:
    h = hashlib.sha256()
    h.update(f"{request.method} {request.url.path}?{request.url.query or ''}\n".encode())
    if upload is None and request.headers.get("content-type", "").startswith("multipart/form-data"):
        upload = await read_upload(request)
    h.update(upload.digest() if upload is not None else await request.body())
    return h.hexdigest()


async def run_idempotent(
    request: Request[Any, Any, Any],
    conn: asyncpg.Connection,
    principal: Principal,
    work: Work,
    *,
    status_code: int = 201,
    upload: Upload | None = None,
) -> Response[bytes]:
    """Run `work` in one transaction, under the request's Idempotency-Key when it has one."""
    key = request.headers.get(HEADER)
    if key is None:
        async with conn.transaction():
            result = await work(conn)
        return _response(status_code, _encoder.encode(result))
    if not 8 <= len(key) <= 255:
        raise invalid_field("Idempotency-Key", "幂等键长度应为8至255个字符")
    scope = f"{principal.kind}:{principal.id}"
    digest = await request_digest(request, upload)
    refused: DomainError | None = None
    try:
        async with conn.transaction():
            if not await q.claim(
                conn, scope, key, digest, request.method, request.url.path, wait_ms=WAIT_SECONDS * 1000
            ):
                return await _answer_of_claim(conn, scope, key, digest)
            try:
                async with conn.transaction():  # a savepoint: a refusal undoes the work, not the claim
                    result = await work(conn)
                status, body = status_code, _encoder.encode(result)
            except DomainError as error:
                status = status_of(error)
                if status >= 500:
                    raise
                refused, body = error, _encoder.encode(problem_of(error).to_response(request).content)
            await q.finish(conn, scope, key, status, body)
    except asyncpg.LockNotAvailableError:
        raise conflict(
            "idempotency-in-flight", f"相同 Idempotency-Key 的请求仍在处理（已等待 {WAIT_SECONDS} 秒），请稍后重试"
        ) from None
    if refused is not None:
        raise refused
    return _response(status, body)


async def _answer_of_claim(conn: asyncpg.Connection, scope: str, key: str, digest: str) -> Response[bytes]:
    """The answer a committed claim holds: replayed for the same request, 422 for another."""
    row = await q.claimed(conn, scope, key)
    if row is None or row["state"] != "done":
        # Only a claim committed by a service older than migration 0013 can be seen in flight.
        raise conflict("idempotency-in-flight", "相同 Idempotency-Key 的请求正在处理，请稍后重试")
    if row["request_digest"] != digest:
        raise Invalid(
            "该 Idempotency-Key 已用于内容不同的请求，请使用新的键",
            slug="idempotency-key-reused",
            errors=[{"field": "Idempotency-Key", "message": "键已用于内容不同的请求"}],
        )
    return _response(row["response_status"], bytes(row["response_body"]), replayed=True)
