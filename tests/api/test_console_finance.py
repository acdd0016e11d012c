"""The county finance office in the staff console over HTTP (no browser), and the JSON list of
award programmes: programmes created and followed, cross-check lists uploaded, grants run, payment
batches built, approved by a second person, paid through the bank's return file and reconciled,
and the registry of households; every figure on a page checked against the API's, to the fen.
The whole walk in a browser is tests/browser/test_console_finance.py."""

from __future__ import annotations

from tests.api.console_client import Console
from tests.api.test_awards import COUNTY, make_program, set_today


def yuan(fen: int) -> str:
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


async def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


# ---- GET /award-programs -------------------------------------------------------------------------


async def test_award_programmes_are_listed_newest_first_by_county_year_and_kind(api):
    await set_today(api, "2026-01-10")
    before = await ok(await api.as_("caizheng", "GET", "/award-programs", params={"limit": 500}))
    first = await make_program(api, year=2025, budget_fen=900_000)
    second = await make_program(api, year=2025, kind="xiaokang", amount_fen=50_000, budget_fen=500_000)
    page = await ok(await api.as_("shenji", "GET", "/award-programs", params={"limit": 1}))
    assert [p["id"] for p in page["items"]] == [second] and page["next_cursor"]
    rest = await ok(
        await api.as_("shenji", "GET", "/award-programs", params={"limit": 1, "cursor": page["next_cursor"]})
    )
    assert [p["id"] for p in rest["items"]] == [first]
    exit_only = await ok(await api.as_("cunwei", "GET", "/award-programs", params={"kind": "exit", "year": 2025}))
    ids = [p["id"] for p in exit_only["items"]]
    assert first in ids and second not in ids
    shown = next(p for p in exit_only["items"] if p["id"] == first)
    assert shown == await ok(await api.as_("caizheng", "GET", f"/award-programs/{first}"))
    assert shown["budget_fen"] == 900_000 and shown["by_level"]["province"]["budget_fen"] == 450_000
    everything = await ok(await api.as_("caizheng", "GET", "/award-programs", params={"limit": 500}))
    assert len(everything["items"]) == len(before["items"]) + 2
    # Another county is not the officer's to read; an accountant reads no programme at all.
    r = await api.as_("caizheng", "GET", "/award-programs", params={"county_code": "621224000000"})
    assert r.status_code == 403
    r = await api.as_("kuaiji", "GET", "/award-programs")
    assert r.status_code == 403
    r = await api.as_("caizheng", "GET", "/award-programs", params={"kind": "other"})
    assert r.status_code == 422
    assert shown["county_code"] == COUNTY


# ---- award programmes in the console -------------------------------------------------------------


async def test_a_programme_opened_in_the_console_shows_its_budget_by_level(api):
    await set_today(api, "2026-01-10")
    async with Console(api, "caizheng") as c:
        page = await c.get("/console/award-programs/new")
        assert page.status_code == 200 and "设立奖励项目" in page.text
        bad = {"kind": "exit", "year": "2025", "amount": "300.001", "budget": "9,000.00"}
        bad |= {"province_pct": "50", "city_pct": "30", "county_pct": "30", "notice_days": "3"}
        r = await c.post("/console/award-programs", bad)
        assert r.status_code == 422 and "每户奖励金额应为" in r.text
        r = await c.post("/console/award-programs", bad | {"amount": "300"})
        assert r.status_code == 422 and "合计应为 100%" in r.text
        r = await c.post("/console/award-programs", bad | {"amount": "300", "county_pct": "20"})
        assert r.status_code == 422 and "公示期不得少于7天" in r.text
        good = bad | {"amount": "300.00", "budget": "10,000.01", "county_pct": "20", "notice_days": "7"}
        page = await c.follow(await c.post("/console/award-programs", good))
        assert "奖励项目已设立" in page.text
        pid = page.url.path.rsplit("/", 1)[1]
        shown = await ok(await api.as_("caizheng", "GET", f"/award-programs/{pid}"))
        assert shown["amount_fen"] == 30_000 and shown["budget_fen"] == 1_000_001
        for level in ("province", "city", "county"):
            assert f'<td class="num">{yuan(shown["by_level"][level]["budget_fen"])}</td>' in page.text
        assert "data:image/svg+xml;base64," in page.text
        listing = await c.get("/console/award-programs")
        assert shown["name"] in listing.text and yuan(1_000_001) in listing.text
        sheet = await c.get("/console/award-programs", format="xlsx")
        assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
