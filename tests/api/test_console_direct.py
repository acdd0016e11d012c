"""The console home answered straight from its route (service/console/direct.py) is the handler's
page to the byte, for every role and every refused session; and what it does not answer plainly
still reaches the handler.

Each request is asked twice: once as served, once with the direct answer switched off (the
middleware passing every request on to the handler)."""

from __future__ import annotations

import time

import httpx
import pytest

from service.console import direct
from service.console.pages import home
from service.core.credentials import issue_token
from service.core.errors import NotFound
from tests.api.console_client import Console
from tests.api.test_principal_cache import _commit_and_wait, _user_id
from tests.conftest import SECRET_KEY

STAFF = ("kuaiji", "cunwei", "xiangzhen", "caizheng", "caizheng2", "shenji", "admin")
(HOME_DIRECT,) = home.middleware


def _comparable(response: httpx.Response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return response.status_code, headers, response.content


async def _passing_on(self, scope, receive, send) -> None:
    await self.app(scope, receive, send)


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The roles whose home the direct answer built (the handler's own desks are not counted)."""
    seen: list[str] = []
    real = direct.provide_desk

    async def providing(request, conn, settings, clock):
        desk = await real(request, conn, settings, clock)
        seen.append(desk.role)
        return desk

    monkeypatch.setattr(direct, "provide_desk", providing)
    return seen


async def _both(client: httpx.AsyncClient, monkeypatch, method: str, url: str, headers: dict) -> tuple[tuple, tuple]:
    served = await client.request(method, url, headers=headers)
    with monkeypatch.context() as off:
        off.setattr(HOME_DIRECT, "__call__", _passing_on)
        handled = await client.request(method, url, headers=headers)
    return _comparable(served), _comparable(handled)


async def _session(api, username: str) -> str:
    async with Console(api, username) as c:
        return c.client.cookies["huinong_staff"]


async def test_every_roles_home_is_the_handlers_page_to_the_byte(api, monkeypatch, counted):
    for username in STAFF:
        cookie = {"Cookie": f"huinong_staff={await _session(api, username)}"}
        served, handled = await _both(api.client, monkeypatch, "GET", "/console/", cookie)
        assert served == handled, (username, served[:2], handled[:2])
        assert served[0] == 200 and "工作台" in served[2].decode()
    # Each role's home twice: on signing in (console_client) and asked here.
    assert len(counted) == 2 * len(STAFF), "every home was answered directly"
    assert set(counted) >= {"accountant", "village_reviewer", "finance_officer", "auditor", "admin"}


async def test_refused_sessions_and_other_requests_go_on_to_the_handler(api, monkeypatch, counted):
    session = await _session(api, "caizheng")
    expired = issue_token(SECRET_KEY, sub="caizheng", kind="user", ttl_seconds=-60)
    household = issue_token(SECRET_KEY, sub="h", kind="household", ttl_seconds=600)
    counted.clear()  # signing in opened the home once
    cases = [
        ("GET", "/console/", {}),
        ("GET", "/console/", {"Cookie": "huinong_staff=garbage"}),
        ("GET", "/console/", {"Cookie": f"huinong_staff={expired}"}),
        ("GET", "/console/", {"Cookie": f"huinong_staff={household}"}),
        ("GET", "/console/?done=posted", {"Cookie": f"huinong_staff={session}"}),
        ("HEAD", "/console/", {"Cookie": f"huinong_staff={session}"}),
    ]
    bare = httpx.AsyncClient(transport=api.client._transport, base_url=api.client.base_url)
    async with bare:
        for method, url, headers in cases:
            served, handled = await _both(bare, monkeypatch, method, url, headers)
            assert served == handled, (method, url, headers, served[:2], handled[:2])
        refused = await bare.get("/console/", headers={"Cookie": f"huinong_staff={expired}"})
        assert refused.status_code == 303 and "reason=expired" in refused.headers["location"]
        done = await bare.get("/console/?done=posted", headers={"Cookie": f"huinong_staff={session}"})
        assert "方案已入账，应付款已生成。" in done.text
    assert counted == [], "no refused session and no query was answered directly"


async def test_a_disabled_staff_member_is_sent_to_the_login_by_the_direct_path_too(api, monkeypatch):
    session = await _session(api, "caizheng2")
    user_id = await _user_id(api, "caizheng2")
    await _commit_and_wait(api, "UPDATE users SET disabled = true WHERE id = $1::uuid", user_id)
    try:
        bare = httpx.AsyncClient(transport=api.client._transport, base_url=api.client.base_url)
        async with bare:
            cookie = {"Cookie": f"huinong_staff={session}"}
            served, handled = await _both(bare, monkeypatch, "GET", "/console/", cookie)
        assert served == handled and served[0] == 303 and "reason=disabled" in served[1]["location"]
    finally:
        await _commit_and_wait(api, "UPDATE users SET disabled = false WHERE id = $1::uuid", user_id)


async def test_a_direct_home_is_logged_and_counted_like_any_other_page(api, caplog):
    session = await _session(api, "shenji")
    before = time.time()
    with caplog.at_level("INFO", logger="huinong.access"):
        r = await api.client.get("/console/", headers={"Cookie": f"huinong_staff={session}"})
    assert r.status_code == 200 and r.headers["x-request-id"]
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "huinong.access" and rec.created >= before]
    (line,) = [x for x in lines if r.headers["x-request-id"] in x]
    assert '"status":200' in line and '"role":"auditor"' in line and '"route":"/console"' in line
    metrics = await api.as_("admin", "GET", "/metrics")
    assert 'route="/console"' in metrics.text


async def test_a_page_that_refuses_on_the_direct_path_is_answered_identified_and_counted_as_refused(
    api, monkeypatch, caplog
):
    """What the page raises is answered by the console's own handlers inside the access line: the
    error page in Chinese, with the request id a clerk quotes, logged as the 404 it is."""
    session = await _session(api, "caizheng")

    async def refusing(desk, conn):
        raise NotFound("这个经营主体不存在或不在您的辖区。")

    monkeypatch.setattr(HOME_DIRECT, "page", staticmethod(refusing))
    before = time.time()
    with caplog.at_level("INFO", logger="huinong.access"):
        r = await api.client.get("/console/", headers={"Cookie": f"huinong_staff={session}"})
    assert r.status_code == 404 and "这个经营主体不存在或不在您的辖区。" in r.text
    assert r.headers["content-type"].startswith("text/html") and r.headers["x-request-id"]
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "huinong.access" and rec.created >= before]
    (line,) = [x for x in lines if r.headers["x-request-id"] in x]
    assert '"status":404' in line and '"role":"finance_officer"' in line
