"""ID and card numbers never leave the service in full, and rest encrypted (issue 2: Registry).

The scans reuse the access matrix: every GET a player may call, with that player's own objects.
"""

from __future__ import annotations

import logging
import re

from service.core.crypto import CARD_CONTEXT, ID_CONTEXT, DataCipher
from service.registry import workflow as registry_workflow
from tests.api.test_access_matrix import HOME, PLAYERS, ROUTES, build_world
from tests.api.test_household_import import card_number, count_rows, household_json, household_row, id_number, upload
from tests.conftest import DATA_KEY, FULL_CARD, FULL_ID, assert_no_full_numbers

# Audit hashes and digests are hex; a run of sixteen decimal digits turns up in about one in a
# hundred of them, and it is no one's card number.
_HEX_DIGEST = re.compile(r'"[0-9a-f]{64}"')
ID_MASK = re.compile(r"^[1-9][0-9]{5}\*{8}[0-9]{3}[0-9X]$")
CARD_MASK = re.compile(r"^[0-9]{4} \*{4} \*{4} [0-9]{4}$")


def scan(text: str) -> None:
    assert_no_full_numbers(_HEX_DIGEST.sub('""', text))


async def _all_pages(api, login: str, url: str) -> list:
    answers, cursor = [], None
    while True:
        r = await api.as_(login, "GET", url + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200, r.text
        answers.append(r)
        if not (cursor := r.json()["next_cursor"]):
            return answers


async def test_no_answer_or_log_line_carries_a_full_number(api, caplog):
    caplog.set_level(logging.DEBUG)
    world = await build_world(api)
    answers = []

    created = household_json(60_001, head_name="张小三")
    answers.append(await api.as_("cunwei", "POST", "/households", json=created))
    answers.append(
        await api.as_(
            "cunwei",
            "POST",
            "/households/import",
            **upload("csv-gb18030", [household_row(n) for n in range(60_002, 60_005)]),
        )
    )
    # Columns swapped by mistake: the ID lands where the card goes and the card where the ID goes.
    swapped = household_row(60_005, head_id_number=card_number(60_005), bank_account=id_number(60_005))
    broken = household_row(60_006, head_id_number=id_number(60_006)[:17] + "Y")
    answers.append(await api.as_("cunwei", "POST", "/households/import", **upload("xlsx", [swapped, broken])))
    answers.append(await api.as_("cunwei", "POST", "/households", json={**created, "household_no": "X-60001"}))
    assert [r.status_code for r in answers] == [201, 201, 422, 422], [r.text for r in answers]

    for route in ROUTES:
        if route.method != "GET":
            continue
        for player in PLAYERS:
            if player.role in route.roles and not (route.scoped and player.home is None):
                answers.append(await world.send(route, player, world.targets[player.home or HOME]))
    answers += await _all_pages(api, "caizheng", "/households?limit=500")
    answers += await _all_pages(api, "admin", "/households?limit=500&status=poor")
    answers += await _all_pages(api, "admin", "/audit-log?limit=500")

    masked = 0
    for r in answers:
        scan(r.text)
        masked += r.text.count("********")
    assert masked > 300, "the scan saw too few masked numbers to mean anything"
    for record in caplog.records:
        scan(record.getMessage())
    scan(caplog.text)
    # The scanner itself would have seen a leak of the numbers this test sent.
    assert FULL_ID.search(f'"{created["head_id_number"]}"') and FULL_CARD.search(f'"{created["bank_account"]}"')


async def test_a_failure_deep_inside_logs_no_full_number(api, caplog, monkeypatch):
    # A driver error quotes the rows it was handed, as PostgreSQL's COPY errors do: those rows
    # must already be encrypted and masked by then.
    async def failing_copy(conn, columns, records):
        raise RuntimeError(f"COPY households failed on {records!r}")

    monkeypatch.setattr(registry_workflow.q, "copy_households", failing_copy)
    caplog.set_level(logging.DEBUG)
    rows = [household_row(n) for n in range(60_030, 60_033)]
    count = await count_rows(api)
    r = await api.as_("cunwei", "POST", "/households/import", **upload("csv-utf8", rows))
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
    scan(r.text)
    assert "COPY households failed" in caplog.text, "the failure was not logged at all"
    scan(caplog.text)
    for record in caplog.records:
        scan(record.getMessage())
    assert await count_rows(api) == count


async def test_numbers_and_names_are_masked_as_on_public_notices(api):
    body = household_json(
        60_010,
        head_name="张小三",
        head_id_number="620102199001010070",
        bank_account="6228480402564890018",
        phone="13912345678",
    )
    r = await api.as_("xiangzhen", "POST", "/households", json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["head_id_number"] == "620102********0070"
    assert got["bank_account"] == "6228 **** **** 0018"
    assert got["head_name"] == "张*三"
    assert got["phone"] == "139****5678"
    assert (await api.as_("caizheng", "GET", f"/households/{got['id']}")).json() == got
    for h in (await api.as_("admin", "GET", "/households?limit=500")).json()["items"]:
        assert ID_MASK.match(h["head_id_number"]) and CARD_MASK.match(h["bank_account"]), h
        assert "*" in h["head_name"]


async def test_numbers_rest_encrypted(api):
    body = household_json(60_020)
    r = await api.as_("cunwei", "POST", "/households", json=body)
    assert r.status_code == 201, r.text
    conn = await api.connect()
    try:
        row = await conn.fetchrow(
            "SELECT head_id_enc, bank_account_enc FROM households WHERE id = $1::uuid", r.json()["id"]
        )
        demo = await conn.fetchval("SELECT head_id_enc FROM households WHERE household_no = '621223100201-001'")
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        dump = "\n".join(
            [await conn.fetchval(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{t[0]}\" t") for t in tables]
        )
    finally:
        await conn.close()
    cipher = DataCipher(DATA_KEY)
    # Encrypted, not thrown away: the data key gets the numbers back.
    assert cipher.decrypt(row["head_id_enc"], context=ID_CONTEXT) == body["head_id_number"]
    assert cipher.decrypt(row["bank_account_enc"], context=CARD_CONTEXT) == body["bank_account"]
    demo_id = cipher.decrypt(demo, context=ID_CONTEXT)
    assert len(dump) > 10_000
    for number in (body["head_id_number"], body["bank_account"], demo_id):
        # Neither as text nor as the hex in which bytea columns print.
        assert number not in dump and number.encode().hex() not in dump, "a number is stored in the clear"
