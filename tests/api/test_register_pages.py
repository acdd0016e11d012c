"""GET /ventures/{id}/register answers `items` and `next_cursor` like every list (issue 12, item 10;
API.md, pagination), and its totals are the whole register's on every page."""

from __future__ import annotations

from tests.api.test_ventures import add_member, make_venture, move


async def test_the_register_pages_by_member_and_class(api):
    vid = await make_venture(api)
    collective = await add_member(api, vid, "collective", "南沿沟村集体")
    r = await move(api, vid, kind="subscribe", to_member_id=collective, shares=1000, capital_fen=1_000_000,
                   effective_date="2025-01-10")  # fmt: skip
    assert r.status_code == 201, r.text
    for i in range(1, 4):
        hh = await add_member(api, vid, "household", f"农户{i}", f"621223100201-00{i}")
        r = await move(api, vid, kind="allocate", from_member_id=collective, to_member_id=hh, share_class="poverty",
                       shares=10 * i, capital_fen=10_000 * i, effective_date="2025-03-01")  # fmt: skip
        assert r.status_code == 201, r.text
    whole = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/register", params={"as_of": "2025-12-31"})).json()
    assert whole["next_cursor"] is None and len(whole["items"]) == 4

    seen, cursor, pages = [], None, 0
    while True:
        params = {"as_of": "2025-12-31", "limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/register", params=params)).json()
        pages += 1
        assert len(page["items"]) == 1
        assert (page["total_shares"], page["total_capital_fen"]) == (1000, 1_000_000)
        seen += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert pages == 4 and seen == whole["items"]
    r = await api.as_("kuaiji", "GET", f"/ventures/{vid}/register", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert r.status_code == 422
    r = await api.as_("kuaiji", "GET", f"/ventures/{vid}/register", params={"limit": 501})
    assert r.status_code == 422
