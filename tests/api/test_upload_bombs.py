"""Uploads built to exhaust the server are refused with 413 before they are read (issue 13), and
a large sheet is parsed off the event loop, so /health answers meanwhile. The time and memory of
the refusals are measured by tests/bench/bench_uploads.py, not asserted here."""

from __future__ import annotations

import asyncio
import threading

from service.core import tabular
from service.ventures import workflow as ventures_workflow
from tests.api.test_auth_and_clock import assert_problem
from tests.api.test_ventures import add_member, make_venture
from tests.upload_bombs import csv_rows, lying_bomb, rows_bomb, string_bomb

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def trades(api) -> int:
    conn = await api.connect()
    try:
        return await conn.fetchval("SELECT count(*) FROM trades")
    finally:
        await conn.close()


async def send(api, vid, name: str, content: bytes):
    return await api.as_(
        "kuaiji", "POST", f"/ventures/{vid}/transactions/import", files={"file": (name, content, XLSX_TYPE)}
    )


async def test_bombs_answer_413_and_change_nothing(api):
    vid = await make_venture(api)
    await add_member(api, vid, "household", "社员1", "621223100201-001")
    for name, content in (
        ("2,000,000 rows.xlsx", rows_bomb()),  # 0.6 MiB expanding to 188 MB of XML
        ("200 MB string.xlsx", string_bomb()),  # 0.2 MiB expanding to one 200 MB shared string
        ("1,500,000 rows.csv", csv_rows()),  # 36 MB, within the upload limit
    ):
        body = assert_problem(await send(api, vid, name, content), 413)
        assert "上限" in body["detail"] or "超过" in body["detail"], body
    # A ZIP that lies about a part's size is read only as far as it claims, and then refused.
    assert_problem(await send(api, vid, "lying.xlsx", lying_bomb()), 422, fields={"file"})
    assert await trades(api) == 0


async def test_health_answers_while_a_large_sheet_is_parsed(api, monkeypatch):
    vid = await make_venture(api)
    await add_member(api, vid, "household", "社员1", "621223100201-001")
    started, finished = threading.Event(), threading.Event()
    real = tabular.read_table

    def watched(*args, **kw):
        started.set()
        try:
            return real(*args, **kw)
        finally:
            finished.set()

    monkeypatch.setattr(tabular, "read_table", watched)
    monkeypatch.setattr(ventures_workflow, "read_table", watched, raising=False)  # where it was called before
    # 250,000 rows that are all bad: the work is all parsing and checking, no database writes.
    sheet = csv_rows(250_000).replace(b"\n1,", b"\n9,")
    upload = asyncio.create_task(send(api, vid, "trades.csv", sheet))
    while not started.is_set():
        await asyncio.sleep(0.001)
    r = await api.client.get("/health")
    assert r.status_code == 200
    # Before, the sheet was parsed on the event loop, and /health waited until it was done.
    assert not finished.is_set(), "/health answered only once the sheet was parsed"
    r = await upload
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 2
