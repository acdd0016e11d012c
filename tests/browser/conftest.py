"""The service as a real HTTP server and a headless Chromium driving it.

Each test gets its own clone of the demo database and its own uvicorn on a free port of 127.0.0.1,
serving in a thread with its own event loop; the test talks to it with Playwright (async API) and,
for seeding, with the usual Api helper pointed at the server over HTTP. Chromium is Debian's
(`make test` installs it when missing); without it the browser tests are skipped, and fail under
CI=true (tests/requirements.py).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from service.app import create_app
from tests.conftest import Api, test_settings
from tests.requirements import require_browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


class LiveServer:
    """uvicorn serving the app in a thread; `url` is its base address."""

    def __init__(self, database_url: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.app = create_app(test_settings(database_url, public_base_url=self.url))
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    async def __aenter__(self) -> LiveServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.should_exit = True
        await asyncio.to_thread(self.thread.join, 30)
        self.sock.close()


@pytest.fixture
async def live(demo_db) -> AsyncIterator[Api]:
    """The Api helper against a real server: `live.client.base_url` is the server's address."""
    async with LiveServer(demo_db) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            yield Api(server.app, client, demo_db)


@pytest.fixture(scope="session")
async def chromium():
    executable = require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def phone(chromium, live):
    """A fresh browser context the size of a cheap phone, reading Chinese, with downloads allowed."""
    context = await chromium.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        accept_downloads=True,
        base_url=str(live.client.base_url),
    )
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


CONSOLE_DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
async def desk(chromium, live):
    """A console page at the township office's 1366×768 with JavaScript off (test_console.py
    overrides it with its desktop and tablet sizes)."""
    context = await chromium.new_context(
        viewport=CONSOLE_DESKTOP,
        locale="zh-CN",
        java_script_enabled=False,
        accept_downloads=True,
        base_url=str(live.client.base_url),
    )
    page = await context.new_page()
    page.size = "desktop"
    try:
        yield page
    finally:
        await context.close()
