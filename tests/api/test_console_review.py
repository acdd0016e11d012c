"""The console of village reviewers and township approvers, over HTTP (no browser): the award queue
with each check in words, reviews one by one and as a checked batch (a rejection needs its
reason), the township's written decision on a held application, publishing the list (公示), the
objection filed by the public and resolved in the console with what it released, and the JSON
list of notices (GET /notices) each caller sees in its own region. The same in Chromium is
tests/browser/test_console_review.py."""

from __future__ import annotations

import re

from tests.access import add_user, unchanged
from tests.api.console_client import Console
from tests.api.test_awards import (
    START,
    _plain_id,
    apply,
    hh_no,
    import_list,
    make_program,
    record_exit,
    set_today,
)
from tests.api.test_console import year_in_notice
from tests.conftest import assert_no_full_numbers

WANGHE = "621223100202"


async def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def field_errors(html: str) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>([^<]+)', html)


async def status_of(api, app_id: str) -> dict:
    return await ok(await api.as_("xiangzhen", "GET", f"/applications/{app_id}"))


async def both_levels(api, app_id: str) -> None:
    for level, user in (("village", "cunwei"), ("township", "xiangzhen")):
        body = {"level": level, "decision": "approve", "reason": ""}
        await ok(await api.as_(user, "POST", f"/applications/{app_id}/reviews", json=body), 201)


async def applied(api) -> tuple[str, dict[int, str]]:
    """A programme; households 1, 2 and 3 of 南沿沟村 exited and applied (2 on its phone, with its
    breakdown and commitment), 4 held by the vehicle register, and one household of 王何村."""
    await set_today(api, START)
    pid = await make_program(api)
    hit = await _plain_id(api, hh_no(4))
    assert (await import_list(api, f"id_number,source\n{hit},vehicle\n")).status_code == 201
    ids = {}
    for n in (1, 2, 3, 4):
        await record_exit(api, hh_no(n))
        r = await apply(api, pid, hh_no(n), as_household=n == 2)
        ids[n] = (await ok(r, 201))["id"]
    other = await api.household_id(hh_no(5, WANGHE))
    body = {"household_id": other, "declared_income_fen": 450_000}
    ids[0] = (await ok(await api.as_("admin", "POST", f"/award-programs/{pid}/applications", json=body), 201))["id"]
    return pid, ids


async def test_two_levels_review_in_the_console_with_reasons_and_a_written_decision(api):
    pid, ids = await applied(api)
    async with Console(api, "cunwei") as village:
        home = await village.get("/console/")
        assert "待我审核的奖励申请（3）" in home.text
        queue = await village.get("/console/reviews")
        assert queue.status_code == 200
        assert_no_full_numbers(queue.text)
        # Each check in words; only the village's own pending applications, not 王何村's.
        for n in (1, 2, 3):
            assert hh_no(n) in queue.text
        assert hh_no(4) not in queue.text and hh_no(5, WANGHE) not in queue.text
        assert "年初为在册贫困户" in queue.text and "人均纯收入达到标准" in queue.text
        assert "农户自己申请" in queue.text and "村里代为申请" in queue.text

        # A rejection without its reason changes nothing and says so next to the field.
        async with unchanged(api, "a rejection without a reason"):
            r = await village.post("/console/reviews", {"application_id": ids[3], "decision": "reject", "reason": ""})
            assert r.status_code == 422 and field_errors(r.text) == ["不通过须写明理由"]
            r = await village.post("/console/reviews", {"decision": "approve"})
            assert r.status_code == 422 and "请先勾选要审核的申请" in r.text
        # A checked batch: 1 and 2 pass together.
        r = await village.client.post(
            "/console/reviews",
            data={"application_id": [ids[1], ids[2]], "decision": "approve", "reason": "", "csrf": village.csrf},
        )
        page = await village.follow(r)
        assert "所勾选的申请已审核" in page.text and "本次审核 2 份申请" in page.text
        # One by one, with a reason the household reads.
        await village.get(f"/console/applications/{ids[3]}")
        r = await village.post(
            f"/console/applications/{ids[3]}/review", {"decision": "reject", "reason": "家中有人在外务工收入未申报"}
        )
        page = await village.follow(r)
        assert "审核意见已记录" in page.text and "村级审核不通过" in page.text
        assert "家中有人在外务工收入未申报" in page.text
        # 王何村's application is not the village's: not found, as in the API.
        r = await village.get(f"/console/applications/{ids[0]}")
        assert r.status_code == 404

        # The household's own filing on its application's page.
        own = await village.get(f"/console/applications/{ids[2]}")
        assert "农户自己填报的内容" in own.text and "农户自己在手机上申请" in own.text
        assert "脱贫承诺" in own.text and "我承诺" in own.text and "9,000.00" in own.text

    for n, status in ((1, "pending_township"), (2, "pending_township"), (3, "rejected")):
        assert (await status_of(api, ids[n]))["status"] == status
    assert "家中有人在外务工收入未申报" in (await status_of(api, ids[3]))["status_reason"]

    async with Console(api, "xiangzhen") as township:
        home = await township.get("/console/")
        assert "待我审核的奖励申请（3）" in home.text
        assert home.text.index("待我审核的奖励申请") < home.text.index("辖区内的经营主体")
        queue = await township.get("/console/reviews")
        assert hh_no(1) in queue.text and hh_no(4) in queue.text and "待乡镇书面核实" in queue.text
        assert "比对名单（车辆、工商、财政供养）无记录" in queue.text and "车辆登记" in queue.text
        # The held one: a written decision, with its reason.
        page = await township.get(f"/console/applications/{ids[4]}")
        assert "乡镇书面核实决定" in page.text
        r = await township.post(f"/console/applications/{ids[4]}/decision", {"release": "yes", "decision_reason": ""})
        assert r.status_code == 422 and field_errors(r.text) == ["请填写书面决定"]
        r = await township.post(
            f"/console/applications/{ids[4]}/decision",
            {"release": "yes", "decision_reason": "车辆已于年初转让，核实无误"},
        )
        assert "书面决定已记录" in (await township.follow(r)).text
        await township.get(f"/console/applications/{ids[1]}")
        r = await township.post(f"/console/applications/{ids[1]}/review", {"decision": "approve", "reason": ""})
        await township.follow(r)
        r = await township.post(f"/console/applications/{ids[2]}/review", {"decision": "reject", "reason": "x"})
        assert r.status_code in (303,)
        programme = await township.get(f"/console/reviews/{pid}")
        assert programme.status_code == 200 and hh_no(5, WANGHE) in programme.text
        sheet = await township.get(f"/console/reviews/{pid}", format="xlsx")
        assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
    assert (await status_of(api, ids[4]))["status"] == "pending_village"
    assert (await status_of(api, ids[1]))["status"] == "approved"
    assert (await status_of(api, ids[2]))["status"] == "rejected"


async def test_publish_object_and_resolve_in_the_console(api):
    pid, ids = await applied(api)
    for n in (1, 2):
        await both_levels(api, ids[n])
    async with Console(api, "xiangzhen") as township:
        await township.get(f"/console/reviews/{pid}")
        page = await township.follow(await township.post(f"/console/reviews/{pid}/publish"))
        assert "名单已公示" in page.text and "公示中" in page.text
        notice_id = str(page.url).split("/")[-1].split("?")[0]
        assert f"/notices/{notice_id}/print" in page.text and f"/p/notices/{notice_id}" in page.text
        assert_no_full_numbers(page.text)

        # Someone objects on the public page's route; the console shows it, and what it holds.
        body = {"subject_id": ids[1], "reason": "这户家里新买了小汽车"}
        objection = await ok(await api.client.post(f"/notices/{notice_id}/objections", json=body), 201)
        page = await township.get(f"/console/notices/{notice_id}")
        assert "这户家里新买了小汽车" in page.text and "待乡镇核实处理：该户暂缓发放" in page.text
        assert (await status_of(api, ids[1]))["status"] == "objected"
        async with unchanged(api, "a resolution without a reason"):
            r = await township.post(
                f"/console/objections/{objection['id']}/resolve", {"notice_id": notice_id, "upheld": "no"}
            )
            assert r.status_code == 422 and field_errors(r.text) == ["请填写理由"]
        r = await township.post(
            f"/console/objections/{objection['id']}/resolve",
            {"notice_id": notice_id, "upheld": "no", "reason": "入户核实，车辆为亲戚所有"},
        )
        page = await township.follow(r)
        assert "异议已处理" in page.text and "异议不成立：该户恢复公示，公示期满后可以发放" in page.text
        assert "入户核实，车辆为亲戚所有" in page.text
        r = await township.post(
            f"/console/objections/{objection['id']}/resolve",
            {"notice_id": notice_id, "upheld": "yes", "reason": "again"},
        )
        assert r.status_code == 409 and "该异议已处理" in r.text
    assert (await status_of(api, ids[1]))["status"] == "in_notice"
    resolved = await ok(await api.as_("xiangzhen", "GET", f"/notices/{notice_id}/objections"))
    assert [(o["status"], o["resolution_reason"]) for o in resolved] == [("dismissed", "入户核实，车辆为亲戚所有")]

    # An upheld objection takes the household off the list.
    body = {"subject_id": ids[2], "reason": "户主在乡镇企业领工资"}
    second = await ok(await api.client.post(f"/notices/{notice_id}/objections", json=body), 201)
    async with Console(api, "xiangzhen") as township:
        await township.get(f"/console/notices/{notice_id}")
        r = await township.post(
            f"/console/objections/{second['id']}/resolve",
            {"notice_id": notice_id, "upheld": "yes", "reason": "核实属实"},
        )
        page = await township.follow(r)
        assert "异议成立：该户已从名单中撤下，不予奖励" in page.text
    assert (await status_of(api, ids[2]))["status"] == "rejected"

    # The print for the village board is a PDF anyone may fetch.
    pdf = await api.client.get(f"/notices/{notice_id}/print")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"

    # A village reviewer reads the notice and its objections but cannot resolve them, publish or
    # decide in the township's place, even by posting the forms.
    body = {"subject_id": ids[1], "reason": "再提一条"}
    third = await ok(await api.client.post(f"/notices/{notice_id}/objections", json=body), 201)
    async with Console(api, "cunwei") as village:
        page = await village.get(f"/console/notices/{notice_id}")
        assert page.status_code == 200 and "这户家里新买了小汽车" in page.text and "处理这条异议" not in page.text
        async with unchanged(api, "a village reviewer doing the township's work"):
            r = await village.post(
                f"/console/objections/{third['id']}/resolve", {"notice_id": notice_id, "upheld": "no", "reason": "x"}
            )
            assert r.status_code == 403
            assert (await village.post(f"/console/reviews/{pid}/publish")).status_code == 403
            r = await village.post(
                f"/console/applications/{ids[4]}/decision", {"release": "yes", "decision_reason": "x"}
            )
            assert r.status_code == 403
        listing = await village.get("/console/notices")
        assert notice_id in listing.text


async def test_the_json_list_of_notices_is_scoped_paginated_and_filtered(api):
    pid, ids = await applied(api)
    await both_levels(api, ids[1])
    first = (await ok(await api.as_("xiangzhen", "POST", f"/award-programs/{pid}/notices"), 201))["notice"]
    await both_levels(api, ids[2])
    await set_today(api, "2026-01-12")
    second = (await ok(await api.as_("xiangzhen", "POST", f"/award-programs/{pid}/notices"), 201))["notice"]

    listed = await ok(await api.as_("xiangzhen", "GET", "/notices"))
    assert [n["id"] for n in listed["items"]] == [second["id"], first["id"]]
    item = listed["items"][0]
    assert (item["kind"], item["subjects"], item["state"], item["open_objections"]) == ("award", 1, "open", 0)
    assert item["starts_on"] == "2026-01-12" and item["published_by"] == "township_approver:xiangzhen"
    page1 = await ok(await api.as_("shenji", "GET", "/notices", params={"limit": 1}))
    assert [n["id"] for n in page1["items"]] == [second["id"]] and page1["next_cursor"]
    page2 = await ok(await api.as_("shenji", "GET", "/notices", params={"limit": 1, "cursor": page1["next_cursor"]}))
    assert [n["id"] for n in page2["items"]] == [first["id"]] and page2["next_cursor"] is None
    assert (await ok(await api.as_("cunwei", "GET", "/notices", params={"kind": "distribution"})))["items"] == []
    await set_today(api, "2026-01-18")
    ended = await ok(await api.as_("caizheng", "GET", "/notices", params={"state": "ended"}))
    assert [n["id"] for n in ended["items"]] == [first["id"]]
    # Another village's reviewer sees none of 南沿沟村's notices; nor does an accountant get the list.
    await add_user(api, "cunwei2", "village_reviewer", WANGHE)
    assert (await ok(await api.as_("cunwei2", "GET", "/notices")))["items"] == []
    assert (await api.as_("kuaiji", "GET", "/notices")).status_code == 403
    r = await api.as_("caizheng", "GET", "/notices", params={"county_code": "620102000000"})
    assert r.status_code == 404
    r = await api.as_("caizheng", "GET", "/notices", params={"state": "soon"})
    assert r.status_code == 422 and "state" in r.text
    assert (await api.client.get("/notices")).status_code == 401


async def test_the_auditor_reads_the_audit_log_filtered_with_its_chain_verified(api):
    pid, ids = await applied(api)
    await both_levels(api, ids[1])
    async with Console(api, "shenji") as auditor:
        page = await auditor.get("/console/audit")
        assert page.status_code == 200 and "哈希链完整" in page.text
        assert_no_full_numbers(page.text)
        page = await auditor.get("/console/audit", actor="xiangzhen", action="award_application")
        rows = re.findall(r"<tr><td class=\"num\">[0-9,]+</td>.*?</tr>", page.text)
        assert rows and all("xiangzhen" in r and "award_application." in r for r in rows), rows
        assert any("award_application.approved" in r for r in rows)
        assert "cunwei" not in "".join(rows)
        page = await auditor.get("/console/audit", actor="xiangzhen", to="2000-01-01")
        assert "没有符合条件的记录" in page.text
        bad = await auditor.get("/console/audit", **{"from": "昨天"})
        assert bad.status_code == 422 and "起始日期不是有效日期" in bad.text
        sheet = await auditor.get("/console/audit", actor="caizheng", format="xlsx")
        assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
        verify = await auditor.get("/console/verify")
        assert verify.status_code == 200 and "全部 8 项核验通过" in verify.text
        assert "每笔分录借贷是否平衡" in verify.text
        # Every report, through the console's session.
        reports = await auditor.get("/console/reports", year="2025")
        assert reports.status_code == 200 and "<td>县有档</td>" in reports.text and "<td>乡镇有簿</td>" in reports.text
        links = sorted(set(re.findall(r'href="(/console/reports/[^"]+)"', reports.text)))
        assert len(links) >= 6, links
        for link in links:
            r = await auditor.client.get(link.replace("&amp;", "&"))
            assert r.status_code == 200, (link, r.text[:300])
            if "format=pdf" in link:
                assert r.content[:5] == b"%PDF-"
            elif "format=xlsx" in link:
                assert r.content[:2] == b"PK"
            else:
                assert "<svg" in r.text and "宕昌县" in r.text
    async with Console(api, "cunwei") as village:
        reports = await village.get("/console/reports")
        assert "<td>村有册</td>" in reports.text and "<td>县有档</td>" not in reports.text
        r = await village.client.get("/console/reports/register/621223000000?year=2025&format=xlsx")
        assert r.status_code == 404
        assert (await village.get("/console/audit")).status_code == 403
        assert (await village.get("/console/verify")).status_code == 403


async def test_a_plans_notice_is_listed_in_its_region_and_its_objection_blocks_posting_until_resolved(api):
    vid, members, plan = await year_in_notice(api)
    notice_id = (await ok(await api.as_("kuaiji", "GET", f"/distributions/{plan}")))["notice_id"]
    for login in ("xiangzhen", "cunwei", "shenji"):
        listed = await ok(await api.as_(login, "GET", "/notices", params={"kind": "distribution"}))
        assert [n["id"] for n in listed["items"]] == [notice_id], login
    await add_user(api, "cunwei2", "village_reviewer", WANGHE)
    assert (await ok(await api.as_("cunwei2", "GET", "/notices")))["items"] == []
    household = await api.household_id("621223100201-001")
    body = {"subject_id": household, "reason": "我家交的鸡蛋不止这些"}
    objection = await ok(await api.client.post(f"/notices/{notice_id}/objections", json=body), 201)
    async with Console(api, "xiangzhen") as township:
        approvals = await township.get("/console/approvals")
        assert "公示中的分配方案（1）" in approvals.text and f"/console/notices/{notice_id}" in approvals.text
        page = await township.get(f"/console/notices/{notice_id}")
        assert "待乡镇核实处理：方案暂不能入账" in page.text
        r = await township.post(
            f"/console/objections/{objection['id']}/resolve",
            {"notice_id": notice_id, "upheld": "no", "reason": "按过磅单核对无误"},
        )
        assert "异议不成立：不再阻止方案入账" in (await township.follow(r)).text


async def test_every_review_form_posted_without_its_token_changes_nothing(api):
    pid, ids = await applied(api)
    await both_levels(api, ids[1])
    notice = (await ok(await api.as_("xiangzhen", "POST", f"/award-programs/{pid}/notices"), 201))["notice"]
    body = {"subject_id": ids[1], "reason": "收入不实"}
    await ok(await api.client.post(f"/notices/{notice['id']}/objections", json=body), 201)
    async with Console(api, "xiangzhen") as township:
        forms = set()
        for path in (
            "/console/reviews",
            f"/console/reviews/{pid}",
            f"/console/applications/{ids[4]}",
            f"/console/notices/{notice['id']}",
        ):
            page = await township.get(path)
            forms |= set(re.findall(r'<form method="post" action="([^"]+)"', page.text))
        forms.discard("/console/logout")
        assert len(forms) >= 4, forms
        data = {
            "decision": "approve",
            "release": "yes",
            "decision_reason": "x",
            "upheld": "no",
            "reason": "x",
            "notice_id": notice["id"],
            "application_id": ids[4],
        }
        async with unchanged(api, "a review form without its CSRF token"):
            for action in sorted(forms):
                r = await township.post(action, data, csrf=False)
                assert r.status_code == 403 and "未作任何更改" in r.text, action
