"""The console's reconciliation (对账) reaches every batch, a page at a time, newest first.

Before, it reconciled the county's newest 100 batches and showed nothing of older ones."""

from __future__ import annotations

import re

from service.payments import pages as payment_pages
from tests.api.console_client import Console
from tests.payables_factory import make_payables

COUNTY = "621223000000"


async def _approved_batch(api, household_no: str, amount_fen: int) -> str:
    conn = await api.connect()
    try:
        (payable,) = await make_payables(conn, COUNTY, [await api.household_id(household_no)], amount_fen)
    finally:
        await conn.close()
    r = await api.as_("caizheng", "POST", "/payment-batches", json={"county_code": COUNTY, "payable_ids": [payable]})
    assert r.status_code == 201, r.text
    batch = r.json()["id"]
    r = await api.as_("caizheng2", "POST", f"/payment-batches/{batch}/approve")
    assert r.status_code == 200, r.text
    return batch


def _batches_shown(html: str) -> list[str]:
    section = re.search(r'<section id="batches">.*?</section>', html, re.S).group(0)
    return re.findall(r'href="/console/payment-batches/([0-9a-f-]{36})"', section)


async def test_the_reconciliation_pages_through_every_batch(api, monkeypatch):
    monkeypatch.setattr(payment_pages, "RECONCILED_PAGE", 1)
    older = await _approved_batch(api, "621223100201-001", 30_000)
    newer = await _approved_batch(api, "621223100201-002", 45_000)
    async with Console(api, "caizheng") as office:
        first = await office.get("/console/reconciliation")
        assert first.status_code == 200 and _batches_shown(first.text) == [newer]
        assert "450.00" in first.text
        earlier = re.search(r'<a id="earlier-batches" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
        second = await office.get(earlier)
        assert second.status_code == 200 and _batches_shown(second.text) == [older]
        assert "300.00" in second.text and 'id="earlier-batches"' not in second.text
        # The county's own figures stay the whole county's on every page.
        assert re.search(r'id="county-verdict">[^<]*', first.text).group(0) == re.search(
            r'id="county-verdict">[^<]*', second.text
        ).group(0)
        bad = await office.get("/console/reconciliation", cursor="not-a-cursor")
        assert bad.status_code == 422 and "分页游标无效" in bad.text
