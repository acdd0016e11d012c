"""Test fixtures: a real PostgreSQL, a template database built once, cloned per test.

DATABASE_URL points at a server (CI uses the machine's); without it an embedded one starts under
.data/pg-test. The app and the test share one event loop: the app's lifespan runs here and httpx
talks to it in-process.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from db.migrate import migrate
from db.pool import connect
from service.app import create_app
from service.core.crypto import DataCipher
from service.core.settings import DATA_DIR, Settings
from tests.database import server_url, with_database

SECRET_KEY = b"s" * 32
DATA_KEY = b"d" * 32
ADMIN_PASSWORD = "admin-test-password"
DEMO_PASSWORD = "huinong-demo"
RUN_ID = uuid.uuid4().hex[:8]

# Anything that looks like a full national ID number or bank card number. A run of digits inside a
# hexadecimal digest (an import's file_sha256 in the audit log) is not one: 16 digits in a row turn
# up in a few percent of random SHA-256 digests, which made the console crawl fail by chance.
FULL_ID = re.compile(r"(?<![0-9a-fA-F])[1-9][0-9]{16}[0-9Xx](?![0-9a-fA-F])")
FULL_CARD = re.compile(r"(?<![0-9a-fA-F*])[0-9]{16,19}(?![0-9a-fA-F])")
# What else must never be logged: a mobile number, a bearer token (base64 of '{"' then a signature),
# the passwords and PIN the tests sign in with.
FULL_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{20,}")
CJK = re.compile(r"[\u3400-\u9fff]")


SERVER_URL = server_url("pg-test")


class LogScan(logging.Handler):
    """Reads every record the service logs during the whole run and keeps the ones that carry what
    no log may: a full ID, card or phone number, a token, a password or PIN; an access line (one per
    request) may moreover hold no Chinese at all, so no name. Records are checked as they come, and
    only offending ones are kept."""

    SECRETS = ("123456", ADMIN_PASSWORD, DEMO_PASSWORD)

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records = 0
        self.access_lines = 0
        self.offending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.records += 1
        leaks = [p.pattern for p in (FULL_ID, FULL_CARD, FULL_PHONE, TOKEN) if p.search(text)]
        leaks += [f"secret {s!r}" for s in self.SECRETS if s in text]
        if record.name == "huinong.access":
            self.access_lines += 1
            if CJK.search(text):
                leaks.append("Chinese text (a name?) in an access line")
        if leaks:
            self.offending.append(f"{record.name}: {leaks}: {text[:300]}")


@pytest.fixture(scope="session", autouse=True)
def scanned_logs() -> Iterator[LogScan]:
    """The logs of the whole run, scanned (a failure here fails the run at its end)."""
    scan = LogScan()
    logger = logging.getLogger("huinong")
    logger.addHandler(scan)
    yield scan
    logger.removeHandler(scan)
    assert not scan.offending, f"{len(scan.offending)} log records carry personal data or secrets:\n" + "\n".join(
        scan.offending[:20]
    )


async def _admin_conn() -> asyncpg.Connection:
    return await asyncpg.connect(with_database(SERVER_URL, "postgres"))


async def _build_template(name: str, seed: bool) -> None:
    admin = await _admin_conn()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await connect(with_database(SERVER_URL, name))
    try:
        await migrate(conn)
        if seed:
            from service.demo import seed_demo
            from service.users.workflow import ensure_admin

            await seed_demo(conn, DataCipher(DATA_KEY))
            await ensure_admin(conn, ADMIN_PASSWORD)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def templates() -> AsyncIterator[dict[str, str]]:
    names = {"empty": f"huinong_tpl_empty_{RUN_ID}", "demo": f"huinong_tpl_demo_{RUN_ID}"}
    await _build_template(names["empty"], seed=False)
    await _build_template(names["demo"], seed=True)
    yield names
    admin = await _admin_conn()
    try:
        for name in names.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def clone(template: str) -> str:
    name = f"huinong_t_{RUN_ID}_{uuid.uuid4().hex[:10]}"
    admin = await _admin_conn()
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    return name


async def drop(name: str) -> None:
    admin = await _admin_conn()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def demo_db(templates) -> AsyncIterator[str]:
    name = await clone(templates["demo"])
    yield with_database(SERVER_URL, name)
    await drop(name)


@pytest.fixture
async def empty_db(templates) -> AsyncIterator[str]:
    name = await clone(templates["empty"])
    yield with_database(SERVER_URL, name)
    await drop(name)


def test_settings(database_url: str, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        secret_key=SECRET_KEY,
        data_key=DATA_KEY,
        test_clock=True,
        pool_min_size=1,
        pool_max_size=20,
    )
    values.update(overrides)
    return Settings(**values)


class Api:
    """An in-process client of the app plus the handful of things every test needs."""

    def __init__(self, app, client: httpx.AsyncClient, database_url: str) -> None:
        self.app = app
        self.client = client
        self.database_url = database_url
        self._tokens: dict[str, str] = {}

    async def login(self, username: str, password: str | None = None) -> dict[str, str]:
        if username not in self._tokens:
            pw = password or (ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD)
            r = await self.client.post("/auth/token", json={"username": username, "password": pw})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    async def household_login(self, household_no: str, pin: str = "123456") -> dict[str, str]:
        r = await self.client.post("/auth/household-token", json={"household_no": household_no, "pin": pin})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def as_(self, username: str, method: str, url: str, **kw) -> httpx.Response:
        headers = {**kw.pop("headers", {}), **(await self.login(username))}
        return await self.client.request(method, url, headers=headers, **kw)

    async def connect(self) -> asyncpg.Connection:
        return await connect(self.database_url)

    async def household_id(self, household_no: str) -> str:
        conn = await self.connect()
        try:
            return str(await conn.fetchval("SELECT id FROM households WHERE household_no = $1", household_no))
        finally:
            await conn.close()


async def _api(database_url: str, **overrides) -> AsyncIterator[Api]:
    app = create_app(test_settings(database_url, **overrides))
    # pytest-asyncio may finalize a fixture in another task than the one that set it up, and the
    # lifespan's cancel scope must be left in the task that entered it: give it a task of its own.
    ready, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        async with app.lifespan():
            ready.set()
            await stop.wait()

    lifespan = asyncio.create_task(run_lifespan())
    await asyncio.wait({lifespan, asyncio.ensure_future(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if lifespan.done():
        lifespan.result()
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://huinong.test", timeout=600) as client:
            yield Api(app, client, database_url)
    finally:
        stop.set()
        await lifespan


@pytest.fixture
async def api(demo_db) -> AsyncIterator[Api]:
    async for a in _api(demo_db):
        yield a


@pytest.fixture
async def bare_api(empty_db) -> AsyncIterator[Api]:
    async for a in _api(empty_db, admin_password=ADMIN_PASSWORD):
        yield a


def assert_no_full_numbers(text: str) -> None:
    """No full national ID or card number may leave the service except in a bank file."""
    assert not FULL_ID.search(text), f"full ID number leaked: {FULL_ID.search(text).group(0)}"
    assert not FULL_CARD.search(text), f"full card number leaked: {FULL_CARD.search(text).group(0)}"


def b64key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


Path(DATA_DIR).mkdir(exist_ok=True)
