"""The county finance office's payments in the console: payables (应付款) by source and status,
payment batches (代发批次) built from a source or from payables picked one by one, approved by a
second person (the maker is refused, in words), the bank file in the bank's profile, the bank's
return file (回盘) with every paid and failed line and the bank's reason, a failed payment issued
again once its card is corrected (改卡, on the household's page), and reconciliation (对账) of each
batch and of the county, ledger against bank, with any difference named.

Every action calls service/payments/workflow.py in a transaction, as the API does; the roles the
API's guards admit are checked here before the workflow runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import asyncpg
from litestar import Request, Response

from schemas.payments import BatchCreate, BatchDetail, BatchLineOut, BatchOut, Reconciliation, ReturnResult
from service.console.layout import DONE_WORDS, Desk, error_page, render, see_other, yuan
from service.console.routing import console_get, console_post
from service.console.tables import Column, Table, listing, table_page, wants_xlsx, xlsx_answer
from service.console.uploads import Upload, refused, uploaded
from service.core.crypto import DataCipher
from service.core.downloads import XLSX, file_response
from service.core.errors import DomainError, forbidden
from service.core.policy import own_county
from service.core.principal import Role
from service.core.problems import status_of
from service.core.tabular import template_xlsx
from service.payments import workflow
from service.payments.bank_files import PROFILES, RETURN_SHEET
from service.registry.workflow import household_labels, list_regions

PAYABLES = "/console/payables"
BATCHES = "/console/payment-batches"
RECONCILIATION = "/console/reconciliation"
HOUSEHOLD = "/console/households"
MAKERS = (Role.FINANCE_OFFICER, Role.ADMIN)
APPROVERS = (Role.FINANCE_APPROVER, Role.ADMIN)
FINANCE = (Role.FINANCE_OFFICER, Role.FINANCE_APPROVER, Role.ADMIN)

DONE_WORDS.update(
    {
        "batch-built": "批次已建立（草稿），请另一位县财政审批人审批。",
        "batch-approved": "批次已审批，可以下载银行文件。",
        "batch-cancelled": "批次已撤销，其中的款项回到待付。",
    }
)

PAYABLE_SOURCES = {"distribution": "收益分配", "settlement": "收购结算", "award": "奖励"}
PAYABLE_STATUS_WORDS = {"unpaid": "待付", "in_batch": "在批次中", "paid": "已付", "cancelled": "已取消"}
BATCH_STATUS_WORDS = {"draft": "草稿（待审批）", "approved": "已审批", "closed": "已全部回盘", "cancelled": "已撤销"}


def batch_status_words(batch: BatchOut) -> str:
    """A batch's status as the finance office reads it. A closed batch is one the bank has answered
    line by line; it is 已结清 only when every line was paid. One with failed lines said 已结清 too,
    while those lines' money had gone back to unpaid. The words say what stays true of this batch
    (its failed lines may since have been paid in another one): how many of its lines failed."""
    if batch.status != "closed":
        return BATCH_STATUS_WORDS.get(batch.status, batch.status)
    if batch.failed_count:
        return f"已全部回盘（失败 {batch.failed_count:,} 笔）"
    return "已结清（全部成功）"


LINE_STATUS_WORDS = {"pending": "待回盘", "paid": "成功", "failed": "失败", "cancelled": "已撤销"}
PROFILE_WORDS = {"pipe": "文本（竖线分隔，GB18030）", "csv": "CSV", "xlsx": "Excel（xlsx）"}
OUTCOME_WORDS = {
    "paid": "成功",
    "failed": "失败",
    "unmatched": "对不上批次中的明细",
    "already_paid": "以前已记为成功",
    "already_failed": "以前已记为失败",
}

PAYABLE_COLUMNS = [
    Column("household", "农户", "link"),
    Column("source", "来源"),
    Column("explanation", "说明"),
    Column("amount", "金额（元）", "yuan"),
    Column("status", "状态"),
    Column("reason", "失败原因"),
    Column("paid_on", "支付日期", "date"),
]
BATCH_COLUMNS = [
    Column("batch", "批次", "link"),
    Column("created", "建立", "date"),
    Column("status", "状态"),
    Column("count", "笔数", "count"),
    Column("total", "金额（元）", "yuan"),
    Column("paid", "成功（元）", "yuan"),
    Column("failed", "失败（元）", "yuan"),
    Column("pending", "待回盘（元）", "yuan"),
    Column("maker", "制单人"),
    Column("approver", "审批人"),
]
LINE_COLUMNS = [
    Column("seq", "序号", "count"),
    Column("payee", "收款人", "link"),
    Column("bank", "开户银行"),
    Column("card", "卡号"),
    Column("amount", "金额（元）", "yuan"),
    Column("status", "状态"),
    Column("reason", "银行退回原因"),
    Column("settled_on", "回盘日期", "date"),
]
# The return file's columns by the API's names (a refusal names them) and as the bank titles them.
RETURN_COLUMNS = [
    ("seq", "序号", ""),
    ("payable_id", "流水号", ""),
    ("amount", "金额", ""),
    ("status", "状态", ""),
    ("reason", "失败原因", ""),
    # What a refusal of the file names beside its columns (payments/bank_files.py).
    ("account", "卡号", ""),
    ("line", "整行", ""),
    ("TAIL", "尾行（TAIL）", ""),
    ("count", "尾行笔数", ""),
    ("total", "尾行金额", ""),
    ("encoding", "文件编码", ""),
]
RETURN_SHEET_WORDS = [
    ("序号", "批次明细的序号（或用“流水号”列）", ""),
    ("金额", "元，最多两位小数", ""),
    ("状态", "成功 或 失败", ""),
    ("失败原因", "失败时银行写明的原因", ""),
]


async def _county(desk: Desk, conn: asyncpg.Connection) -> str:
    """The county the officer works in (the admin names one with ?county_code=, else the first)."""
    if not desk.principal.is_admin:
        return own_county(desk.principal)
    named = desk.query.get("county_code", "")
    if len(named) == 12 and named.isascii() and named.isdigit():
        return named
    counties = await list_regions(conn, level="county", limit=1)
    return counties.items[0].code if counties.items else "000000000000"


def _require(desk: Desk, roles: tuple[str, ...], words: str) -> None:
    if desk.role not in roles:
        raise forbidden(words)


def _choice(desk: Desk, name: str, options: dict[str, str]) -> str | None:
    value = desk.query.get(name) or None
    return value if value in options else None


# ---- payables -----------------------------------------------------------------------------------------


async def _payable_rows(conn: asyncpg.Connection, desk: Desk, items: list[Any]) -> list[dict[str, Any]]:
    labels = await household_labels(conn, desk.principal, [p.household_id for p in items])
    rows = []
    for p in items:
        label = labels.get(p.household_id)
        name = f"{label.household_no} {label.head_name}" if label else "（本辖区外）"
        rows.append(
            {
                "id": p.id,
                "household": (name, f"{HOUSEHOLD}/{p.household_id}" if label else None),
                "source": PAYABLE_SOURCES.get(p.source, p.source),
                "explanation": p.explanation,
                "amount": p.amount_fen,
                "status": PAYABLE_STATUS_WORDS.get(p.status, p.status),
                # The bank's reason of an earlier failure says why it is unpaid, not why it was paid.
                "reason": (p.failure_reason or "") if p.status == "unpaid" else "",
                "paid_on": p.paid_on,
                "unpaid": p.status == "unpaid",
            }
        )
    return rows


@console_get(PAYABLES)
async def payables_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    """应付款 by source and status; the unpaid ones can be picked for a batch."""
    desk.section = "payables"
    _require(desk, (*FINANCE, Role.AUDITOR), "只有县财政和审计可以查看应付款")
    status, source = _choice(desk, "status", PAYABLE_STATUS_WORDS), _choice(desk, "source", PAYABLE_SOURCES)
    program = desk.query.get("program_id") or None
    county = await _county(desk, conn)

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_payables(
            conn,
            desk.principal,
            county,
            status=status,
            source=source,
            program_id=program,
            limit=limit,
            cursor=cursor,
        )
        return await _payable_rows(conn, desk, page.items), page.next_cursor

    table = await listing(desk, fetch, PAYABLE_COLUMNS, title="应付款", filename="payables")
    return table_page(
        desk,
        table,
        "console/payables.html",
        statuses=list(PAYABLE_STATUS_WORDS.items()),
        sources=list(PAYABLE_SOURCES.items()),
        can_build=desk.role in MAKERS and status == "unpaid",
    )


# ---- batches: the list, building one -------------------------------------------------------------


@console_get(BATCHES)
async def batches_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "batches"
    _require(desk, (*FINANCE, Role.AUDITOR), "只有县财政和审计可以查看代发批次")
    status = _choice(desk, "status", BATCH_STATUS_WORDS)
    county = await _county(desk, conn)

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_batches(conn, desk.principal, county, status=status, limit=limit, cursor=cursor)
        return [
            {
                "batch": (b.id[:8], f"{BATCHES}/{b.id}"),
                "created": b.created_at.date(),
                "status": batch_status_words(b),
                "count": b.count,
                "total": b.total_fen,
                "paid": b.paid_fen,
                "failed": b.failed_fen,
                "pending": b.pending_fen,
                "maker": b.created_by.split(":")[-1],
                "approver": (b.approved_by or "").split(":")[-1],
            }
            for b in page.items
        ], page.next_cursor

    table = await listing(desk, fetch, BATCH_COLUMNS, title="代发批次", filename="payment-batches")
    return table_page(
        desk,
        table,
        "console/batches.html",
        statuses=list(BATCH_STATUS_WORDS.items()),
        sources=list(PAYABLE_SOURCES.items()),
        can_build=desk.role in MAKERS,
        error=None,
    )


def _build_refused(desk: Desk, message: str, status_code: int) -> Response:
    return render(desk, "console/error.html", status_code, heading="未建立批次", message=message)


@console_post(BATCHES)
async def build_form(request: Request, desk: Desk, conn: asyncpg.Connection) -> Response:
    """A draft batch: of the payables ticked (payable_id, repeated), or of every unpaid one of a source."""
    desk.section = "batches"
    if desk.role not in MAKERS:
        return _build_refused(desk, "只有县财政经办人可以建立代发批次。", 403)
    form = await request.form()
    picked = [str(v) for v in form.getall("payable_id", []) if str(v).strip()]
    source = str(form.get("source") or "") or None
    if not picked and source not in PAYABLE_SOURCES:
        return _build_refused(desk, "请勾选要发放的应付款，或选择款项来源。", 422)
    body = BatchCreate(
        county_code=await _county(desk, conn),
        payable_ids=picked or None,
        source=None if picked else source,  # type: ignore[arg-type]
    )
    try:
        async with conn.transaction():
            batch = await workflow.build_batch(conn, desk.actor, desk.principal, body)
    except DomainError as problem:
        return _build_refused(desk, problem.detail, status_of(problem))
    return see_other(f"{BATCHES}/{batch.id}", "batch-built")


# ---- one batch --------------------------------------------------------------------------------------------


async def _line_rows(conn: asyncpg.Connection, desk: Desk, lines: Sequence[BatchLineOut]) -> list[dict[str, Any]]:
    labels = await household_labels(conn, desk.principal, [line.household_id for line in lines])
    return [
        {
            "seq": line.seq,
            "payee": (line.payee_name, f"{HOUSEHOLD}/{line.household_id}" if line.household_id in labels else None),
            "bank": line.bank_name,
            "card": line.bank_account,
            "amount": line.amount_fen,
            "status": LINE_STATUS_WORDS.get(line.status, line.status),
            "reason": line.failure_reason or "",
            "settled_on": line.settled_on,
            "payable_id": line.payable_id,
        }
        for line in lines
    ]


# The failures listed for paying again; a batch with more shows the first ones and counts the rest.
FAILURES_SHOWN = 500


async def _batch_lines(desk: Desk, conn: asyncpg.Connection, batch_id: str) -> tuple[BatchDetail, Table]:
    """The batch and its lines: a page of 500 on screen, every line in the download."""

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        lines, next_cursor = await workflow.batch_lines(conn, desk.principal, batch_id, limit=limit, cursor=cursor)
        return await _line_rows(conn, desk, lines), next_cursor

    table = await listing(desk, fetch, LINE_COLUMNS, title="批次明细", filename="batch-lines", page_size=500)
    batch = await workflow.get_batch(conn, desk.principal, batch_id, limit=1)  # its figures, read once
    return batch, replace(table, totals={"payee": ("全批次合计", None), "amount": batch.total_fen})


async def _batch_page(
    desk: Desk,
    conn: asyncpg.Connection,
    batch_id: str,
    status_code: int = 200,
    *,
    error: str | None = None,
    upload: Upload | None = None,
    returned: ReturnResult | None = None,
) -> Response:
    desk.section = "batches"
    _require(desk, (*FINANCE, Role.AUDITOR), "只有县财政和审计可以查看代发批次")
    batch, table = await _batch_lines(desk, conn, batch_id)
    if wants_xlsx(desk):
        return xlsx_answer(table, desk)
    failed = (
        await workflow.failed_lines(conn, desk.principal, batch_id, limit=FAILURES_SHOWN) if batch.failed_count else []
    )
    return render(
        desk,
        "console/batch.html",
        status_code,
        batch=batch,
        status_words=batch_status_words(batch),
        table=table,
        failed_rows=await _line_rows(conn, desk, failed),
        reconciliation=await workflow.reconcile_batch(conn, desk.principal, batch_id),
        profiles=[(key, PROFILE_WORDS[key]) for key in PROFILES],
        finance=desk.role in FINANCE,
        can_build=desk.role in MAKERS,
        error=error,
        upload=upload or Upload(),
        returned=returned,
        outcomes=OUTCOME_WORDS,
        sheet=RETURN_SHEET_WORDS,
    )


@console_get(f"{BATCHES}/{{batch_id:str}}")
async def batch_page(desk: Desk, conn: asyncpg.Connection, batch_id: str) -> Response:
    return await _batch_page(desk, conn, batch_id)


async def _act(desk: Desk, conn: asyncpg.Connection, batch_id: str, done: str, work: Any) -> Response:
    """One step of the batch in a transaction; a refusal shows the batch again with its reason in words."""
    try:
        async with conn.transaction():
            await work()
    except DomainError as problem:
        return await _batch_page(desk, conn, batch_id, status_of(problem), error=problem.detail)
    return see_other(f"{BATCHES}/{batch_id}", done)


@console_post(f"{BATCHES}/{{batch_id:str}}/approve")
async def approve_form(desk: Desk, conn: asyncpg.Connection, batch_id: str) -> Response:
    """审批 by a second person: the maker is refused by the maker-checker rule, in its words; any
    other finance officer is told that approving is the finance approver's."""

    async def work() -> None:
        batch = await workflow.get_batch(conn, desk.principal, batch_id, limit=1)
        maker = batch.created_by == desk.actor.name
        if desk.role not in APPROVERS and not maker:
            raise forbidden("只有县财政审批人可以审批代发批次")
        await workflow.approve_batch(conn, desk.actor, desk.principal, batch_id)

    return await _act(desk, conn, batch_id, "batch-approved", work)


@console_post(f"{BATCHES}/{{batch_id:str}}/cancel")
async def cancel_form(desk: Desk, conn: asyncpg.Connection, batch_id: str) -> Response:
    async def work() -> None:
        _require(desk, FINANCE, "只有县财政可以撤销代发批次")
        await workflow.cancel_batch(conn, desk.actor, desk.principal, batch_id)

    return await _act(desk, conn, batch_id, "batch-cancelled", work)


@console_get(f"{BATCHES}/{{batch_id:str}}/bank-file")
async def bank_file(desk: Desk, conn: asyncpg.Connection, cipher: DataCipher, batch_id: str) -> Response:
    """The file for the bank in its profile (?profile=pipe|csv|xlsx); every download is audited."""
    _require(desk, FINANCE, "只有县财政可以下载银行文件")
    try:
        async with conn.transaction():
            file = await workflow.export_bank_file(
                conn, desk.actor, desk.principal, cipher, batch_id, desk.query.get("profile") or "pipe"
            )
    except DomainError as problem:
        return await _batch_page(desk, conn, batch_id, status_of(problem), error=problem.detail)
    return file_response(file.content, file.content_type, file.filename)


@console_post(f"{BATCHES}/{{batch_id:str}}/returns", upload=True)
async def return_form(request: Request, desk: Desk, conn: asyncpg.Connection, batch_id: str) -> Response:
    """The bank's return file: paid lines post, failed ones keep the bank's reason and go back to
    unpaid; a file imported again changes nothing and says so line by line."""
    if desk.role not in FINANCE:
        return error_page(desk, 403, "只有县财政可以导入回盘文件。")
    sheet = await uploaded(request)
    if sheet is None:
        return await _batch_page(desk, conn, batch_id, 422, upload=Upload("请选择银行的回盘文件。"))
    try:
        prepared = await workflow.prepare_return(conn, desk.principal, batch_id, *sheet)
        async with conn.transaction():
            result = await workflow.import_return(conn, desk.actor, desk.principal, prepared, today=desk.today)
    except DomainError as problem:
        return await _batch_page(desk, conn, batch_id, status_of(problem), upload=refused(problem, RETURN_COLUMNS))
    return await _batch_page(desk, conn, batch_id, 200, returned=result)


@console_get(f"{BATCHES}/{{batch_id:str}}/returns/template.xlsx")
async def return_template(desk: Desk, batch_id: str) -> Response:
    _require(desk, FINANCE, "只有县财政可以导入回盘文件")
    return file_response(template_xlsx(RETURN_SHEET), XLSX, "bank-return-template.xlsx", "回盘导入模板.xlsx")


# ---- reconciliation ------------------------------------------------------------------------------------


def differences_named(r: Reconciliation) -> list[str]:
    """Each difference of a reconciliation in words (none when it agrees)."""
    named = []
    if r.difference_fen:
        settled = r.paid_fen + r.failed_fen + r.pending_fen
        named.append(
            f"发给银行 {yuan(r.sent_fen)} 元，成功、失败、待回盘合计 {yuan(settled)} 元，"
            f"相差 {yuan(abs(r.difference_fen))} 元"
        )
    if r.ledger_difference_fen:
        named.append(
            f"银行回盘成功 {yuan(r.paid_fen)} 元，账簿中的付款凭证 {yuan(r.ledger_fen)} 元，"
            f"相差 {yuan(abs(r.ledger_difference_fen))} 元"
        )
    if r.payments_fen != r.paid_fen:
        named.append(
            f"银行回盘成功 {yuan(r.paid_fen)} 元，已付款记录 {yuan(r.payments_fen)} 元，"
            f"相差 {yuan(abs(r.paid_fen - r.payments_fen))} 元"
        )
    return named


RECONCILED_PAGE = 50  # batches a page of the reconciliation


@console_get(RECONCILIATION)
async def reconciliation_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "reconciliation"
    _require(desk, (*FINANCE, Role.AUDITOR), "只有县财政和审计可以查看对账")
    code = await _county(desk, conn)
    county = await workflow.reconcile_county(conn, desk.principal, code)
    # A page of the county's batches at a time, newest first, "更早的批次" to the next: every batch
    # stays reachable (the newest hundred were shown, and older ones dropped off), and one page
    # costs a reconciliation a batch of that page only.
    page = await workflow.list_batches(
        conn, desk.principal, code, limit=RECONCILED_PAGE, cursor=desk.query.get("cursor") or None
    )
    batches = []
    for b in page.items:
        if b.status in ("approved", "closed"):
            r = await workflow.reconcile_batch(conn, desk.principal, b.id)
            batches.append({"batch": b, "r": r, "named": differences_named(r)})
    return render(
        desk,
        "console/reconciliation.html",
        county=county,
        named=differences_named(county),
        batches=batches,
        earlier=desk.link(RECONCILIATION, cursor=page.next_cursor, county_code=desk.query.get("county_code"))
        if page.next_cursor
        else None,
        status_words=batch_status_words,
    )


PAGES = [
    payables_page,
    batches_page,
    build_form,
    batch_page,
    approve_form,
    cancel_form,
    bank_file,
    return_form,
    return_template,
    reconciliation_page,
]
