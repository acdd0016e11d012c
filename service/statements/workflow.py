"""A household's statement (收益明细) for one year: the one calculation behind the JSON, the PDF and
the 我的分红 page.

Every line is a payable: what a venture, a buyer or the county owes the household, with the
explanation written when it was recognised. A cancelled payable (its source was reversed) stays on
the statement marked 已冲销 so the household can see what happened, but counts in no total. Totals
come from service.documents.pdf.statement_totals over the counted lines, so the PDF, the JSON and
the page cannot disagree.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from db import statements as q
from schemas.statements import StatementLineOut, StatementOut
from service.documents.pdf import INCOME_KINDS, StatementData, StatementLine, household_statement_pdf, statement_totals

# A distribution line's basis decides what kind of income it is (DESIGN.md, Pages for households).
KIND_OF_BASIS = {
    "patronage": "patronage",  # 盈余返还 by transaction volume
    "floor": "guaranteed_return",  # 保底收益 of poverty shares
    "arrears": "guaranteed_return",  # a floor owed from earlier years, paid now
    "shares": "dividend",  # 分红 by shares held
    "capital": "dividend",  # a cooperative's remaining surplus by member account
}
CANCELLED_NOTE = "（已冲销，不计入合计）"


def line_kind(source: str, basis: str) -> str:
    if source == "distribution":
        if basis not in KIND_OF_BASIS:
            raise ValueError(f"distribution payable with unknown basis {basis!r}")
        return KIND_OF_BASIS[basis]
    if source in ("settlement", "award"):
        return source
    raise ValueError(f"payable with unknown source {source!r}")


def _line_out(row: asyncpg.Record) -> StatementLineOut:
    kind = line_kind(row["source"], row["basis"])
    counted = row["status"] != "cancelled"
    explanation = row["explanation"] if counted else row["explanation"] + CANCELLED_NOTE
    return StatementLineOut(
        kind=kind,
        source_id=row["source_id"],
        source_name=row["source_name"],
        amount_fen=row["amount_fen"],
        explanation=explanation,
        payment_status=row["status"],
        paid_on=row["paid_on"],
        payable_id=str(row["id"]),
        income_kind=INCOME_KINDS[kind],
        counted=counted,
        source_type=row["source"],
        failure_reason=row["failure_reason"] if row["status"] == "unpaid" else None,
        certificate_serial=row["serial"],
    )


def _document_lines(lines: list[StatementLineOut]) -> list[StatementLine]:
    return [
        StatementLine(
            kind=line.kind,
            source_name=line.source_name,
            explanation=line.explanation,
            amount_fen=line.amount_fen,
            payment_status=line.payment_status,
            paid_on=line.paid_on,
        )
        for line in lines
        if line.counted
    ]


def default_year(years: list[int], today: dt.date) -> int:
    """The newest year with lines (last year's dividends are paid this year), else this year."""
    return years[0] if years else today.year


async def household_statement(
    conn: asyncpg.Connection, household: asyncpg.Record, year: int | None, today: dt.date
) -> StatementOut:
    """The statement of a household the caller has already been allowed to read."""
    years = await q.statement_years(conn, household["county_code"], household["id"])
    year = year if year is not None else default_year(years, today)
    rows = await q.statement_rows(conn, household["county_code"], household["id"], year)
    lines = [_line_out(r) for r in rows]
    totals, total = statement_totals(_document_lines(lines))
    return StatementOut(
        household_id=str(household["id"]),
        household_no=household["household_no"],
        year=year,
        lines=lines,
        totals_by_kind=totals,
        total_fen=total,
        years=years,
    )


def statement_pdf(household: asyncpg.Record, statement: StatementOut, today: dt.date) -> bytes:
    """The PDF of the counted lines: the same lines and totals as the JSON (cancelled ones left out)."""
    return household_statement_pdf(
        StatementData(
            household_name_masked=household["head_name_masked"],
            household_no=household["household_no"],
            year=statement.year,
            lines=tuple(_document_lines(statement.lines)),
            generated_on=today,
        )
    )


def pdf_filename(statement: StatementOut) -> tuple[str, str]:
    """An ASCII name for old browsers and the Chinese one (RFC 6266 filename*)."""
    return f"statement-{statement.household_no}-{statement.year}.pdf", f"{statement.year}年收益明细.pdf"
