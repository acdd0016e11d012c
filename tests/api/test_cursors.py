"""A cursor made by hand is refused in words, never a 500.

A cursor is opaque but not sealed: base64 of the key of the last row seen. Before, most lists
checked only how many parts it had, and a part of the wrong type (a number where the key is a
household number, text with a NUL, a number past bigint) reached asyncpg or PostgreSQL as a
DataError: a 500 for anyone, the public notice page included. Every list whose operation takes
`?cursor=` is walked here with such cursors, as the admin, who may read every one.
"""

from __future__ import annotations

import base64
import json
import re

from tests.api.test_awards import AFTER_NOTICE, ready_to_grant, set_today
from tests.api.test_distribution_workflow import cooperative_of_design_md
from tests.api.test_payments import build
from tests.api.test_schema_fuzz import known_ids

COUNTY = "621223000000"


def cursor_of(key: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


# Keys of every shape a list is keyed by, each wrong for some list: wrong types, NUL, a bigint
# overflow, a bool for a number, a date and a UUID that are not one.
HAND_MADE = [
    cursor_of(key)
    for key in (
        [1],
        ["621223100201-001"],
        ["\u0000"],
        [2**70],
        [True],
        [None],
        [1, 2],
        ["a", "b"],
        ["2025-13-45", "3f1c0000-0000-0000-0000-000000000000"],
        ["2025-06-01", "not-a-uuid"],
        ["2025-06-01T00:00:00+08:00", "3f1c0000-0000-0000-0000-000000000000"],
        ["621223000000", 2**64],
        [3_000_000_000],  # beyond an integer column (a line number, a year)
        [3_000_000_000, "x"],
        ["0001-01-01T00:00:00+08:00", "3f1c0000-0000-0000-0000-000000000000"],  # overflows a timestamptz
        [{"a": 1}, []],
    )
] + ["not base64 at all!", "W10"]


async def _ids(api) -> dict[str, str]:
    found = {name: values[0] for name, values in (await known_ids(api)).items() if values}
    conn = await api.connect()
    try:
        for name, table in (
            ("notice_id", "notices"),
            ("batch_id", "payment_batches"),
            ("program_id", "award_programs"),
            ("distribution_id", "distributions"),
            ("contract_id", "farming_contracts"),
        ):
            value = await conn.fetchval(f"SELECT id::text FROM {table} ORDER BY id LIMIT 1")
            if value:
                found[name] = value
    finally:
        await conn.close()
    return found


async def _objects(api) -> None:
    """A programme granted (its notice, payables and a payment batch) and a cooperative's year
    drafted (members, movements, trades, a plan's lines): something behind every paged list."""
    pid, _, _ = await ready_to_grant(api, [1, 2])
    await set_today(api, AFTER_NOTICE)
    assert (await api.as_("caizheng", "POST", f"/award-programs/{pid}/grants")).status_code == 200
    assert (await build(api)).status_code == 201
    vid, _ = await cooperative_of_design_md(api)
    body = {"fiscal_year": 2025, "profit_fen": 40_000_000}
    assert (await api.as_("kuaiji", "POST", f"/ventures/{vid}/distributions", json=body)).status_code == 201


async def test_every_paged_list_refuses_a_hand_made_cursor_in_words(api):
    await _objects(api)
    schema = (await api.client.get("/schema/openapi.json")).json()
    ids = await _ids(api)
    headers = await api.login("admin")
    walked, refused = [], 0
    for path, item in schema["paths"].items():
        operation = item.get("get")
        if not operation or not any(p["name"] == "cursor" for p in operation.get("parameters", [])):
            continue
        names = re.findall(r"{([a-z_]+)}", path)
        if any(n not in ids for n in names):
            continue
        url = path.format(**{n: ids[n] for n in names})
        walked.append(url)
        county = {"county_code": COUNTY} if any(p["name"] == "county_code" for p in operation["parameters"]) else {}
        for cursor in HAND_MADE:
            r = await api.client.get(url, params={"cursor": cursor, **county}, headers=headers)
            assert r.status_code < 500, (url, cursor, r.status_code, r.text[:300])
            if r.status_code == 422:
                refused += 1
                assert r.headers["content-type"].startswith("application/problem+json"), (url, cursor)
                assert "cursor" in r.text, (url, cursor, r.text[:300])
    assert len(walked) >= 15, walked  # the lists of registry, ventures, ledger, payments, awards, notices, audit
    assert refused >= len(walked) * 3  # every list refuses at least the unreadable ones


async def test_the_public_notice_page_refuses_a_hand_made_cursor_with_a_page(api):
    _, _, notice = await ready_to_grant(api, [1, 2])
    for key in ([1], ["\u0000"], [2**70]):
        r = await api.client.get(f"/p/notices/{notice['id']}", params={"cursor": cursor_of(key)})
        assert r.status_code == 422, (key, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("text/html") and "分页游标无效" in r.text
