"""PDF documents in Chinese: the award certificate and the household's yearly statement.

Both are built with fpdf2 and a CJK font from service.documents.fonts, and returned as bytes.
Amounts arrive as integer fen and are written as yuan with two decimals (and, on a certificate,
in capital numerals). Both are the household's own papers and name the head of household in
full; what the public reads (the verification page, notices) stays masked. The certificate
carries a QR code of its verification address, so anyone can check it with a phone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace

from service.core.money import format_yuan
from service.core.money_words import yuan_in_capitals
from service.documents.fonts import document_fonts
from service.documents.qr import draw_qr
from service.statements.rules import INCOME_KIND_ORDER, INCOME_KINDS, totals_by_income_kind

_FONT = "doc"

CERTIFICATE_TITLES = {"exit": "光荣脱贫证", "xiaokang": "小康光荣证"}

# The income kinds a statement totals by are the statement rules' (service/statements/rules.py).
LINE_KIND_WORDS = {
    "dividend": "分红",
    "guaranteed_return": "保底收益",
    "patronage": "盈余返还",
    "settlement": "收购结算",
    "award": "奖励",
}
PAYMENT_STATUS_WORDS = {"unpaid": "待发放", "in_batch": "发放中", "paid": "已发放", "cancelled": "已冲销"}


@dataclass(frozen=True)
class CertificateData:
    kind: Literal["exit", "xiaokang"]
    holder_name: str  # the head of household, in full
    village_name: str
    year: int
    amount_fen: int
    serial: str
    verify_url: str
    issuing_county: str  # printed as the issuer, e.g. 宕昌县人民政府
    issued_on: date


@dataclass(frozen=True)
class StatementLine:
    kind: str  # a key of INCOME_KINDS
    source_name: str
    explanation: str
    amount_fen: int
    payment_status: str  # a key of PAYMENT_STATUS_WORDS
    paid_on: date | None = None


@dataclass(frozen=True)
class StatementData:
    head_name: str  # the head of household, in full
    household_no: str
    year: int
    lines: tuple[StatementLine, ...]
    generated_on: date


def statement_totals(lines: Iterable[StatementLine]) -> tuple[dict[str, int], int]:
    """Totals by income kind (all three kinds, zero when absent) and the grand total, in fen."""
    return totals_by_income_kind((line.kind, line.amount_fen) for line in lines)


FONT = _FONT


def font_families() -> tuple[str, str]:
    """The registered families for Latin text and for Chinese text (the same when one font has both)."""
    return _FONT, (f"{_FONT}0" if len(document_fonts()) > 1 else _FONT)


def register_fonts(pdf: FPDF) -> None:
    """The document fonts under FONT, the CJK font as a fallback when the first lacks Chinese."""
    first, *fallbacks = document_fonts()
    pdf.add_font(_FONT, fname=str(first))
    for index, path in enumerate(fallbacks):
        pdf.add_font(f"{_FONT}{index}", fname=str(path))
    pdf.set_fallback_fonts([f"{_FONT}{index}" for index in range(len(fallbacks))], exact_match=False)


def new_pdf(orientation: str, title: str, pdf: FPDF | None = None) -> FPDF:
    """An A4 document with the fonts registered and its first page added."""
    pdf = pdf or FPDF(orientation=orientation, unit="mm", format="A4")
    register_fonts(pdf)
    pdf.set_title(title)
    pdf.set_creator("惠农 Huinong")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf


def text_line(pdf: FPDF, text: str, size: float, height: float, align: Align = Align.L) -> None:
    pdf.set_font(_FONT, size=size)
    pdf.multi_cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def award_certificate_pdf(data: CertificateData) -> bytes:
    """光荣脱贫证 (exit) or 小康光荣证 (xiaokang), one A4 landscape page."""
    if data.kind not in CERTIFICATE_TITLES:
        raise ValueError(f"unknown award kind {data.kind!r}")
    title = CERTIFICATE_TITLES[data.kind]
    pdf = new_pdf("landscape", title)
    pdf.set_draw_color(178, 34, 34)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_margins(30, 25, 30)
    pdf.set_y(28)

    pdf.set_text_color(178, 34, 34)
    text_line(pdf, title, 40, 20, Align.C)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(6)
    if data.kind == "exit":
        achievement = f"于 {data.year} 年光荣脱贫"
    else:
        achievement = f"{data.year} 年家庭人均纯收入达到小康标准"
    amount = format_yuan(data.amount_fen)
    text_line(pdf, f"{data.village_name} {data.holder_name} 户：", 20, 12)
    text_line(
        pdf,
        f"    {achievement}，特发此证，以资鼓励。"
        f"奖励人民币 {amount} 元（大写：人民币{yuan_in_capitals(data.amount_fen)}）。",
        20,
        12,
    )
    pdf.ln(8)
    text_line(pdf, f"{data.issuing_county}", 18, 10, Align.R)
    text_line(pdf, f"{data.issued_on.year} 年 {data.issued_on.month} 月 {data.issued_on.day} 日", 18, 10, Align.R)
    pdf.ln(6)
    size = 32.0
    top = min(pdf.get_y(), pdf.h - 14 - size)
    draw_qr(pdf, data.verify_url, pdf.w - 30 - size, top, size)
    pdf.set_right_margin(30 + size + 6)  # the lines beside the code never run under it
    text_line(pdf, f"证书编号：{data.serial}", 14, 8)
    text_line(pdf, f"真伪查验：{data.verify_url}", 14, 8)
    text_line(pdf, "用手机扫描右侧二维码即可查验真伪。", 12, 7)
    return bytes(pdf.output())


def _paid_text(line: StatementLine) -> str:
    if line.payment_status not in PAYMENT_STATUS_WORDS:
        raise ValueError(f"unknown payment status {line.payment_status!r}")
    status = PAYMENT_STATUS_WORDS[line.payment_status]
    return status if line.paid_on is None else f"{status}\n{line.paid_on.isoformat()}"


def _statement_rows(lines: Sequence[StatementLine]) -> list[tuple[str, ...]]:
    header = ("类别", "来源", "说明", "金额（元）", "发放情况")
    rows: list[tuple[str, ...]] = [header]
    for line in lines:
        kind = LINE_KIND_WORDS.get(line.kind, line.kind)
        rows.append(
            (
                f"{kind}\n{INCOME_KINDS[line.kind]}",
                line.source_name,
                line.explanation,
                format_yuan(line.amount_fen),
                _paid_text(line),
            )
        )
    return rows


def household_statement_pdf(data: StatementData) -> bytes:
    """The household's lines of the year with payment status, totals by income kind and in all."""
    totals, grand_total = statement_totals(data.lines)
    pdf = new_pdf("portrait", f"{data.year} 年收益明细")
    text_line(pdf, f"{data.year} 年家庭收益明细", 22, 12, Align.C)
    pdf.ln(2)
    text_line(pdf, f"户主：{data.head_name}    户号：{data.household_no}", 14, 8)
    text_line(pdf, f"出具日期：{data.generated_on.isoformat()}", 14, 8)
    pdf.ln(3)

    pdf.set_font(_FONT, size=12)
    with pdf.table(
        col_widths=(24, 30, 70, 26, 30),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "CENTER"),
        line_height=6.5,
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="", fill_color=(235, 235, 235)),
    ) as table:
        for row in _statement_rows(data.lines):
            table.row(row)
    if not data.lines:
        text_line(pdf, "本年度无收益记录。", 14, 8)

    pdf.ln(5)
    text_line(pdf, "按收入类别合计", 16, 9)
    for kind in INCOME_KIND_ORDER:
        text_line(pdf, f"{kind}：{format_yuan(totals[kind])} 元", 14, 8)
    text_line(pdf, f"全年合计：{format_yuan(grand_total)} 元（大写：人民币{yuan_in_capitals(grand_total)}）", 16, 9)
    return bytes(pdf.output())
