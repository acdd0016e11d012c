"""The command line: python -m service <command>. Every command calls the same workflows the API does.

run            start the embedded database if DATABASE_URL is unset, migrate, load the demo
               county once, print the URL and demo logins, and serve
serve          serve (the database must be migrated)
migrate        apply pending migrations
seed-demo      load the demo county with its year worked through (once); --reset builds it again
               on a database that holds only the demo
create-user    add a staff user
verify-audit   recompute the audit log's hash chain; exit 1 naming the breaks
verify-ledger  check every ledger invariant; exit 1 naming the failures
distribute     compute a distribution draft for a venture and year, with progress
backup FILE    write a consistent backup of the database with its manifest (service/system/backup.py)
restore FILE   restore a backup into the empty database DATABASE_URL names, then check it
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import msgspec

from db.migrate import migrate
from service.core.audit import Actor
from service.core.database import connect, with_database
from service.core.settings import Settings, load_settings
from service.distributions import cli as distribute

if TYPE_CHECKING:
    from litestar import Litestar

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


async def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    conn = await connect(settings)
    try:
        applied = await migrate(conn)
        print("migrations applied: " + (", ".join(applied) if applied else "none pending"))
    finally:
        await conn.close()
    return 0


async def _check_data_key(settings: Settings, args: argparse.Namespace) -> int:
    """0 when HUINONG_DATA_KEY is the database's (stored at first start); 2 with the reason if not."""
    from service.core.crypto import DataCipher
    from service.system.workflow import DataKeyMismatch, check_data_key

    conn = await connect(settings)
    try:
        await check_data_key(conn, DataCipher(settings.data_key))
    except DataKeyMismatch as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        return 2
    finally:
        await conn.close()
    return 0


async def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from service.core.crypto import DataCipher
    from service.demo import load_demo
    from service.demo.reset import reset

    conn = await connect(settings)
    try:
        if getattr(args, "reset", False):
            try:
                await reset(conn)
            except PermissionError as exc:
                print(f"seed-demo --reset refused: {exc}")
                return 1
        await migrate(conn)  # a fresh database gets its schema first; an up-to-date one is untouched
    finally:
        await conn.close()
    if await _check_data_key(settings, args):
        return 2
    conn = await connect(settings)
    try:
        seconds = await load_demo(conn, DataCipher(settings.data_key), settings)
        print("demo county already present" if seconds is None else f"demo county loaded in {seconds:.1f} s")
    finally:
        await conn.close()
    return 0


def _seed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reset",
        action="store_true",
        help="drop everything and load the demo again (a database holding only the demo)",
    )


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from schemas.auth import UserCreate
    from service.users.workflow import create_user

    fields = {
        "username": args.username,
        "password": args.password,
        "role": args.role,
        "region_code": args.region,
        "venture_ids": args.venture or [],
    }
    data = msgspec.convert(fields, UserCreate)
    conn = await connect(settings)
    try:
        async with conn.transaction():
            user = await create_user(conn, Actor.system("cli"), data)
        print(f"created user {user.username} ({user.role}) id {user.id}")
    finally:
        await conn.close()
    return 0


async def _verify_audit(settings: Settings, args: argparse.Namespace) -> int:
    from service.core.audit import verify_chain

    conn = await connect(settings)
    try:
        breaks = await verify_chain(conn)
    finally:
        await conn.close()
    for b in breaks:
        print(f"BROKEN county {b.county_code} seq {b.seq}: {b.problem}")
    print("audit chain ok" if not breaks else f"{len(breaks)} problems")
    return 1 if breaks else 0


async def _verify_ledger(settings: Settings, args: argparse.Namespace) -> int:
    from service.ledger.workflow import verify_ledger

    conn = await connect(settings)
    try:
        result = await verify_ledger(conn)
    finally:
        await conn.close()
    for check in result.checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    return 0 if result.ok else 1


async def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from service.core.crypto import DataCipher
    from service.system.backup import backup

    if code := await _check_data_key(settings, args):
        return code
    conn = await connect(settings)
    try:
        manifest = await backup(conn, DataCipher(settings.data_key), Path(args.file))
    finally:
        await conn.close()
    print(
        f"backup written to {args.file}: schema migration {manifest.schema_version}, "
        f"{len(manifest.rows)} tables, {sum(manifest.rows.values())} rows, "
        f"ledger checksum {manifest.ledger_checksum}, data key fingerprint {manifest.data_key_fingerprint[:16]}…"
    )
    return 0


async def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from service.core.crypto import DataCipher
    from service.system.backup import RestoreFailed, RestoreRefused, restore

    conn = await connect(settings)
    try:
        restored = await restore(conn, DataCipher(settings.data_key), Path(args.file))
    except RestoreRefused as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 2
    except RestoreFailed as exc:
        print(f"restore failed and was rolled back: {exc}", file=sys.stderr)
        return 1
    finally:
        await conn.close()
    m = restored.manifest
    print(
        f"restored {sum(m.rows.values())} rows of {len(m.rows)} tables (backup of {m.created_at:%Y-%m-%d %H:%M} UTC); "
        f"row counts and ledger checksum match; verify-ledger ok ({restored.ledger_checks} checks); "
        f"verify-audit ok; {restored.identities_opened} sealed ID, card and phone numbers open with the key"
    )
    return 0


def _file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the backup file")


def _serve(settings: Settings) -> None:
    from service.demo import demo_logins_text

    print(demo_logins_text(f"http://{settings.host}:{settings.port}"), flush=True)
    # Each serving process builds its app from the environment (served_app), so the database
    # found here (the embedded one, say) is handed to them there.
    os.environ["DATABASE_URL"] = settings.database_url or ""
    if settings.server == "granian":
        _serve_granian(settings)
    else:
        _serve_uvicorn(settings)


def _serve_granian(settings: Settings) -> None:
    """Granian: HTTP is parsed in Rust beside the event loop (uvloop); no access log of its own."""
    from granian import Granian
    from granian.constants import Interfaces, Loops

    Granian(
        "service.cli:served_app",
        factory=True,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        # At most two requests in hand a pooled connection: at 64 connections on 2 cores the same
        # rate at half the p50 and a lower p99 (bench_reads), the rest waiting in the socket rather
        # than as tasks queued on the pool (one a connection cost some 10% of the rate).
        backpressure=settings.backpressure,
        log_level=settings.log_level,  # type: ignore[arg-type]
        log_access=False,
    ).serve()


def _serve_uvicorn(settings: Settings) -> None:
    """uvicorn with uvloop and httptools (installed with the service); its access log stays off."""
    import uvicorn

    uvicorn.run(
        "service.cli:served_app",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
    )


def _die_with_parent() -> None:
    """A serving process ends when the process that started it does, even killed (SIGKILL): an
    orphan would go on answering on the port and writing to the database."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def served_app() -> Litestar:
    """The app of one serving process (the server's factory, in each worker process)."""
    from service.app import create_app

    _die_with_parent()
    settings = load_settings()
    _log_requests_as_json_lines(settings.log_level)
    return create_app(settings)


def _log_requests_as_json_lines(level: str) -> None:
    """One JSON line per request on stderr (service/core/telemetry.py) instead of uvicorn's access
    log, whose lines carry the path and query (a name searched for, say). HUINONG_LOG_LEVEL
    applies to the service's own lines as to the server's: at `warning` no access line is made."""
    from service.core.telemetry import JsonLines

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    huinong = logging.getLogger("huinong")
    huinong.addHandler(handler)
    huinong.setLevel(level.upper())
    huinong.propagate = False
    # No log line shows thread or process names: not collecting them makes each record cheaper.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


COMMANDS: dict[str, tuple[Command, Callable[[Any], None] | None]] = {
    "migrate": (_migrate, None),
    "seed-demo": (_seed, _seed_arguments),
    "verify-audit": (_verify_audit, None),
    "verify-ledger": (_verify_ledger, None),
    "distribute": (distribute.run, distribute.configure),
    "backup": (_backup, _file_argument),
    "restore": (_restore, _file_argument),
}


def _user_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--role", required=True)
    parser.add_argument("--region")
    parser.add_argument("--venture", action="append")


COMMANDS["create-user"] = (_create_user, _user_arguments)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m service", description="Huinong 惠农")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("run")
    sub.add_parser("serve")
    for name, (_, configure) in COMMANDS.items():
        command = sub.add_parser(name)
        if configure:
            configure(command)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "run":
        os.environ.setdefault("HUINONG_ADMIN_PASSWORD", "admin-demo-2026")
    settings = with_database(load_settings())
    if args.command == "run":
        asyncio.run(_migrate(settings, args))
        seeded = asyncio.run(_seed(settings, args))
        if seeded:
            return seeded
    if args.command in ("run", "serve"):
        if asyncio.run(_check_data_key(settings, args)):
            return 2
        _serve(settings)
        return 0
    command, _ = COMMANDS[args.command]
    return asyncio.run(command(settings, args))
