"""The service killed (SIGKILL) in the middle of a return import: after a restart the import is
repeated and every payable is paid exactly once, and the ledger verifies.

The service runs as a real process (`python -m service serve`) on a clone of the demo database.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg
import httpx

from db.pool import init_connection
from tests.conftest import DATA_KEY, DEMO_PASSWORD, SECRET_KEY, b64key
from tests.payables_factory import make_payables

COUNTY = "621223000000"
PAYABLES = 20_000
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    def __init__(self, database_url: str, log: Path) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "HUINONG_SECRET_KEY": b64key(SECRET_KEY),
            "HUINONG_DATA_KEY": b64key(DATA_KEY),
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
        }
        env.pop("HUINONG_ADMIN_PASSWORD", None)
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            for _ in range(300):  # at most about 60 seconds
                assert self.proc.poll() is None, "the service exited at start"
                try:
                    if (await client.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("the service did not start")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def bank_answer(bank_file: bytes) -> bytes:
    """Every tenth line fails, the rest are paid."""
    out = []
    for line in bank_file.decode("gb18030").splitlines():
        if line and not line.startswith(("HEAD|", "TAIL|")):
            seq = int(line.split("|")[0])
            out.append(line + ("失败|卡号已注销|" if seq % 10 == 0 else "成功||"))
    return ("\r\n".join(out) + "\r\n").encode("gb18030")


async def others_in_transaction(conn: asyncpg.Connection) -> list[int]:
    rows = await conn.fetch("""SELECT pid FROM pg_stat_activity WHERE datname = current_database()
                               AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL""")
    return [r["pid"] for r in rows]


async def test_kill_during_return_import_then_repeat_pays_each_once(demo_db):
    conn = await asyncpg.connect(demo_db)
    await init_connection(conn)
    log = Path(tempfile.mkdtemp()) / "service.log"
    service = None
    try:
        households = [r["id"] for r in await conn.fetch("SELECT id FROM households WHERE county_code = $1", COUNTY)]
        await make_payables(conn, COUNTY, [households[n % len(households)] for n in range(PAYABLES)], 30_000)

        service = Service(demo_db, log)
        await service.ready()
        async with httpx.AsyncClient(base_url=service.url, timeout=120) as client:
            maker, approver = await login(client, "caizheng"), await login(client, "caizheng2")
            r = await client.post("/payment-batches", json={"county_code": COUNTY, "source": "award"}, headers=maker)
            assert r.status_code == 201 and r.json()["count"] == PAYABLES, r.text
            bid = r.json()["id"]
            r = await client.post(f"/payment-batches/{bid}/approve", headers=approver)
            assert r.status_code == 200, r.text
            r = await client.get(f"/payment-batches/{bid}/bank-file", params={"profile": "pipe"}, headers=maker)
            assert r.status_code == 200
            answer = bank_answer(r.content)

            async def send_import():
                return await client.post(
                    f"/payment-batches/{bid}/returns",
                    headers={**maker, "Idempotency-Key": "crash-1st-try"},
                    files={"file": ("huipan.txt", answer, "text/plain")},
                )

            request = asyncio.create_task(send_import())
            caught = False
            for _ in range(60_000):  # at most about a minute of polling
                if request.done():
                    break
                if await others_in_transaction(conn):
                    service.kill()  # SIGKILL while the import's transaction is open
                    caught = True
                    break
                await asyncio.sleep(0.001)
            assert caught, f"the import finished before it could be interrupted: {request.result().status_code}"
            try:
                response = await request
            except httpx.TransportError:
                response = None
            assert response is None, "the killed service still answered"

        # The database rolls the open transaction back once it notices the client is gone.
        for _ in range(300):
            if not await others_in_transaction(conn):
                break
            await asyncio.sleep(0.1)
        assert not await others_in_transaction(conn)
        assert await conn.fetchval("SELECT count(*) FROM payable_payments") == 0
        assert await conn.fetchval("SELECT count(*) FROM journal_entries WHERE source_type = 'bank_return'") == 0
        assert await conn.fetchval("SELECT count(*) FROM payables WHERE status = 'in_batch'") == PAYABLES

        service = Service(demo_db, log)
        await service.ready()
        async with httpx.AsyncClient(base_url=service.url, timeout=120) as client:
            maker = await login(client, "caizheng")
            # The first key stays in flight for its lease; a repeat after a crash uses a new one.
            r = await client.post(
                f"/payment-batches/{bid}/returns",
                headers={**maker, "Idempotency-Key": "crash-2nd-try"},
                files={"file": ("huipan.txt", answer, "text/plain")},
            )
            assert r.status_code == 201, r.text
            first = r.json()
            assert (first["paid"], first["failed"], first["unmatched"]) == (PAYABLES * 9 // 10, PAYABLES // 10, 0)
            assert first["batch_status"] == "closed"
            r = await client.post(
                f"/payment-batches/{bid}/returns", headers=maker, files={"file": ("huipan.txt", answer, "text/plain")}
            )
            again = r.json()
            assert (again["paid"], again["already_paid"], again["already_failed"]) == (
                0,
                PAYABLES * 9 // 10,
                PAYABLES // 10,
            )
            auditor = await login(client, "shenji")
            r = await client.get("/ledger/verify", headers=auditor)
            assert r.json()["ok"], r.text
            r = await client.get(f"/payment-batches/{bid}/reconciliation", headers=auditor)
            rec = r.json()
            assert rec["ok"] and rec["difference_fen"] == 0 and rec["paid_fen"] == PAYABLES * 9 // 10 * 30_000

        paid = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT payable_id) AS distinct_n FROM payable_payments"
        )
        assert (paid["n"], paid["distinct_n"]) == (PAYABLES * 9 // 10,) * 2
        assert await conn.fetchval("SELECT count(*) FROM payables WHERE status = 'paid'") == PAYABLES * 9 // 10
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM payables WHERE status = 'unpaid' AND failure_reason = '卡号已注销'"
            )
            == PAYABLES // 10
        )
        debits = await conn.fetchval(
            """SELECT sum(l.amount_fen) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
               WHERE e.source_type = 'bank_return' AND l.amount_fen > 0"""
        )
        assert debits == PAYABLES * 9 // 10 * 30_000
    finally:
        if service is not None:
            service.kill()
        await conn.close()
