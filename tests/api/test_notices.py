"""Public notices (公示) and objections (异议) as a mechanism any workflow uses."""

import datetime as dt
import re

import asyncpg
import pytest

from service.core.audit import Actor
from service.notices.workflow import open_notice, open_objections_for
from tests.conftest import assert_no_full_numbers

COUNTY = "621223000000"
MASKED_NAME = re.compile(r"^\S\*+\S?$")
MASKED_ID = re.compile(r"^621223\*{8}[0-9]{3}[0-9X]$")


async def notice_of(api, numbers: list[str], *, today: dt.date, days: int = 7, kind: str = "distribution"):
    conn = await api.connect()
    try:
        rows = await conn.fetch("SELECT id, household_no FROM households WHERE household_no = ANY($1::text[])", numbers)
        subjects = [(f"line-{r['household_no']}", r["id"], 12_345) for r in rows]
        async with conn.transaction():
            notice = await open_notice(
                conn, Actor.system("test"), COUNTY, kind, "source-1", subjects, days, today, title="测试公示"
            )
        return str(notice["id"]), [s[0] for s in subjects]
    finally:
        await conn.close()


async def test_public_page_is_masked_and_needs_no_login(api):
    await api.as_("admin", "PUT", "/admin/clock", json={"today": "2026-03-01"})
    numbers = [f"621223100202-{n:03d}" for n in range(1, 8)]
    nid, subjects = await notice_of(api, numbers, today=dt.date(2026, 3, 1), days=10)
    r = await api.client.get(f"/notices/{nid}", params={"limit": 5})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["title"] == "测试公示" and page["county_name"] == "宕昌县"
    assert (page["starts_on"], page["ends_on"], page["state"]) == ("2026-03-01", "2026-03-11", "open")
    assert "公示期" in page["how_to_object"] and page["objection_url"].endswith(f"/notices/{nid}/objections")
    assert len(page["items"]) == 5 and page["next_cursor"]
    for item in page["items"]:
        assert MASKED_NAME.match(item["name"]), item["name"]
        assert MASKED_ID.match(item["id_number"]), item["id_number"]
        assert item["village_name"] == "王何村" and item["amount_fen"] == 12_345
    assert_no_full_numbers(r.text)
    rest = (await api.client.get(f"/notices/{nid}", params={"limit": 5, "cursor": page["next_cursor"]})).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert (await api.client.get("/notices/not-a-notice")).status_code == 404


async def test_objections_only_during_the_notice_and_resolved_once(api):
    await api.as_("admin", "PUT", "/admin/clock", json={"today": "2026-03-01"})
    nid, subjects = await notice_of(api, ["621223100201-020", "621223100201-021"], today=dt.date(2026, 3, 2))
    body = {"subject_id": subjects[0], "reason": "该户实际收入较高"}
    r = await api.client.post(f"/notices/{nid}/objections", json=body)
    assert r.status_code == 409, "the notice has not started"
    await api.as_("admin", "PUT", "/admin/clock", json={"today": "2026-03-09"})  # the last day: 3-02 + 7
    r = await api.client.post(f"/notices/{nid}/objections", json={"subject_id": "nobody", "reason": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "subject_id"
    r = await api.client.post(f"/notices/{nid}/objections", json={**body, "extra": 1})
    assert r.status_code in (400, 422)
    r = await api.client.post(f"/notices/{nid}/objections", json=body)
    assert r.status_code == 201 and r.json()["status"] == "open", r.text
    objection = r.json()["id"]

    conn = await api.connect()
    try:
        open_ones = await open_objections_for(conn, nid)
        assert [str(o["id"]) for o in open_ones] == [objection]
        assert await open_objections_for(conn, "not-a-uuid") == []
    finally:
        await conn.close()
    r = await api.client.get(f"/notices/{nid}")
    assert [i["objection_open"] for i in r.json()["items"] if i["subject_id"] == subjects[0]] == [True]
    listed = await api.as_("xiangzhen", "GET", f"/notices/{nid}/objections")
    assert [o["id"] for o in listed.json()] == [objection]
    assert (await api.client.get(f"/notices/{nid}/objections")).status_code == 401

    # Another township cannot see it; its own township resolves it, once.
    r = await api.as_(
        "admin",
        "POST",
        "/users",
        json={
            "username": "xiang2",
            "password": "huinong-demo",
            "role": "township_approver",
            "region_code": "621223101000",
        },
    )
    assert r.status_code == 201, r.text
    r = await api.as_("xiang2", "POST", f"/objections/{objection}/resolve", json={"upheld": True, "reason": "x"})
    assert r.status_code == 404
    r = await api.as_("xiangzhen", "POST", f"/objections/{objection}/resolve", json={"upheld": False, "reason": ""})
    assert r.status_code == 422
    r = await api.as_(
        "xiangzhen",
        "POST",
        f"/objections/{objection}/resolve",
        json={"upheld": False, "reason": "经入户核实，收入属实"},
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    r = await api.as_("xiangzhen", "POST", f"/objections/{objection}/resolve", json={"upheld": True, "reason": "再议"})
    assert r.status_code == 409
    conn = await api.connect()
    try:
        assert await open_objections_for(conn, nid) == []
        actions = {r["action"] for r in await conn.fetch("SELECT action FROM audit_log WHERE county_code = $1", COUNTY)}
        assert {"notice.publish", "objection.file", "objection.dismissed"} <= actions
        with pytest.raises(asyncpg.PostgresError):
            await conn.execute(
                "UPDATE objections SET status = 'upheld', resolved_at = now() WHERE id = $1::uuid", objection
            )
    finally:
        await conn.close()

    await api.as_("admin", "PUT", "/admin/clock", json={"today": "2026-03-10"})
    r = await api.client.post(f"/notices/{nid}/objections", json=body)
    assert r.status_code == 409
    assert (await api.client.get(f"/notices/{nid}")).json()["state"] == "ended"


async def test_open_notice_refuses_what_it_cannot_publish(api):
    conn = await api.connect()
    try:
        with pytest.raises(ValueError):
            await open_notice(conn, Actor.system("test"), COUNTY, "poster", "s", [("a", None)], 7, dt.date(2026, 1, 1))
        with pytest.raises(ValueError):
            await open_notice(conn, Actor.system("test"), COUNTY, "award", "s", [], 7, dt.date(2026, 1, 1))
    finally:
        await conn.close()
