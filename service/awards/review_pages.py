"""The console's award review (奖励审核) for the village branch (村级审核) and the township (乡镇审批).

Each reviewer's queue comes first: the applications waiting at its level in its region, each
eligibility check in words, approved or rejected (with a reason) one by one or as a checked
batch; the township also decides in writing on the applications the checks held (比对名单, 分户)
and publishes the approved list (公示). An application's page shows what the household itself
filed (its income breakdown and commitment) next to what the service recorded of its income.

Every action calls service/awards/workflow.py in a transaction, as the API does; a refusal shows
the page again with its reason in Chinese and changes nothing (a batch is all or none).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import asyncpg
from litestar import Request, Response

from schemas.awards import ApplicationOut, DecisionCreate, ProgramOut, ReviewCreate
from service.awards import workflow
from service.awards.rules import INCOME_FIELDS, KIND_WORDS
from service.console.forms import Form
from service.console.layout import DONE_WORDS, Desk, render, see_other
from service.console.places import region_names
from service.console.routing import console_get, console_post, form_of
from service.console.tables import Column, listing, table_page
from service.core.clock import Clock
from service.core.errors import DomainError, not_found
from service.core.principal import Role
from service.core.problems import status_of

REVIEWS = "/console/reviews"

STATUS_WORDS = {
    "held": "待乡镇书面核实",
    "pending_village": "待村级审核",
    "pending_township": "待乡镇审核",
    "approved": "乡镇审核通过，待公示",
    "in_notice": "公示中",
    "objected": "公示中，有异议待处理",
    "over_budget": "公示期满，预算不足待发放",
    "granted": "已批准发放",
    "rejected": "未通过",
    "withdrawn": "农户已撤回",
}
CHECK_WORDS = {
    "registered_poor_at_year_start": "年初为在册贫困户",
    "exit_recorded": "已登记脱贫",
    "income_at_or_above_line": "人均纯收入达到标准",
    "no_earlier_exit_award": "未领过脱贫奖（含分户关联户）",
    "no_cross_check_hit": "比对名单（车辆、工商、财政供养）无记录",
    "split_after_registration": "建档立卡后未分户",
}
REVIEW_WORDS = {
    ("village", "approve"): "村级审核通过",
    ("village", "reject"): "村级审核不通过",
    ("township", "approve"): "乡镇审核通过",
    ("township", "reject"): "乡镇审核不通过",
    ("hold", "release"): "乡镇书面决定：继续办理",
    ("hold", "reject"): "乡镇书面决定：不予奖励",
}
LEVEL_OF_ROLE: dict[str, Literal["village", "township"]] = {
    Role.VILLAGE_REVIEWER: "village",
    Role.TOWNSHIP_APPROVER: "township",
}
DECISIONS: dict[str, str] = {"approve": "通过", "reject": "不通过"}


def decision_of(value: str) -> Literal["approve", "reject"]:
    return "reject" if value == "reject" else "approve"


LABELS = {"decision": "审核意见", "reason": "理由", "release": "决定", "decision_reason": "书面决定"}

DONE_WORDS.update(
    {
        "batch-reviewed": "所勾选的申请已审核。",
        "application-reviewed": "审核意见已记录。",
        "decision-recorded": "书面决定已记录。",
        "published": "名单已公示。",
    }
)

QUEUE_COLUMNS = [
    Column("household_no", "户号"),
    Column("name", "户主"),
    Column("village", "所在村"),
    Column("program", "奖励项目"),
    Column("income", "申报人均纯收入（元）", "yuan"),
    Column("checks", "资格审查"),
    Column("filed", "申请方式"),
    Column("status", "状态"),
]
PROGRAM_COLUMNS = [*QUEUE_COLUMNS[:2], QUEUE_COLUMNS[2], QUEUE_COLUMNS[4], QUEUE_COLUMNS[7], Column("link", "", "link")]


def check_words(app: ApplicationOut) -> str:
    """The checks in one line: every one passed, or those that failed with their detail."""
    failed = [c for c in app.checks if not c.passed]
    if not failed:
        return "全部通过"
    return "；".join(f"未通过“{CHECK_WORDS.get(c.name, c.name)}”：{c.detail}" for c in failed)


def application_row(app: ApplicationOut, villages: dict[str, str], programs: dict[str, str]) -> dict[str, Any]:
    return {
        "id": app.id,
        "app": app,
        "household_no": (app.household_no, f"/console/applications/{app.id}"),
        "name": app.household_name,
        "village": villages.get(app.village_code, app.village_code),
        "program": programs.get(app.program_id, KIND_WORDS.get(app.program_kind, "")),
        "income": app.declared_income_fen,
        "checks": check_words(app),
        "filed": "农户自己申请" if app.filed_by_household else "村里代为申请",
        "status": STATUS_WORDS.get(app.status, app.status),
        "link": (
            "审核" if app.status in ("pending_village", "pending_township", "held") else "查看",
            f"/console/applications/{app.id}",
        ),
    }


def program_name(p: ProgramOut) -> str:
    return p.name or f"{p.year}年度{KIND_WORDS.get(p.kind, p.kind)}"


async def _queue_page(desk: Desk, conn: asyncpg.Connection, form: Form, status: int = 200) -> Response:
    desk.section = "reviews"
    if desk.role == Role.ACCOUNTANT:
        raise not_found("页面")  # an accountant keeps ventures' books; awards are not its work
    programs = (await workflow.list_programs(conn, desk.principal, limit=500)).items
    names = {p.id: program_name(p) for p in programs}

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.review_queue(conn, desk.principal, limit=limit, cursor=cursor)
        villages = await region_names(conn, [a.village_code for a in page.items])
        return [application_row(a, villages, names) for a in page.items], page.next_cursor

    table = await listing(
        desk,
        fetch,
        QUEUE_COLUMNS,
        title="待我审核的奖励申请",
        filename="review-queue",
        page_size=100,
        empty="现在没有等待审核的申请",
    )
    return table_page(
        desk,
        table,
        "console/reviews.html",
        status,
        form=form,
        programs=programs,
        level=LEVEL_OF_ROLE.get(desk.role),
        waiting=await workflow.review_queue_count(conn, desk.principal),
        check_names=CHECK_WORDS,
    )


@console_get(REVIEWS)
async def reviews_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    return await _queue_page(desk, conn, Form({"decision": "approve"}, LABELS))


def _review_of(form: Form, desk: Desk) -> ReviewCreate | None:
    """The review a form asks for, at the reader's level; None with the form's errors set."""
    decision = form.choice("decision", DECISIONS)
    reason = form.text("reason", required=False, max_length=2000) or ""
    if decision == "reject" and not reason:
        form.errors["reason"] = "不通过须写明理由"
    level = LEVEL_OF_ROLE.get(desk.role)
    if level is None:
        form.general = "只有村级审核人和乡镇审批人可以审核申请"
    if not form.ok or decision is None or level is None:
        return None
    return ReviewCreate(level=level, decision=decision_of(decision), reason=reason)


@console_post(REVIEWS)
async def batch_review_form(request: Request, desk: Desk, conn: asyncpg.Connection) -> Response:
    """A checked batch of the queue, approved or rejected with one reason: all or none."""
    ids = [str(i) for i in (await request.form()).getall("application_id", [])]
    form = Form(await form_of(request), LABELS)
    data = _review_of(form, desk)
    if data is not None and not ids:
        form.general = "请先勾选要审核的申请"
    if data is None or not form.ok:
        return await _queue_page(desk, conn, form, 422)
    try:
        async with conn.transaction():
            done = await workflow.review_each(conn, desk.actor, desk.principal, ids, data)
    except DomainError as problem:
        form.take(problem)
        return await _queue_page(desk, conn, form, status_of(problem))
    return see_other(f"{REVIEWS}?reviewed={len(done)}", "batch-reviewed")


# ---- one programme's applications in the reader's region ----------------------------------------


@console_get(f"{REVIEWS}/{{program_id:str}}")
async def program_applications_page(desk: Desk, conn: asyncpg.Connection, program_id: str) -> Response:
    desk.section = "reviews"
    program = await workflow.get_program(conn, desk.principal, program_id)
    chosen = desk.query.get("status") or None
    status = chosen if chosen in STATUS_WORDS else None
    names = {program.id: program_name(program)}

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_applications(
            conn, desk.principal, program_id, status=status, limit=limit, cursor=cursor
        )
        villages = await region_names(conn, [a.village_code for a in page.items])
        return [application_row(a, villages, names) for a in page.items], page.next_cursor

    table = await listing(
        desk, fetch, PROGRAM_COLUMNS, title=f"{program_name(program)}：本辖区的申请", filename="applications"
    )
    return table_page(
        desk,
        table,
        "console/review_program.html",
        program=program,
        statuses=list(STATUS_WORDS.items()),
        can_publish=desk.role in (Role.TOWNSHIP_APPROVER, Role.ADMIN),
    )


@console_post(f"{REVIEWS}/{{program_id:str}}/publish")
async def publish_form(desk: Desk, conn: asyncpg.Connection, clock: Clock, program_id: str) -> Response:
    try:
        async with conn.transaction():
            published = await workflow.publish(conn, desk.actor, desk.principal, clock.today(), program_id)
    except DomainError as problem:
        return render(desk, "console/error.html", status_of(problem), heading="不能公示", message=problem.detail)
    notice = published.notice
    return see_other(f"/console/notices/{notice.id}" if notice else f"{REVIEWS}/{program_id}", "published")


# ---- one application ------------------------------------------------------------------------------


def _actions(desk: Desk, app: ApplicationOut) -> set[str]:
    level = LEVEL_OF_ROLE.get(desk.role)
    can: set[str] = set()
    if level == "village" and app.status == "pending_village":
        can.add("review")
    if level == "township" and app.status == "pending_township":
        can.add("review")
    if level == "township" and app.status == "held":
        can.add("decide")
    return can


async def _application_page(
    desk: Desk, conn: asyncpg.Connection, application_id: str, form: Form, status: int = 200
) -> Response:
    desk.section = "reviews"
    app = await workflow.get_application(conn, desk.principal, application_id)
    program = await workflow.get_program(conn, desk.principal, app.program_id)
    villages = await region_names(conn, [app.village_code])
    return render(
        desk,
        "console/application.html",
        status,
        app=app,
        program=program,
        program_title=program_name(program),
        village=villages[app.village_code],
        status_words=STATUS_WORDS.get(app.status, app.status),
        check_names=CHECK_WORDS,
        review_words=REVIEW_WORDS,
        income_fields=INCOME_FIELDS,
        can=_actions(desk, app),
        level=LEVEL_OF_ROLE.get(desk.role),
        form=form,
    )


@console_get("/console/applications/{application_id:str}")
async def application_page(desk: Desk, conn: asyncpg.Connection, application_id: str) -> Response:
    return await _application_page(desk, conn, application_id, Form({"decision": "approve"}, LABELS))


async def _act_on(
    desk: Desk,
    conn: asyncpg.Connection,
    application_id: str,
    form: Form,
    work: Callable[[], Awaitable[Any]],
    done: str,
    aliases: dict[str, str] | None = None,
) -> Response:
    """Run one action on the application in a transaction; a refusal shows its page again, unchanged."""
    try:
        async with conn.transaction():
            await work()
    except DomainError as problem:
        form.take(problem, aliases)
        return await _application_page(desk, conn, application_id, form, status_of(problem))
    return see_other(f"/console/applications/{application_id}", done)


@console_post("/console/applications/{application_id:str}/review")
async def review_form(request: Request, desk: Desk, conn: asyncpg.Connection, application_id: str) -> Response:
    form = Form(await form_of(request), LABELS)
    data = _review_of(form, desk)
    if data is None:
        return await _application_page(desk, conn, application_id, form, 422)

    async def work() -> Any:
        return await workflow.review(conn, desk.actor, desk.principal, application_id, data)

    return await _act_on(desk, conn, application_id, form, work, "application-reviewed")


@console_post("/console/applications/{application_id:str}/decision")
async def decision_form(request: Request, desk: Desk, conn: asyncpg.Connection, application_id: str) -> Response:
    """The township's written decision on a held application (书面核实决定): go on, or not at all."""
    form = Form(await form_of(request), LABELS)
    release = form.choice("release", {"yes": "继续办理", "no": "不予奖励"})
    reason = form.text("decision_reason", max_length=2000)
    if not form.ok or release is None or reason is None:
        return await _application_page(desk, conn, application_id, form, 422)
    data = DecisionCreate(release=release == "yes", reason=reason)

    async def work() -> Any:
        return await workflow.decide(conn, desk.actor, desk.principal, application_id, data)

    return await _act_on(desk, conn, application_id, form, work, "decision-recorded", {"reason": "decision_reason"})


PAGES = [
    reviews_page,
    batch_review_form,
    program_applications_page,
    publish_form,
    application_page,
    review_form,
    decision_form,
]
