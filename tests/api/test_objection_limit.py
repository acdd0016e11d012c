"""The public objection form cannot be flooded from one address."""

from tests.api.test_distribution_workflow import cooperative_of_design_md, set_today


async def test_one_address_files_at_most_20_objections_an_hour(api):
    await set_today(api, "2026-01-10")
    vid, _ = await cooperative_of_design_md(api)
    did = (
        await api.as_(
            "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 1_000_000}
        )
    ).json()["id"]
    await api.as_("kuaiji", "POST", f"/distributions/{did}/submit")
    notice_id = (await api.as_("xiangzhen", "POST", f"/distributions/{did}/approve")).json()["notice_id"]
    household = await api.household_id("621223100201-001")
    for n in range(20):
        r = await api.client.post(
            f"/notices/{notice_id}/objections", json={"subject_id": household, "reason": f"异议{n}"}
        )
        assert r.status_code == 201, r.text
    r = await api.client.post(f"/notices/{notice_id}/objections", json={"subject_id": household, "reason": "再一条"})
    assert r.status_code == 429 and r.headers["retry-after"] == "3600"
    conn = await api.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM objections") == 20
    finally:
        await conn.close()
