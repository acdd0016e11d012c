"""Hostile input at the edge (issue 13, "Inputs that answer 500"): bodies nested too deep or too
large, malformed bodies on actions that take none, control characters in texts, lax types,
recorded dates in the future, path parameters out of range and preflights. Every answer is a
problem a client can show (never a 5xx), and a refused request changes nothing."""

from __future__ import annotations

import re
import uuid

import pytest

from service.core.intake import MAX_DEPTH, depth_exceeds, refuse_control_characters
from tests import access
from tests.api.console_client import Console
from tests.api.test_auth_and_clock import assert_problem
from tests.api.test_order_farming_api import one_small_settlement, set_today
from tests.api.test_payments import build, households, payables_for
from tests.api.test_ventures import add_member, make_venture, move

JSON = {"content-type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000
HOUSEHOLD = "621223100201-001"


def _subscription(member: str, **changes) -> dict:
    """A share subscription of one share, 1.00 yuan, on 2025-01-05, with `changes` made to it."""
    body = {
        "kind": "subscribe",
        "share_class": "ordinary",
        "to_member_id": member,
        "shares": 1,
        "capital_fen": 100,
        "effective_date": "2025-01-05",
    }
    return {**body, **changes}


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]*\}", lambda m: "2025" if "year" in m.group() else str(uuid.uuid4()), path)


async def _body_routes(api) -> list[tuple[str, str]]:
    paths = (await api.client.get("/schema/openapi.json")).json()["paths"]
    return sorted((m.upper(), _filled(p)) for p, ops in paths.items() for m in ops if m in ("post", "put", "patch"))


async def test_a_body_nested_too_deep_is_refused_on_every_route_that_reads_one(api):
    """Before: 500 on every route (the decoder's recursion ran out)."""
    household = await api.household_login(HOUSEHOLD)
    routes = await _body_routes(api)
    assert len(routes) > 40
    wrong = []
    for method, url in routes:
        r = await api.as_("admin", method, url, content=DEEP, headers=JSON)
        if r.status_code == 403:  # a household's own route
            r = await api.client.request(method, url, content=DEEP, headers={**JSON, **household})
        if r.status_code != 400 or r.json()["type"] != "/problems/too-deep":
            wrong.append(f"{method} {url}: {r.status_code} {r.text[:120]}")
    assert not wrong, "\n".join(wrong)


def test_the_depth_is_measured_on_the_bytes_strings_skipped():
    assert not depth_exceeds(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert depth_exceeds(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    # Brackets inside strings (escaped quotes included) are text, not nesting.
    text = b'{"a": "' + b"[{" * 500 + b'\\"[[[", "b": [1, {"c": "]]]"}]}'
    assert not depth_exceeds(text)
    assert not depth_exceeds(b"[" + b"[1]," * 10_000 + b"[2]]")
    # Brackets that do not pair up still count: the decoder would recurse into them.
    assert depth_exceeds(b"[" * 100_000 + b"}" * 100_000)
    assert depth_exceeds(b'["' + b"x" * 10 + b'"' + b", [" * 65)


async def test_a_body_over_the_limit_is_413_before_it_is_read(api):
    big = b'{"username": "' + b"a" * 2_000_000 + b'", "password": "x"}'
    body = assert_problem(await api.client.post("/auth/token", content=big, headers=JSON), 413)
    assert body["type"] == "/problems/too-large"


async def test_a_malformed_body_on_a_dataless_action_does_nothing(api):
    """Before: POST /payment-batches/{id}/approve and /settlements/{id}/reverse with `{"a": 1,`
    answered 200 and approved or reversed."""
    await payables_for(api, await households(api, 2), 30_000)
    batch = (await build(api)).json()
    r = await api.as_("caizheng2", "POST", f"/payment-batches/{batch['id']}/approve", content=b'{"a": 1,', headers=JSON)
    assert assert_problem(r, 400)["type"] == "/problems/malformed-body"
    assert (await api.as_("caizheng", "GET", f"/payment-batches/{batch['id']}")).json()["status"] == "draft"
    _, _, item = await one_small_settlement(api)
    sid = item["id"]
    r = await api.as_("kuaiji", "POST", f"/settlements/{sid}/reverse", content=b'{"a": 1,', headers=JSON)
    assert assert_problem(r, 400)["type"] == "/problems/malformed-body"
    assert (await api.as_("kuaiji", "GET", f"/settlements/{sid}")).json()["status"] == "settled"
    # A body that parses, or none at all, lets the action run.
    r = await api.as_("caizheng2", "POST", f"/payment-batches/{batch['id']}/approve", content=b"{}", headers=JSON)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text


@pytest.mark.parametrize(
    "field, text",
    [("username", "kuaiji\u0000"), ("username", "kuai\u001bji"), ("password", "huinong-demo\u0000")],
)
async def test_a_control_character_at_login_is_422_naming_the_field(api, field, text):
    """Before: a NUL in the username answered 500 (PostgreSQL refuses it)."""
    body = {"username": "kuaiji", "password": "huinong-demo", field: text}
    assert_problem(await api.client.post("/auth/token", json=body), 422, fields={field})


async def test_control_characters_in_texts_are_refused_and_change_nothing(api):
    vid = await make_venture(api)
    member = await add_member(api, vid, "household", "社员1", HOUSEHOLD)
    await set_today(api, "2025-12-20")
    cases = [
        (
            "POST",
            "/ventures",
            {
                "name": "合作社\u0000",
                "model": "cooperative",
                "village_code": "621223100201",
                "registered_capital_fen": 100,
                "charter": {"patronage_bp": 7000},
            },
            "name",
        ),
        ("POST", f"/ventures/{vid}/members", {"kind": "person", "name": "张\u0007三"}, "name"),
        (
            "POST",
            f"/ventures/{vid}/transactions",
            {"member_id": member, "traded_on": "2025-06-01", "product": "鸡\u0000蛋", "quantity_g": 1, "amount_fen": 1},
            "product",
        ),
        (
            "POST",
            f"/ventures/{vid}/share-movements",
            _subscription(member, reason="入股\u0000"),
            "reason",
        ),
        # A line break belongs in a reason, never in a name.
        ("POST", f"/ventures/{vid}/members", {"kind": "person", "name": "张\n三"}, "name"),
    ]
    before = await access.content(api)
    for method, url, body, field in cases:
        assert_problem(await api.as_("kuaiji", method, url, json=body), 422, fields={field})
    assert not await access.changes(api, before)
    # Keys are texts too, and nested ones are named by their path.
    with pytest.raises(Exception) as refused:
        refuse_control_characters({"charter": {"items": [{"name": "a\u0000"}]}})
    assert refused.value.errors[0]["field"] == "charter.items.0.name"
    refuse_control_characters({"reason": "第一行\n第二行\t缩进"})  # a reason may run over lines
    r = await move(api, vid, **_subscription(member))
    assert r.status_code == 201, r.text


async def test_a_control_character_in_a_query_is_422(api):
    """Before: 200 or 500 by route (a NUL reached PostgreSQL in a search)."""
    r = await api.as_("cunwei", "GET", "/households", params={"q": "王\u0000"})
    assert_problem(r, 422, fields={"q"})


async def test_console_forms_refuse_control_characters_in_chinese(api):
    vid = await make_venture(api)
    before = await access.content(api)
    async with Console(api, "kuaiji") as console:
        await console.get(f"/console/ventures/{vid}/subsidies")
        r = await console.post(
            f"/console/ventures/{vid}/subsidies",
            {"amount_fen": "10.00", "source": "县财政\u0000", "received_on": "2025-06-01"},
        )
        assert r.status_code == 422 and "控制字符" in r.text, r.text[:500]
        r = await console.client.post("/console/login", data={"username": "kuaiji\u0000", "password": "x", "csrf": "y"})
        assert r.status_code in (403, 422) and r.status_code < 500
    assert not await access.changes(api, before)


async def test_strings_are_not_integers(api):
    """Before: "123" was taken for 123 in amount_fen, budget_fen, capital_fen and seven more."""
    vid = await make_venture(api)
    member = await add_member(api, vid, "household", "社员1", HOUSEHOLD)
    cases = [
        (
            "kuaiji",
            f"/ventures/{vid}/subsidies",
            {"amount_fen": "123", "source": "县财政", "received_on": "2025-06-01"},
        ),
        (
            "kuaiji",
            f"/ventures/{vid}/share-movements",
            _subscription(member, capital_fen="100"),
        ),
        (
            "kuaiji",
            "/ventures",
            {
                "name": "社",
                "model": "cooperative",
                "village_code": "621223100201",
                "registered_capital_fen": "100",
                "charter": {},
            },
        ),
        ("kuaiji", f"/ventures/{vid}/distributions", {"fiscal_year": "2025", "profit_fen": 100}),
        ("kuaiji", f"/ventures/{vid}/distributions", {"fiscal_year": 2025, "profit_fen": 100.0}),
        ("admin", "PUT", {"poverty_line_fen": "400000", "xiaokang_line_fen": 800000}),
    ]
    before = await access.content(api)
    for user, url, body in cases:
        method = "POST"
        if url == "PUT":
            method, url = "PUT", "/poverty-lines/2025"
        r = await api.as_(user, method, url, json=body)
        wanted = {k for k, v in body.items() if isinstance(v, (str, float)) and k.endswith(("_fen", "_year", "shares"))}
        assert_problem(r, 422, fields=wanted)
    assert not await access.changes(api, before)


async def test_a_recorded_date_after_today_is_refused_the_same_everywhere(api):
    """Before: 9999-12-31 was taken for subsidies, trades and share movements, while purchases
    refused future dates. One rule now (service/core/clock.py future_date_error), at the edge."""
    await set_today(api, "2025-12-20")
    vid = await make_venture(api)
    member = await add_member(api, vid, "household", "社员1", HOUSEHOLD)
    household = await api.household_id(HOUSEHOLD)
    cases = [
        (f"/ventures/{vid}/subsidies", {"amount_fen": 100, "source": "县财政", "received_on": "9999-12-31"}),
        (
            f"/ventures/{vid}/transactions",
            {"member_id": member, "traded_on": "2025-12-21", "product": "鸡蛋", "quantity_g": 1, "amount_fen": 1},
        ),
        (
            f"/ventures/{vid}/share-movements",
            _subscription(member, effective_date="2026-01-01"),
        ),
    ]
    before = await access.content(api)
    for url, body in cases:
        field = next(k for k in body if k.endswith(("_on", "_date")))
        problem = assert_problem(await api.as_("kuaiji", "POST", url, json=body), 422, fields={field})
        assert "不能晚于今天" in problem["detail"]
    r = await api.as_(
        "cunwei",
        "POST",
        f"/households/{household}/status-events",
        json={"kind": "exited", "year": 2026, "effective_date": "2026-03-01"},
    )
    assert_problem(r, 422, fields={"effective_date"})
    assert not await access.changes(api, before)
    # Today itself is a recorded date like any other.
    r = await api.as_("kuaiji", "POST", cases[0][0], json={**cases[0][1], "received_on": "2025-12-20"})
    assert r.status_code == 201, r.text


async def test_path_parameters_out_of_range_are_problems_not_500(api):
    """Before: GET /poverty-lines/1000000000000000000 answered 500 (past int4)."""
    for year in ("1000000000000000000", "99999", "1999", "-1"):
        r = await api.as_("admin", "GET", f"/poverty-lines/{year}")
        assert r.status_code in (404, 422), f"{year}: {r.status_code} {r.text}"
    r = await api.as_("admin", "PUT", "/poverty-lines/99999", json={"poverty_line_fen": 1, "xiaokang_line_fen": 2})
    assert_problem(r, 422, fields={"year"})
    paths = (await api.client.get("/schema/openapi.json")).json()["paths"]
    wrong = []
    for path, ops in paths.items():
        if "{" not in path or "get" not in ops:
            continue
        for bad in ("not-a-uuid", "9" * 40, "%00", "00000000-0000-0000-0000-000000000000"):
            url = re.sub(r"\{[^}]*\}", bad, path)
            r = await api.as_("admin", "GET", url)
            if r.status_code >= 500:
                wrong.append(f"GET {url}: {r.status_code} {r.text[:100]}")
    assert not wrong, "\n".join(wrong)


async def test_a_preflight_never_500s(api):
    """Before: OPTIONS /users answered 500 (the guard read a user the middleware had not set)."""
    wrong = []
    for _, path in sorted(access.handled(api)):
        url = _filled(path.replace("{}", "{x}"))
        r = await api.client.options(url, headers={"origin": "http://elsewhere.test"})
        if r.status_code >= 500:
            wrong.append(f"OPTIONS {url}: {r.status_code} {r.text[:100]}")
    assert not wrong, "\n".join(wrong)


async def test_the_schema_declares_what_the_edge_enforces(api):
    """Generated from /schema, valid data is mostly accepted: request bodies are closed (a field
    they do not know is refused), years in paths are ranged, answers of JSON or a file document their JSON."""
    doc = (await api.client.get("/schema/openapi.json")).json()
    components = doc["components"]["schemas"]
    assert components["UserCreate"]["additionalProperties"] is False
    assert components["Charter"]["additionalProperties"] is False
    assert "additionalProperties" not in components["VentureOut"]  # answers may grow
    (year,) = doc["paths"]["/poverty-lines/{year}"]["get"]["parameters"]
    assert (year["schema"]["minimum"], year["schema"]["maximum"]) == (2000, 2100)
    card = doc["paths"]["/households/{household_id}/card"]["get"]
    assert card["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HouseholdCard"
    }


async def test_an_imported_trade_after_today_is_a_row_error(api):
    """The same rule for the trades sheet as for one trade: the row and the column are named."""
    await set_today(api, "2025-12-20")
    vid = await make_venture(api)
    await add_member(api, vid, "household", "社员1", HOUSEHOLD)
    sheet = "member_no,traded_on,product,quantity_g,amount_fen\n1,2025-03-01,鸡蛋,5,6\n1,2025-12-21,鸡蛋,5,6\n"
    r = await api.as_(
        "kuaiji", "POST", f"/ventures/{vid}/transactions/import", files={"file": ("t.csv", sheet.encode(), "text/csv")}
    )
    problem = assert_problem(r, 422, fields={"traded_on"})
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(3, "traded_on")], problem
    assert "不能晚于今天" in problem["errors"][0]["message"]
