"""The append-only, hash-chained audit log (issue 2: Audit)."""

from __future__ import annotations

import asyncpg
import pytest

from service.core.audit import GLOBAL_COUNTY, Actor, ChainBreak, record, verify_chain
from tests.api.test_access_matrix import FAR_COUNTY, build_world
from tests.api.test_auth_and_clock import assert_problem
from tests.api.test_household_import import COUNTY, count_rows, household_json, household_row, upload

HOME_NO = "621223100201-001"


async def _event(api, household_no: str, kind: str = "registered", year: int = 2024):
    hid = await api.household_id(household_no)
    r = await api.as_(
        "cunwei",
        "POST",
        f"/households/{hid}/status-events",
        json={"kind": kind, "year": year, "effective_date": f"{year}-03-01"},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _breaks(api, county_code: str | None = None) -> list[ChainBreak]:
    conn = await api.connect()
    try:
        return await verify_chain(conn, county_code)
    finally:
        await conn.close()


async def test_each_change_is_audited_in_its_own_transaction(api):
    created = await api.as_("cunwei", "POST", "/households", json=household_json(70_001))
    assert created.status_code == 201, created.text
    imported = await api.as_(
        "cunwei", "POST", "/households/import", **upload("csv-utf8", [household_row(n) for n in range(70_002, 70_005)])
    )
    assert imported.status_code == 201, imported.text
    event = await _event(api, HOME_NO, "exited")
    conn = await api.connect()
    try:
        audit = {
            r["action"]: r
            for r in await conn.fetch("SELECT *, xmin::text AS tx FROM audit_log WHERE county_code = $1", COUNTY)
        }
        household_tx = await conn.fetchval(
            "SELECT xmin::text FROM households WHERE id = $1::uuid", created.json()["id"]
        )
        import_txs = await conn.fetch(
            "SELECT DISTINCT xmin::text AS tx FROM households WHERE household_no = ANY($1)",
            [household_row(n)["household_no"] for n in range(70_002, 70_005)],
        )
        event_tx = await conn.fetchval(
            "SELECT xmin::text FROM household_status_events WHERE id = $1::uuid", event["id"]
        )
    finally:
        await conn.close()
    row = audit["household.create"]
    assert row["object_id"] == created.json()["id"]
    assert row["actor"] == "village_reviewer:cunwei" and row["address"] == "127.0.0.1"
    assert row["after_digest"] and row["before_digest"] is None
    # The same transaction id on both rows: the change and its audit row commit or vanish together.
    assert row["tx"] == household_tx
    assert [r["tx"] for r in import_txs] == [audit["household.import"]["tx"]]
    assert audit["household.import"]["detail"] == {"count": 3}
    assert audit["household.exited"]["tx"] == event_tx
    assert audit["household.exited"]["before_digest"] != audit["household.exited"]["after_digest"]


async def test_refused_changes_write_no_audit_row(api):
    audit = "SELECT count(*) FROM audit_log"
    before = await count_rows(api, audit)
    bad_rows = [household_row(70_010), household_row(70_011, village_code="621223100299")]
    assert_problem(await api.as_("cunwei", "POST", "/households/import", **upload("csv-utf8", bad_rows)), 422)
    assert_problem(await api.as_("cunwei", "POST", "/households", json=household_json(70_012, members=0)), 422)
    hid = await api.household_id(HOME_NO)
    r = await api.as_(
        "cunwei",
        "POST",
        f"/households/{hid}/status-events",
        json={"kind": "exited", "year": 2024, "effective_date": "2025-01-01"},
    )
    assert_problem(r, 422)
    assert await count_rows(api, audit) == before


async def test_chain_verifies_and_reports_edited_and_removed_rows(api):
    await build_world(api)  # rows in the demo county, the global chain and a second county
    for year in (2022, 2023):
        await _event(api, HOME_NO, year=year)
    r = await api.as_(
        "admin", "PUT", "/poverty-lines/2024", json={"poverty_line_fen": 410_000, "xiaokang_line_fen": 1_000_000}
    )
    assert r.status_code == 200, r.text
    assert await _breaks(api) == []

    conn = await api.connect()
    try:
        counts = dict(await conn.fetch("SELECT county_code, max(seq) FROM audit_log GROUP BY county_code"))
        assert counts[COUNTY] >= 3 and counts[GLOBAL_COUNTY] >= 3 and counts[FAR_COUNTY] >= 3, counts
        # Only a superuser who switches the triggers off can do this; the chain still tells.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE audit_log SET actor = 'admin:someone-else' WHERE county_code = $1 AND seq = 1", FAR_COUNTY
        )
        await conn.execute("DELETE FROM audit_log WHERE county_code = $1 AND seq = $2", FAR_COUNTY, counts[FAR_COUNTY])
        await conn.execute("DELETE FROM audit_log WHERE county_code = $1 AND seq = 2", GLOBAL_COUNTY)
        # A careful forger also recomputes the edited row's own hash; the next row still points
        # at the old one.
        await conn.execute(
            """UPDATE audit_log SET actor = 'village_reviewer:someone-else',
                   hash = encode(sha256(convert_to(audit_canonical(county_code, seq, at,
                       'village_reviewer:someone-else', action, object_type, object_id, before_digest,
                       after_digest, detail, address, prev_hash), 'UTF8')), 'hex')
               WHERE county_code = $1 AND seq = 2""",
            COUNTY,
        )
        await conn.execute("RESET session_replication_role")
    finally:
        await conn.close()
    assert sorted(await _breaks(api), key=lambda b: (b.county_code, b.seq)) == [
        ChainBreak(GLOBAL_COUNTY, 3, "link"),
        ChainBreak(FAR_COUNTY, 1, "content"),
        ChainBreak(FAR_COUNTY, counts[FAR_COUNTY], "tail"),
        ChainBreak(COUNTY, 3, "link"),
    ]
    # One county's chain checked alone (an auditor's page) finds its own breaks and no other's.
    assert await _breaks(api, COUNTY) == [ChainBreak(COUNTY, 3, "link")]
    assert sorted(await _breaks(api, FAR_COUNTY), key=lambda b: b.seq) == [
        ChainBreak(FAR_COUNTY, 1, "content"),
        ChainBreak(FAR_COUNTY, counts[FAR_COUNTY], "tail"),
    ]
    assert await _breaks(api, "629900000000") == []


REWRITES = [
    "UPDATE audit_log SET actor = 'x' WHERE county_code = '621223000000'",
    "DELETE FROM audit_log WHERE county_code = '621223000000'",
    "TRUNCATE audit_log",
    "UPDATE household_status_events SET kind = 'exited'",
    "DELETE FROM household_status_events",
]


async def test_database_refuses_to_rewrite_history(api):
    await _event(api, HOME_NO)
    before = await count_rows(api, "SELECT count(*) FROM audit_log")
    conn = await api.connect()
    try:
        for statement in REWRITES:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()
    assert await count_rows(api, "SELECT count(*) FROM audit_log") == before
    assert await _breaks(api) == []


async def test_auditor_reads_its_own_county_page_by_page(api):
    await build_world(api)
    for year in (2021, 2022, 2023):
        await _event(api, HOME_NO, year=year)
    expected = await count_rows(api, f"SELECT count(*) FROM audit_log WHERE county_code = '{COUNTY}'")
    assert expected >= 4

    seqs, cursor, pages = [], None, 0
    while True:
        r = await api.as_("shenji", "GET", "/audit-log?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200, r.text
        page = r.json()
        pages += 1
        assert len(page["items"]) <= 2
        assert {e["county_code"] for e in page["items"]} <= {COUNTY}
        seqs += [e["seq"] for e in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seqs == list(range(1, expected + 1)) and pages >= 2

    last = (await api.as_("shenji", "GET", "/audit-log?limit=500")).json()["items"][-1]
    assert last["action"] == "household.registered" and last["actor"] == "village_reviewer:cunwei"
    assert last["object_type"] == "household" and len(last["hash"]) == 64
    since = (await api.as_("shenji", "GET", "/audit-log", params={"since": last["at"]})).json()["items"]
    assert since and all(e["at"] >= last["at"] for e in since) and len(since) < expected

    assert_problem(await api.as_("shenji", "GET", f"/audit-log?county_code={FAR_COUNTY}"), 403)
    everything = (await api.as_("admin", "GET", "/audit-log?limit=500")).json()["items"]
    assert {COUNTY, FAR_COUNTY, GLOBAL_COUNTY} <= {e["county_code"] for e in everything}
    assert_problem(await api.as_("shenji", "GET", "/audit-log?cursor=bm9wZQ"), 422)


async def _heads(conn) -> dict[str, int]:
    return dict(await conn.fetch("SELECT county_code, seq FROM audit_heads"))


async def _tails(conn) -> dict[str, int]:
    return dict(await conn.fetch("SELECT county_code, max(seq) FROM audit_log GROUP BY 1"))


async def test_the_committing_code_seals_each_county_head_just_before_commit(api):
    """No deferred trigger: the transaction's audit rows leave the heads where they were until the
    service's transaction commits, which seals each county it wrote once, whatever the number of
    rows; a savepoint rolled back leaves nothing to seal wrongly. A connection that cannot defer
    (a plain asyncpg one, autocommit) seals at each row."""
    writer, watcher = await api.connect(), await api.connect()
    try:
        before = await _heads(watcher)
        async with writer.transaction():
            for n in range(300):
                await record(
                    writer, Actor.system("test"), county_code=COUNTY, action="t.one", object_type="t", object_id=str(n)
                )
            await record(
                writer, Actor.system("test"), county_code=FAR_COUNTY, action="t.far", object_type="t", object_id="x"
            )
            with pytest.raises(RuntimeError):
                async with writer.transaction():
                    await record(
                        writer,
                        Actor.system("test"),
                        county_code=GLOBAL_COUNTY,
                        action="t.undone",
                        object_type="t",
                        object_id="y",
                    )
                    raise RuntimeError
            assert set(writer.seals) == {f"audit:{COUNTY}", f"audit:{FAR_COUNTY}", f"audit:{GLOBAL_COUNTY}"}
            assert await _heads(watcher) == before
        assert await _heads(watcher) == {**before, **await _tails(watcher)}
        assert (await _heads(watcher))[COUNTY] == before[COUNTY] + 300
        assert (await _heads(watcher))[GLOBAL_COUNTY] == before[GLOBAL_COUNTY]

        plain = await asyncpg.connect(api.database_url)
        try:
            async with plain.transaction():
                await record(
                    plain, Actor.system("test"), county_code=COUNTY, action="t.plain", object_type="t", object_id="z"
                )
            await record(
                plain, Actor.system("test"), county_code=COUNTY, action="t.autocommit", object_type="t", object_id="z"
            )
        finally:
            await plain.close()
        assert (await _heads(watcher))[COUNTY] == before[COUNTY] + 302
    finally:
        await writer.close()
        await watcher.close()
    assert await _breaks(api) == []


async def test_a_head_left_behind_its_chain_is_reported(api):
    await _event(api, HOME_NO, year=2022)
    conn = await api.connect()
    try:
        last = (await _tails(conn))[COUNTY]
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("UPDATE audit_heads SET seq = seq - 1 WHERE county_code = $1", COUNTY)
        await conn.execute("RESET session_replication_role")
    finally:
        await conn.close()
    # The head now names a row whose hash it does not hold, and the chain runs past it.
    assert await _breaks(api) == [ChainBreak(COUNTY, last - 1, "tail"), ChainBreak(COUNTY, last, "unsealed")]
