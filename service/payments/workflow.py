"""The use cases of payments: payables (应付款), payment batches (代发批次) with maker-checker, bank
files, return imports (回盘), reconciliation (对账) and correcting a household's card (改卡).

A payable moves unpaid → in_batch → paid, or back to unpaid with the bank's reason. A batch is
built by one finance officer and approved by a different finance user; the bank file is made only
from an approved batch; the bank's return file settles its lines. Paying a payable always posts
Dr its payable account (party = household) / Cr its paying (bank) account.

Every function runs in the caller's transaction and scopes the objects it touches through
service.core.policy, so the API, the pages, the CLI and the benchmark get the same answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from db import ledger
from db import payments as q
from db import registry as registry_q
from db.ids import as_uuid
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
from service.core.audit import Actor, record
from service.core.crypto import CARD_CONTEXT, ID_CONTEXT, DataCipher
from service.core.errors import bad_input, conflict, field_error, forbidden, invalid_field, not_found
from service.core.pagination import DEFAULT_LIMIT, Int4, decode_cursor, page_of
from service.core.policy import batch_for, can_register_in, household_or_404, require_county
from service.core.principal import Principal
from service.core.tabular import parse_off_the_loop
from service.payments import rules
from service.payments.bank_files import PROFILES, BankLine, ReturnFileError, parse_return_file, render_bank_file
from service.payments.rules import BatchLine, Match, ReturnLine, ReturnTally
from service.registry.workflow import household_out


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


# ---- payables ----------------------------------------------------------------------------------------


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


async def list_payables(
    conn: asyncpg.Connection,
    principal: Principal,
    county_code: str,
    *,
    status: str | None = None,
    source: str | None = None,
    village_code: str | None = None,
    venture_id: str | None = None,
    program_id: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[PayableOut]:
    """A county's payables, filtered, a page at a time (in id order)."""
    require_county(principal, county_code)
    ids: dict[str, uuid.UUID | None] = {}
    for name, value in (("venture_id", venture_id), ("program_id", program_id)):
        ids[name] = as_uuid(value)
        if value is not None and ids[name] is None:
            raise invalid_field(name, f"{name} 格式无效")
    after = decode_cursor(cursor, str)
    rows = await q.payables_page(
        conn,
        county_code,
        status=status,
        source=source,
        village_code=village_code,
        venture_id=ids["venture_id"],
        program_id=ids["program_id"],
        after=as_uuid(after[0]) if after else None,
        limit=limit + 1,
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [str(r["id"])])
    return Page([payable_out(r) for r in page], next_cursor)


# ---- batches: what they are on the wire ---------------------------------------------------------------


def _settled(r: asyncpg.Record) -> dict[str, int]:
    return {k: r[k] for k in Settled.__struct_fields__}


def _batch_fields(b: asyncpg.Record, figures: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(b["id"]),
        "county_code": b["county_code"],
        "status": b["status"],
        "count": b["line_count"],
        "total_fen": b["total_fen"],
        "max_payable_fen": rules.max_payable_fen(figures["paid_fen"], figures["pending_fen"]),
        "largest_line_fen": figures["largest"],
        "selection": b["selection"],
        "created_by": b["created_by"],
        "approved_by": b["approved_by"],
        "created_at": b["created_at"],
        "approved_at": b["approved_at"],
        "closed_at": b["closed_at"],
        **_settled(figures),
    }


async def batch_out(conn: asyncpg.Connection, b: asyncpg.Record) -> BatchOut:
    return BatchOut(**_batch_fields(b, await q.batch_figures(conn, b["county_code"], b["id"])))


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


# ---- building, reading, approving, cancelling -----------------------------------------------------------


def check_batch_request(principal: Principal, data: BatchCreate) -> None:
    """Whether this caller may build this batch at all, before anything is claimed or locked."""
    require_county(principal, data.county_code)
    filters = {name: getattr(data, name) for name in rules.FILTERS}
    rules.check_selection(data.payable_ids, filters)


async def build_batch(conn: asyncpg.Connection, actor: Actor, principal: Principal, data: BatchCreate) -> BatchOut:
    """A draft batch of the selected unpaid payables (an explicit list, all or nothing; or filters)."""
    check_batch_request(principal, data)
    ids = list(dict.fromkeys(uuid.UUID(i) for i in data.payable_ids)) if data.payable_ids is not None else None
    batch_id = uuid.uuid4()
    await q.plan_for_bulk(conn)
    selection = rules.recorded_selection(msgspec.to_builtins(data), len(ids) if ids is not None else None)
    await q.insert_batch(conn, data.county_code, batch_id, selection, actor.name, principal.id)
    taken = await q.take_payables(
        conn,
        data.county_code,
        batch_id,
        payable_ids=ids,
        source=data.source,
        village_code=data.village_code,
        venture_id=as_uuid(data.venture_id),
        program_id=as_uuid(data.program_id),
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
    out = await batch_out(conn, await q.batch_row(conn, data.county_code, batch_id))
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


async def list_batches(
    conn: asyncpg.Connection,
    principal: Principal,
    county_code: str,
    *,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[BatchOut]:
    """A county's batches, newest first, a page at a time."""
    require_county(principal, county_code)
    after = decode_cursor(cursor, dt.datetime, uuid.UUID)
    key = (after[0], after[1]) if after else None
    rows = await q.batches_page(conn, county_code, status, key, limit + 1)
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["created_at"].isoformat(), str(r["id"])])
    return Page([await batch_out(conn, r) for r in page], next_cursor)


async def find_batch(conn: asyncpg.Connection, principal: Principal, batch_id: str) -> None:
    """Refuse (404) a batch the caller may not see, before an idempotency key is claimed for it."""
    await batch_for(conn, principal, batch_id)


async def get_batch(
    conn: asyncpg.Connection,
    principal: Principal,
    batch_id: str,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> BatchDetail:
    """The batch and a page of its lines, in 序号 order."""
    b = await batch_for(conn, principal, batch_id)
    lines, next_cursor = await _lines_page(conn, b, limit, cursor)
    figures = await q.batch_figures(conn, b["county_code"], b["id"])
    return BatchDetail(**_batch_fields(b, figures), lines=lines, next_cursor=next_cursor)


async def batch_lines(
    conn: asyncpg.Connection, principal: Principal, batch_id: str, *, limit: int, cursor: str | None
) -> tuple[list[BatchLineOut], str | None]:
    """A page of the batch's lines without its figures (a download walks every page; the
    figures, a pass over all the batch's lines, are read once beside it)."""
    return await _lines_page(conn, await batch_for(conn, principal, batch_id), limit, cursor)


async def _lines_page(
    conn: asyncpg.Connection, b: asyncpg.Record, limit: int, cursor: str | None
) -> tuple[list[BatchLineOut], str | None]:
    after = decode_cursor(cursor, Int4)
    rows = await q.lines_page(conn, b["county_code"], b["id"], after[0] if after else 0, limit + 1)
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["seq"]])
    return [line_out(r) for r in page], next_cursor


async def failed_lines(
    conn: asyncpg.Connection, principal: Principal, batch_id: str, *, limit: int
) -> list[BatchLineOut]:
    """The lines of the batch the bank returned as failed (each to be paid again in a new batch)."""
    b = await batch_for(conn, principal, batch_id)
    return [line_out(r) for r in await q.failed_lines(conn, b["county_code"], b["id"], limit)]


async def approve_batch(conn: asyncpg.Connection, actor: Actor, principal: Principal, batch_id: str) -> BatchOut:
    """Maker-checker under the batch's row lock: only a draft, only by someone other than its maker."""
    b = await batch_for(conn, principal, batch_id, for_update=True)
    rules.check_approval(b["status"], b["created_by_id"], principal.id)
    await q.approve(conn, b["county_code"], b["id"], actor.name, principal.id)
    out = await batch_out(conn, await q.batch_row(conn, b["county_code"], b["id"]))
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


async def cancel_batch(conn: asyncpg.Connection, actor: Actor, principal: Principal, batch_id: str) -> BatchOut:
    """A draft is withdrawn under its row lock: its payables go back to unpaid, its lines stay as the record."""
    b = await batch_for(conn, principal, batch_id, for_update=True)
    rules.check_cancellable(b["status"])
    released = await q.cancel(conn, b["county_code"], b["id"])
    out = await batch_out(conn, await q.batch_row(conn, b["county_code"], b["id"]))
    await record(
        conn,
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


# ---- the bank file ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BankFile:
    content: bytes
    content_type: str
    filename: str


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
    conn: asyncpg.Connection, actor: Actor, principal: Principal, cipher: DataCipher, batch_id: str, profile: str
) -> BankFile:
    """The file for the bank of an approved batch, in a bank profile; every export is audited."""
    if profile not in PROFILES:
        raise invalid_field("profile", f"未知的银行文件格式 {profile}，可选：{'、'.join(sorted(PROFILES))}")
    b = await batch_for(conn, principal, batch_id)
    rules.check_exportable(b["status"])
    rows = await q.bank_lines(conn, b["county_code"], b["id"])

    def render() -> tuple[bytes, str, str]:
        return render_bank_file(profile, str(b["id"]), bank_file_lines(rows, cipher))

    content, content_type, filename = await asyncio.to_thread(render)
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
            "total_fen": sum(r["amount_fen"] for r in rows),
            "sha256": hashlib.sha256(content).hexdigest(),
        },
    )
    return BankFile(content, content_type, filename)


# ---- the bank's return file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnUpload:
    """A return file read and checked, for a batch the caller may see: ready to import."""

    batch_id: str
    lines: list[ReturnLine]
    filename: str
    file_sha256: str


def read_return_file(content: bytes, filename: str) -> list[ReturnLine]:
    """The lines of a return file, or Invalid naming the bad row and field (nothing changes)."""
    try:
        returned = parse_return_file(content, filename)
    except ReturnFileError as exc:
        raise bad_input(
            f"回盘文件第 {exc.row} 行有误，未作任何更改：{exc.message}", [field_error(exc.field, exc.message, exc.row)]
        ) from None
    if not returned:
        raise invalid_field("file", "回盘文件中没有明细行")
    return returned


async def prepare_return(
    conn: asyncpg.Connection, principal: Principal, batch_id: str, content: bytes, filename: str
) -> ReturnUpload:
    """Refuse an unknown batch (404) or a malformed file (422) before anything is claimed or locked."""
    b = await batch_for(conn, principal, batch_id)
    returned = await parse_off_the_loop(read_return_file, content, filename)
    return ReturnUpload(str(b["id"]), returned, filename, hashlib.sha256(content).hexdigest())


def _batch_line(r: asyncpg.Record) -> BatchLine:
    return BatchLine(
        seq=r["seq"],
        payable_id=r["payable_id"],
        household_id=r["household_id"],
        amount_fen=r["amount_fen"],
        status=r["status"],
        card_last4=r["bank_account_masked"][-4:],
        payable_account_id=r["payable_account_id"],
        paying_account_id=r["paying_account_id"],
    )


async def _settle_paid(
    conn: asyncpg.Connection, b: asyncpg.Record, return_id: uuid.UUID, paid: tuple[BatchLine, ...], today: dt.date
) -> uuid.UUID | None:
    """One journal entry for the paid lines (a pair of legs per payable); lines and payables → paid."""
    if not paid:
        return None
    county = b["county_code"]
    entry_id = await ledger.post_entry(
        conn,
        county_code=county,
        source_type="bank_return",
        source_id=str(b["id"]),
        idempotency_key=f"bank_return:{return_id}",
        posted_on=today,
        memo=f"代发回盘：批次 {b['id']} 成功 {len(paid)} 笔",
        lines=rules.payment_legs(paid),
    )
    seqs, payables = [p.seq for p in paid], [p.payable_id for p in paid]
    changed = await q.mark_paid(conn, county, b["id"], return_id, entry_id, today, seqs, payables)
    if changed != (len(paid), len(paid)):
        raise RuntimeError(f"batch {b['id']}: {changed} of {len(paid)} lines/payables marked paid")
    return entry_id


async def _settle_failed(
    conn: asyncpg.Connection, b: asyncpg.Record, return_id: uuid.UUID, failed: tuple[Match, ...], today: dt.date
) -> None:
    """Failed lines keep the bank's reason; their payables go back to unpaid, free for a new batch."""
    lines = [m.line for m in failed if m.line is not None]
    if not lines:
        return
    seqs, payables, reasons = (
        [line.seq for line in lines],
        [line.payable_id for line in lines],
        [m.reason for m in failed],
    )
    changed = await q.mark_failed(conn, b["county_code"], b["id"], return_id, today, seqs, payables, reasons)
    if changed != (len(lines), len(lines)):
        raise RuntimeError(f"batch {b['id']}: {changed} of {len(lines)} lines/payables marked failed")


async def _record_return(
    conn: asyncpg.Connection,
    actor: Actor,
    b: asyncpg.Record,
    ids: tuple[uuid.UUID, uuid.UUID | None],
    upload: ReturnUpload,
    t: ReturnTally,
    status: str,
    today: dt.date,
) -> None:
    """The import's own row (payment_returns) and its audit entry."""
    return_id, entry_id = ids
    await q.insert_return(
        conn,
        b["county_code"],
        return_id,
        b["id"],
        filename=upload.filename,
        file_sha256=upload.file_sha256,
        entry_id=entry_id,
        paid=(len(t.paid), t.paid_fen),
        failed=(len(t.failed), t.failed_fen),
        unmatched=t.counts["unmatched"],
        repeated=t.repeated,
        imported_by=actor.name,
        imported_on=today,
    )
    detail: dict[str, Any] = {
        **t.counts,
        "paid_fen": t.paid_fen,
        "failed_fen": t.failed_fen,
        "return_id": str(return_id),
    }
    detail |= {"entry_id": _str(entry_id), "file_sha256": upload.file_sha256}
    await record(
        conn,
        actor,
        county_code=b["county_code"],
        action="batch.return_import",
        object_type="payment_batch",
        object_id=str(b["id"]),
        after={"status": status},
        detail=detail,
    )


def _return_result(
    b: asyncpg.Record, ids: tuple[uuid.UUID, uuid.UUID | None], status: str, matches: list[Match], t: ReturnTally
) -> ReturnResult:
    return_id, entry_id = ids
    lines = [
        ReturnLineOut(
            m.outcome,
            m.returned.amount_fen,
            m.line.seq if m.line else m.returned.seq,
            str(m.line.payable_id) if m.line else m.returned.payable_id,
            m.reason,
        )
        for m in matches
    ]
    c = t.counts
    return ReturnResult(
        str(return_id),
        str(b["id"]),
        status,
        c["paid"],
        c["failed"],
        c["unmatched"],
        c["already_paid"],
        c["already_failed"],
        t.paid_fen,
        t.failed_fen,
        _str(entry_id),
        lines,
    )


async def import_return(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, upload: ReturnUpload, *, today: dt.date
) -> ReturnResult:
    """Settle a batch from the bank's return file under the batch's row lock: paid lines post,
    failed lines go back to unpaid with the bank's reason, each line settled at most once (a
    repeated file changes nothing); the batch closes once no line is pending."""
    await q.plan_for_bulk(conn)
    b = await batch_for(conn, principal, upload.batch_id, for_update=True)
    rules.check_importable(b["status"])
    lines = [_batch_line(r) for r in await q.settlement_lines(conn, b["county_code"], b["id"])]
    matches = rules.match_return_lines(lines, upload.lines)
    t = rules.tally(matches)
    return_id = uuid.uuid4()
    entry_id = await _settle_paid(conn, b, return_id, t.paid, today)
    await _settle_failed(conn, b, return_id, t.failed, today)
    status = await q.close_if_settled(conn, b["county_code"], b["id"])
    await _record_return(conn, actor, b, (return_id, entry_id), upload, t, status, today)
    return _return_result(b, (return_id, entry_id), status, matches, t)


# ---- reconciliation -----------------------------------------------------------------------------------


def reconciliation_out(county_code: str, batch_id: str | None, r: asyncpg.Record) -> Reconciliation:
    d = rules.differences(
        rules.BankFigures(
            sent_fen=r["sent_fen"],
            paid_fen=r["paid_fen"],
            failed_fen=r["failed_fen"],
            pending_fen=r["pending_fen"],
            payments_fen=r["payments_fen"],
            ledger_fen=r["ledger_fen"],
        )
    )
    return Reconciliation(
        county_code=county_code,
        batch_id=batch_id,
        sent_count=r["sent_count"],
        sent_fen=r["sent_fen"],
        difference_fen=d.difference_fen,
        payments_fen=r["payments_fen"],
        ledger_fen=r["ledger_fen"],
        ledger_difference_fen=d.ledger_difference_fen,
        ok=d.ok,
        **_settled(r),
    )


async def reconcile_batch(conn: asyncpg.Connection, principal: Principal, batch_id: str) -> Reconciliation:
    """对账 of one batch: sent = paid + failed + pending, and paid agrees with payments and the ledger."""
    b = await batch_for(conn, principal, batch_id)
    return reconciliation_out(b["county_code"], str(b["id"]), await q.reconciliation(conn, b["county_code"], b["id"]))


async def reconcile_county(conn: asyncpg.Connection, principal: Principal, county_code: str) -> Reconciliation:
    """对账 over every batch of the county that went to the bank."""
    require_county(principal, county_code)
    return reconciliation_out(county_code, None, await q.reconciliation(conn, county_code, None))


# ---- correcting a household's card --------------------------------------------------------------------


async def correct_card(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    cipher: DataCipher,
    household_id: str,
    data: BankAccountPut,
) -> HouseholdOut:
    """改卡: the household's card as its village's registrar corrects it, so a failed payment can be
    re-issued in a new batch; the old and new masked numbers go to the audit log."""
    row = await household_or_404(conn, principal, household_id)
    if not can_register_in(principal, row["village_code"]):
        raise forbidden("只能修改本辖区农户的银行卡")
    card = rules.checked_card(data.bank_name, data.bank_account)
    before = await q.household_for_update(conn, row["county_code"], row["id"])
    await q.set_bank_account(
        conn,
        row["county_code"],
        row["id"],
        card.bank_name,
        cipher.encrypt(card.number, context=CARD_CONTEXT),
        cipher.lookup_hash(card.number, context=CARD_CONTEXT),
        card.masked,
    )
    await record(
        conn,
        actor,
        county_code=row["county_code"],
        action="household.bank_account",
        object_type="household",
        object_id=str(row["id"]),
        before={"bank_name": before["bank_name"], "bank_account": before["bank_account_masked"]},
        after={"bank_name": card.bank_name, "bank_account": card.masked},
    )
    after = await registry_q.household(conn, str(row["id"]))
    if after is None:
        raise not_found("农户")
    return household_out(after)
