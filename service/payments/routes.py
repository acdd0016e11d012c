"""Payables (应付款), payment batches (代发批次), bank files, return imports (回盘) and reconciliation (对账).

A payable moves unpaid → in_batch → paid, or back to unpaid with the bank's reason. A batch is
built by one finance officer and approved by a different finance user; the bank file is made only
from an approved batch; the bank's return file settles its lines. Paying a payable always posts
Dr its payable account (party = household) / Cr its paying (bank) account.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from db import ledger
from db import payments as q
from db import registry as registry_q
from schemas.common import Page
from schemas.payments import (
    BankAccountPut,
    BatchCreate,
    BatchDetail,
    BatchLineOut,
    BatchOut,
    PayableOut,
    Reconciliation,
    ReturnLineOut,
    ReturnResult,
    Settled,
)
from schemas.registry import HouseholdOut
from service.core import identity
from service.core.audit import Actor, record
from service.core.auth import allow
from service.core.clock import Clock
from service.core.crypto import CARD_CONTEXT, ID_CONTEXT, DataCipher
from service.core.errors import bad_input, conflict, field_error, forbidden, invalid_field
from service.core.idempotency import run_idempotent
from service.core.money import format_yuan
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_of
from service.core.policy import batch_for, can_register_in, household_or_404, require_county
from service.core.principal import Principal
from service.core.uploads import UPLOAD
from service.ledger.rules import Line
from service.payments.bank_files import (
    PROFILES,
    BankLine,
    ReturnFileError,
    ReturnLine,
    parse_return_file,
    render_bank_file,
)
from service.registry.workflow import household_out

MAKERS = allow("finance_officer")
APPROVERS = allow("finance_approver")
FINANCE = allow("finance_officer", "finance_approver")
READERS = allow("finance_officer", "finance_approver", "auditor")
REGISTRARS = allow("village_reviewer", "township_approver")
NO_REASON = "银行未注明原因"


@dataclass
class FileUpload:
    file: UploadFile


async def keep_raw_body(request: Request) -> None:
    """Read the upload's raw bytes before the multipart parser streams them away, so that
    run_idempotent can still digest the body for an Idempotency-Key (it calls request.body())."""
    await request.body()


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


def payable_out(r: asyncpg.Record) -> PayableOut:
    return PayableOut(
        str(r["id"]),
        str(r["household_id"]),
        r["source"],
        r["source_id"],
        r["amount_fen"],
        r["status"],
        _str(r["batch_id"]),
        r["failure_reason"],
        r["paid_on"],
        r["village_code"],
        _str(r["venture_id"]),
        _str(r["program_id"]),
        r["explanation"],
    )


def line_out(r: asyncpg.Record) -> BatchLineOut:
    return BatchLineOut(
        r["seq"],
        str(r["payable_id"]),
        str(r["household_id"]),
        r["payee_name_masked"],
        r["bank_name"],
        r["bank_account_masked"],
        r["amount_fen"],
        r["status"],
        r["failure_reason"],
        r["settled_on"],
    )


async def batch_out(conn: asyncpg.Connection, b: asyncpg.Record, cls: type = BatchOut, **extra: Any) -> Any:
    f = await q.batch_figures(conn, b["county_code"], b["id"])
    return cls(
        id=str(b["id"]),
        county_code=b["county_code"],
        status=b["status"],
        count=b["line_count"],
        total_fen=b["total_fen"],
        max_payable_fen=b["total_fen"],
        largest_line_fen=f["largest"],
        selection=b["selection"],
        created_by=b["created_by"],
        approved_by=b["approved_by"],
        created_at=b["created_at"],
        approved_at=b["approved_at"],
        closed_at=b["closed_at"],
        **_settled(f),
        **extra,
    )


def _settled(r: asyncpg.Record) -> dict[str, int]:
    return {k: r[k] for k in Settled.__struct_fields__}


# ---- the operations, shared by the API and the benchmark -----------------------------------


async def build_batch(conn: asyncpg.Connection, actor: Actor, principal: Principal, data: BatchCreate) -> BatchOut:
    """A draft batch of the selected unpaid payables. Runs in the caller's transaction."""
    ids = list(dict.fromkeys(q.as_uuid(i) for i in data.payable_ids)) if data.payable_ids is not None else None
    batch_id = uuid.uuid4()
    await q.plan_for_bulk(conn)
    selection = {k: v for k, v in msgspec.to_builtins(data).items() if k not in ("county_code", "payable_ids")}
    if ids is not None:
        selection["payable_count"] = len(ids)
    await q.insert_batch(conn, data.county_code, batch_id, selection, actor.name, principal.id)
    taken = await q.take_payables(
        conn,
        data.county_code,
        batch_id,
        payable_ids=ids,
        source=data.source,
        village_code=data.village_code,
        venture_id=q.as_uuid(data.venture_id),
        program_id=q.as_uuid(data.program_id),
    )
    if ids is not None and taken["count"] != len(ids):
        missing = await q.not_taken(conn, data.county_code, batch_id, ids)
        names = "、".join(m["payable_id"] for m in missing[:10])
        raise conflict(
            "payables-not-unpaid", f"以下应付款已不是待付状态或不存在，未建立批次：{names}", payables=missing
        )
    if taken["count"] == 0:
        raise conflict("nothing-to-pay", "没有符合条件的待付款项，未建立批次")
    await q.set_batch_totals(conn, data.county_code, batch_id, taken["count"], taken["total_fen"])
    b = await q.batch(conn, batch_id)
    out = await batch_out(conn, b)
    await record(
        conn,
        actor,
        county_code=data.county_code,
        action="batch.create",
        object_type="payment_batch",
        object_id=out.id,
        after={"count": out.count, "total_fen": out.total_fen, "selection": selection},
    )
    return out


async def approve_batch(conn: asyncpg.Connection, actor: Actor, principal: Principal, batch_id: str) -> BatchOut:
    """Maker-checker under the batch's row lock: only a draft, only by someone other than its maker."""
    b = await batch_for(conn, principal, batch_id, for_update=True)
    if b["created_by_id"] == principal.id:
        raise forbidden("建立批次的人不能审批自己的批次")
    if b["status"] != "draft":
        raise conflict("batch-not-draft", f"批次状态为 {b['status']}，只有草稿批次可以审批")
    await q.approve(conn, b["county_code"], b["id"], actor.name, principal.id)
    out = await batch_out(conn, await q.batch(conn, b["id"]))
    await record(
        conn,
        actor,
        county_code=b["county_code"],
        action="batch.approve",
        object_type="payment_batch",
        object_id=out.id,
        before={"status": "draft"},
        after={"status": out.status, "count": out.count, "total_fen": out.total_fen},
    )
    return out


def bank_file_lines(rows: list[asyncpg.Record], cipher: DataCipher) -> list[BankLine]:
    """The only place full card and ID numbers are decrypted: for the file the bank receives."""
    return [
        BankLine(
            r["seq"],
            str(r["payable_id"]),
            r["payee_name"],
            cipher.decrypt(bytes(r["bank_account_enc"]), context=CARD_CONTEXT),
            r["amount_fen"],
            cipher.decrypt(bytes(r["id_number_enc"]), context=ID_CONTEXT),
        )
        for r in rows
    ]


async def export_bank_file(
    conn: asyncpg.Connection, actor: Actor, cipher: DataCipher, b: asyncpg.Record, profile: str
) -> tuple[bytes, str, str]:
    if b["status"] != "approved":
        raise conflict("batch-not-approved", f"批次状态为 {b['status']}，只有已审批且未结清的批次可以导出银行文件")
    rows = await q.bank_lines(conn, b["county_code"], b["id"])

    def render() -> tuple[bytes, str, str]:
        return render_bank_file(profile, str(b["id"]), bank_file_lines(rows, cipher))

    content, content_type, filename = await asyncio.to_thread(render)
    total = sum(r["amount_fen"] for r in rows)
    await record(
        conn,
        actor,
        county_code=b["county_code"],
        action="batch.bank_file",
        object_type="payment_batch",
        object_id=str(b["id"]),
        detail={
            "profile": profile,
            "count": len(rows),
            "total_fen": total,
            "sha256": hashlib.sha256(content).hexdigest(),
        },
    )
    return content, content_type, filename


@dataclass(frozen=True)
class Match:
    returned: ReturnLine
    line: Any  # the batch line it settles, or None
    outcome: str
    reason: str = ""


def match_return_lines(lines: list[Any], returned: list[ReturnLine]) -> list[Match]:
    """Pair each line of a return file with a line of the batch, by 序号 or by payable id.

    Nothing is guessed: a line whose 序号/流水号 is not in the batch, whose amount differs, whose
    card's last four digits differ, or that repeats an earlier line of the file is unmatched.
    """
    by_seq = {line["seq"]: line for line in lines}
    by_payable = {str(line["payable_id"]): line for line in lines}
    seen: set[int] = set()
    out: list[Match] = []
    for r in returned:
        named = _str(q.as_uuid(r.payable_id)) if r.payable_id is not None else None
        if r.seq is not None:
            line = by_seq.get(r.seq)
            if line is None:
                out.append(Match(r, None, "unmatched", f"批次中没有序号 {r.seq}"))
                continue
            if r.payable_id is not None and named != str(line["payable_id"]):
                out.append(Match(r, None, "unmatched", f"序号 {r.seq} 与流水号 {r.payable_id} 不是同一笔"))
                continue
        else:
            line = by_payable.get(named) if named else None
            if line is None:
                out.append(Match(r, None, "unmatched", f"批次中没有流水号 {r.payable_id}"))
                continue
        if r.amount_fen != line["amount_fen"]:
            out.append(
                Match(
                    r,
                    None,
                    "unmatched",
                    f"金额不符：回盘 {format_yuan(r.amount_fen)} 元，批次 {format_yuan(line['amount_fen'])} 元",
                )
            )
            continue
        if r.account_last4 is not None and r.account_last4 != line["bank_account_masked"][-4:]:
            out.append(Match(r, None, "unmatched", "帐号后四位与批次不符"))
            continue
        if line["seq"] in seen:
            out.append(Match(r, None, "unmatched", f"回盘文件中序号 {line['seq']} 重复出现"))
            continue
        seen.add(line["seq"])
        if line["status"] == "paid":
            out.append(Match(r, line, "already_paid", "" if r.ok else "回盘为失败，但此笔此前已成功入账，未作更改"))
        elif line["status"] == "failed":
            out.append(Match(r, line, "already_failed", "回盘为成功，但此笔此前已退回待付，未作更改" if r.ok else ""))
        elif r.ok:
            out.append(Match(r, line, "paid"))
        else:
            out.append(Match(r, line, "failed", r.reason or NO_REASON))
    return out


async def import_return(
    conn: asyncpg.Connection,
    actor: Actor,
    batch_id: uuid.UUID,
    returned: list[ReturnLine],
    *,
    filename: str,
    file_sha256: str,
    today: dt.date,
) -> ReturnResult:
    """Settle a batch from the bank's return file, under the batch's row lock, in the caller's
    transaction: one journal entry for the paid lines (a pair of lines per payable), the payments
    recorded once each, failed payables back to unpaid with the bank's reason."""
    await q.plan_for_bulk(conn)
    b = await q.batch(conn, batch_id, for_update=True)
    if b["status"] not in ("approved", "closed"):
        raise conflict("batch-not-approved", f"批次状态为 {b['status']}，只有已审批的批次可以导入回盘")
    county = b["county_code"]
    matches = match_return_lines(await q.settlement_lines(conn, county, b["id"]), returned)
    paid = [m.line for m in matches if m.outcome == "paid"]
    failed = [m for m in matches if m.outcome == "failed"]
    return_id = uuid.uuid4()
    entry_id = None
    if paid:
        entry_id = await ledger.post_entry(
            conn,
            county_code=county,
            source_type="bank_return",
            source_id=str(b["id"]),
            idempotency_key=f"bank_return:{return_id}",
            posted_on=today,
            memo=f"代发回盘：批次 {b['id']} 成功 {len(paid)} 笔",
            lines=[
                leg
                for p in paid
                for leg in (
                    Line(p["payable_account_id"], p["amount_fen"], p["household_id"]),
                    Line(p["paying_account_id"], -p["amount_fen"], p["household_id"]),
                )
            ],
        )
        changed = await q.mark_paid(
            conn, county, b["id"], return_id, entry_id, today, [p["seq"] for p in paid], [p["payable_id"] for p in paid]
        )
        if changed != (len(paid), len(paid)):
            raise RuntimeError(f"batch {b['id']}: {changed} of {len(paid)} lines/payables marked paid")
    if failed:
        changed = await q.mark_failed(
            conn,
            county,
            b["id"],
            return_id,
            today,
            [m.line["seq"] for m in failed],
            [m.line["payable_id"] for m in failed],
            [m.reason for m in failed],
        )
        if changed != (len(failed), len(failed)):
            raise RuntimeError(f"batch {b['id']}: {changed} of {len(failed)} lines/payables marked failed")
    status = await q.close_if_settled(conn, county, b["id"])
    counts = {
        o: sum(1 for m in matches if m.outcome == o)
        for o in ("paid", "failed", "unmatched", "already_paid", "already_failed")
    }
    paid_fen = sum(p["amount_fen"] for p in paid)
    failed_fen = sum(m.line["amount_fen"] for m in failed)
    await q.insert_return(
        conn,
        county,
        return_id,
        b["id"],
        filename=filename,
        file_sha256=file_sha256,
        entry_id=entry_id,
        paid=(len(paid), paid_fen),
        failed=(len(failed), failed_fen),
        unmatched=counts["unmatched"],
        repeated=counts["already_paid"] + counts["already_failed"],
        imported_by=actor.name,
        imported_on=today,
    )
    await record(
        conn,
        actor,
        county_code=county,
        action="batch.return_import",
        object_type="payment_batch",
        object_id=str(b["id"]),
        after={"status": status},
        detail={
            **counts,
            "paid_fen": paid_fen,
            "failed_fen": failed_fen,
            "return_id": str(return_id),
            "entry_id": _str(entry_id),
            "file_sha256": file_sha256,
        },
    )
    return ReturnResult(
        str(return_id),
        str(b["id"]),
        status,
        counts["paid"],
        counts["failed"],
        counts["unmatched"],
        counts["already_paid"],
        counts["already_failed"],
        paid_fen,
        failed_fen,
        _str(entry_id),
        [
            ReturnLineOut(
                m.outcome,
                m.returned.amount_fen,
                m.line["seq"] if m.line else m.returned.seq,
                str(m.line["payable_id"]) if m.line else m.returned.payable_id,
                m.reason,
            )
            for m in matches
        ],
    )


def parse_upload(content: bytes, filename: str) -> list[ReturnLine]:
    try:
        returned = parse_return_file(content, filename)
    except ReturnFileError as exc:
        raise bad_input(
            f"回盘文件第 {exc.row} 行有误，未作任何更改：{exc.message}", [field_error(exc.field, exc.message, exc.row)]
        ) from None
    if not returned:
        raise invalid_field("file", "回盘文件中没有明细行")
    return returned


def reconciliation_out(county_code: str, batch_id: str | None, r: asyncpg.Record) -> Reconciliation:
    difference = r["sent_fen"] - r["paid_fen"] - r["failed_fen"] - r["pending_fen"]
    ledger_difference = r["paid_fen"] - r["ledger_fen"]
    ok = difference == 0 and ledger_difference == 0 and r["payments_fen"] == r["paid_fen"]
    return Reconciliation(
        county_code=county_code,
        batch_id=batch_id,
        sent_count=r["sent_count"],
        sent_fen=r["sent_fen"],
        difference_fen=difference,
        payments_fen=r["payments_fen"],
        ledger_fen=r["ledger_fen"],
        ledger_difference_fen=ledger_difference,
        ok=ok,
        **_settled(r),
    )


# ---- routes -----------------------------------------------------------------------------


class PayableController(Controller):
    path = "/payables"
    tags = ["payments"]

    @get("/", guards=[READERS], operation_id="list_payables")
    async def list_payables(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str, Parameter(pattern=r"^[0-9]{12}$")],
        status: Annotated[str | None, Parameter(pattern=r"^(unpaid|in_batch|paid|cancelled)$")] = None,
        source: Annotated[str | None, Parameter(pattern=r"^(distribution|settlement|award)$")] = None,
        village_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        venture_id: str | None = None,
        program_id: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[PayableOut]:
        require_county(principal, county_code)
        ids = {}
        for name, value in (("venture_id", venture_id), ("program_id", program_id)):
            ids[name] = q.as_uuid(value)
            if value is not None and ids[name] is None:
                raise invalid_field(name, f"{name} 格式无效")
        after = decode_cursor(cursor, 1)
        rows = await q.payables_page(
            conn,
            county_code,
            status=status,
            source=source,
            village_code=village_code,
            after=q.as_uuid(after[0]) if after else None,
            limit=limit + 1,
            **ids,
        )
        rows, next_cursor = page_of(list(rows), limit, lambda r: [str(r["id"])])
        return Page([payable_out(r) for r in rows], next_cursor)


class PaymentBatchController(Controller):
    path = "/payment-batches"
    tags = ["payments"]

    @post("/", guards=[MAKERS], operation_id="create_payment_batch")
    async def create_batch(
        self, request: Request, data: BatchCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> Response:
        require_county(principal, data.county_code)
        if data.payable_ids is not None and any(
            getattr(data, f) is not None for f in ("source", "village_code", "venture_id", "program_id")
        ):
            raise invalid_field("payable_ids", "按清单建批次时不能同时填写筛选条件")
        for name in ("venture_id", "program_id"):
            if getattr(data, name) is not None and q.as_uuid(getattr(data, name)) is None:
                raise invalid_field(name, f"{name} 格式无效")
        if data.payable_ids is not None and any(q.as_uuid(i) is None for i in data.payable_ids):
            raise invalid_field("payable_ids", "应付款编号格式无效")

        async def work(tx: asyncpg.Connection) -> BatchOut:
            return await build_batch(tx, actor, principal, data)

        return await run_idempotent(request, conn, principal, work)

    @get("/", guards=[READERS], operation_id="list_payment_batches")
    async def list_batches(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str, Parameter(pattern=r"^[0-9]{12}$")],
        status: Annotated[str | None, Parameter(pattern=r"^(draft|approved|cancelled|closed)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[BatchOut]:
        require_county(principal, county_code)
        after = decode_cursor(cursor, 2)
        key = None
        if after:
            try:
                key = (dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
            except (TypeError, ValueError):
                raise invalid_field("cursor", "分页游标无效") from None
        rows = await q.batches_page(conn, county_code, status, key, limit + 1)
        rows, next_cursor = page_of(list(rows), limit, lambda r: [r["created_at"].isoformat(), str(r["id"])])
        return Page([await batch_out(conn, r) for r in rows], next_cursor)

    @get("/{batch_id:str}", guards=[READERS], operation_id="get_payment_batch")
    async def get_batch(
        self,
        batch_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> BatchDetail:
        b = await batch_for(conn, principal, batch_id)
        after = decode_cursor(cursor, 1)
        if after and not isinstance(after[0], int):
            raise invalid_field("cursor", "分页游标无效")
        rows = await q.lines_page(conn, b["county_code"], b["id"], after[0] if after else 0, limit + 1)
        rows, next_cursor = page_of(list(rows), limit, lambda r: [r["seq"]])
        return await batch_out(conn, b, BatchDetail, lines=[line_out(r) for r in rows], next_cursor=next_cursor)

    @post("/{batch_id:str}/approve", guards=[APPROVERS], operation_id="approve_payment_batch")
    async def approve(
        self, request: Request, batch_id: str, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> Response:
        await batch_for(conn, principal, batch_id)

        async def work(tx: asyncpg.Connection) -> BatchOut:
            return await approve_batch(tx, actor, principal, batch_id)

        return await run_idempotent(request, conn, principal, work, status_code=200)

    @post("/{batch_id:str}/cancel", guards=[FINANCE], operation_id="cancel_payment_batch")
    async def cancel(
        self, request: Request, batch_id: str, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> Response:
        await batch_for(conn, principal, batch_id)

        async def work(tx: asyncpg.Connection) -> BatchOut:
            b = await batch_for(tx, principal, batch_id, for_update=True)
            if b["status"] != "draft":
                raise conflict("batch-not-draft", f"批次状态为 {b['status']}，只有草稿批次可以撤销")
            released = await q.cancel(tx, b["county_code"], b["id"])
            out = await batch_out(tx, await q.batch(tx, b["id"]))
            await record(
                tx,
                actor,
                county_code=b["county_code"],
                action="batch.cancel",
                object_type="payment_batch",
                object_id=out.id,
                before={"status": "draft"},
                after={"status": out.status},
                detail={"released": released},
            )
            return out

        return await run_idempotent(request, conn, principal, work, status_code=200)

    @get("/{batch_id:str}/bank-file", guards=[FINANCE], operation_id="get_bank_file")
    async def bank_file(
        self,
        batch_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
        profile: str = "pipe",
    ) -> Response:
        if profile not in PROFILES:
            raise invalid_field("profile", f"未知的银行文件格式 {profile}，可选：{'、'.join(sorted(PROFILES))}")
        b = await batch_for(conn, principal, batch_id)
        async with conn.transaction():
            content, content_type, filename = await export_bank_file(conn, actor, cipher, b, profile)
        return Response(
            content=content,
            media_type=content_type,
            status_code=200,
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )

    @post(
        "/{batch_id:str}/returns",
        guards=[FINANCE],
        operation_id="import_bank_return",
        opt=UPLOAD,
        before_request=keep_raw_body,
    )
    async def import_returns(
        self,
        request: Request,
        batch_id: str,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        b = await batch_for(conn, principal, batch_id)
        content = await data.file.read()
        filename = data.file.filename or "return"
        returned = await asyncio.to_thread(parse_upload, content, filename)
        sha = hashlib.sha256(content).hexdigest()
        today = clock.today()

        async def work(tx: asyncpg.Connection) -> ReturnResult:
            return await import_return(tx, actor, b["id"], returned, filename=filename, file_sha256=sha, today=today)

        return await run_idempotent(request, conn, principal, work)

    @get("/{batch_id:str}/reconciliation", guards=[READERS], operation_id="reconcile_payment_batch")
    async def reconcile_batch(self, batch_id: str, conn: asyncpg.Connection, principal: Principal) -> Reconciliation:
        b = await batch_for(conn, principal, batch_id)
        return reconciliation_out(
            b["county_code"], str(b["id"]), await q.reconciliation(conn, b["county_code"], b["id"])
        )


class ReconciliationController(Controller):
    path = "/reconciliation"
    tags = ["payments"]

    @get("/", guards=[READERS], operation_id="reconcile_county")
    async def reconcile_county(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str, Parameter(pattern=r"^[0-9]{12}$")],
    ) -> Reconciliation:
        require_county(principal, county_code)
        return reconciliation_out(county_code, None, await q.reconciliation(conn, county_code, None))


class BankAccountController(Controller):
    """Correcting a household's card (改卡), so a failed payment can be re-issued in a new batch."""

    path = "/households"
    tags = ["payments"]

    @put("/{household_id:str}/bank-account", guards=[REGISTRARS], operation_id="put_household_bank_account")
    async def put_bank_account(
        self,
        household_id: str,
        data: BankAccountPut,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
    ) -> HouseholdOut:
        row = await household_or_404(conn, principal, household_id)
        if not can_register_in(principal, row["village_code"]):
            raise forbidden("只能修改本辖区农户的银行卡")
        card = identity.normalize_card_number(data.bank_account)
        if problem := identity.card_number_problem(card):
            raise invalid_field("bank_account", problem)
        bank_name = data.bank_name.strip()
        if not bank_name:
            raise invalid_field("bank_name", "开户银行不能为空")
        masked = identity.mask_card_number(card)
        async with conn.transaction():
            before = await q.household_for_update(conn, row["county_code"], row["id"])
            await q.set_bank_account(
                conn,
                row["county_code"],
                row["id"],
                bank_name,
                cipher.encrypt(card, context=CARD_CONTEXT),
                cipher.lookup_hash(card, context=CARD_CONTEXT),
                masked,
            )
            await record(
                conn,
                actor,
                county_code=row["county_code"],
                action="household.bank_account",
                object_type="household",
                object_id=str(row["id"]),
                before={"bank_name": before["bank_name"], "bank_account": before["bank_account_masked"]},
                after={"bank_name": bank_name, "bank_account": masked},
            )
        return household_out(await registry_q.household(conn, str(row["id"])))


ROUTES = [PayableController, PaymentBatchController, ReconciliationController, BankAccountController]
