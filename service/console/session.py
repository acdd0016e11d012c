"""The staff console's session (工作台登录) and its CSRF tokens.

A staff member signs in with the very check, throttle and token of POST /auth/token
(service.users.workflow.login); the console keeps that token in an HttpOnly, SameSite=Strict
cookie limited to /console, so it expires when the token does (Settings.token_ttl_seconds).

Every console form carries a CSRF token: an HMAC, under the service's secret, of the session's
token (or, on the sign-in form, of a random seed kept in its own cookie). Another site can neither
read it nor compute it, and a form posted without it changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

import asyncpg
import msgspec
from litestar import Request
from litestar.datastructures import Cookie

from service.core.auth import cached_principal, read_token
from service.core.principal import Principal
from service.core.settings import Settings

CONSOLE = "/console"
LOGIN = "/console/login"
SESSION_COOKIE = "huinong_staff"
LOGIN_SEED_COOKIE = "huinong_login"
CSRF_FIELD = "csrf"

# Why a session was refused, in the words the login page shows.
REASONS = {
    "expired": "登录已过期，请重新登录。",
    "signed-out": "请先登录。",
    "invalid": "登录信息无效，请重新登录。",
    "disabled": "账户不存在或已停用，请联系管理员。",
    "logged-out": "您已退出登录。",
}


class SignInRequired(Exception):
    """No valid staff session: the console sends the reader to the login page with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfRefused(Exception):
    """A console form posted without its token (or from another site): nothing is changed."""


def _expired(token: str) -> bool:
    """Whether a token that failed to verify carries an expiry in the past (to tell the user so)."""
    try:
        body = token.split(".", 1)[0]
        claims = msgspec.json.decode(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return isinstance(claims, dict) and int(claims.get("exp", 0)) < time.time()
    except (ValueError, TypeError, msgspec.DecodeError):
        return False


async def staff_session(request: Request[Any, Any, Any], conn: asyncpg.Connection, settings: Settings) -> Principal:
    """The signed-in staff member, or SignInRequired naming why not."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired("signed-out")
    claims = read_token(settings.secret_key, token)
    if claims is None:
        raise SignInRequired("expired" if _expired(token) else "invalid")
    if claims.kind != "user":
        raise SignInRequired("invalid")
    principal = await cached_principal(request, conn, claims)
    if principal is None:
        raise SignInRequired("disabled")
    return principal


def _cookie(settings: Settings, key: str, value: str | None, max_age: int) -> Cookie:
    return Cookie(
        key=key,
        value=value or "",
        path=CONSOLE,
        max_age=max_age if value else 0,
        httponly=True,
        samesite="strict",
        secure=settings.public_base_url.startswith("https:"),
    )


def session_cookie(settings: Settings, token: str | None) -> Cookie:
    """The cookie holding the staff member's token; None clears it (log out)."""
    return _cookie(settings, SESSION_COOKIE, token, settings.token_ttl_seconds)


def login_seed_cookie(settings: Settings, seed: str | None) -> Cookie:
    return _cookie(settings, LOGIN_SEED_COOKIE, seed, 3600)


def new_seed() -> str:
    return secrets.token_urlsafe(24)


def csrf_for(settings: Settings, secret_of_session: str) -> str:
    """The CSRF token of a session (or of a sign-in seed), in base64 rather than hex: a run of
    sixteen hex digits would read like a card number to anyone scanning the page for one."""
    digest = hmac.new(settings.secret_key, b"console-csrf:" + secret_of_session.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_matches(settings: Settings, secret_of_session: str | None, sent: str | None) -> bool:
    if not secret_of_session or not sent:
        return False
    return hmac.compare_digest(csrf_for(settings, secret_of_session), sent)
