"""Renderers: each report's Struct (schemas/reports.py) as an xlsx workbook, an A4 PDF, and for
the county's year report an HTML page with its charts inline. Pure functions of the Struct, so
the API, the console and the CLI give the same file for the same report.

Amounts are integer fen in the Struct; a PDF shows them as yuan with two decimals written by
format_yuan, an xlsx as exact numbers (service/documents/xlsx.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from schemas.reports import (
    AccountBook,
    AccountBooks,
    HouseholdCard,
    MemberEquity,
    NoticePrint,
    ProfitDistribution,
    Register,
    RegisterFigures,
    ShareCertificate,
    ShareholderRegister,
    SurplusDistribution,
    YearReport,
)
from service.core.clock import written_date
from service.core.money import format_bp, format_yuan
from service.core.money_words import yuan_in_capitals
from service.documents import report_pdf as doc
from service.documents.charts import Series, bar_chart, for_html
from service.documents.qr import draw_qr
from service.documents.xlsx import Cell, Kilograms, Money, Sheet, workbook
from service.reports.rules import ACCOUNT_COLUMN_WORDS, format_weight
from service.statements.rules import INCOME_KIND_ORDER

STATUS_WORDS = {"not_registered": "非建档立卡户", "poor": "建档立卡贫困户", "exited": "已脱贫", "xiaokang": "已达小康"}
ROW_WORDS = {"household": ("户号", "户主"), "village": ("村代码", "村"), "township": ("乡镇代码", "乡镇")}
BOOK_FIGURES = (
    "capital_poverty_fen",
    "capital_other_fen",
    "reserve_share_fen",
    "subsidy_share_fen",
    "donation_share_fen",
)


def yuan(fen: int | None) -> str:
    return "" if fen is None else format_yuan(fen, thousands=True)


def money(fen: int | None) -> Cell:
    return None if fen is None else Money(fen)


# ---- 会农社02表 -------------------------------------------------------------------------------------


def _surplus_header(r: SurplusDistribution) -> list[str]:
    return [f"{r.form}", f"编制单位：{r.venture_name}", f"{r.year} 年度", f"单位：{r.unit}", *r.notes]


def surplus_xlsx(r: SurplusDistribution) -> bytes:
    rows: list[list[Cell]] = [
        [line.item, line.line_no, money(line.this_year_fen), money(line.last_year_fen)] for line in r.lines
    ]
    return workbook(
        [
            Sheet(
                r.form,
                r.title,
                notes=_surplus_header(r),
                header=[["项目", "行次", "本年金额", "上年金额"]],
                rows=rows,
                widths=[28, 8, 18, 18],
            ),
            _checks_sheet(r.checks),
        ]
    )


def surplus_pdf(r: SurplusDistribution) -> bytes:
    pdf = doc.start(r.title)
    doc.heading(pdf, r.title, 18)
    for note in _surplus_header(r):
        doc.paragraph(pdf, note, 10)
    rows = [[line.item, str(line.line_no), yuan(line.this_year_fen), yuan(line.last_year_fen)] for line in r.lines]
    doc.table(
        pdf,
        ["项目", "行次", "本年金额", "上年金额"],
        rows,
        [80, 16, 42, 42],
        align=("LEFT", "CENTER", "RIGHT", "RIGHT"),
        size=10,
    )
    _checks_pdf(pdf, r.checks)
    return doc.finish(pdf)


def _checks_sheet(checks: Sequence) -> Sheet:
    return Sheet(
        "核对",
        "与账簿核对",
        header=[["核对项", "报表数", "账簿数", "是否一致"]],
        rows=[[c.name, Money(c.report_fen), Money(c.ledger_fen), "一致" if c.agrees else "不一致"] for c in checks],
        widths=[44, 18, 18, 10],
    )


def _checks_pdf(pdf: doc.ReportPdf, checks: Sequence) -> None:
    if not checks:
        return
    doc.paragraph(pdf, "与账簿核对", 11)
    rows = [[c.name, yuan(c.report_fen), yuan(c.ledger_fen), "一致" if c.agrees else "不一致"] for c in checks]
    doc.table(
        pdf, ["核对项", "报表数", "账簿数", "结果"], rows, [90, 35, 35, 20], align=("LEFT", "RIGHT", "RIGHT", "CENTER")
    )


# ---- 会农社03表 -------------------------------------------------------------------------------------


def _equity_cells(r: MemberEquity) -> tuple[list[str], list[list[int | None]]]:
    header = ["项目", *(c.name for c in r.columns), "合计"]
    rows = [[*(row.amounts[c.key] for c in r.columns), row.total_fen] for row in r.rows]
    return header, rows


def equity_xlsx(r: MemberEquity) -> bytes:
    header, figures = _equity_cells(r)
    rows: list[list[Cell]] = [[row.label, *(money(v) for v in f)] for row, f in zip(r.rows, figures)]
    totals = {i for i, row in enumerate(r.rows) if row.kind != "detail"}
    return workbook(
        [
            Sheet(
                r.form,
                r.title,
                notes=[r.form, f"编制单位：{r.venture_name}", f"{r.year} 年度", f"单位：{r.unit}"],
                header=[header],
                rows=rows,
                widths=[22, 16, 16, 16, 16, 16, 16],
                total_rows=totals,
            ),
            _checks_sheet(r.checks),
        ]
    )


def equity_pdf(r: MemberEquity) -> bytes:
    pdf = doc.start(r.title, "landscape")
    doc.heading(pdf, r.title, 18)
    doc.paragraph(pdf, f"{r.form}    编制单位：{r.venture_name}    {r.year} 年度    单位：{r.unit}", 10)
    header, figures = _equity_cells(r)
    rows = [[row.label, *(yuan(v) for v in f)] for row, f in zip(r.rows, figures)]
    bold = [i for i, row in enumerate(r.rows) if row.kind != "detail"]
    doc.table(pdf, header, rows, [55, 34, 34, 34, 34, 34, 38], align=("LEFT", *["RIGHT"] * 6), size=10, bold_rows=bold)
    _checks_pdf(pdf, r.checks)
    return doc.finish(pdf)


# ---- 成员账户 ---------------------------------------------------------------------------------------

BOOK_HEADER = [
    "日期",
    "摘要",
    *(ACCOUNT_COLUMN_WORDS[k] for k in BOOK_FIGURES),
    "产品",
    "交易量（千克）",
    "交易额",
    ACCOUNT_COLUMN_WORDS["patronage_fen"],
    ACCOUNT_COLUMN_WORDS["remaining_fen"],
]


def _book_rows(b: AccountBook) -> list[list[Cell]]:
    opening = b.opening
    rows: list[list[Cell]] = [
        ["", "年初余额", *(Money(getattr(opening, k)) for k in BOOK_FIGURES), None, None, None, None, None]
    ]
    for e in b.rows:
        trade = e.product is not None
        rows.append(
            [
                e.date.isoformat(),
                e.summary,
                *(Money(getattr(e, k)) if getattr(e, k) else None for k in BOOK_FIGURES),
                e.product,
                Kilograms(e.quantity_g) if trade else None,
                Money(e.amount_fen) if trade else None,
                Money(e.patronage_fen) if e.patronage_fen else None,
                Money(e.remaining_fen) if e.remaining_fen else None,
            ]
        )
    c = b.closing
    rows.append(
        [
            "",
            "本年合计及年末余额",
            *(Money(getattr(c, k)) for k in BOOK_FIGURES),
            None,
            None,
            Money(c.transaction_volume_fen),
            Money(c.patronage_fen),
            Money(c.remaining_fen),
        ]
    )
    for t in c.trades:
        rows.append(
            [
                "",
                f"其中：{t.product}",
                None,
                None,
                None,
                None,
                None,
                t.product,
                Kilograms(t.quantity_g),
                Money(t.amount_fen),
                None,
                None,
            ]
        )
    return rows


def _book_sheet(b: AccountBook) -> Sheet:
    rows = _book_rows(b)
    return Sheet(
        f"{b.member_no}-{b.member_name}"[:31],
        f"成员账户    成员姓名：{b.member_name}",
        notes=[f"{b.venture_name}    成员编号：{b.member_no}    {b.year} 年度    单位：元"],
        header=[BOOK_HEADER],
        rows=rows,
        widths=[11, 30, 14, 14, 12, 14, 12, 10, 12, 14, 12, 14],
        total_rows={0, len(rows) - 1 - len(b.closing.trades)},
    )


def books_xlsx(books: Sequence[AccountBook]) -> bytes:
    return workbook([_book_sheet(b) for b in books])


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Money):
        return yuan(cell.fen)
    if isinstance(cell, Kilograms):
        return format_weight(cell.grams)
    return str(cell)


def books_pdf(books: Sequence[AccountBook], title: str = "成员账户") -> bytes:
    """Each member on pages of their own, headed 成员姓名 and 第 n 页 (counted per member)."""
    pdf = doc.start(title, "landscape", first_page=not books)
    for b in books:
        doc.new_part(pdf, f"{b.venture_name}    成员姓名：{b.member_name}（{b.member_no} 号）    {b.year} 年度")
        doc.heading(pdf, "成员账户", 16)
        rows = [[_text(c) for c in row] for row in _book_rows(b)]
        widths = [19, 44, 22, 22, 19, 22, 19, 15, 19, 22, 19, 22]
        align = ("LEFT", "LEFT", *["RIGHT"] * 5, "LEFT", *["RIGHT"] * 4)
        doc.table(
            pdf, BOOK_HEADER, rows, widths, align=align, size=8, bold_rows=[0, len(rows) - 1 - len(b.closing.trades)]
        )
    if not books:
        doc.paragraph(pdf, "本经营主体没有成员。")
    return doc.finish(pdf)


def books_of(one: AccountBook | AccountBooks) -> list[AccountBook]:
    return one.items if isinstance(one, AccountBooks) else [one]


# ---- 利润分配方案 ---------------------------------------------------------------------------------------


def profit_xlsx(r: ProfitDistribution) -> bytes:
    holders: list[list[Cell]] = []
    for h in r.holders:
        for line in h.lines:
            holders.append(
                [
                    h.member_no,
                    h.name,
                    h.household_no,
                    line.basis_words,
                    line.weight,
                    Money(line.amount_fen),
                    line.explanation,
                ]
            )
        holders.append([h.member_no, h.name, h.household_no, "合计", None, Money(h.total_fen), None])
    return workbook(
        [
            Sheet(
                "分配步骤",
                f"{r.venture_name} {r.year} 年度{r.title}",
                notes=[r.status_words, f"注册资本 {yuan(r.registered_capital_fen)} 元    单位：元"],
                header=[["序号", "项目", "金额", "说明"]],
                rows=[[s.no, s.item, Money(s.amount_fen), s.note] for s in r.steps],
                widths=[6, 30, 18, 70],
            ),
            Sheet(
                "每户分配明细",
                f"{r.venture_name} {r.year} 年度{r.title}：每位成员（股东）的分配",
                notes=[f"分配合计 {yuan(r.lines_total_fen)} 元"],
                header=[["编号", "成员（股东）", "户号", "分配依据", "权数", "金额", "说明"]],
                rows=holders,
                widths=[6, 16, 18, 14, 14, 16, 80],
            ),
        ]
    )


def profit_pdf(r: ProfitDistribution) -> bytes:
    pdf = doc.start(r.title)
    doc.heading(pdf, f"{r.venture_name} {r.year} 年度{r.title}", 16)
    doc.paragraph(pdf, f"{r.status_words}    注册资本 {yuan(r.registered_capital_fen)} 元    单位：元", 10)
    rows = [[str(s.no), s.item, yuan(s.amount_fen), s.note] for s in r.steps]
    doc.table(pdf, ["序号", "项目", "金额", "说明"], rows, [12, 52, 32, 94], align=("CENTER", "LEFT", "RIGHT", "LEFT"))
    doc.paragraph(pdf, f"每位成员（股东）的分配（合计 {yuan(r.lines_total_fen)} 元）", 12)
    lines = [
        [f"{h.member_no} {h.name}", line.basis_words, yuan(line.amount_fen), line.explanation]
        for h in r.holders
        for line in h.lines
    ]
    doc.table(
        pdf,
        ["成员（股东）", "依据", "金额", "说明"],
        lines,
        [36, 24, 28, 102],
        align=("LEFT", "LEFT", "RIGHT", "LEFT"),
        size=8,
    )
    doc.paragraph(pdf, "股东（成员）大会决议：____________________    日期：________", 11)
    return doc.finish(pdf)


# ---- 股东名册, 股权证 ---------------------------------------------------------------------------------

HOLDER_HEADER = ["编号", "股东（成员）", "户号", "身份证号", "股份类别", "股数", "出资额", "持股比例", "股权证号"]


def shareholders_rows(r: ShareholderRegister) -> list[list[Cell]]:
    rows: list[list[Cell]] = [
        [
            i.member_no,
            i.name,
            i.household_no,
            i.id_number_masked,
            i.share_class_words,
            i.shares,
            Money(i.capital_fen),
            format_bp(i.share_bp),
            i.certificate_no,
        ]
        for i in r.items
    ]
    rows.append(
        [None, "合计", None, None, None, r.total_shares, Money(r.total_capital_fen), "100%" if r.items else None, None]
    )
    return rows


def shareholders_xlsx(r: ShareholderRegister) -> bytes:
    rows = shareholders_rows(r)
    return workbook(
        [
            Sheet(
                r.title,
                f"{r.venture_name} {r.title}",
                notes=[f"截至 {r.as_of.isoformat()}    注册资本 {yuan(r.registered_capital_fen)} 元"],
                header=[HOLDER_HEADER],
                rows=rows,
                widths=[6, 14, 18, 22, 10, 10, 16, 10, 16],
                total_rows={len(rows) - 1},
            )
        ]
    )


def shareholders_pdf(r: ShareholderRegister) -> bytes:
    pdf = doc.start(r.title, "landscape")
    doc.heading(pdf, f"{r.venture_name} {r.title}", 16)
    doc.paragraph(pdf, f"截至 {r.as_of.isoformat()}    注册资本 {yuan(r.registered_capital_fen)} 元    单位：元", 10)
    rows = [[_text(c) for c in row] for row in shareholders_rows(r)]
    widths = [12, 30, 34, 40, 22, 22, 34, 20, 36]
    doc.table(
        pdf,
        HOLDER_HEADER,
        rows,
        widths,
        align=("CENTER", "LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
        bold_rows=[len(rows) - 1],
    )
    return doc.finish(pdf)


def certificate_pdf(c: ShareCertificate) -> bytes:
    pdf = doc.start(c.title, "landscape")
    pdf.set_draw_color(150, 20, 20)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_margins(28, 24, 28)
    pdf.set_y(26)
    doc.heading(pdf, f"{c.venture_name}", 20)
    doc.heading(pdf, "股 权 证", 32)
    pdf.ln(4)
    h = c.holder
    for text in (
        f"证号：{c.certificate_no}",
        f"股东（成员）：{h.name}" + (f"    户号：{h.household_no}" if h.household_no else ""),
        f"股份类别：{h.share_class_words}    持有股数：{h.shares:,} 股    占总股份：{format_bp(h.share_bp)}",
        f"出资额：人民币 {yuan(h.capital_fen)} 元（大写：{yuan_in_capitals(h.capital_fen)}）",
        f"本证记载截至 {c.as_of.isoformat()} 股权登记簿的持股；股份变动以登记簿为准。",
        f"注册资本：{yuan(c.registered_capital_fen)} 元    所在村：{c.village_name}",
    ):
        doc.paragraph(pdf, text, 15)
        pdf.ln(1)
    pdf.ln(8)
    doc.paragraph(pdf, f"{c.venture_name}（盖章）            {c.as_of.year} 年 {c.as_of.month} 月 {c.as_of.day} 日", 14)
    return doc.finish(pdf)


# ---- the printable notice -----------------------------------------------------------------------------


def notice_pdf(n: NoticePrint) -> bytes:
    """The A4 notice for the village board: every subject masked, several pages when long, the
    public page's address as text and as a QR code, and who issued it."""
    pdf = doc.start(n.title)
    pdf.footer_note = n.title
    doc.heading(pdf, n.title, 20)
    doc.paragraph(pdf, f"公示内容：{n.kind_words}    {n.source_name}", 12)
    doc.paragraph(
        pdf,
        f"公示期：{written_date(n.starts_on)} 至 {written_date(n.ends_on)}（共 {(n.ends_on - n.starts_on).days} 天）",
        12,
    )
    doc.paragraph(
        pdf, f"公示名单共 {len(n.subjects)} 户" + (f"，金额合计 {yuan(n.total_fen)} 元。" if n.total_fen else "。"), 12
    )
    pdf.ln(2)
    rows = [
        [str(i), s.village_name, s.name_masked, s.id_number_masked, yuan(s.amount_fen)]
        for i, s in enumerate(n.subjects, start=1)
    ]
    if rows:
        doc.table(
            pdf,
            ["序号", "村", "户主", "身份证号", "金额（元）"],
            rows,
            [14, 44, 30, 58, 34],
            align=("CENTER", "LEFT", "LEFT", "LEFT", "RIGHT"),
            size=11,
        )
    else:
        doc.paragraph(pdf, "本次公示的方案不涉及向农户分配（如亏损年度），公示方案本身。", 11)
    if pdf.get_y() > pdf.h - 80:
        pdf.add_page()
    doc.paragraph(pdf, "如何提出异议", 14)
    doc.paragraph(pdf, n.how_to_object, 11)
    doc.paragraph(pdf, f"网上查看与提出异议：{n.public_url}", 11)
    doc.paragraph(pdf, "（用手机扫描下方二维码打开公示页面）", 10)
    top = pdf.get_y() + 2
    draw_qr(pdf, n.public_url, pdf.l_margin, top, 36)
    pdf.set_xy(pdf.l_margin + 44, top + 8)
    doc.paragraph(pdf, f"公示单位：{n.issuer}", 12)
    pdf.set_x(pdf.l_margin + 44)
    doc.paragraph(pdf, f"{n.issued_on.year} 年 {n.issued_on.month} 月 {n.issued_on.day} 日", 12)
    pdf.set_y(max(pdf.get_y(), top + 40))
    doc.paragraph(pdf, "项目到村、任务到户、登记造册、张榜公布", 10)
    return doc.finish(pdf)


# ---- registers ------------------------------------------------------------------------------------------

REGISTER_FIGURES = [
    "户数",
    "人口",
    "持股主体数",
    "股数",
    "出资额",
    *INCOME_KIND_ORDER,
    "应得合计",
    "奖励户次",
    "奖励金额",
    "已发放",
    "发放中",
    "待发放",
    "发放失败待重发",
]


def _figure_cells(f: RegisterFigures) -> list[Cell]:
    return [
        f.households,
        f.people,
        f.ventures,
        f.shares,
        Money(f.capital_fen),
        *(Money(f.income_by_kind.get(k, 0)) for k in INCOME_KIND_ORDER),
        Money(f.owed_fen),
        f.awards,
        Money(f.awards_fen),
        Money(f.paid_fen),
        Money(f.in_batch_fen),
        Money(f.unpaid_fen),
        Money(f.failed_fen),
    ]


def _register_rows(r: Register) -> tuple[list[str], list[list[Cell]]]:
    code_word, name_word = ROW_WORDS[r.row_kind]
    extra = ["身份证号", "状态"] if r.row_kind == "household" else []
    header = [code_word, name_word, *extra, *REGISTER_FIGURES]
    rows: list[list[Cell]] = []
    for row in r.rows:
        extras: list[Cell] = [row.id_number_masked, STATUS_WORDS.get(row.status or "", row.status)] if extra else []
        rows.append([row.code, row.name, *extras, *_figure_cells(row.figures)])
    rows.append(["合计", None, *([None] * len(extra)), *_figure_cells(r.total)])
    return header, rows


def register_sheets(r: Register) -> list[Sheet]:
    header, rows = _register_rows(r)
    return [
        Sheet(
            r.title[-6:] if len(r.title) > 31 else r.title,
            r.title,
            notes=[
                f"{r.year} 年度    单位：元（人口、户数、股数为个数）",
                "与应付款及账簿核对：" + ("一致" if r.agrees_with_ledger else "不一致"),
            ],
            header=[header],
            rows=rows,
            widths=[18, 12] + ([22, 12] if r.row_kind == "household" else []) + [8] * 4 + [14] * 13,
            total_rows={len(rows) - 1},
        ),
        _checks_sheet(r.checks),
    ]


def register_xlsx(r: Register) -> bytes:
    return workbook(register_sheets(r))


def _register_pdf_table(pdf: doc.ReportPdf, r: Register) -> None:
    header, rows = _register_rows(r)
    household = r.row_kind == "household"
    keep = (
        [0, 1]
        + ([2] if household else [])
        + [i + (4 if household else 2) for i in (0, 1, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14)]
    )
    texts = [[_text(row[i]) for i in keep] for row in rows]
    names = [header[i] for i in keep]
    widths = [26, 16] + ([30] if household else []) + [10, 10, 18, 18, 18, 18, 18, 18, 17, 17, 17, 17]
    scale = 277 / sum(widths)
    doc.table(
        pdf,
        names,
        texts,
        [w * scale for w in widths],
        align=("LEFT", "LEFT", *(["LEFT"] if household else []), *["RIGHT"] * 12),
        size=7,
        bold_rows=[len(texts) - 1],
    )


def register_pdf(r: Register) -> bytes:
    pdf = doc.start(r.title, "landscape")
    pdf.footer_note = r.title
    doc.heading(pdf, r.title, 16)
    doc.paragraph(
        pdf, f"{r.year} 年度    单位：元    与应付款及账簿核对：{'一致' if r.agrees_with_ledger else '不一致'}", 10
    )
    _register_pdf_table(pdf, r)
    _checks_pdf(pdf, r.checks)
    return doc.finish(pdf)


# ---- 户有卡 -------------------------------------------------------------------------------------------------


def card_sheets(c: HouseholdCard) -> list[Sheet]:
    sheets = []
    for y in c.years:
        rows: list[list[Cell]] = [
            ["持股", h.venture_name, h.share_class_words, h.shares, Money(h.capital_fen), h.certificate_no, None, None]
            for h in y.holdings
        ]
        rows += [
            [
                "应得",
                l.source_name,
                l.income_kind,
                None,
                Money(l.amount_fen),
                l.payment_words,
                l.paid_on.isoformat() if l.paid_on else None,
                l.batch_id,
            ]
            for l in y.lines
        ]
        rows += [
            ["奖励", a.program_name, a.serial, None, Money(a.amount_fen), a.granted_on.isoformat(), None, None]
            for a in y.awards
        ]
        rows += [
            ["收入", kind, None, None, Money(y.income_by_kind.get(kind, 0)), None, None, None]
            for kind in INCOME_KIND_ORDER
        ]
        rows.append(
            [
                "合计",
                f"人均 {yuan(y.income_per_person_fen)} 元",
                None,
                None,
                Money(y.total_fen),
                f"已发放 {yuan(y.paid_fen)}",
                f"待发放 {yuan(y.unpaid_fen + y.in_batch_fen + y.failed_fen)}",
                None,
            ]
        )
        sheets.append(
            Sheet(
                f"{y.year}年",
                f"户有卡    户主：{c.head_name}    户号：{c.household_no}    {y.year} 年",
                notes=[
                    f"{c.township_name}{c.village_name}    家庭人口 {c.people} 人    {STATUS_WORDS.get(c.status, c.status)}"
                ],
                header=[["类别", "来源", "类别/股份", "股数", "金额", "状态/股权证", "发放日期", "批次"]],
                rows=rows,
                widths=[8, 34, 14, 8, 14, 18, 12, 38],
                total_rows={len(rows) - 1},
            )
        )
    return sheets or [Sheet("户有卡", f"户有卡    户主：{c.head_name}    户号：{c.household_no}", notes=["暂无记录"])]


def card_xlsx(c: HouseholdCard) -> bytes:
    return workbook(card_sheets(c))


def card_pdf(c: HouseholdCard) -> bytes:
    pdf = doc.start("户有卡")
    doc.heading(pdf, "户有卡", 20)
    doc.paragraph(pdf, f"户主：{c.head_name}    户号：{c.household_no}    身份证号：{c.id_number_masked}", 12)
    doc.paragraph(
        pdf,
        f"{c.township_name}{c.village_name}    家庭人口 {c.people} 人    {STATUS_WORDS.get(c.status, c.status)}",
        12,
    )
    for y in c.years:
        doc.paragraph(pdf, f"{y.year} 年", 14)
        if y.holdings:
            rows = [
                [h.venture_name, h.share_class_words, f"{h.shares:,}", yuan(h.capital_fen), h.certificate_no or ""]
                for h in y.holdings
            ]
            doc.table(
                pdf,
                ["持股主体", "股份类别", "股数", "出资额", "股权证号"],
                rows,
                [60, 25, 25, 35, 45],
                align=("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"),
            )
        if y.lines:
            rows = [
                [
                    l.source_name,
                    l.income_kind,
                    yuan(l.amount_fen),
                    l.payment_words,
                    (l.paid_on.isoformat() if l.paid_on else "") + (f"\n批次 {l.batch_id[:8]}" if l.batch_id else ""),
                ]
                for l in y.lines
            ]
            doc.table(
                pdf,
                ["来源", "收入类别", "金额", "发放情况", "发放日期/批次"],
                rows,
                [66, 30, 28, 30, 36],
                align=("LEFT", "LEFT", "RIGHT", "LEFT", "LEFT"),
            )
        totals = "；".join(f"{k} {yuan(y.income_by_kind.get(k, 0))} 元" for k in INCOME_KIND_ORDER)
        doc.paragraph(pdf, f"按收入类别：{totals}", 11)
        doc.paragraph(
            pdf,
            f"合计 {yuan(y.total_fen)} 元，人均 {yuan(y.income_per_person_fen)} 元；已发放 {yuan(y.paid_fen)} 元，发放中 {yuan(y.in_batch_fen)} 元，待发放 {yuan(y.unpaid_fen)} 元，发放失败待重发 {yuan(y.failed_fen)} 元。",
            11,
        )
    if not c.years:
        doc.paragraph(pdf, "暂无记录。")
    return doc.finish(pdf)


# ---- the county's year report -----------------------------------------------------------------------------


def year_charts(r: YearReport) -> dict[str, bytes]:
    """The four charts of the year report, as SVG."""
    reg = r.register
    townships = [row.name for row in reg.rows]
    income = bar_chart(
        "各乡镇收入（元）",
        townships,
        [Series(kind, [row.figures.income_by_kind.get(kind, 0) for row in reg.rows]) for kind in INCOME_KIND_ORDER],
        stacked=True,
    )
    levels = ["省级", "市级", "县级"]
    budget = {lv: sum(b.budget_fen for p in r.programs for b in p.by_level if b.level_words == lv) for lv in levels}
    committed = {
        lv: sum(b.committed_fen for p in r.programs for b in p.by_level if b.level_words == lv) for lv in levels
    }
    awards = bar_chart(
        "奖补资金：各级预算与已承诺（元）",
        levels,
        [Series("预算", [budget[lv] for lv in levels]), Series("已承诺", [committed[lv] for lv in levels])],
    )
    t = reg.total
    payments = bar_chart(
        "应付款发放情况（元）",
        ["已发放", "发放中", "待发放", "发放失败待重发"],
        [Series("金额", [t.paid_fen, t.in_batch_fen, t.unpaid_fen, t.failed_fen])],
    )
    words = (
        ""
        if r.poverty_line_fen is None
        else f"（贫困线 {yuan(r.poverty_line_fen)} 元，小康线 {yuan(r.xiaokang_line_fen)} 元）"
    )
    per_person = bar_chart(
        f"农户人均收入分布{words}（户）",
        [f"{b.label}\n{b.against_lines}" for b in r.income_bins],
        [
            Series("本系统记录的人均收入", [b.recorded_households for b in r.income_bins]),
            Series("奖励申请申报的人均纯收入", [b.declared_households for b in r.income_bins]),
        ],
        money=False,
    )
    return {
        "income_by_township": income,
        "awards_by_level": awards,
        "payments_by_status": payments,
        "income_per_person": per_person,
    }


def _program_rows(r: YearReport) -> list[list[str]]:
    return [
        [p.name, b.level_words, yuan(b.budget_fen), yuan(b.committed_fen), yuan(b.budget_fen - b.committed_fen)]
        for p in r.programs
        for b in p.by_level
    ]


def year_pdf(r: YearReport) -> bytes:
    pdf = doc.start(r.title, "landscape")
    pdf.footer_note = r.title
    doc.heading(pdf, r.title, 18)
    charts = year_charts(r)
    doc.paragraph(
        pdf,
        f"{r.register.year} 年度    单位：元    与应付款及账簿核对：{'一致' if r.register.agrees_with_ledger else '不一致'}",
        10,
    )
    _register_pdf_table(pdf, r.register)
    for name in r.charts:
        doc.chart(pdf, charts[name], 200)
    if r.programs:
        doc.paragraph(pdf, "奖补资金预算与承诺（按级次）", 12)
        doc.table(
            pdf,
            ["项目", "级次", "预算", "已承诺", "余额"],
            _program_rows(r),
            [90, 30, 50, 50, 50],
            align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        )
    rows = [
        [b.label, b.against_lines, f"{b.recorded_households:,}", f"{b.declared_households:,}"] for b in r.income_bins
    ]
    doc.paragraph(pdf, "农户人均收入分布（户）", 12)
    doc.table(
        pdf,
        ["人均收入区间", "与标准线比较", "按本系统记录", "按申报人均纯收入"],
        rows,
        [80, 50, 50, 60],
        align=("LEFT", "LEFT", "RIGHT", "RIGHT"),
    )
    _checks_pdf(pdf, r.register.checks)
    return doc.finish(pdf)


def year_xlsx(r: YearReport) -> bytes:
    programs = Sheet(
        "奖补资金",
        "奖补资金预算与承诺（按级次）",
        header=[["项目", "级次", "预算", "已承诺", "余额"]],
        rows=[
            [p.name, b.level_words, Money(b.budget_fen), Money(b.committed_fen), Money(b.budget_fen - b.committed_fen)]
            for p in r.programs
            for b in p.by_level
        ],
        widths=[36, 8, 16, 16, 16],
    )
    bins = Sheet(
        "人均收入分布",
        "农户人均收入分布（户）",
        header=[["人均收入区间", "与标准线比较", "按本系统记录", "按申报人均纯收入"]],
        rows=[[b.label, b.against_lines, b.recorded_households, b.declared_households] for b in r.income_bins],
        widths=[30, 14, 14, 16],
    )
    return workbook([*register_sheets(r.register), programs, bins])


_PAGES = Environment(
    loader=PackageLoader("service", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_PAGES.filters.update(yuan=yuan)


def year_html(r: YearReport) -> str:
    """The year report as a page: its figures and the same four charts, inline SVG, no script."""
    charts = {name: for_html(svg) for name, svg in year_charts(r).items()}
    return _PAGES.get_template("year_report.html").render(
        report=r,
        charts=charts,
        header=_register_rows(r.register)[0],
        rows=_register_rows(r.register)[1],
        text=_text,
        program_rows=_program_rows(r),
    )
