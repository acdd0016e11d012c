"""Reads at year end (issue 19): a county's households open 我的分红, offices page through lists.

A county (BENCH_READ_HOUSEHOLDS, default 15,000: an exit award, a posted company distribution and
an order-farming settlement for every household) is served by a real server process started as
`python -m service serve` is, with the production settings (service/core/settings.py). `wrk`
(Debian's package, installed when missing) drives each read at 16 and 64 connections, its Lua
script rotating household tokens, ids and page cursors. Side by side, a raw asyncpg loop runs the
very queries each read ran (recorded from the service's own connections, authentication and
transaction statements left out) at the same concurrency, over as many connections as the service
holds (workers × pool).

Figures: req/s, p50, p99, the ratio to raw, the server's RSS and CPU time per request, the machine.
Each figure is the median of BENCH_READ_ROUNDS (default 3) rounds of BENCH_READ_SECONDS (default 3)
through the service then as many raw, the ratio's range over the rounds beside it; BENCH_READ_CONNECTIONS the
concurrencies (default "16,64"), BENCH_READ_ONLY a comma list of read names to measure.

A quick re-run of a few reads: BENCH_READ_KEEP=1 keeps the seeded county for the next run, e.g.
`BENCH_READ_KEEP=1 BENCH_READ_ONLY=statement,console BENCH_READ_ROUNDS=1 make bench ONLY=reads`.
Unset, every variable leaves the full run as it measures.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import psutil

from db.migrate import migrate
from db.pool import init_connection
from service.core.settings import Settings, load_settings
from tests.bench import reads_seed
from tests.bench.common import fresh_database, machine, report, timed
from tests.bench.reads_raw import raw_loop, record_queries
from tests.database import server_url, with_database

HOUSEHOLDS = int(os.environ.get("BENCH_READ_HOUSEHOLDS", "15000"))
SECONDS = float(os.environ.get("BENCH_READ_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_READ_ROUNDS", "3"))
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_READ_CONNECTIONS", "16,64").split(",")]
ONLY = [n for n in os.environ.get("BENCH_READ_ONLY", "").split(",") if n]
ROTATION = 256  # distinct targets a read rotates through (households, pages)
ROOT = Path(__file__).resolve().parents[2]
LUA = Path(__file__).with_name("rotate.lua")


class Target(msgspec.Struct):
    """One request wrk may send: a path and the one header carrying who asks."""

    path: str
    header: str
    value: str


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, env=env, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, capture_output=True)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ends_with_the_benchmark() -> None:
    """The server is stopped if the benchmark is killed (Linux), not left serving."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_server(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    """`python -m service serve` on the benchmark's database, with the production settings."""
    env = dict(
        os.environ,
        DATABASE_URL=settings.database_url or "",
        PORT=str(port),
        HUINONG_SECRET_KEY=base64.urlsafe_b64encode(settings.secret_key).decode(),
        HUINONG_DATA_KEY=base64.urlsafe_b64encode(settings.data_key).decode(),
    )
    env.pop("HUINONG_ADMIN_PASSWORD", None)
    log = ROOT / ".data" / "bench_reads_server.log"
    log.parent.mkdir(exist_ok=True)  # a fresh checkout on DATABASE_URL has no .data yet
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115
        preexec_fn=_ends_with_the_benchmark,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the server did not answer /health within 60 s (see .data/bench_reads_server.log)")


def walk_pages(base: str, first: str, header: tuple[str, str], pages: int) -> list[str]:
    """The first `pages` pages of a list, by following next_cursor through the server."""
    paths, path = [], first
    with httpx.Client(base_url=base, headers=[header], timeout=30) as client:
        while path and len(paths) < pages:
            paths.append(path)
            answer = client.get(path)
            answer.raise_for_status()
            cursor = answer.json().get("next_cursor")
            sep = "&" if "?" in first else "?"
            path = f"{first}{sep}cursor={cursor}" if cursor else ""
    return paths


def read_targets(
    base: str, staff: dict[str, str], households: list[tuple[uuid.UUID, str]], villages: list[str]
) -> dict[str, list[Target]]:
    """Every read measured, with the targets its requests rotate through."""
    sample = households[:: max(1, len(households) // ROTATION)][:ROTATION]
    officer = ("Authorization", f"Bearer {staff['finance_officer']}")
    county = reads_seed.bench_awards.COUNTY
    reads: dict[str, list[Target]] = {
        # The floor under every read: no sign-in, one `SELECT 1`, a 50-byte answer. What this costs
        # beyond its query is what any route costs, so a read whose queries are cheaper than that
        # cannot come near its raw loop, however lean its own code.
        "floor: GET /health (SELECT 1, no sign-in)": [Target("/health", "Accept", "application/json")],
        "statement JSON": [
            Target(f"/households/{h}/statement", "Authorization", f"Bearer {token}") for h, token in sample
        ],
        "household page /h/statement": [
            Target("/h/statement", "Cookie", f"huinong_household={token}") for _, token in sample
        ],
    }
    for name, first in (
        ("GET /payables (100 a page)", f"/payables?county_code={county}"),
        ("GET /households (100 a page)", "/households"),
    ):
        pages = walk_pages(base, first, officer, pages=HOUSEHOLDS // 100)
        pages = pages[:: max(1, len(pages) // 64)]  # early and deep pages alike
        pages += [f"{first}{'&' if '?' in first else '?'}village_code={v}" for v in villages]
        reads[name] = [Target(p, *officer) for p in pages]
    for _, role in reads_seed.STAFF:
        reads[f"console /console/ ({role})"] = [Target("/console/", "Cookie", f"huinong_staff={staff[role]}")]
    return {k: v for k, v in reads.items() if not ONLY or any(o in k for o in ONLY)}


def process_tree(server: subprocess.Popen[bytes]) -> list[psutil.Process]:
    root = psutil.Process(server.pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def run_wrk(wrk: str, base: str, targets: list[Target], connections: int, seconds: float) -> dict[str, float]:
    targets_file = ROOT / ".data" / "bench_reads_targets.tsv"
    targets_file.write_text("".join(f"{t.path}\t{t.header}: {t.value}\n" for t in targets))
    command = [wrk, "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(LUA), base]
    out = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, WRK_TARGETS=str(targets_file)))
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stdout}{out.stderr}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRKJSON "))
    figures: dict[str, float] = msgspec.json.decode(line[len("WRKJSON ") :])
    return figures


def measure_service(
    wrk: str, base: str, server: subprocess.Popen[bytes], targets: list[Target], connections: int
) -> dict[str, float]:
    tree = process_tree(server)
    before = cpu_seconds(tree)
    figures = run_wrk(wrk, base, targets, connections, SECONDS)
    figures["cpu_ms_per_request"] = (cpu_seconds(tree) - before) * 1000 / max(1, figures["requests"])
    figures["rss_mib"] = sum(p.memory_info().rss for p in tree) / 2**20
    figures["rate"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["p50_ms"], figures["p99_ms"] = figures["p50_us"] / 1000, figures["p99_us"] / 1000
    return figures


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def row(name: str, rounds: list[tuple[dict[str, float], dict[str, float]]]) -> tuple[str, str]:
    """Medians over the rounds; the ratio is each round's service over the raw run beside it."""
    service = {k: median([s[k] for s, _ in rounds]) for k in ("rate", "p50_ms", "p99_ms", "cpu_ms_per_request")}
    raw = {k: median([r[k] for _, r in rounds]) for k in ("rate", "p50_ms", "p99_ms")}
    ratios = sorted(s["rate"] / r["rate"] for s, r in rounds)
    errors = int(sum(s["errors_status"] + s["errors_other"] for s, _ in rounds))
    return (
        name,
        f"{service['rate']:6,.0f} req/s p50 {service['p50_ms']:5.1f} p99 {service['p99_ms']:6.1f} ms"
        f" | raw {raw['rate']:6,.0f}/s p50 {raw['p50_ms']:5.1f} p99 {raw['p99_ms']:6.1f} ms"
        f" | {median(ratios):.2f}x raw ({ratios[0]:.2f}-{ratios[-1]:.2f})"
        f" | cpu {service['cpu_ms_per_request']:.2f} ms/req | rss {max(s['rss_mib'] for s, _ in rounds):.0f} MiB"
        f"{f' | {errors} ERRORS' if errors else ''}",
    )


async def measure(url: str, settings: Settings, staff: dict[str, str], households: list, villages: list[str]) -> list:
    """Each read at each concurrency: ROUNDS of the service then the raw loop, side by side in
    time so the load others put on a shared machine weighs on both alike."""
    wrk = ensure_wrk()
    served = load_settings(dict(os.environ, HUINONG_SECRET_KEY="a" * 43, HUINONG_DATA_KEY="a" * 43))
    database_connections = served.workers * served.pool_max_size
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(settings, port)
    rows: list[tuple[str, str]] = []
    try:
        reads = read_targets(base, staff, households, villages)
        recorded = await record_queries(settings, reads)
        for name, targets in reads.items():
            for connections in CONNECTIONS:
                run_wrk(wrk, base, targets, connections, 1)  # warm: prepared statements, caches, pool
                rounds = []
                for n in range(ROUNDS):
                    service = measure_service(wrk, base, server, targets, connections)
                    raw = await raw_loop(
                        url, recorded[name], connections, SECONDS, connections=database_connections, warm=n == 0
                    )
                    rounds.append((service, raw))
                rows.append(row(f"{name} @{connections}", rounds))
                print(*rows[-1], flush=True)
    finally:
        server.terminate()
        server.wait(10)
    return rows


class County(msgspec.Struct):
    """The benchmark's database: its URL, the service's keys, and its villages once seeded."""

    url: str
    settings: Settings
    villages: list[str] | None = None


@asynccontextmanager
async def county_database() -> AsyncIterator[County]:
    """A fresh database, dropped afterwards; with BENCH_READ_KEEP=1 one kept for this size of
    county and used again (its keys and villages in .data/, never committed): a re-run of a few
    reads then skips the seeding. Its villages are None while it is still to be seeded."""
    if os.environ.get("BENCH_READ_KEEP") != "1":
        async with fresh_database() as url:
            yield County(url, Settings(database_url=url, secret_key=os.urandom(32), data_key=os.urandom(32)))
        return
    name, kept = f"huinong_bench_reads_{HOUSEHOLDS}", ROOT / ".data" / f"bench_reads_{HOUSEHOLDS}.json"
    base = server_url("pg-bench")
    admin = await asyncpg.connect(with_database(base, "postgres"))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            kept.unlink(missing_ok=True)
        if not kept.exists():  # a database whose keys were lost is of no use: seeded again
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(base, name)
    conn = await asyncpg.connect(url)
    try:
        await init_connection(conn)
        await migrate(conn)  # a kept county takes this branch's new migrations too
    finally:
        await conn.close()
    if kept.exists():
        keys = msgspec.json.decode(kept.read_bytes())
        secret, data = (base64.urlsafe_b64decode(keys[k]) for k in ("secret", "data"))
        yield County(url, Settings(database_url=url, secret_key=secret, data_key=data), keys["villages"])
        return
    county = County(url, Settings(database_url=url, secret_key=os.urandom(32), data_key=os.urandom(32)))
    yield county
    if county.villages:
        kept.write_bytes(
            msgspec.json.encode(
                {
                    "secret": base64.urlsafe_b64encode(county.settings.secret_key).decode(),
                    "data": base64.urlsafe_b64encode(county.settings.data_key).decode(),
                    "villages": county.villages,
                }
            )
        )
        kept.chmod(0o600)


async def run() -> None:
    figures: dict[str, float] = {}
    ensure_wrk()  # before the seeding, so a machine without it fails in seconds rather than minutes
    async with county_database() as county:
        url, settings, seeded = county.url, county.settings, county.villages
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        try:
            with timed(figures, "setup"):
                villages = seeded or await reads_seed.seed_county(conn, settings, HOUSEHOLDS)
                county.villages = villages
                staff = await reads_seed.staff_tokens(conn, settings, villages)
                households = await reads_seed.household_tokens(conn, settings)
            done = "kept from an earlier run" if seeded else f"{figures['setup']:.1f} s"
            print(f"setup: {HOUSEHOLDS:,} households, {done}", flush=True)
        finally:
            await conn.close()
        rows = await measure(url, settings, staff, households, villages)
        version = await server_version(url)
    production = load_settings(
        dict(
            os.environ,
            HUINONG_SECRET_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
            HUINONG_DATA_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        )
    )
    rows.insert(0, ("setup", done))
    rows.insert(1, ("server", server_description(production)))
    report(
        f"reads: a county of {HOUSEHOLDS:,} households through the service and raw ({ROUNDS} rounds of {SECONDS:g} s)",
        rows,
    )
    print(f"PostgreSQL {version}; {machine()}")


def server_description(settings: Any) -> str:
    fields = ("server", "workers", "pool_max_size", "backpressure", "log_level", "principal_cache_seconds")
    return ", ".join(f"{f}={getattr(settings, f)}" for f in fields) + " (uvloop)"


async def server_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def main() -> None:
    try:
        import uvloop

        uvloop.run(run())
    except ImportError:
        asyncio.run(run())
