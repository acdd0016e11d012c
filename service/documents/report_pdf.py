"""The pieces every report PDF is made of: A4 pages numbered "第 x 页 / 共 y 页", an optional
running header that restarts its own page count (成员账户: 成员姓名 and 第 n 页 of that member),
headings, paragraphs, tables that repeat their heading row on every page, and pygal charts.

Cells arrive as text already formatted (yuan from integer fen by format_yuan); nothing here
computes a figure.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from fpdf import FPDF
from fpdf.enums import Align
from fpdf.fonts import FontFace

from service.documents.charts import for_pdf
from service.documents.pdf import FONT, font_families, register_fonts, text_line


class ReportPdf(FPDF):
    """An A4 report whose footer numbers every page; `running` prints at the top of each page
    with the page number counted from the page `running_from` (where a part began)."""

    def __init__(self, orientation: str = "portrait") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.running = ""
        self.running_from = 1
        self.footer_note = ""

    def header(self) -> None:
        if not self.running:
            return
        self.set_font(FONT, size=10)
        self.cell(0, 6, f"{self.running}    第 {self.page_no() - self.running_from + 1} 页", align=Align.R)
        self.ln(8)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=9)
        note = f"{self.footer_note}    " if self.footer_note else ""
        self.cell(0, 6, f"{note}第 {self.page_no()} 页 / 共 {{nb}} 页", align=Align.C)


def start(title: str, orientation: str = "portrait", *, first_page: bool = True) -> ReportPdf:
    """A report with its fonts; without a first page when it is made of parts (new_part)."""
    pdf = ReportPdf(orientation)
    register_fonts(pdf)
    pdf.set_title(title)
    pdf.set_creator("惠农 Huinong")
    pdf.set_auto_page_break(auto=True, margin=16)
    if first_page:
        pdf.add_page()
    return pdf


def new_part(pdf: ReportPdf, running: str) -> None:
    """A part starting on a page of its own (one member's account), its pages counted from 1."""
    pdf.running = running
    pdf.running_from = pdf.page_no() + 1
    pdf.add_page()


def heading(pdf: FPDF, text: str, size: float = 16) -> None:
    text_line(pdf, text, size, size * 0.55, Align.C if size >= 16 else Align.L)


def paragraph(pdf: FPDF, text: str, size: float = 11) -> None:
    text_line(pdf, text, size, size * 0.5)


def table(
    pdf: FPDF,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    align: Sequence[str] | None = None,
    size: float = 9,
    bold_rows: Sequence[int] = (),
) -> None:
    """A table with its heading row repeated on each page; `bold_rows` are totals."""
    pdf.set_font(FONT, size=size)
    aligns = tuple(align) if align else tuple("LEFT" for _ in header)
    bold = set(bold_rows)
    with pdf.table(
        col_widths=tuple(widths),
        text_align=aligns,
        line_height=size * 0.5,
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="", fill_color=(235, 235, 235)),
        repeat_headings=1,
    ) as t:
        t.row(list(header))
        for index, cells in enumerate(rows):
            style = FontFace(fill_color=(246, 246, 246)) if index in bold else None
            t.row(list(cells), style=style)
    pdf.ln(3)


def chart(pdf: FPDF, svg: bytes, width: float = 180) -> None:
    """A pygal chart, drawn by fpdf2 as vectors, on a new page when it would not fit."""
    height = width * 480 / 900
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()
    latin, cjk = font_families()
    pdf.image(io.BytesIO(for_pdf(svg, latin, cjk)), w=width, x=(pdf.w - width) / 2)
    pdf.set_y(pdf.get_y() + 2)
    pdf.set_x(pdf.l_margin)


def finish(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
