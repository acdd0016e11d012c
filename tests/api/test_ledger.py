"""The ledger's invariants, held by the database itself and under concurrency."""

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import asyncpg
import pytest

from db import ledger
from service.ledger.rules import AccountSpec, AlreadyReversed, Line
from service.ledger.workflow import verify_ledger
from tests.api.test_ventures import add_member, make_venture

COUNTY = "621223000000"
SHARD_CHECKS_SQL = Path(__file__).resolve().parents[2] / "db" / "shard_checks.sql"


@pytest.fixture(params=["one server", "shard"])
async def books(request, api):
    """The demo's books with the journal checked as one server does (set-wise per statement) or as
    a Citus shard does (db/shard_checks.sql: per line): every refusal below holds on both."""
    if request.param == "shard":
        conn = await api.connect()
        try:
            await conn.execute(SHARD_CHECKS_SQL.read_text(encoding="utf-8"))
        finally:
            await conn.close()
    return api


async def _two_accounts(conn):
    specs = [
        AccountSpec("county", COUNTY, "treasury", "县财政专户"),
        AccountSpec("county", COUNTY, "award_payable", "应付奖励款"),
    ]
    return list((await ledger.accounts(conn, COUNTY, specs)).values())


async def post_manual(conn: asyncpg.Connection, key: str, lines: list[Line]) -> uuid.UUID:
    """A manual entry of the demo county, its key as its source."""
    return await ledger.post_entry(
        conn,
        county_code=COUNTY,
        source_type="manual",
        source_id=key,
        idempotency_key=key,
        memo="测试",
        posted_on=dt.date(2025, 1, 1),
        lines=lines,
    )


HEADER = (
    "INSERT INTO journal_entries (county_code, id, source_type, source_id, idempotency_key, memo, posted_on) "
    "VALUES ($1, $2, 'manual', 'x', $3, 'bad', CURRENT_DATE)"
)


async def test_unbalanced_entry_refused_when_its_header_seals_it(books):
    """Lines first, then the header: the header is refused unless its lines are two or more and
    sum to zero, and nothing of the entry is kept."""
    conn = await books.connect()
    try:
        a, b = await _two_accounts(conn)
        counts = "SELECT (SELECT count(*) FROM journal_entries), (SELECT count(*) FROM journal_lines)"
        before = await conn.fetchrow(counts)
        unbalanced, single = uuid.uuid4(), uuid.uuid4()
        with pytest.raises(asyncpg.CheckViolationError, match="does not balance: 2 lines summing to 1 fen"):
            async with conn.transaction():
                await conn.execute("INSERT INTO journal_lines VALUES ($1, $2, 1, $3, 100, NULL)", COUNTY, unbalanced, a)
                await conn.execute("INSERT INTO journal_lines VALUES ($1, $2, 2, $3, -99, NULL)", COUNTY, unbalanced, b)
                await conn.execute(HEADER, COUNTY, unbalanced, "k1")
        with pytest.raises(asyncpg.CheckViolationError, match="1 lines summing to 100 fen"):
            async with conn.transaction():
                await conn.execute("INSERT INTO journal_lines VALUES ($1, $2, 1, $3, 100, NULL)", COUNTY, single, a)
                await conn.execute(HEADER.replace("'bad'", "'single'"), COUNTY, single, "k2")
        with pytest.raises(asyncpg.CheckViolationError, match="0 lines"):
            await conn.execute(HEADER, COUNTY, uuid.uuid4(), "k3")
        assert await conn.fetchrow(counts) == before
        assert (await verify_ledger(conn, COUNTY)).ok
    finally:
        await conn.close()


async def test_a_line_names_an_account_of_its_own_county(books):
    conn = await books.connect()
    try:
        a, b = await _two_accounts(conn)
        (elsewhere,) = (
            await ledger.accounts(
                conn, "621222000000", [AccountSpec("county", "621222000000", "treasury", "县财政专户")]
            )
        ).values()
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            async with conn.transaction():
                await post_manual(conn, "other-county", [Line(a, 500), Line(elsewhere, -500)])
    finally:
        await conn.close()


async def test_verify_ledger_reports_lines_without_a_header_and_balances_unlike_lines(books):
    """What the seal cannot refuse, a posting that committed lines and never their header (nor
    their balances), is what verify-ledger names."""
    conn = await books.connect()
    try:
        a, b = await _two_accounts(conn)
        assert (await verify_ledger(conn, COUNTY)).ok
        orphan = uuid.uuid4()
        await conn.execute(
            "INSERT INTO journal_lines VALUES ($1, $2, 1, $3, 250, NULL), ($1, $2, 2, $4, -250, NULL)",
            COUNTY,
            orphan,
            a,
            b,
        )
        failed = {c.name: c.detail for c in (await verify_ledger(conn, COUNTY)).checks if not c.ok}
    finally:
        await conn.close()
    assert set(failed) == {"lines_have_a_header", "balances_equal_lines"}, failed
    assert failed["lines_have_a_header"] == f"entry {orphan} has 2 lines and no header"
    assert str(a) in failed["balances_equal_lines"]


async def test_entries_and_lines_cannot_be_edited_or_deleted(books):
    conn = await books.connect()
    try:
        a, b = await _two_accounts(conn)
        async with conn.transaction():
            entry = await ledger.post_entry(
                conn,
                county_code=COUNTY,
                source_type="manual",
                source_id="t",
                idempotency_key="edit-test",
                memo="测试",
                posted_on=dt.date(2025, 1, 1),
                lines=[Line(a, 500), Line(b, -500)],
            )
        for sql in (
            "UPDATE journal_lines SET amount_fen = 1 WHERE entry_id = $1",
            "DELETE FROM journal_lines WHERE entry_id = $1",
            "UPDATE journal_entries SET memo = 'x' WHERE id = $1",
            "DELETE FROM journal_entries WHERE id = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql, entry)
        # A line added to the entry later, even one keeping it balanced, is refused.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO journal_lines VALUES ($1, $2, 3, $3, 7, NULL), ($1, $2, 4, $4, -7, NULL)",
                    COUNTY,
                    entry,
                    a,
                    b,
                )
        assert await conn.fetchval("SELECT sum(amount_fen) FROM journal_lines WHERE entry_id = $1", entry) == 0
    finally:
        await conn.close()


async def test_500_entries_reversed_twice_concurrently(api):
    conn = await api.connect()
    try:
        a, b = await _two_accounts(conn)
        entries = []
        async with conn.transaction():
            for i in range(500):
                entries.append(
                    await ledger.post_entry(
                        conn,
                        county_code=COUNTY,
                        source_type="manual",
                        source_id=str(i),
                        idempotency_key=f"rev-{i}",
                        memo="测试",
                        posted_on=dt.date(2025, 1, 1),
                        lines=[Line(a, 100 + i), Line(b, -(100 + i))],
                    )
                )
    finally:
        await conn.close()

    pool = await asyncpg.create_pool(api.database_url, min_size=10, max_size=20)

    async def reverse(entry_id):
        async with pool.acquire() as c, c.transaction():
            try:
                await ledger.reverse_entry(c, COUNTY, entry_id, memo="冲销", posted_on=dt.date(2025, 1, 2))
                return "reversed"
            except AlreadyReversed:
                return "refused"

    try:
        outcomes = await asyncio.gather(*(reverse(e) for e in entries + entries))
    finally:
        await pool.close()
    assert outcomes.count("reversed") == 500 and outcomes.count("refused") == 500
    conn = await api.connect()
    try:
        assert await conn.fetchval("SELECT sum(amount_fen) FROM journal_lines") == 0
        assert await conn.fetchval("SELECT count(*) FROM journal_entries WHERE reverses IS NOT NULL") == 500
        assert await conn.fetchval("SELECT count(*) FROM account_balances WHERE balance_fen <> 0") == 0
    finally:
        await conn.close()
    r = await api.as_("shenji", "GET", "/ledger/verify")
    assert r.json()["ok"], r.json()


async def test_100_concurrent_requests_with_one_key_have_one_effect(api):
    vid = await make_venture(api)
    for i in range(1, 4):
        await add_member(api, vid, "household", f"农户{i}", f"621223100201-00{i}")
    headers = {**(await api.login("kuaiji")), "Idempotency-Key": "subsidy-2025-0001"}
    body = {"amount_fen": 1_000_000, "source": "中央财政专项扶贫资金", "received_on": "2025-05-01"}
    responses = await asyncio.gather(
        *(api.client.post(f"/ventures/{vid}/subsidies", json=body, headers=headers) for _ in range(100))
    )
    statuses = [r.status_code for r in responses]
    assert all(s in (201, 409) for s in statuses), statuses
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    conn = await api.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM subsidies") == 1
        assert (
            await conn.fetchval("SELECT sum(amount_fen) FROM member_account_movements WHERE kind = 'subsidy'")
            == 1_000_000
        )
    finally:
        await conn.close()
    # The same key later replays the first answer; another body under it is refused.
    again = await api.client.post(f"/ventures/{vid}/subsidies", json=body, headers=headers)
    assert again.status_code == 201 and again.json()["id"] in created
    assert again.headers.get("idempotent-replayed") == "true"
    changed = await api.client.post(f"/ventures/{vid}/subsidies", json={**body, "amount_fen": 1}, headers=headers)
    assert changed.status_code == 422 and changed.json()["type"].endswith("idempotency-key-reused")


async def test_a_refused_request_keeps_failing_under_its_key(api):
    vid = await make_venture(api)
    headers = {**(await api.login("kuaiji")), "Idempotency-Key": "subsidy-without-members"}
    body = {"amount_fen": 100, "source": "补助", "received_on": "2025-05-01"}
    first = await api.client.post(f"/ventures/{vid}/subsidies", json=body, headers=headers)
    assert first.status_code == 422
    await add_member(api, vid, "household", "农户1", "621223100201-001")
    second = await api.client.post(f"/ventures/{vid}/subsidies", json=body, headers=headers)
    assert second.status_code == 422 and second.json() == first.json()
