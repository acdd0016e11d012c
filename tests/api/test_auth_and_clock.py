"""Logging in, being refused, and the one clock (issue 2: People, One clock).

`assert_problem` lives here and the other API test files import it: every refusal a client sees
must be an RFC 9457 body it can parse the same way.
"""

from __future__ import annotations

import datetime as dt
import uuid

import httpx

from service.core.auth import FAILURES_PER_ACCOUNT, issue_token
from service.core.clock import CHINA_TZ
from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, SECRET_KEY, _api

HOME_NO = "621223100201-001"
NEIGHBOUR_NO = "621223100201-002"


def assert_problem(r: httpx.Response, status: int, *, fields: set[str] | None = None) -> dict:
    """The answer is `status` with a problem+json body a client can show; returns the body.

    `fields`, when given, are field names that must all appear in `errors[]`.
    """
    assert r.status_code == status, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body = r.json()
    for key in ("type", "title", "detail"):
        assert isinstance(body.get(key), str) and body[key], f"problem without {key}: {body}"
    assert body["status"] == status
    if status == 422:
        assert body.get("errors"), f"422 without errors[]: {body}"
        for error in body["errors"]:
            assert error.get("field") and error.get("message"), error
    if fields is not None:
        named = {e["field"] for e in body.get("errors", [])}
        assert fields <= named, f"expected errors on {fields}, got {named}: {body}"
    return body


async def _token(api, username: str, password: str) -> httpx.Response:
    return await api.client.post("/auth/token", json={"username": username, "password": password})


async def _audit_count(api, action: str) -> int:
    conn = await api.connect()
    try:
        return await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = $1", action)
    finally:
        await conn.close()


# --- staff login -----------------------------------------------------------------------------


async def test_staff_login_answers_a_bearer_token_with_the_role(api):
    r = await _token(api, "caizheng", DEMO_PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "finance_officer" and body["expires_in"] > 0
    r = await api.client.get("/households?limit=1", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200, r.text


async def test_bad_password_and_unknown_user_are_the_same_401(api):
    # The same answer for both, so the login form does not tell which usernames exist.
    wrong = assert_problem(await _token(api, "caizheng", "not-the-password"), 401)
    unknown = assert_problem(await _token(api, "nobody-here", "not-the-password"), 401)
    assert wrong == unknown


async def test_five_failures_lock_the_account_even_for_the_right_password(api):
    for _ in range(FAILURES_PER_ACCOUNT):
        assert_problem(await _token(api, "shenji", "guessing-again"), 401)
    r = await _token(api, "shenji", DEMO_PASSWORD)
    assert_problem(r, 429)
    assert int(r.headers["Retry-After"]) > 0
    # Another account from the same address is not locked out by someone else's guesses.
    assert (await _token(api, "caizheng", DEMO_PASSWORD)).status_code == 200


async def test_household_pins_are_throttled_too(api):
    for _ in range(FAILURES_PER_ACCOUNT):
        r = await api.client.post("/auth/household-token", json={"household_no": HOME_NO, "pin": "000000"})
        assert_problem(r, 401)
    r = await api.client.post("/auth/household-token", json={"household_no": HOME_NO, "pin": "123456"})
    assert_problem(r, 429)
    assert "Retry-After" in r.headers


# --- household login -------------------------------------------------------------------------


async def test_household_logs_in_with_pin_and_reads_only_itself(api):
    headers = await api.household_login(HOME_NO)
    own, other = await api.household_id(HOME_NO), await api.household_id(NEIGHBOUR_NO)
    r = await api.client.get(f"/households/{own}", headers=headers)
    assert r.status_code == 200 and r.json()["household_no"] == HOME_NO
    # A neighbour's record answers as if it did not exist: ids cannot be probed.
    assert_problem(await api.client.get(f"/households/{other}", headers=headers), 404)
    for method, url in (
        ("GET", "/households"),
        ("GET", "/audit-log"),
        ("GET", "/users"),
        ("POST", f"/households/{own}/status-events"),
    ):
        body = {"kind": "exited", "year": 2024, "effective_date": "2024-06-01"} if method == "POST" else None
        assert_problem(await api.client.request(method, url, json=body, headers=headers), 403)


async def test_wrong_pin_is_401(api):
    r = await api.client.post("/auth/household-token", json={"household_no": HOME_NO, "pin": "654321"})
    assert_problem(r, 401)
    r = await api.client.post("/auth/household-token", json={"household_no": "9999-000", "pin": "123456"})
    assert_problem(r, 401)


# --- tokens ----------------------------------------------------------------------------------


async def test_expired_garbled_forged_and_disabled_tokens_are_401(api):
    conn = await api.connect()
    try:
        user_id = str(await conn.fetchval("SELECT id FROM users WHERE username = 'caizheng'"))
    finally:
        await conn.close()
    good = issue_token(SECRET_KEY, sub=user_id, kind="user", ttl_seconds=600)
    body, signature = good.split(".")
    bad_tokens = {
        "expired": issue_token(SECRET_KEY, sub=user_id, kind="user", ttl_seconds=-1),
        "garbled": "not-a-token",
        "truncated signature": f"{body}.{signature[:-3]}",
        "other key": issue_token(b"x" * 32, sub=user_id, kind="user", ttl_seconds=600),
        "unknown user": issue_token(SECRET_KEY, sub=str(uuid.uuid4()), kind="user", ttl_seconds=600),
        "unknown kind": issue_token(SECRET_KEY, sub=user_id, kind="root", ttl_seconds=600),
    }
    for name, token in bad_tokens.items():
        r = await api.client.get("/households?limit=1", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, name
        assert_problem(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    ok = await api.client.get("/households?limit=1", headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200
    r = await api.client.get("/households?limit=1", headers={"Authorization": f"Basic {good}"})
    assert_problem(r, 401)

    # A disabled account loses access at once, not when its token expires: as soon as the service
    # hears of the commit (migration 0017's notification), however recently it was let in.
    principals = api.app.state.principals
    assert principals.listening
    seen = principals.generation
    conn = await api.connect()
    try:
        await conn.execute("UPDATE users SET disabled = true WHERE id = $1::uuid", user_id)
    finally:
        await conn.close()
    await principals.changed_since(seen)
    assert_problem(await api.client.get("/households?limit=1", headers={"Authorization": f"Bearer {good}"}), 401)


async def test_admin_password_from_settings_logs_in(bare_api):
    r = await _token(bare_api, "admin", ADMIN_PASSWORD)
    assert r.status_code == 200 and r.json()["role"] == "admin"


# --- the test clock --------------------------------------------------------------------------


async def test_moving_the_clock_moves_today_and_is_audited(api):
    before = await _audit_count(api, "clock.set")
    r = await api.as_("admin", "PUT", "/admin/clock", json={"today": "2031-07-15"})
    assert r.status_code == 200, r.text
    assert r.json() == {"today": "2031-07-15", "movable": True}
    assert (await api.client.get("/health")).json()["today"] == "2031-07-15"
    assert await _audit_count(api, "clock.set") == before + 1


async def test_only_admin_moves_the_clock(api):
    for user in ("caizheng", "shenji", "xiangzhen"):
        assert_problem(await api.as_(user, "PUT", "/admin/clock", json={"today": "2031-07-15"}), 403)
    r = await api.as_("admin", "PUT", "/admin/clock", json={"today": "15/07/2031"})
    assert_problem(r, 422)
    assert (await api.client.get("/health")).json()["today"] != "2031-07-15"


async def test_clock_cannot_move_without_test_clock(demo_db):
    async for api in _api(demo_db, test_clock=False):
        before = await _audit_count(api, "clock.set")
        r = await api.as_("admin", "PUT", "/admin/clock", json={"today": "2031-07-15"})
        assert_problem(r, 403)
        today = dt.date.fromisoformat((await api.client.get("/health")).json()["today"])
        # The real date in China; a run straddling midnight may see either side.
        real = dt.datetime.now(CHINA_TZ).date()
        assert real - dt.timedelta(days=1) <= today <= real
        assert await _audit_count(api, "clock.set") == before
        r = await api.as_("admin", "GET", "/admin/clock")
        assert r.json()["movable"] is False
