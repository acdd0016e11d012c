"""A household's award pages on its phone, and the public check of a certificate.

The household applies for its exit or 小康 award itself (自愿申请): the application page works out
its 人均纯收入 the national survey's way, prefilled with what the service recorded of its income
that year, says plainly whether it reaches the year's line, and takes the commitment; the
application's page then shows the checks in the household's words, the stage, the reasons, the
notice and, once granted, the certificate and the payment. Every figure comes from the same
workflows the API answers with; another household's application answers 404 like a missing one.
No page needs JavaScript: the 计算 button posts the form and the page comes back with the figure.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import asyncpg
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from schemas.awards import ApplicationCreate, ApplicationOut, OpenProgramOut
from schemas.awards import IncomeBreakdown as IncomeBreakdownIn
from service.awards.rules import (
    COMMITMENT_TEXT,
    COMMITMENT_TITLE,
    INCOME_FIELDS,
    KIND_WORDS,
    STEPS,
    WITHDRAWABLE,
    award_paid,
    household_reason,
    income_form,
    per_capita_income,
    status_words,
)
from service.awards.workflow import apply as apply_for_award
from service.awards.workflow import (
    certificate_pdf,
    get_application,
    household_offers,
    verify_certificate,
    withdraw,
)
from service.core.audit import Actor
from service.core.clock import CHINA_TZ, Clock
from service.core.downloads import PDF, file_response
from service.core.errors import Conflict, DomainError, Invalid
from service.core.pages import (
    HOUSEHOLD_HOME,
    HOUSEHOLD_LOGIN,
    PAGE,
    client_address,
    cross_site,
    error_page,
    refuse_cross_site,
    render,
    see_other,
    signed_in_household,
)
from service.core.policy import household_or_404
from service.core.principal import Principal
from service.core.problems import status_of
from service.core.settings import Settings

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]

# Where each part of the breakdown comes from, in the words a household uses.
INCOME_HINTS = {
    "wage_fen": "外出打工、在本地务工挣的工资",
    "business_net_fen": "种地、养殖、开店等卖的钱，减去种子、化肥、饲料等成本",
    "property_net_fen": "分红、保底收益、土地流转租金等",
    "transfer_net_fen": "各种补贴、养老金、低保金、奖励等",
}
RECORDED_FROM = {
    "business_net_fen": "收购结算、盈余返还",
    "property_net_fen": "分红、保底收益",
    "transfer_net_fen": "奖励",
}


def application_url(application_id: str) -> str:
    return f"/h/applications/{application_id}"


async def _household(request: Request, conn: asyncpg.Connection, settings: Settings) -> Principal | None:
    principal = await signed_in_household(request, conn, settings)
    return principal if principal is not None and principal.household_id is not None else None


async def _offer(
    conn: asyncpg.Connection, principal: Principal, today: dt.date, program_id: str
) -> OpenProgramOut | None:
    """The programme as this household may see it (open to it, or applied to), or None."""
    household = await household_or_404(conn, principal, principal.household_id or "")
    return next((o for o in await household_offers(conn, household, today) if o.id == program_id), None)


def _start_values(offer: OpenProgramOut) -> dict[str, str]:
    """The form as it first shows: what the service recorded, in yuan, and the registered people."""
    recorded = offer.recorded_income
    values = {field.removesuffix("_fen"): "" for field, _ in INCOME_FIELDS}
    for field in RECORDED_FROM:
        fen = getattr(recorded, field)
        if fen:
            values[field.removesuffix("_fen")] = f"{fen // 100}.{fen % 100:02d}"
    values["people"] = str(offer.people)
    values["commitment"] = ""
    return values


def _form_page(
    offer: OpenProgramOut,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
    calculated: bool = False,
) -> Response:
    errors = errors or {}
    result = None
    breakdown = income_form(values)[0] if calculated else None
    if breakdown is not None:
        figure = per_capita_income(breakdown)
        result = {"breakdown": breakdown, "figure": figure, "reaches": figure >= offer.line_fen}
    return render(
        "award_apply.html",
        status_code=status_code,
        offer=offer,
        values=values,
        errors=errors,
        message=message,
        result=result,
        fields=[(field, field.removesuffix("_fen"), name, INCOME_HINTS[field]) for field, name in INCOME_FIELDS],
        recorded_from=RECORDED_FROM,
        kind_words=KIND_WORDS[offer.kind],
        commitment_title=COMMITMENT_TITLE[offer.kind],
        commitment_text=COMMITMENT_TEXT,
    )


async def _open_offer(
    request: Request, conn: asyncpg.Connection, settings: Settings, clock: Clock, program_id: str
) -> tuple[Principal, OpenProgramOut] | Response:
    """The signed-in household and the programme it may apply to now; otherwise the page to show
    instead: the login, its application in progress (applying again shows it), or not found."""
    principal = await _household(request, conn, settings)
    if principal is None:
        return see_other(HOUSEHOLD_LOGIN)
    offer = await _offer(conn, principal, clock.today(), program_id)
    if offer is not None and offer.application is not None and not offer.can_apply:
        return see_other(application_url(offer.application.id))
    if offer is None or not offer.can_apply:
        return render("error.html", 404, heading="不能申请", message="这个奖励现在不能申请。", back=HOUSEHOLD_HOME)
    return principal, offer


@get("/h/awards/{program_id:str}", opt=PAGE, include_in_schema=False)
async def apply_page(
    program_id: str, request: Request, conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> Response:
    found = await _open_offer(request, conn, settings, clock, program_id)
    if isinstance(found, Response):
        return found
    return _form_page(found[1], _start_values(found[1]))


def _invalid_errors(problem: Invalid) -> tuple[dict[str, str], str | None]:
    """A refused application's messages by form field; what no field names goes on top."""
    by_field: dict[str, str] = {}
    for error in problem.errors or []:
        field = error["field"]
        if field == "commitment_accepted":
            by_field["commitment"] = error["message"]
        elif field.startswith("income_breakdown.") or field == "declared_income_fen":
            by_field["people"] = error["message"]
        else:
            return by_field, problem.detail
    return by_field, None


async def _submit(
    conn: asyncpg.Connection,
    request: Request,
    principal: Principal,
    clock: Clock,
    offer: OpenProgramOut,
    values: dict[str, str],
) -> Response:
    breakdown, errors = income_form(values)
    accepted = values.get("commitment") == "yes"
    if not accepted:
        errors["commitment"] = "请读完承诺，勾选“我已读过，同意这份承诺”后再提交"
    if breakdown is None or errors:
        return _form_page(offer, values, errors=errors, status_code=400, calculated=breakdown is not None)
    data = ApplicationCreate(
        household_id=principal.household_id or "",
        declared_income_fen=per_capita_income(breakdown),
        income_breakdown=IncomeBreakdownIn(
            **{f: getattr(breakdown, f) for f, _ in INCOME_FIELDS}, people=breakdown.people
        ),
        commitment_accepted=True,
    )
    actor = Actor.of(principal, client_address(request))
    try:
        async with conn.transaction():
            out = await apply_for_award(conn, actor, principal, clock.today(), offer.id, data, clock.now())
    except Conflict as problem:
        if "application_id" in problem.extra:
            return see_other(application_url(problem.extra["application_id"]))
        return _form_page(offer, values, message=problem.detail, status_code=status_of(problem), calculated=True)
    except Invalid as problem:
        by_field, message = _invalid_errors(problem)
        return _form_page(offer, values, errors=by_field, message=message, status_code=422, calculated=True)
    return see_other(application_url(out.id))


@post("/h/awards/{program_id:str}", opt=PAGE, include_in_schema=False, status_code=200)
async def apply_form(
    program_id: str, request: Request, conn: asyncpg.Connection, settings: Settings, clock: Clock, data: Form
) -> Response:
    if cross_site(request, settings):
        return refuse_cross_site()
    found = await _open_offer(request, conn, settings, clock, program_id)
    if isinstance(found, Response):
        return found
    principal, offer = found
    values = {
        key: (data.get(key) or "").strip()[:40]
        for key in ("wage", "business_net", "property_net", "transfer_net", "people")
    }
    values["commitment"] = data.get("commitment") or ""
    if data.get("action") != "submit":
        _, errors = income_form(values)
        return _form_page(offer, values, errors=errors, status_code=400 if errors else 200, calculated=True)
    return await _submit(conn, request, principal, clock, offer, values)


def _steps(app: ApplicationOut) -> list[dict[str, Any]]:
    """The four steps with where the application is: done, now, or still to come."""
    keys = [key for key, _ in STEPS]
    at = keys.index(app.stage) if app.stage in keys else -1
    done_all = award_paid(app.status, app.payment.status if app.payment else None)
    return [
        {"words": words, "state": "done" if i < at or (done_all and i == at) else "now" if i == at else "later"}
        for i, (_, words) in enumerate(STEPS)
    ]


def _shown_time(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(CHINA_TZ)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


async def _own_application(
    request: Request, conn: asyncpg.Connection, settings: Settings, application_id: str
) -> tuple[Principal, ApplicationOut] | Response:
    """The signed-in household and its own application; otherwise the login or a not-found page
    (another household's application is not found, exactly like a missing one)."""
    principal = await _household(request, conn, settings)
    if principal is None:
        return see_other(HOUSEHOLD_LOGIN)
    try:
        return principal, await get_application(conn, principal, application_id)
    except DomainError as problem:
        return error_page(problem, back=HOUSEHOLD_HOME)


@get("/h/applications/{application_id:str}", opt=PAGE, include_in_schema=False)
async def application_page(
    application_id: str, request: Request, conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> Response:
    found = await _own_application(request, conn, settings, application_id)
    if isinstance(found, Response):
        return found
    principal, app = found
    offer = await _offer(conn, principal, clock.today(), app.program_id)
    reasons = [r for r in app.reviews if r.decision == "reject" or r.level == "hold"]
    return render(
        "award_application.html",
        app=app,
        program_name=offer.name if offer else KIND_WORDS[app.program_kind],
        amount_fen=offer.amount_fen if offer else None,
        kind_words=KIND_WORDS[app.program_kind],
        steps=_steps(app),
        words=status_words(
            app.status,
            app.notice_ends_on,
            clock.today(),
            app.payment.status if app.payment else None,
            bool(app.payment and app.payment.failure_reason),
        ),
        can_withdraw=app.status in WITHDRAWABLE,
        can_apply_again=bool(offer and offer.can_apply),
        fields=[(field, name) for field, name in INCOME_FIELDS],
        accepted_at=_shown_time(app.commitment.accepted_at if app.commitment else None),
        reasons=reasons,
        reason=household_reason(app.status_reason or "", app.checks, reviews_say_it=bool(reasons)),
    )


@get("/h/applications/{application_id:str}/withdraw", opt=PAGE, include_in_schema=False)
async def withdraw_page(
    application_id: str, request: Request, conn: asyncpg.Connection, settings: Settings
) -> Response:
    found = await _own_application(request, conn, settings, application_id)
    if isinstance(found, Response):
        return found
    app = found[1]
    if app.status not in WITHDRAWABLE:
        return see_other(application_url(app.id))
    return render("award_withdraw.html", app=app, kind_words=KIND_WORDS[app.program_kind])


@post("/h/applications/{application_id:str}/withdraw", opt=PAGE, include_in_schema=False, status_code=303)
async def withdraw_form(
    application_id: str, request: Request, conn: asyncpg.Connection, settings: Settings
) -> Response:
    if cross_site(request, settings):
        return refuse_cross_site()
    principal = await _household(request, conn, settings)
    if principal is None:
        return see_other(HOUSEHOLD_LOGIN)
    try:
        async with conn.transaction():
            app = await withdraw(conn, Actor.of(principal, client_address(request)), principal, application_id)
    except DomainError as problem:
        return error_page(problem, back=application_url(application_id))
    return see_other(application_url(app.id))


@get("/h/certificates/{serial:str}", opt=PAGE, include_in_schema=False)
async def certificate_download(serial: str, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
    principal = await signed_in_household(request, conn, settings)
    if principal is None:
        return see_other(HOUSEHOLD_LOGIN)
    try:
        # The household's own certificate only (the workflow answers not found for any other).
        content, found = await certificate_pdf(conn, principal, settings, serial.removesuffix(".pdf"))
    except DomainError as problem:
        return error_page(problem, back=HOUSEHOLD_HOME)
    return file_response(content, PDF, f"{found}.pdf")


@get("/p/verify/{serial:str}", opt=PAGE, include_in_schema=False)
async def verify_page(serial: str, conn: asyncpg.Connection) -> Response:
    try:
        certificate = await verify_certificate(conn, serial)
    except DomainError:
        return render("verify.html", status_code=404, certificate=None, serial=serial)
    return render("verify.html", certificate=certificate, serial=serial)


PAGES = [
    apply_page,
    apply_form,
    application_page,
    withdraw_page,
    withdraw_form,
    certificate_download,
    verify_page,
]
