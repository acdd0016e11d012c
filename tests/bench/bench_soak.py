"""The soak (issue 13): mixed load against a real server process for a while, its RSS sampled every
~10 s, and whether it levels off.

A fresh database with the whole demo (its year worked through), `python -m service serve` as its
own process, and WORKERS clients looping over a weighted mix of what the county office does all
day: registry lists and records, venture registers and trades (recorded, with Idempotency-Keys),
households' statements on their phones, payables, the audit log, the ledger check, console pages,
logins, health and metrics, plus refusals (404, 422) whose error paths must not leak either. The
server's RSS is read by psutil; the trend of its floor (each minute's least sample) over the second
half of the run (least squares, MiB a minute) says whether it levels off; transient peaks (a large
request in progress) are shown apart. No request may answer 5xx.

`make bench ONLY=soak` (HUINONG_SOAK_SECONDS, default 600; HUINONG_SOAK_WORKERS, default 6)
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import psutil

from db.pool import init_connection
from service.core.crypto import DataCipher
from service.core.settings import Settings
from service.demo import load_demo
from tests.bench.common import fresh_database, machine

SECONDS = float(os.environ.get("HUINONG_SOAK_SECONDS", "600"))
WORKERS = int(os.environ.get("HUINONG_SOAK_WORKERS", "6"))
SAMPLE_SECONDS = 10.0
ADMIN_PASSWORD = "soak-admin-password"
DEMO_PASSWORD = "huinong-demo"
COUNTY = "621223000000"
ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "HUINONG_SECRET_KEY": "c29hay1zZWNyZXQta2V5LTMyLWJ5dGVzLWxvbmctLS0=",
    "HUINONG_DATA_KEY": "c29hay1kYXRhLWtleS0zMi1ieXRlcy1sb25nLS0tLS0=",
}

Action = Callable[[httpx.AsyncClient, "Context"], Awaitable[httpx.Response]]


class Context:
    """Who the clients are and what they may ask about, found through the API at start."""

    def __init__(self) -> None:
        self.headers: dict[str, dict[str, str]] = {}
        self.households: list[str] = []
        self.ventures: list[str] = []
        self.household_headers: list[tuple[str, dict[str, str]]] = []


async def _login(client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    r = await client.post("/auth/token", json={"username": username, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def discover(client: httpx.AsyncClient, household_ids: dict[str, str]) -> Context:
    ctx = Context()
    for user in ("caizheng", "kuaiji", "shenji", "cunwei"):
        ctx.headers[user] = await _login(client, user)
    ctx.headers["admin"] = await _login(client, "admin", ADMIN_PASSWORD)
    r = await client.get("/households", params={"limit": 200}, headers=ctx.headers["caizheng"])
    ctx.households = [h["id"] for h in r.json()["items"]]
    r = await client.get("/ventures", headers=ctx.headers["kuaiji"])
    ctx.ventures = [v["id"] for v in r.json()["items"]]
    for n in range(1, 6):
        number = f"621223100201-{n:03d}"
        r = await client.post("/auth/household-token", json={"household_no": number, "pin": "123456"})
        r.raise_for_status()
        ctx.household_headers.append((household_ids[number], {"Authorization": f"Bearer {r.json()['access_token']}"}))
    return ctx


def _trade(client: httpx.AsyncClient, ctx: Context) -> Awaitable[httpx.Response]:
    body = {"traded_on": "2025-06-02", "product": "鸡蛋", "quantity_g": 1000, "amount_fen": random.randint(100, 9_999)}
    headers = {**ctx.headers["kuaiji"], "Idempotency-Key": "soak-" + os.urandom(8).hex()}
    return client.post(f"/ventures/{random.choice(ctx.ventures)}/transactions", json=body, headers=headers)


def _statement(client: httpx.AsyncClient, ctx: Context) -> Awaitable[httpx.Response]:
    household, headers = random.choice(ctx.household_headers)
    return client.get(f"/households/{household}/statement", params={"year": 2025}, headers=headers)


# (weight, what): the day's mix
MIX: list[tuple[float, Action]] = [
    (2, lambda c, x: c.get("/health")),
    (1, lambda c, x: c.get("/health/ready")),
    (3, lambda c, x: c.get("/households", params={"limit": 20}, headers=x.headers["caizheng"])),
    (3, lambda c, x: c.get(f"/households/{random.choice(x.households)}", headers=x.headers["caizheng"])),
    (1, lambda c, x: c.get("/households", params={"q": "张"}, headers=x.headers["cunwei"])),
    (2, lambda c, x: c.get("/ventures", headers=x.headers["kuaiji"])),
    (2, lambda c, x: c.get(f"/ventures/{random.choice(x.ventures)}/register", headers=x.headers["kuaiji"])),
    (1, lambda c, x: c.get(f"/ventures/{random.choice(x.ventures)}/transactions", headers=x.headers["kuaiji"])),
    (2, _trade),
    (2, _statement),
    (2, lambda c, x: c.get("/payables", params={"county_code": COUNTY, "limit": 50}, headers=x.headers["caizheng"])),
    (1, lambda c, x: c.get("/audit-log", params={"limit": 50}, headers=x.headers["shenji"])),
    (0.3, lambda c, x: c.get("/ledger/verify", headers=x.headers["shenji"])),
    (1, lambda c, x: c.get("/console/login")),
    (0.2, lambda c, x: c.post("/auth/token", json={"username": "caizheng", "password": DEMO_PASSWORD})),
    (0.2, lambda c, x: c.get("/metrics")),
    (0.5, lambda c, x: c.get(f"/households/{os.urandom(16).hex()}", headers=x.headers["caizheng"])),
    (0.5, lambda c, x: c.post("/payment-batches", content=b'{"county_code": 1,', headers=x.headers["caizheng"])),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, **KEYS, "DATABASE_URL": url, "PORT": str(port), "HOST": "127.0.0.1"}
    env["HUINONG_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab")
    )
    return proc, f"http://127.0.0.1:{port}"


async def _ready(proc: subprocess.Popen, base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError("the server exited at start")
            try:
                if (await client.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start")


async def _worker(
    client: httpx.AsyncClient, ctx: Context, until: float, statuses: Counter[int], slow: list[str]
) -> None:
    weights = [w for w, _ in MIX]
    actions = [a for _, a in MIX]
    while time.monotonic() < until:
        action = random.choices(actions, weights)[0]
        r = await action(client, ctx)
        statuses[r.status_code] += 1
        if r.status_code >= 500:
            slow.append(f"5xx: {r.request.method} {r.request.url.path}: {r.status_code} {r.text[:200]}")


def _slope_mib_per_minute(samples: list[tuple[float, float]]) -> float:
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    return 60 * sum((t - mean_t) * (m - mean_m) for t, m in samples) / var if var else 0.0


async def _load(
    base: str, proc: subprocess.Popen, household_ids: dict[str, str]
) -> tuple[list[tuple[float, float, int]], Counter[int], list[str]]:
    server = psutil.Process(proc.pid)
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    limits = httpx.Limits(max_connections=WORKERS, max_keepalive_connections=WORKERS)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as client:
        ctx = await discover(client, household_ids)
        start = time.monotonic()
        until = start + SECONDS
        workers = [asyncio.create_task(_worker(client, ctx, until, statuses, errors)) for _ in range(WORKERS)]
        samples = [(0.0, server.memory_info().rss / 2**20, 0)]
        while time.monotonic() < until:
            await asyncio.sleep(min(SAMPLE_SECONDS, max(0.0, until - time.monotonic())))
            samples.append((time.monotonic() - start, server.memory_info().rss / 2**20, sum(statuses.values())))
        await asyncio.gather(*workers)
        # The server's own count of its refusals, by route (its /metrics, from this machine).
        metrics = (await client.get("/metrics")).text.splitlines()
        errors += [
            f"refused: {line}"
            for line in metrics
            if line.startswith("huinong_requests_total") and '",status="2' not in line
        ]
    return samples, statuses, errors


async def main() -> None:
    async with fresh_database() as url:
        settings = Settings(database_url=url, secret_key=b"s" * 32, data_key=b"d" * 32)
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        cipher = DataCipher(base64.urlsafe_b64decode(KEYS["HUINONG_DATA_KEY"]))
        await load_demo(conn, cipher, settings)
        household_ids = {r[0]: str(r[1]) for r in await conn.fetch("SELECT household_no, id FROM households")}
        await conn.close()
        log = Path(tempfile.mkdtemp()) / "soak-server.log"
        proc, base = _serve(url, log)
        try:
            await _ready(proc, base)
            samples, statuses, errors = await _load(base, proc, household_ids)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    _report(samples, statuses, errors, log)


def _floors(samples: list[tuple[float, float, int]]) -> list[tuple[float, float]]:
    """The least RSS of each minute: what the process keeps, without the transient peaks of a large
    request in progress (memory it gives back), which a trend through every sample would mistake
    for growth."""
    by_minute: dict[int, list[tuple[float, float]]] = {}
    for t, m, _ in samples[1:]:
        by_minute.setdefault(int(t // 60), []).append((t, m))
    return [min(points, key=lambda p: p[1]) for points in by_minute.values()]


def _report(samples: list[tuple[float, float, int]], statuses: Counter[int], errors: list[str], log: Path) -> None:
    total = sum(statuses.values())
    seconds = samples[-1][0]
    floors = _floors(samples)
    half = [(t, m) for t, m in floors if t >= seconds / 2]
    slope = _slope_mib_per_minute(half)
    levels = abs(slope) < 0.2
    print(f"\n## Soak: {seconds:.0f} s of mixed load, {WORKERS} clients, a real server process")
    print(f"machine: {machine()} (shared with other work: figures move)")
    print(f"date: {dt.date.today()}")
    print(f"requests: {total} ({total / seconds:.0f}/s), by status {dict(sorted(statuses.items()))}")
    print(f"5xx: {sum(n for s, n in statuses.items() if s >= 500)}")
    print("RSS series (s, MiB, requests so far):")
    print("  " + ", ".join(f"{t:.0f}s {m:.1f}" for t, m, _ in samples))
    print(
        f"RSS first {samples[0][1]:.1f} MiB, after warm-up {samples[min(3, len(samples) - 1)][1]:.1f}, last {samples[-1][1]:.1f}, peak {max(m for _, m, _ in samples):.1f}"
    )
    print("RSS floor by minute (least sample of each minute, MiB): " + ", ".join(f"{m:.1f}" for _, m in floors))
    print(f"floor's trend over the second half: {slope:+.3f} MiB/min -> {'levels off' if levels else 'KEEPS CLIMBING'}")
    print(f"server log: {log.stat().st_size // 1024} KiB of JSON lines")
    for e in errors[:30]:
        print("  ", e)
