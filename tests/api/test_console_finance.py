"""The county finance office in the staff console over HTTP (no browser), and the JSON list of
award programmes: programmes created and followed, cross-check lists uploaded, grants run, payment
batches built, approved by a second person, paid through the bank's return file and reconciled,
and the registry of households; every figure on a page checked against the API's, to the fen.
The whole walk in a browser is tests/browser/test_console_finance.py."""

from __future__ import annotations

from tests.api.test_awards import COUNTY, make_program, set_today


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
