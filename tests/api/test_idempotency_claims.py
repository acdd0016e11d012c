"""Idempotency keys after a crash and under a burst (issue 13, "After a crash"), and uploads under
a key (issue 12, item 6).

The claim on a key is a row of the request's own transaction: a request whose connection dies
mid-flight leaves nothing claimed, so its retry runs at once; identical requests at once wait for
the first and replay its answer instead of answering 409.
"""

from __future__ import annotations

import asyncio

import pytest

from service.ventures import workflow as ventures_workflow
from tests.api.test_ventures import add_member, make_venture

SUBSIDY = {"amount_fen": 1_000_000, "source": "中央财政专项扶贫资金", "received_on": "2025-05-01"}


async def scalar(api, sql: str, *args):
    conn = await api.connect()
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def coop_with_members(api, count: int = 3) -> str:
    vid = await make_venture(api)
    for i in range(1, count + 1):
        await add_member(api, vid, "household", f"农户{i}", f"621223100201-00{i}")
    return vid


class Stuck:
    """Makes the first subsidy request stop inside its transaction, its key claimed, until released."""

    def __init__(self, monkeypatch) -> None:
        self.entered, self.release = asyncio.Event(), asyncio.Event()
        self.pid: int | None = None
        real = ventures_workflow.receive_subsidy

        async def stuck(tx, *args, **kw):
            if self.pid is None:
                self.pid = await tx.fetchval("SELECT pg_backend_pid()")
                self.entered.set()
                await self.release.wait()
            return await real(tx, *args, **kw)

        monkeypatch.setattr(ventures_workflow, "receive_subsidy", stuck)

    async def kill(self, api) -> None:
        """The request's connection dies, as when the service is killed or the database restarts."""
        assert await scalar(api, "SELECT pg_terminate_backend($1)", self.pid)


async def post_subsidy(api, vid: str, key: str):
    headers = {**(await api.login("kuaiji")), "Idempotency-Key": key}
    return await api.client.post(f"/ventures/{vid}/subsidies", json=SUBSIDY, headers=headers)


async def test_a_request_whose_connection_dies_holding_the_claim_is_retried_at_once(api, monkeypatch):
    vid = await coop_with_members(api)
    stuck = Stuck(monkeypatch)
    first = asyncio.create_task(post_subsidy(api, vid, "subsidy-crash-0001"))
    try:
        await asyncio.wait_for(stuck.entered.wait(), 60)
        await stuck.kill(api)
    finally:
        stuck.release.set()
    assert (await first).status_code == 500
    assert await scalar(api, "SELECT count(*) FROM subsidies") == 0

    # The retry with the same key runs now (before: 409 idempotency-in-flight for the 300 s lease).
    r = await post_subsidy(api, vid, "subsidy-crash-0001")
    assert r.status_code == 201, r.text
    again = await post_subsidy(api, vid, "subsidy-crash-0001")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == r.json()
    assert await scalar(api, "SELECT count(*) FROM subsidies") == 1


async def test_a_request_waiting_on_a_dying_claim_runs_instead(api, monkeypatch):
    vid = await coop_with_members(api)
    stuck = Stuck(monkeypatch)
    first = asyncio.create_task(post_subsidy(api, vid, "subsidy-crash-0002"))
    try:
        await asyncio.wait_for(stuck.entered.wait(), 60)
        second = asyncio.create_task(post_subsidy(api, vid, "subsidy-crash-0002"))
        for _ in range(200):  # until the second request waits on the first one's claim
            waiting = await scalar(
                api,
                """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                   AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO idempotency_keys%'""",
            )
            if waiting or second.done():
                break
            await asyncio.sleep(0.05)
        # Before, the second answered 409 at once: the first's claim was committed, in flight.
        assert waiting == 1 and not second.done(), second.result().text if second.done() else "not waiting"
        await stuck.kill(api)
    finally:
        stuck.release.set()
    assert (await first).status_code == 500
    r = await second
    assert r.status_code == 201, r.text
    assert r.headers.get("Idempotent-Replayed") is None  # it ran: the first left nothing to replay
    assert await scalar(api, "SELECT count(*) FROM subsidies") == 1


@pytest.mark.slow
async def test_600_identical_requests_at_once_never_answer_409(api):
    vid = await coop_with_members(api)
    headers = {**(await api.login("kuaiji")), "Idempotency-Key": "subsidy-burst-0600"}
    responses = await asyncio.gather(
        *(api.client.post(f"/ventures/{vid}/subsidies", json=SUBSIDY, headers=headers) for _ in range(600))
    )
    statuses = sorted({r.status_code for r in responses})
    assert statuses == [201], statuses  # before: 37 of 600 answered 409
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 599
    assert await scalar(api, "SELECT count(*) FROM subsidies") == 1
    assert await scalar(api, "SELECT sum(amount_fen) FROM member_account_movements WHERE kind = 'subsidy'") == 1_000_000


def trades_sheet(amount: int) -> bytes:
    return f"member_no,traded_on,product,quantity_g,amount_fen\n1,2025-03-01,鸡蛋,50000,{amount}\n".encode()


async def import_trades(api, vid, content: bytes, key: str | None = None, **fields):
    headers = {"Idempotency-Key": key} if key else {}
    return await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{vid}/transactions/import",
        files={"file": ("trades.csv", content, "text/csv")},
        data=fields or None,
        headers=headers,
    )


async def test_an_upload_under_a_key_is_known_by_its_file_not_its_boundary(api):
    vid = await coop_with_members(api, 1)
    r1 = await import_trades(api, vid, trades_sheet(60_000), key="trades-upload-0001")
    assert r1.status_code == 201, r1.text
    # httpx picks a new boundary for every request: the same sheet is still the same request.
    r2 = await import_trades(api, vid, trades_sheet(60_000), key="trades-upload-0001")
    assert r2.status_code == 201 and r2.headers.get("Idempotent-Replayed") == "true"
    # Another sheet under the same key is refused (before: the first answer was replayed, since the
    # file's contents never entered the digest), and so is the same sheet with another field.
    r3 = await import_trades(api, vid, trades_sheet(70_000), key="trades-upload-0001")
    assert r3.status_code == 422 and r3.json()["type"].endswith("idempotency-key-reused"), r3.text
    r4 = await import_trades(api, vid, trades_sheet(60_000), key="trades-upload-0001", new_batch="true")
    assert r4.status_code == 422, r4.text
    assert await scalar(api, "SELECT count(*) FROM trades") == 1


async def test_a_refused_upload_keeps_its_answer_under_its_key(api):
    vid = await coop_with_members(api, 1)
    bad = b"member_no,traded_on,product,quantity_g,amount_fen\n2,2025-03-01,\xe9\xb8\xa1\xe8\x9b\x8b,50000,60000\n"
    r1 = await import_trades(api, vid, bad, key="trades-refused-0001")
    assert r1.status_code == 422 and {e["field"] for e in r1.json()["errors"]} == {"member_no"}
    await add_member(api, vid, "household", "农户2", "621223100201-002")  # member 2 now exists
    r2 = await import_trades(api, vid, bad, key="trades-refused-0001")
    assert r2.status_code == 422 and r2.headers.get("Idempotent-Replayed") == "true"
    assert r2.json() == r1.json()
    assert await scalar(api, "SELECT count(*) FROM trades") == 0
