"""Passwords, signed bearer tokens and login throttling, free of the web framework.

The users workflow (logins, user administration) and the authentication middleware of
service/core/auth.py share them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import asyncpg
import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from db import users as users_q
from service.core.errors import RateLimited

_hasher = PasswordHasher()

# Failed logins: at most this many per account (or per address) in the window, then 429.
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 30
FAILURE_WINDOW_SECONDS = 15 * 60


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


class TokenClaims(msgspec.Struct, frozen=True):
    sub: str
    kind: str
    exp: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(secret: bytes, *, sub: str, kind: str, ttl_seconds: int) -> str:
    payload = msgspec.json.encode(TokenClaims(sub=sub, kind=kind, exp=int(time.time()) + ttl_seconds))
    body = _b64(payload)
    signature = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def read_token(secret: bytes, token: str) -> TokenClaims | None:
    try:
        body, signature = token.split(".", 1)
        expected = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return None
        claims = msgspec.json.decode(_unb64(body), type=TokenClaims)
    except (ValueError, msgspec.DecodeError):
        return None
    if claims.exp < time.time():
        return None
    return claims


async def check_throttle(conn: asyncpg.Connection, keys: list[tuple[str, int]]) -> None:
    for key, limit in keys:
        if await users_q.recent_failures(conn, key, FAILURE_WINDOW_SECONDS) >= limit:
            raise RateLimited(
                "登录失败次数过多，请 15 分钟后再试",
                slug="too-many-attempts",
                retry_after_seconds=FAILURE_WINDOW_SECONDS,
            )


async def record_failure(conn: asyncpg.Connection, keys: list[str]) -> None:
    await users_q.add_failures(conn, keys, FAILURE_WINDOW_SECONDS)
