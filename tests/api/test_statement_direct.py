"""The statement JSON answered straight from its route (service/statements/direct.py) is the
handler's answer to the byte, for every reader, query and refusal; and what it does not answer
plainly still reaches the handler.

Each request is asked twice: once as served, once with the direct answer switched off (its roles
emptied, so every request goes on to the handler)."""

from __future__ import annotations

import time

import pytest

from service.core.credentials import issue_token
from service.statements import direct
from service.statements.routes import DIRECT_STATEMENT
from tests.api.test_statements import A, B, seed_household_year
from tests.conftest import SECRET_KEY

QUERIES = [
    "",
    "year=2025",
    "year=2024",
    "year=2100",
    "year=1999",
    "year=2101",
    "year=abc",
    "year=02025",
    "year=2025&year=2024",
    "year=2025&extra=1",
    "year=%00",
]


def _comparable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return response.status_code, headers, response.content


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The household ids the direct answer read (the handler's own reads are not counted)."""
    seen: list[str] = []
    real = direct.read_statement

    async def reading(conn, principal, household_id, **kw):
        seen.append(household_id)
        return await real(conn, principal, household_id, **kw)

    monkeypatch.setattr(direct, "read_statement", reading)
    return seen


async def _both(api, monkeypatch, method: str, url: str, headers: dict[str, str]) -> tuple[tuple, tuple]:
    served = await api.client.request(method, url, headers=headers)
    with monkeypatch.context() as off:
        off.setattr(DIRECT_STATEMENT, "roles", frozenset())
        handled = await api.client.request(method, url, headers=headers)
    return _comparable(served), _comparable(handled)


async def test_every_reader_query_and_refusal_answers_as_the_handler_does(api, monkeypatch, counted):
    seeded = await seed_household_year(api)
    own = f"/households/{seeded['household_id']}/statement"
    household, other = await api.household_login(A), await api.household_login(B)
    expired = issue_token(SECRET_KEY, sub=seeded["household_id"], kind="household", ttl_seconds=-60)
    readers = {
        "the household": household,
        "another household": other,
        "no sign-in": {},
        "an expired token": {"Authorization": f"Bearer {expired}"},
    }
    for username in ("cunwei", "xiangzhen", "caizheng", "caizheng2", "shenji", "admin", "kuaiji"):
        readers[username] = await api.login(username)
    plain_200 = 0
    for who, headers in readers.items():
        for query in QUERIES:
            url = f"{own}?{query}" if query else own
            served, handled = await _both(api, monkeypatch, "GET", url, headers)
            assert served == handled, (who, query, served[:2], handled[:2])
            plain_200 += served[0] == 200 and query in ("", "year=2025")
    # The household, its reviewers, the county's finance and audit, and the admin: 7 readers.
    assert plain_200 == 2 * 7
    assert counted, "the plain requests were answered directly"


async def test_what_is_not_plain_goes_on_to_the_handler(api, monkeypatch, counted):
    seeded = await seed_household_year(api)
    own = f"/households/{seeded['household_id']}/statement"
    household = await api.household_login(A)
    cases = [
        ("GET", own, {**household, "Accept": "application/pdf"}),
        ("GET", own, {**household, "Accept": "application/json, application/pdf;q=0"}),
        ("HEAD", own, household),
        ("GET", own + "?year=1999", household),
        ("GET", "/households/not-a-uuid/statement", await api.login("cunwei")),
        ("GET", "/households/" + "a" * 65 + "/statement", await api.login("cunwei")),
        ("GET", own, await api.login("kuaiji")),
    ]
    for method, url, headers in cases:
        served, handled = await _both(api, monkeypatch, method, url, headers)
        assert served[0] == handled[0], (method, url, served[:2], handled[:2])
        if method == "GET" and "pdf" not in headers.get("Accept", ""):
            assert served == handled, (url, served[:2], handled[:2])
    pdf = await api.client.get(own, headers={**household, "Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Only the id that is an id and the reader the guard admits were read directly (and refused: 404).
    assert counted == ["not-a-uuid"]


async def test_a_direct_answer_is_logged_and_counted_like_any_other(api, caplog):
    seeded = await seed_household_year(api)
    url = f"/households/{seeded['household_id']}/statement"
    household = await api.household_login(A)
    before = time.time()
    with caplog.at_level("INFO", logger="huinong.access"):
        r = await api.client.get(url, headers=household)
    assert r.status_code == 200 and r.headers["x-request-id"]
    (line,) = [rec.getMessage() for rec in caplog.records if rec.name == "huinong.access" and rec.created >= before]
    assert r.headers["x-request-id"] in line and "/households/{household_id}/statement" in line
    assert '"status":200' in line and seeded["household_id"] in line
    metrics = await api.as_("admin", "GET", "/metrics")
    assert 'route="/households/{household_id}/statement"' in metrics.text


async def test_a_refusal_answered_directly_carries_its_request_id_and_is_counted_as_refused(api, caplog, counted):
    """A 404 raised by the direct answer is answered inside the access line, as the handler's is:
    the page quotes its request id, the access line and the metrics say 404, not 500."""
    url = "/households/not-a-uuid/statement"
    before = time.time()
    with caplog.at_level("INFO", logger="huinong.access"):
        r = await api.client.get(url, headers=await api.login("cunwei"))
    assert counted == ["not-a-uuid"], "the refusal came from the direct answer"
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "huinong.access" and rec.created >= before]
    (line,) = [x for x in lines if r.headers["x-request-id"] in x]
    assert '"status":404' in line
    metrics = await api.as_("admin", "GET", "/metrics")
    assert not [m for m in metrics.text.splitlines() if "/statement" in m and 'status="500"' in m]
