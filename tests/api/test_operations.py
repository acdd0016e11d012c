"""What an operator relies on (issue 13): the data key checked at start, health split into live and
ready, /metrics for Prometheus (admin or the machine itself only) and one JSON access line per
request that names no person."""

import logging
import os
import subprocess
import sys

import httpx
import msgspec
import pytest

from service.app import create_app
from service.core.crypto import DataCipher
from service.system.workflow import DataKeyMismatch
from tests import conftest
from tests.api.console_client import Console
from tests.conftest import DATA_KEY, SECRET_KEY, b64key

OTHER_KEY = b"o" * 32


async def stored_check(api) -> bytes | None:
    conn = await api.connect()
    try:
        value = await conn.fetchval("SELECT key_check FROM data_key_check")
    finally:
        await conn.close()
    return bytes(value) if value is not None else None


async def start_with(database_url: str, data_key: bytes) -> None:
    app = create_app(conftest.test_settings(database_url, data_key=data_key))
    async with app.lifespan():
        pass


async def refused_start(database_url: str, data_key: bytes) -> str:
    """The reason the app's start was refused (the lifespan wraps it in exception groups)."""
    with pytest.raises(BaseException) as info:
        await start_with(database_url, data_key)
    error: BaseException = info.value
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    assert isinstance(error, DataKeyMismatch), repr(error)
    return str(error)


def serve(database_url: str, data_key: bytes) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HUINONG_SECRET_KEY": b64key(SECRET_KEY),
        "HUINONG_DATA_KEY": b64key(data_key),
        "PORT": "1",  # never reached: the check comes first
    }
    return subprocess.run(
        [sys.executable, "-m", "service", "serve"], env=env, capture_output=True, text=True, timeout=120
    )


async def test_the_first_start_stores_the_key_check_and_another_key_is_refused(api):
    assert await stored_check(api) == DataCipher(DATA_KEY).key_check
    assert "does not match" in await refused_start(api.database_url, OTHER_KEY)
    result = serve(api.database_url, OTHER_KEY)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to start" in result.stderr and "HUINONG_DATA_KEY does not match" in result.stderr
    # The right key still starts, and the check is unchanged.
    await start_with(api.database_url, DATA_KEY)
    assert await stored_check(api) == DataCipher(DATA_KEY).key_check


async def test_a_database_from_before_the_check_must_open_with_the_key_first(api):
    conn = await api.connect()
    try:
        await conn.execute("DELETE FROM data_key_check")
    finally:
        await conn.close()
    assert "cannot decrypt" in await refused_start(api.database_url, OTHER_KEY)
    assert await stored_check(api) is None
    await start_with(api.database_url, DATA_KEY)
    assert await stored_check(api) == DataCipher(DATA_KEY).key_check


async def test_an_empty_database_takes_the_key_it_first_starts_with(bare_api):
    assert await stored_check(bare_api) == DataCipher(DATA_KEY).key_check


async def test_live_and_ready_and_the_old_health(api):
    r = await api.client.get("/health/live")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await api.client.get("/health/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "database": "ok", "migrations": "current", "pending": []}
    assert (await api.client.get("/health")).json()["status"] == "ok"
    conn = await api.connect()
    try:
        await conn.execute("DELETE FROM schema_migrations WHERE version = 14")
    finally:
        await conn.close()
    r = await api.client.get("/health/ready")
    assert r.status_code == 503 and r.json()["type"].endswith("migrations-pending"), r.text
    assert (await api.client.get("/health/live")).status_code == 200


async def test_metrics_for_the_machine_itself_or_the_admin(api):
    await api.client.get("/health")
    await api.as_("shenji", "GET", "/ledger/verify")
    r = await api.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert 'huinong_requests_total{method="GET",route="/health",status="200"} 1' in text
    assert 'huinong_requests_total{method="GET",route="/ledger/verify",status="200"} 1' in text
    assert 'huinong_request_duration_seconds_bucket{method="GET",route="/health",le="+Inf"} 1' in text
    assert "huinong_db_pool_in_use" in text and "huinong_db_pool_max 20" in text
    # From another machine (or through a proxy on this one): the admin only.
    remote = httpx.ASGITransport(app=api.app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=remote, base_url="http://huinong.test") as outside:
        assert (await outside.get("/metrics")).status_code == 401
        assert (await outside.get("/metrics", headers=await api.login("shenji"))).status_code == 403
        r = await outside.get("/metrics", headers=await api.login("admin"))
        assert r.status_code == 200 and "huinong_requests_total" in r.text
    r = await api.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 401


async def test_one_json_access_line_per_request_naming_no_one(api, caplog):
    household = await api.household_id("621223100201-001")
    headers = await api.login("caizheng")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="huinong.access"):
        r = await api.client.get(f"/households/{household}", headers=headers)
        assert r.status_code == 200
        search = await api.client.get("/households", params={"q": "张"}, headers=headers)
        refused = await api.client.get(f"/households/{household}")
    lines = [msgspec.json.decode(rec.getMessage()) for rec in caplog.records if rec.name == "huinong.access"]
    assert len(lines) == 3
    read, listed, anonymous = lines
    assert read["request_id"] == r.headers["x-request-id"]
    assert read["method"] == "GET" and read["route"] == "/households/{household_id}"
    assert read["status"] == 200 and read["role"] == "finance_officer" and read["county"] == "621223000000"
    assert read["user"] != "caizheng" and len(read["user"]) == 36  # the user's id, not its name
    assert isinstance(read["duration_ms"], float) and read["duration_ms"] >= 0
    assert listed["route"] == "/households" and listed["status"] == search.status_code
    assert "张" not in caplog.text and household not in caplog.text
    assert anonymous["status"] == refused.status_code == 401 and anonymous["user"] is None


async def test_a_console_page_is_logged_with_its_user(api, caplog):
    async with Console(api, "caizheng") as console:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="huinong.access"):
            r = await console.get("/console/")
        assert r.status_code == 200
    line = msgspec.json.decode(caplog.records[-1].getMessage())
    assert line["route"] == "/console" and line["role"] == "finance_officer" and len(line["user"]) == 36
