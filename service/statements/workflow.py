"""A household's statement (收益明细) for one year: the one calculation behind the JSON, the PDF and
the 我的分红 page.

Every line is a payable: what a venture, a buyer or the county owes the household, with the
explanation written when it was recognised. A cancelled payable (its source was reversed) stays on
the statement marked 已冲销 so the household can see what happened, but counts in no total. Totals
come from service.statements.rules over the counted lines, and the PDF is made of those same
lines, so the PDF, the JSON and the page cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import asyncpg

from db import statements as q
from schemas.statements import StatementLineOut, StatementOut
from service.core.policy import household_or_404
from service.core.principal import Principal
from service.documents.pdf import StatementData, StatementLine, household_statement_pdf
from service.statements.rules import INCOME_KINDS, counted, default_year, line_kind, shown_explanation
from service.statements.rules import totals_by_income_kind as totals_of


def _line_out(row: asyncpg.Record) -> StatementLineOut:
    kind = line_kind(row["source"], row["basis"])
    return StatementLineOut(
        kind=kind,
        source_id=row["source_id"],
        source_name=row["source_name"],
        amount_fen=row["amount_fen"],
        explanation=shown_explanation(row["explanation"], row["status"]),
        payment_status=row["status"],
        paid_on=row["paid_on"],
        payable_id=str(row["id"]),
        income_kind=INCOME_KINDS[kind],
        counted=counted(row["status"]),
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


class EveryYear:
    """A household's statement lines of every year, read in one query: a page that shows one
    year's statement and, beside it, what the award programmes of other years recorded of its
    income, reads them once (each year's statement read them all again)."""

    def __init__(self, household: asyncpg.Record, rows: list[asyncpg.Record]) -> None:
        self.household = household
        self.rows = rows
        self.years = sorted({r["year"] for r in rows}, reverse=True)

    def statement(self, year: int | None, today: dt.date) -> StatementOut:
        """The statement of the year asked for, else of the newest year with lines."""
        shown = year if year is not None else default_year(self.years, today)
        lines = [_line_out(r) for r in self.rows if r["year"] == shown]
        totals, total = totals_of((line.kind, line.amount_fen) for line in lines if line.counted)
        return StatementOut(
            household_id=str(self.household["id"]),
            household_no=self.household["household_no"],
            year=shown,
            lines=lines,
            totals_by_kind=totals,
            total_fen=total,
            years=self.years,
        )


async def every_year(conn: asyncpg.Connection, household: asyncpg.Record) -> EveryYear:
    """The statement lines of every year of a household the caller may read (household_or_404)."""
    return EveryYear(household, list(await q.all_statement_rows(conn, household["county_code"], household["id"])))


async def household_statement(
    conn: asyncpg.Connection, household: asyncpg.Record, year: int | None, today: dt.date
) -> StatementOut:
    """The statement of a household the caller has already been allowed to read (its row from
    household_or_404): the year asked for, else the newest year with lines."""
    return (await every_year(conn, household)).statement(year, today)


async def read_statement(
    conn: asyncpg.Connection, principal: Principal, household_id: str, *, year: int | None, today: dt.date
) -> StatementOut:
    """GET /households/{id}/statement as JSON: the household itself, its village's and township's
    reviewers and the county's finance and audit may read it (others: 404)."""
    household = await household_or_404(conn, principal, household_id)
    return await household_statement(conn, household, year, today)


def statement_pdf_file(
    household: Mapping[str, Any] | asyncpg.Record, statement: StatementOut, today: dt.date, head_name: str
) -> tuple[bytes, str, str]:
    """The PDF of a statement's counted lines (the same lines and totals as the JSON; cancelled
    ones left out): (content, an ASCII file name for old browsers, the Chinese one). It is the
    household's own paper, so it names the head of household in full."""
    content = household_statement_pdf(
        StatementData(
            head_name=head_name,
            household_no=household["household_no"],
            year=statement.year,
            lines=tuple(_document_lines(statement.lines)),
            generated_on=today,
        )
    )
    ascii_name = f"statement-{statement.household_no}-{statement.year}.pdf"
    return content, ascii_name, f"{statement.year}年收益明细.pdf"


async def statement_pdf_download(
    conn: asyncpg.Connection, principal: Principal, household_id: str, *, year: int | None, today: dt.date
) -> tuple[bytes, str, str]:
    """The same statement as a PDF, for the same readers: (content, ASCII name, Chinese name)."""
    household = await household_or_404(conn, principal, household_id)
    return await statement_pdf(conn, household, await household_statement(conn, household, year, today), today)


async def statement_pdf(
    conn: asyncpg.Connection, household: asyncpg.Record, statement: StatementOut, today: dt.date
) -> tuple[bytes, str, str]:
    """The PDF of a statement the caller may read, with the head of household's name in full."""
    head_name = await q.head_name(conn, household["county_code"], household["id"])
    return statement_pdf_file(household, statement, today, head_name)
