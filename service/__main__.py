"""The command line: python -m service <command>.

run            start the embedded database if DATABASE_URL is unset, migrate, load the demo
               county once, print the URL and demo logins, and serve
migrate        apply pending migrations
create-user    add a staff user
seed-demo      load the demo county (once)
verify-audit   recompute the audit log's hash chain
verify-ledger  check every ledger invariant; exit 1 naming the failures
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import asyncpg
import msgspec

from db.migrate import migrate
from db.pool import init_connection
from service.core.settings import load_settings


async def _connect(settings) -> asyncpg.Connection:
    conn = await asyncpg.connect(settings.database_url)
    await init_connection(conn)
    return conn


async def _migrate(settings) -> None:
    conn = await _connect(settings)
    try:
        applied = await migrate(conn)
        print("migrations applied: " + (", ".join(applied) if applied else "none pending"))
    finally:
        await conn.close()


async def _seed(settings) -> None:
    from service.core.crypto import DataCipher
    from service.demo import seed_demo

    conn = await _connect(settings)
    try:
        loaded = await seed_demo(conn, DataCipher(settings.data_key))
        print("demo county loaded" if loaded else "demo county already present")
    finally:
        await conn.close()


async def _create_user(settings, args) -> None:
    from schemas.auth import UserCreate
    from service.core.audit import Actor
    from service.users.workflow import create_user

    data = msgspec.convert(
        {
            "username": args.username,
            "password": args.password,
            "role": args.role,
            "region_code": args.region,
            "venture_ids": args.venture or [],
        },
        UserCreate,
    )
    conn = await _connect(settings)
    try:
        async with conn.transaction():
            user = await create_user(conn, Actor.system("cli"), data)
        print(f"created user {user.username} ({user.role}) id {user.id}")
    finally:
        await conn.close()


async def _verify_audit(settings) -> int:
    from service.core.audit import verify_chain

    conn = await _connect(settings)
    try:
        breaks = await verify_chain(conn)
    finally:
        await conn.close()
    for b in breaks:
        print(f"BROKEN county {b.county_code} seq {b.seq}: {b.problem}")
    print("audit chain ok" if not breaks else f"{len(breaks)} problems")
    return 1 if breaks else 0


async def _verify_ledger(settings) -> int:
    from service.ledger.workflow import verify_ledger

    conn = await _connect(settings)
    try:
        result = await verify_ledger(conn)
    finally:
        await conn.close()
    for check in result.checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    return 0 if result.ok else 1


def _serve(settings) -> None:
    import uvicorn

    from service.app import create_app
    from service.demo import demo_logins_text

    print(demo_logins_text(f"http://{settings.host}:{settings.port}"), flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service", description="Huinong 惠农")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run")
    sub.add_parser("serve")
    sub.add_parser("migrate")
    sub.add_parser("seed-demo")
    sub.add_parser("verify-audit")
    sub.add_parser("verify-ledger")
    user = sub.add_parser("create-user")
    user.add_argument("--username", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--role", required=True)
    user.add_argument("--region")
    user.add_argument("--venture", action="append")
    from service.cli_extra import register_commands

    handlers = register_commands(sub)
    args = parser.parse_args(argv)

    if args.command == "run":
        os.environ.setdefault("HUINONG_ADMIN_PASSWORD", "admin-demo-2026")
    from service.core.database import with_database

    settings = with_database(load_settings())
    if args.command in ("run",):
        asyncio.run(_migrate(settings))
        asyncio.run(_seed(settings))
        _serve(settings)
        return 0
    if args.command == "serve":
        _serve(settings)
        return 0
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        return 0
    if args.command == "seed-demo":
        asyncio.run(_seed(settings))
        return 0
    if args.command == "create-user":
        asyncio.run(_create_user(settings, args))
        return 0
    if args.command == "verify-audit":
        return asyncio.run(_verify_audit(settings))
    if args.command == "verify-ledger":
        return asyncio.run(_verify_ledger(settings))
    return handlers[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
