"""Backups that restore (issue 13): `python -m service backup FILE` and `restore FILE`.

A backup is one zip file: every table's rows in PostgreSQL's binary COPY format, all read in one
REPEATABLE READ snapshot (so the books, the payables and the audit log in it belong to one moment,
while the service keeps running), and `manifest.json`: the schema's migrations, a fingerprint of
the data key (its check, never the key), the rows of each table, the sequences and a checksum of
the ledger. It holds ID and card numbers only sealed: without HUINONG_DATA_KEY they stay unread,
so the key is kept apart from the backups, and a backup without its key is lost.

A restore goes into an empty database only, with the backup's own data key, in one transaction:
the schema by the migrations, then the rows as they were (triggers off: balances and audit heads
come back as dumped, not as new postings), then it checks every table's rows and the ledger
checksum against the manifest, runs verify-ledger and verify-audit and opens every sealed
identity. Anything amiss rolls it all back, leaving the database empty again.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

import asyncpg
import msgspec

from db import backup as q
from db.migrate import discover, migrate
from service.core.audit import verify_chain
from service.core.crypto import DataCipher
from service.ledger.workflow import verify_ledger

FORMAT = 1
MANIFEST = "manifest.json"
CHUNK = 1 << 20


class Manifest(msgspec.Struct, kw_only=True):
    format: int
    created_at: dt.datetime
    migrations: list[tuple[int, str, str]]  # version, file, checksum
    data_key_fingerprint: str
    rows: dict[str, int]
    sequences: list[tuple[str, int, bool]]
    ledger_checksum: str

    @property
    def schema_version(self) -> int:
        return max((m[0] for m in self.migrations), default=0)


class RestoreRefused(Exception):
    """The backup cannot go into this database (not empty, another data key, another schema)."""


class RestoreFailed(Exception):
    """The restored rows do not check out; everything was rolled back."""


class Restored(msgspec.Struct):
    manifest: Manifest
    identities_opened: int
    ledger_checks: int
    audit_ok: bool


def fingerprint(cipher: DataCipher) -> str:
    return cipher.key_check.hex()


def _member(table: str) -> str:
    return f"tables/{table}.copy"


async def backup(conn: asyncpg.Connection, cipher: DataCipher, path: Path) -> Manifest:
    """Write the database to `path` (atomically: a half-written backup never bears the name)."""
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            rows: dict[str, int] = {}
            for table in await q.tables(conn):
                rows[table] = await q.row_count(conn, table)
                with zf.open(_member(table), "w", force_zip64=True) as out:

                    async def sink(chunk: bytes, out: IO[bytes] = out) -> None:
                        out.write(chunk)

                    await q.copy_out(conn, table, sink)
            manifest = Manifest(
                format=FORMAT,
                created_at=dt.datetime.now(dt.UTC),
                migrations=await q.migrations(conn),
                data_key_fingerprint=fingerprint(cipher),
                rows=rows,
                sequences=await q.sequences(conn),
                ledger_checksum=await q.ledger_checksum(conn),
            )
        zf.writestr(MANIFEST, msgspec.json.format(msgspec.json.encode(manifest), indent=2))
    os.replace(partial, path)
    return manifest


def read_manifest(path: Path) -> Manifest:
    with zipfile.ZipFile(path) as zf:
        return msgspec.json.decode(zf.read(MANIFEST), type=Manifest)


async def _chunks(zf: zipfile.ZipFile, table: str) -> AsyncIterator[bytes]:
    with zf.open(_member(table)) as f:
        while chunk := f.read(CHUNK):
            yield chunk


async def restore(conn: asyncpg.Connection, cipher: DataCipher, path: Path) -> Restored:
    """Restore the backup at `path` into the empty database `conn` is on, then check it (above)."""
    manifest = read_manifest(path)
    await _refuse_unless_fit(conn, cipher, manifest)
    with zipfile.ZipFile(path) as zf:
        async with conn.transaction():
            await migrate(conn)
            await q.without_triggers(conn)
            for table in manifest.rows:
                await q.clear(conn, table)
                await q.copy_in(conn, table, _chunks(zf, table))
            for name, value, is_called in manifest.sequences:
                await q.set_sequence(conn, name, value, is_called)
            return await _check_restored(conn, cipher, manifest)


async def _refuse_unless_fit(conn: asyncpg.Connection, cipher: DataCipher, manifest: Manifest) -> None:
    if manifest.format != FORMAT:
        raise RestoreRefused(f"backup format {manifest.format} is not this version's ({FORMAT})")
    if manifest.data_key_fingerprint != fingerprint(cipher):
        raise RestoreRefused(
            "HUINONG_DATA_KEY is not the key of this backup (its fingerprint differs): "
            "the ID and card numbers in it could not be read; restore with the backup's key"
        )
    if await q.holds_anything(conn):
        raise RestoreRefused("the database DATABASE_URL names is not empty: restore only into a new, empty database")
    known = [(m.version, m.name, m.checksum) for m in discover()]
    if manifest.migrations != known:
        raise RestoreRefused(
            f"the backup's schema (migration {manifest.schema_version}, {len(manifest.migrations)} files) "
            f"is not this code's ({len(known)} files): restore with the release that made the backup, then migrate"
        )


async def _check_restored(conn: asyncpg.Connection, cipher: DataCipher, manifest: Manifest) -> Restored:
    problems: list[str] = []
    for table, expected in manifest.rows.items():
        found = await q.row_count(conn, table)
        if found != expected:
            problems.append(f"{table}: {found} rows restored, {expected} backed up")
    if await q.ledger_checksum(conn) != manifest.ledger_checksum:
        problems.append("the ledger's checksum differs from the backup's")
    ledger = await verify_ledger(conn)
    problems += [f"verify-ledger {c.name}: {c.detail}" for c in ledger.checks if not c.ok]
    breaks = await verify_chain(conn)
    problems += [f"verify-audit county {b.county_code} seq {b.seq}: {b.problem}" for b in breaks]
    opened, unreadable = 0, 0
    async for context, sealed in q.sealed_identities(conn):
        try:
            cipher.decrypt(sealed, context=context.encode())
            opened += 1
        except Exception:  # InvalidTag: sealed under another key, or damaged
            unreadable += 1
    if unreadable:
        problems.append(f"{unreadable} sealed ID, card or phone numbers do not open with this key")
    if problems:
        raise RestoreFailed("; ".join(problems))
    return Restored(manifest, opened, len(ledger.checks), not breaks)
