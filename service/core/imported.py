"""Sheets already imported (issue 12): an upload whose rows were imported before, for the same
venture or county and the same kind of import, is refused (409, naming when and by whom), unless
the clerk says it is a new batch. The rows are compared by the digest of what the import reads
(service/core/tabular.py, Table.digest), so the same sheet saved again, or as CSV instead of
xlsx, is the same rows; blank lines and columns the import does not read do not count.

Runs in the import's transaction: the log row commits with the rows, or neither does.
"""

from __future__ import annotations

import asyncpg

from db import idempotency as q
from service.core.audit import Actor
from service.core.errors import conflict
from service.core.tabular import Table


async def record_import(
    conn: asyncpg.Connection,
    actor: Actor,
    table: Table,
    county_code: str,
    subject: str,
    filename: str | None,
    new_batch: bool,
) -> None:
    """Log this import of the table's rows (for the subject: a venture's id, or the county's
    code), or refuse rows already imported there (unless new_batch)."""
    kind = table.kind
    await q.lock_imports(conn, county_code, kind, subject, table.digest)
    if not new_batch:
        previous = await q.last_import(conn, county_code, kind, subject, table.digest)
        if previous is not None:
            raise conflict(
                "already-imported",
                f"这些{table.title}数据已于 {previous['imported_at']} 由 {previous['imported_by']} 导入"
                f"（文件“{previous['filename']}”，{previous['row_count']} 行），本次未重复导入。"
                "如确是新的一批，请勾选“新的一批”（表单字段 new_batch=true）后重新上传",
                imported_at=previous["imported_at"],
                imported_by=previous["imported_by"],
            )
    await q.insert_import(
        conn,
        county_code,
        kind,
        subject,
        table.digest,
        filename=filename or "",
        row_count=len(table.rows),
        new_batch=new_batch,
        imported_by=actor.name,
    )
