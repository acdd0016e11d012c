"""The console's shareholder register (股东名册) and share certificates hold every holding.

Before, both read the workflow's first page, a hundred holdings: a cooperative of more members
had a register page and download that stopped at the hundredth, and its later shareholders'
certificates answered 404 ("该股东在这一天没有这类股份")."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.api.console_client import Console
from tests.api.test_ventures import add_member, make_venture, move

MEMBERS = 102


async def _large_cooperative(api) -> tuple[str, list[str]]:
    vid = await make_venture(api)
    members = [await add_member(api, vid, "person", f"社员{n:03d}") for n in range(1, MEMBERS + 1)]
    for n, member in enumerate(members, 1):
        r = await move(
            api, vid, kind="subscribe", to_member_id=member, shares=n, capital_fen=100 * n, effective_date="2025-01-10"
        )
        assert r.status_code == 201, r.text
    return vid, members


async def test_the_register_and_certificates_of_a_cooperative_of_more_than_a_hundred(api):
    vid, members = await _large_cooperative(api)
    async with Console(api, "kuaiji") as accountant:
        sheet = await accountant.get(f"/console/ventures/{vid}/register", as_of="2025-12-31", format="xlsx")
        assert sheet.status_code == 200, sheet.text
        rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
        names = [row[0] for row in rows if row[0] and str(row[0]).startswith("社员")]
        assert names == [f"社员{n:03d}" for n in range(1, MEMBERS + 1)]
        page = await accountant.get(f"/console/ventures/{vid}/register", as_of="2025-12-31")
        # The totals are the whole register's: 1 + 2 + … + 102 shares, 100 fen a share.
        total = MEMBERS * (MEMBERS + 1) // 2
        assert f"{total:,}" in page.text and f"{total:,}.00" in page.text
        last = members[-1]
        certificate = await accountant.get(f"/console/ventures/{vid}/certificates/{last}/ordinary", as_of="2025-12-31")
        assert certificate.status_code == 200, certificate.text
        assert "<dd>社员102</dd>" in certificate.text and "<dd>102 股</dd>" in certificate.text
        assert "<dd>102.00 元</dd>" in certificate.text
