"""A console user over HTTP, without a browser: signs in through the login form, keeps the
session cookie, and posts forms with the CSRF token of the page they are on."""

from __future__ import annotations

import re

import httpx

from tests.conftest import ADMIN_PASSWORD, DEMO_PASSWORD

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Console:
    def __init__(self, api, username: str) -> None:
        self.api = api
        self.username = username
        self.client = httpx.AsyncClient(
            transport=api.client._transport, base_url=api.client.base_url, timeout=600, follow_redirects=False
        )
        self.csrf = ""

    async def __aenter__(self) -> Console:
        page = await self.client.get("/console/login")
        token = CSRF.search(page.text).group(1)
        password = ADMIN_PASSWORD if self.username == "admin" else DEMO_PASSWORD
        r = await self.client.post(
            "/console/login", data={"username": self.username, "password": password, "csrf": token}
        )
        assert r.status_code == 303, r.text
        await self.get("/console/")
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    async def get(self, path: str, **params) -> httpx.Response:
        r = await self.client.get(path, params=params or None)
        found = CSRF.search(r.text) if r.headers.get("content-type", "").startswith("text/html") else None
        if found:
            self.csrf = found.group(1)
        return r

    async def post(self, path: str, data: dict | None = None, files=None, csrf: bool = True) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["csrf"] = self.csrf
        r = await self.client.post(path, data=body, files=files)
        found = CSRF.search(r.text) if r.headers.get("content-type", "").startswith("text/html") else None
        if found:
            self.csrf = found.group(1)
        return r

    async def follow(self, r: httpx.Response) -> httpx.Response:
        assert r.status_code == 303, (r.status_code, r.text[:2000])
        return await self.get(r.headers["location"])
