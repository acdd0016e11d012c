"""Who is signed in is kept a few seconds (service/core/principals.py), and every refusal holds:
a disabled user, a changed scope, an expired token, a lost listener, one's own change of scope."""

from __future__ import annotations

import asyncpg

from service.core.credentials import TokenClaims, issue_token
from tests.api.test_auth_and_clock import assert_problem
from tests.conftest import SECRET_KEY

HOUSEHOLDS = "/households?limit=1"


async def _user_id(api, username: str) -> str:
    conn = await api.connect()
    try:
        return str(await conn.fetchval("SELECT id FROM users WHERE username = $1", username))
    finally:
        await conn.close()


async def _commit_and_wait(api, sql: str, *args) -> None:
    """Change the database from outside the service and wait until the service has heard of it."""
    principals = api.app.state.principals
    seen = principals.generation
    conn = await api.connect()
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()
    await principals.changed_since(seen)


def _bearer(user_id: str, ttl_seconds: int = 600) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET_KEY, sub=user_id, kind='user', ttl_seconds=ttl_seconds)}"}


async def test_a_cached_user_is_refused_once_disabled_and_let_in_again_once_enabled(api):
    user_id = await _user_id(api, "caizheng")
    principals = api.app.state.principals
    assert principals.listening
    assert (await api.client.get(HOUSEHOLDS, headers=_bearer(user_id))).status_code == 200
    assert principals.cached("user", user_id)
    await _commit_and_wait(api, "UPDATE users SET disabled = true WHERE id = $1::uuid", user_id)
    assert not principals.cached("user", user_id)
    assert_problem(await api.client.get(HOUSEHOLDS, headers=_bearer(user_id)), 401)
    await _commit_and_wait(api, "UPDATE users SET disabled = false WHERE id = $1::uuid", user_id)
    assert (await api.client.get(HOUSEHOLDS, headers=_bearer(user_id))).status_code == 200


async def test_a_changed_region_narrows_what_a_cached_reviewer_sees(api):
    """cunwei reviews 南沿沟村; moved to 王何村, it no longer finds a 南沿沟村 household."""
    user_id = await _user_id(api, "cunwei")
    household = await api.household_id("621223100201-001")
    statement = f"/households/{household}/statement"
    assert (await api.client.get(statement, headers=_bearer(user_id))).status_code == 200
    await _commit_and_wait(api, "UPDATE users SET region_code = '621223100202' WHERE id = $1::uuid", user_id)
    assert_problem(await api.client.get(statement, headers=_bearer(user_id)), 404)


async def test_an_expired_token_is_refused_while_its_user_is_cached(api):
    user_id = await _user_id(api, "shenji")
    assert (await api.client.get(HOUSEHOLDS, headers=_bearer(user_id))).status_code == 200
    assert api.app.state.principals.cached("user", user_id)
    assert_problem(await api.client.get(HOUSEHOLDS, headers=_bearer(user_id, ttl_seconds=-1)), 401)


async def test_without_its_listener_the_service_reads_who_asks_every_time(api):
    """The listening connection killed: nothing is cached, so a disabling is seen on the very next
    request, before any notification could have told the service."""
    user_id = await _user_id(api, "caizheng2")
    principals = api.app.state.principals
    assert (await api.client.get(HOUSEHOLDS, headers=_bearer(user_id))).status_code == 200
    seen = principals.generation
    conn = await api.connect()
    try:
        await conn.execute("SELECT pg_terminate_backend($1)", principals.listener_pid())
        await principals.changed_since(seen)
        assert not principals.cached("user", user_id)
        await conn.execute("UPDATE users SET disabled = true WHERE id = $1::uuid", user_id)
    finally:
        await conn.close()
    assert_problem(await api.client.get(HOUSEHOLDS, headers=_bearer(user_id)), 401)


async def test_an_accountant_reads_the_venture_it_just_created(api):
    """Creating a venture adds it to the accountant's ventures; its next read sees it at once."""
    headers = await api.login("kuaiji")
    assert (await api.client.get("/ventures", headers=headers)).status_code == 200
    company = {
        "name": "新建测试公司",
        "model": "branch_company",
        "village_code": "621223100201",
        "registered_capital_fen": 100_000_000,
        "charter": {"floor_mode": "minimum", "floor_bp": 1000, "reserve_bp": 1000},
    }
    created = await api.client.post("/ventures", json=company, headers=headers)
    assert created.status_code == 201, created.text
    read = await api.client.get(f"/ventures/{created.json()['id']}/register", headers=headers)
    assert read.status_code == 200, read.text


async def test_a_household_moved_to_another_village_is_read_again(api):
    household = await api.household_id("621223100201-002")
    token = issue_token(SECRET_KEY, sub=household, kind="household", ttl_seconds=600)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.client.get(f"/households/{household}/statement", headers=headers)).status_code == 200
    assert api.app.state.principals.cached("household", household)
    await _commit_and_wait(api, "UPDATE households SET village_code = '621223100202' WHERE id = $1::uuid", household)
    assert not api.app.state.principals.cached("household", household)


async def test_a_principal_read_while_a_change_arrives_is_not_kept(api):
    """The read began before the change was heard of: it may predate it, so it is not cached."""
    principals = api.app.state.principals
    user_id = await _user_id(api, "xiangzhen")

    async def read_during_a_change():
        principals.forget("someone-else")  # a notification arrives while the database is read
        conn: asyncpg.Connection = await api.connect()
        try:
            return await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    await principals.principal(TokenClaims(user_id, "user", 0), read_during_a_change)
    assert not principals.cached("user", user_id)
