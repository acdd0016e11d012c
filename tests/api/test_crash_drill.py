"""The crash drill (issue 13): a real server process is killed (SIGKILL) at random moments while it
posts a distribution, grants awards, builds a payment batch and imports a bank's return file.
After each restart the clerk repeats the very call with the same Idempotency-Key, as one whose
screen froze would; the call that finally completes answers what an uninterrupted one answers
(replayed if the killed one had committed, run again if it had not), a further repeat replays it
byte for byte, and verify-ledger, the award budgets and "paid at most once" hold throughout.

`make test` runs a few kills (one per operation); `make drill KILLS=100` runs the long drill,
which repeats the scenario on fresh databases until that many kills are done, and prints them.
"""

import asyncio
import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import msgspec

from db.pool import init_connection
from service.ledger.workflow import verify_ledger
from tests.api.test_awards import AFTER_NOTICE, ready_to_grant, set_today
from tests.api.test_cli import run_cli
from tests.api.test_distribution_workflow import cooperative_of_design_md
from tests.api.test_payment_crash import Service, bank_answer, login, others_in_transaction
from tests.conftest import SERVER_URL, _api, assert_no_full_numbers, clone, drop, with_database
from tests.payables_factory import make_payables

COUNTY = "621223000000"
KILLS = int(os.environ.get("HUINONG_DRILL_KILLS", "4"))
PAYABLES = int(os.environ.get("HUINONG_DRILL_PAYABLES", "3000"))
KILLS_PER_CALL = 5  # at most this many kills of one call before it is let finish (long drill)


@dataclass
class Call:
    """One clerk's call, repeated with its key until it completes, and what its answer must be."""

    name: str
    user: str
    path: str
    status: int
    check: Callable[[dict], None]
    json: dict | None = None
    upload: bytes | None = None
    key: str = field(default_factory=lambda: "drill-" + os.urandom(8).hex())

    async def send(self, client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
        headers = {**headers, "Idempotency-Key": self.key}
        if self.upload is not None:
            files = {"file": ("huipan.txt", self.upload, "text/plain")}
            return await client.post(self.path, headers=headers, files=files)
        return await client.post(self.path, headers=headers, json=self.json)


async def prepare(api) -> list[Call]:
    """On the demo county: a cooperative's plan out of its notice, ten exit awards out of theirs,
    PAYABLES settlement payables to batch, and an approved batch with the bank's answer to import."""
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    plan = await api.as_(
        "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 40_000_000}
    )
    did = plan.json()["id"]
    assert (await api.as_("kuaiji", "POST", f"/distributions/{did}/submit")).status_code == 200
    assert (await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve")).status_code == 200
    pid, _, _ = await ready_to_grant(api, list(range(1, 11)))
    await set_today(api, AFTER_NOTICE)  # the server process runs on the real today, later still

    conn = await api.connect()
    try:
        households = [r[0] for r in await conn.fetch("SELECT id FROM households WHERE county_code = $1", COUNTY)]
        payees = [households[n % len(households)] for n in range(PAYABLES)]
        await make_payables(conn, COUNTY, payees, 30_000, "award")
        await make_payables(conn, COUNTY, payees, 20_000, "settlement")
        to_build, to_build_fen = await conn.fetchrow(
            """SELECT count(*), sum(amount_fen) FROM payables
               WHERE county_code = $1 AND source = 'settlement' AND status = 'unpaid'""",
            COUNTY,
        )
    finally:
        await conn.close()
    r = await api.as_("caizheng", "POST", "/payment-batches", json={"county_code": COUNTY, "source": "award"})
    assert r.status_code == 201, r.text
    batch = r.json()
    assert (await api.as_("caizheng2", "POST", f"/payment-batches/{batch['id']}/approve")).status_code == 200
    bank_file = await api.as_(
        "caizheng", "GET", f"/payment-batches/{batch['id']}/bank-file", params={"profile": "pipe"}
    )
    lines = batch["count"]

    def posted(body: dict) -> None:
        assert body["status"] == "posted" and body["payables_created"] == 6, body

    def granted(body: dict) -> None:
        assert body["granted"] == 10 and body["granted_fen"] == 300_000 and body["over_budget"] == 0, body

    def built(body: dict) -> None:
        assert body["count"] == to_build and body["total_fen"] == to_build_fen, body

    def imported(body: dict) -> None:
        assert (body["paid"], body["failed"], body["unmatched"]) == (lines - lines // 10, lines // 10, 0), body

    return [
        Call("distribution post", "kuaiji", f"/distributions/{did}/post", 200, posted),
        Call("grants", "caizheng", f"/award-programs/{pid}/grants", 200, granted),
        Call(
            "batch build",
            "caizheng",
            "/payment-batches",
            201,
            built,
            json={"county_code": COUNTY, "source": "settlement"},
        ),
        Call(
            "return import",
            "caizheng",
            f"/payment-batches/{batch['id']}/returns",
            201,
            imported,
            upload=bank_answer(bank_file.content),
        ),
    ]


class Drill:
    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.kills: Counter[str] = Counter()
        self.service: Service | None = None

    async def running(self) -> Service:
        """The server, started again if the last kill left none."""
        if self.service is None:
            self.service = Service(self.database_url, self.log)
            await self.service.ready()
        return self.service

    def stop(self) -> None:
        if self.service is not None:
            self.service.kill()
            self.service = None

    async def kill_during(self, call: Call, watcher: asyncpg.Connection) -> str:
        """Send the call and SIGKILL the server at a random moment: within a short or a long random
        delay, or once the call's transaction has begun to write plus a random delay. Says what the
        kill hit."""
        service = await self.running()
        async with httpx.AsyncClient(base_url=service.url, timeout=120) as client:
            headers = await login(client, call.user)
            request = asyncio.create_task(call.send(client, headers))
            moment = random.choice(("short", "long", "writing"))
            if moment == "writing":
                for _ in range(20_000):
                    if request.done() or await others_in_transaction(watcher):
                        break
                    await asyncio.sleep(0.001)
            await asyncio.sleep(random.uniform(0, {"short": 0.15, "long": 1.5, "writing": 0.3}[moment]))
            answered = request.done()
            self.stop()
            try:
                await request
            except httpx.TransportError:
                pass
        for _ in range(600):  # the database rolls back what the dead process left open
            if not await others_in_transaction(watcher):
                break
            await asyncio.sleep(0.1)
        state = await watcher.fetchval("SELECT state FROM idempotency_keys WHERE key = $1", call.key)
        outcome = (
            "after its answer" if answered else ("after its commit" if state == "done" else "mid-flight, rolled back")
        )
        self.kills[f"{call.name}: {outcome}"] += 1
        return outcome

    async def complete(self, call: Call) -> None:
        service = await self.running()
        async with httpx.AsyncClient(base_url=service.url, timeout=300) as client:
            headers = await login(client, call.user)
            first = await call.send(client, headers)
            assert first.status_code == call.status, f"{call.name}: {first.status_code} {first.text}"
            call.check(first.json())
            again = await call.send(client, headers)
            assert again.status_code == call.status and again.content == first.content, call.name
            assert again.headers.get("idempotent-replayed") == "true"


async def invariants(conn: asyncpg.Connection) -> None:
    """verify-ledger, the award budgets and "paid at most once"."""
    result = await verify_ledger(conn)
    assert result.ok, [c for c in result.checks if not c.ok]
    over = await conn.fetchval(
        """SELECT count(*) FROM award_programs p
           WHERE committed_fen > budget_fen OR province_committed_fen > province_budget_fen
              OR city_committed_fen > city_budget_fen OR county_committed_fen > county_budget_fen
              OR committed_fen <> (SELECT coalesce(sum(amount_fen), 0) FROM awards a
                                   WHERE a.county_code = p.county_code AND a.program_id = p.id)"""
    )
    assert over == 0, "an award programme passed its budget or its awards differ from what it committed"
    paid = await conn.fetchrow("SELECT count(*) AS n, count(DISTINCT payable_id) AS once FROM payable_payments")
    assert paid["n"] == paid["once"], "a payable was paid twice"
    mismatched = await conn.fetchval(
        """SELECT count(*) FROM payables p
           WHERE (p.status = 'paid') <> EXISTS (SELECT 1 FROM payable_payments pp WHERE pp.payable_id = p.id)"""
    )
    assert mismatched == 0, "a payable's status disagrees with its payments"
    twice = await conn.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM awards GROUP BY county_code, application_id HAVING count(*) > 1) d"
    )
    assert twice == 0


async def one_round(demo_db: str, kills_wanted: int, log: Path) -> Counter[str]:
    async for api in _api(demo_db):
        calls = await prepare(api)
    drill = Drill(demo_db, log)
    watcher = await asyncpg.connect(demo_db)
    await init_connection(watcher)
    try:
        per_call = max(1, min(KILLS_PER_CALL, -(-kills_wanted // len(calls))))
        for call in calls:
            for _ in range(per_call):
                await drill.kill_during(call, watcher)
                await invariants(watcher)
            await drill.complete(call)
            await invariants(watcher)
    finally:
        drill.stop()
        await watcher.close()
    return drill.kills


async def test_crash_drill_kill_restart_repeat(templates):
    seed = int(os.environ.get("HUINONG_DRILL_SEED", random.randrange(1 << 30)))
    random.seed(seed)
    log = Path(tempfile.mkdtemp()) / "service.log"
    kills: Counter[str] = Counter()
    while sum(kills.values()) < KILLS:
        name = await clone(templates["demo"])
        url = with_database(SERVER_URL, name)
        try:
            kills += await one_round(url, KILLS - sum(kills.values()), log)
            verified = run_cli(type("Db", (), {"database_url": url}), "verify-ledger")
            assert verified.returncode == 0, verified.stdout
        finally:
            await drop(name)
    print(f"\ncrash drill (HUINONG_DRILL_SEED={seed}): {sum(kills.values())} kills (SIGKILL) of a real server:")
    for what, n in sorted(kills.items()):
        print(f"  {n:4d}  {what}")
    # The server's own log (its JSON access lines and any error) carries no full ID or card number.
    text = log.read_text(encoding="utf-8", errors="replace")
    assert_no_full_numbers(text)
    for line in text.splitlines():
        if line.startswith('{"request_id"'):
            msgspec.json.decode(line)
