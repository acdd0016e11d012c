"""Bank files for payment batches (代发文件) and the bank's return files (回盘文件).

Amounts are written as yuan with exactly two decimals, made from integer fen ("300.00"); in xlsx
they are text cells, as are card and ID numbers, so a spreadsheet never turns them into floats.

Files sent to the bank, by profile
----------------------------------
``pipe``  GB18030 text, CRLF line ends, fields ending in ``|``::

    HEAD|<batch_id>|<count>|<total yuan>|
    <序号>|<姓名>|<帐号>|<金额>|<身份证>|        one line per payment
    TAIL|<count>|<total yuan>|

``csv``   UTF-8 with BOM, comma separated, CRLF, a row of column titles
          ``序号,流水号,姓名,帐号,金额,身份证号`` then one row per payment (流水号 = payable id).
``xlsx``  one sheet 代发明细 with the same column titles and rows, then a row
          ``合计 | | 共<count>笔 | | <total yuan> |``.

Cells that a spreadsheet would run (CSV injection, OWASP): a field beginning with ``=``, ``+``,
``-``, ``@``, a tab or a CR is written with a leading ``'`` (tabular.formula_safe), in every
profile. Only names can ever begin so: 序号 and 金额 are made here from integers (金额 is never
negative), 帐号 and 身份证 are digits (an ID may end in X), 流水号 is a uuid, so what the bank's
system reads of them never changes. A person's name never begins with one of those characters,
so a real name reaches the bank exactly as before; one that does is an injection attempt, which
the bank then sees with its leading ``'`` (its name check fails and the line comes back failed
instead of being paid). ``csv``: quoted as RFC 4180 needs as well. ``pipe``: the same prefix,
for a clerk who opens the .txt in a spreadsheet with | as separator. ``xlsx``: every cell is
written as a string (never a formula, strings_to_formulas off), and the prefix too.

Return files accepted (``parse_return_file``)
---------------------------------------------
Each line of a return file reports one payment of the batch as succeeded or failed.

xlsx (recognised by the ``.xlsx`` name or the ZIP signature): the first worksheet; its first row
    holds the column titles; data rows follow.
CSV: encoded UTF-8 with or without BOM, or GB18030, judged on the whole file
    (tabular.decode_text: bytes that read both ways are read as the one that is plausible
    Chinese, and a file that is neither is refused); comma separated, RFC 4180 quoting; the
    first row holds the column titles.
Pipe text (recognised when the first non-empty line contains ``|``): GB18030 or UTF-8, judged
    the same way; no title row; the fields of each line are, in order,
    ``序号|姓名|帐号|金额|身份证|状态|失败原因|`` (the sent line with two fields added; the last
    ``|`` and an empty 失败原因 may be left off). A ``HEAD|`` line and a title line starting
    ``序号|`` are ignored; a ``TAIL|<count>|<total yuan>|`` line, if present, must match the lines.

Column titles for CSV and xlsx (case and surrounding spaces ignored; other columns are ignored):

=================  ==========================================  =========================
field              accepted titles                             required
=================  ==========================================  =========================
seq                序号, seq                                   seq or payable_id
payable_id         流水号, 业务流水号, payable_id               seq or payable_id
account            帐号, 账号, 卡号, account                   no (only the last 4 digits are kept)
amount             金额, 金额(元), 金额（元）, amount            yes
status             状态, 处理状态, 结果, status                 yes
reason             失败原因, 原因, 备注, reason                 no
=================  ==========================================  =========================

Values: 序号 a positive integer of ASCII digits (full-width digits are made ASCII; ², ٣ and
other digits are refused); 金额 yuan as digits with at most two decimals (``300``, ``300.5``,
``300.00``; a numeric xlsx cell is read from its decimal text, never through a float, and
refused if it is not a whole number of fen); 帐号 digits (a numeric xlsx cell is refused: it
has lost the digits past the 15th); 状态 one of
成功/success/ok/S (paid) or 失败/failure/failed/fail/F (failed). Rows with every cell empty are
skipped, and so is a totals row whose 序号 is 合计 or 总计. Any other malformed value raises
ReturnFileError (a ValueError with ``row``, ``field`` and ``message``) naming the row (1-based,
as a spreadsheet numbers it: the title row is row 1) and the field.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import xlsxwriter

from service.core.errors import DomainError, TooLarge
from service.core.identity import example_card_number
from service.core.money import format_yuan
from service.core.tabular import MAX_ROWS, Column, SheetSpec, decode_text, formula_safe, read_table
from service.payments.rules import ReturnLine

FileFormat = Literal["text", "csv", "xlsx"]


@dataclass(frozen=True)
class BankLine:
    seq: int
    payable_id: str
    name: str
    account: str
    amount_fen: int
    id_number: str


@dataclass(frozen=True)
class BankProfile:
    name: str
    format: FileFormat
    delimiter: str
    encoding: str
    columns: tuple[tuple[str, str], ...]  # (title, BankLine field), in file order
    column_titles: bool  # a row of column titles before the payments
    summary_header: bool  # a HEAD line with batch id, count and total
    summary_footer: bool  # a TAIL line / totals row with count and total
    extension: str
    content_type: str
    amount_format: str = "yuan_2dp"  # a key of AMOUNT_FORMATS


class ReturnFileError(ValueError):
    def __init__(self, row: int, field: str, message: str) -> None:
        super().__init__(f"row {row}, field {field}: {message}")
        self.row = row
        self.field = field
        self.message = message


# How a profile writes an integer fen amount. Yuan with two decimals is all the agent banks here
# take; a bank that wants fen or thousands separators gets an entry, never a float.
AMOUNT_FORMATS = {"yuan_2dp": format_yuan}

_SENT_COLUMNS = (
    ("序号", "seq"),
    ("流水号", "payable_id"),
    ("姓名", "name"),
    ("帐号", "account"),
    ("金额", "amount_fen"),
    ("身份证号", "id_number"),
)

PROFILES: dict[str, BankProfile] = {
    "pipe": BankProfile(
        name="pipe",
        format="text",
        delimiter="|",
        encoding="gb18030",
        columns=(
            ("序号", "seq"),
            ("姓名", "name"),
            ("帐号", "account"),
            ("金额", "amount_fen"),
            ("身份证", "id_number"),
        ),
        column_titles=False,
        summary_header=True,
        summary_footer=True,
        extension="txt",
        content_type="text/plain; charset=GB18030",
    ),
    "csv": BankProfile(
        name="csv",
        format="csv",
        delimiter=",",
        encoding="utf-8-sig",
        columns=_SENT_COLUMNS,
        column_titles=True,
        summary_header=False,
        summary_footer=False,
        extension="csv",
        content_type="text/csv; charset=utf-8",
    ),
    "xlsx": BankProfile(
        name="xlsx",
        format="xlsx",
        delimiter="",
        encoding="",
        columns=_SENT_COLUMNS,
        column_titles=True,
        summary_header=False,
        summary_footer=True,
        extension="xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


def _amount(profile: BankProfile, fen: int) -> str:
    return AMOUNT_FORMATS[profile.amount_format](fen)


def _cell(profile: BankProfile, line: BankLine, field: str) -> str:
    if field == "amount_fen":
        return _amount(profile, line.amount_fen)
    return formula_safe(str(getattr(line, field)))


def _check_lines(profile: BankProfile, lines: Sequence[BankLine]) -> None:
    seen: set[int] = set()
    for line in lines:
        if isinstance(line.amount_fen, bool) or not isinstance(line.amount_fen, int) or line.amount_fen <= 0:
            raise ValueError(f"line {line.seq}: amount_fen must be a positive int")
        if line.seq in seen or line.seq <= 0:
            raise ValueError(f"line {line.seq}: seq must be positive and unique")
        seen.add(line.seq)
        for _title, field in profile.columns:
            value = _cell(profile, line, field)
            # A delimiter or a line break inside a field would shift every later field at the bank.
            if profile.format == "text" and (profile.delimiter in value or "\r" in value or "\n" in value):
                raise ValueError(f"line {line.seq}: {field} contains {profile.delimiter!r} or a line break")
            if not value.strip():
                raise ValueError(f"line {line.seq}: {field} is empty")


def _safe_filename_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text) or "batch"


def _rows(profile: BankProfile, lines: Iterable[BankLine]) -> Iterator[list[str]]:
    for line in lines:
        yield [_cell(profile, line, field) for _title, field in profile.columns]


def _render_text(profile: BankProfile, batch_id: str, lines: Sequence[BankLine], total: int) -> bytes:
    sep = profile.delimiter
    out: list[str] = []
    if profile.summary_header:
        out.append(sep.join(["HEAD", batch_id, str(len(lines)), _amount(profile, total)]) + sep)
    out.extend(sep.join(row) + sep for row in _rows(profile, lines))
    if profile.summary_footer:
        out.append(sep.join(["TAIL", str(len(lines)), _amount(profile, total)]) + sep)
    return ("\r\n".join(out) + "\r\n").encode(profile.encoding)


def _render_csv(profile: BankProfile, lines: Sequence[BankLine]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=profile.delimiter, lineterminator="\r\n")
    writer.writerow([title for title, _field in profile.columns])
    writer.writerows(_rows(profile, lines))
    return buffer.getvalue().encode(profile.encoding)


def _render_xlsx(profile: BankProfile, lines: Sequence[BankLine], total: int) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet("代发明细")
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})
    fields = [field for _title, field in profile.columns]
    for col, (title, _field) in enumerate(profile.columns):
        sheet.write_string(0, col, title, bold)
        sheet.set_column(col, col, 22 if title in ("帐号", "身份证号") else 12, text)
    row_index = 0
    for row_index, row in enumerate(_rows(profile, lines), start=1):
        for col, value in enumerate(row):
            sheet.write_string(row_index, col, value, text)
    if profile.summary_footer:
        totals = {"seq": "合计", "name": f"共{len(lines)}笔", "amount_fen": _amount(profile, total)}
        for col, field in enumerate(fields):
            sheet.write_string(row_index + 1, col, totals.get(field, ""), bold)
    workbook.close()
    return buffer.getvalue()


def render_bank_file(profile_name: str, batch_id: str, lines: Sequence[BankLine]) -> tuple[bytes, str, str]:
    """The bank file of a batch: (content, content type, file name)."""
    if profile_name not in PROFILES:
        raise ValueError(f"unknown bank profile {profile_name!r}; known: {', '.join(sorted(PROFILES))}")
    profile = PROFILES[profile_name]
    ordered = sorted(lines, key=lambda line: line.seq)
    _check_lines(profile, ordered)
    total = sum(line.amount_fen for line in ordered)
    if profile.format == "text":
        if profile.delimiter in batch_id:
            raise ValueError("batch id contains the delimiter")
        content = _render_text(profile, batch_id, ordered, total)
    elif profile.format == "csv":
        content = _render_csv(profile, ordered)
    else:
        content = _render_xlsx(profile, ordered, total)
    filename = f"{_safe_filename_part(batch_id)}-{profile.name}.{profile.extension}"
    return content, profile.content_type, filename


# ---- return files -------------------------------------------------------------------------

RETURN_SHEET = SheetSpec(
    kind="bank_return",
    title="回盘明细",
    columns=(
        Column("seq", ("序号",), "integer", required=False, example="1"),
        Column("payable_id", ("流水号", "业务流水号"), required=False),
        Column("account", ("帐号", "账号", "卡号"), "identity", required=False, example=example_card_number()),
        Column("amount", ("金额", "金额(元)", "金额（元）"), "yuan", required=False, example="300.00"),
        Column("status", ("状态", "处理状态", "结果"), required=False, example="成功", note="成功 或 失败"),
        Column("reason", ("失败原因", "原因", "备注"), required=False),
    ),
)
_OK_WORDS = frozenset({"成功", "success", "ok", "s"})
_FAIL_WORDS = frozenset({"失败", "failure", "failed", "fail", "f"})
_TOTAL_WORDS = frozenset({"合计", "总计"})
_PIPE_FIELDS = ("seq", "name", "account", "amount", "id_number", "status", "reason")
_AMOUNT = re.compile(r"^([0-9]{1,13})(?:\.([0-9]{1,2}))?$")  # at most 10^13 yuan, as an amount may be


def _parse_amount(text: str, row: int) -> int:
    match = _AMOUNT.match(text.strip())
    if not match:
        raise ReturnFileError(row, "amount", f"金额“{text[:30]}”不是以元为单位、最多两位小数的数")
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(cents)


def _parse_status(text: str, row: int) -> bool:
    word = text.strip().lower()
    if word in _OK_WORDS:
        return True
    if word in _FAIL_WORDS:
        return False
    raise ReturnFileError(row, "status", f"状态“{text[:30]}”应为“成功”或“失败”")


def _parse_seq(text: str, row: int) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or int(text) <= 0:
        raise ReturnFileError(row, "seq", f"序号“{text[:30]}”应为正整数")
    return int(text)


def _last4(text: str, row: int) -> str | None:
    digits = re.sub(r"\s", "", text)
    if not digits:
        return None
    if not (digits.isascii() and digits.isdigit()) or len(digits) < 4:
        raise ReturnFileError(row, "account", "不是银行卡号")
    return digits[-4:]


MAX_REASON = 500  # a bank's 失败原因: a few words, kept with the line
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # no field of a return line holds one (a NUL: PostgreSQL refuses it)


def _return_line(values: dict[str, str], row: int) -> ReturnLine:
    # Every format's fields, the pipe file's included: a NUL would reach PostgreSQL as a 500.
    for field, text in values.items():
        if _CONTROL.search(text):
            raise ReturnFileError(row, field, "含有控制字符，请删去后重新上传")
    if len(values.get("reason", "")) > MAX_REASON:
        raise ReturnFileError(row, "reason", f"失败原因超过 {MAX_REASON} 字")
    seq = _parse_seq(values.get("seq", ""), row)
    payable_id = values.get("payable_id", "").strip() or None
    if seq is None and payable_id is None:
        raise ReturnFileError(row, "seq", "序号和流水号都没有填写")
    return ReturnLine(
        seq=seq,
        payable_id=payable_id,
        account_last4=_last4(values.get("account", ""), row),
        amount_fen=_parse_amount(values.get("amount", ""), row),
        ok=_parse_status(values.get("status", ""), row),
        reason=values.get("reason", "").strip(),
    )


def _require_columns(header: list[str]) -> None:
    for field in ("amount", "status"):
        if field not in header:
            titles = RETURN_SHEET.column(field).titles
            raise ReturnFileError(1, field, f"缺少“{'”或“'.join(titles)}”列")
    if "seq" not in header and "payable_id" not in header:
        raise ReturnFileError(1, "seq", "缺少“序号”或“流水号”列")


def _parse_table(data: bytes, filename: str) -> list[ReturnLine]:
    try:
        table = read_table(data, filename, RETURN_SHEET)
    except DomainError as problem:
        raise ReturnFileError(1, "file", str(problem.detail)) from None
    _require_columns(table.header)
    if table.errors:
        first = table.errors[0]
        raise ReturnFileError(first["row"], first["field"], first["message"])
    result: list[ReturnLine] = []
    for row_no, values in table.rows:
        if values.get("seq", "").strip() in _TOTAL_WORDS:
            continue
        result.append(_return_line(values, row_no))
    return result


def _parse_pipe(lines: list[str]) -> list[ReturnLine]:
    # The xlsx and CSV returns stop at MAX_ROWS (core/tabular.py); a pipe file is held to the same,
    # HEAD and TAIL beside, before a line is read.
    if sum(1 for line in lines if line.strip()) > MAX_ROWS + 2:
        raise TooLarge(f"回盘文件超过 {MAX_ROWS} 行明细，请分成几个文件导入")
    result: list[ReturnLine] = []
    tail: tuple[int, list[str]] | None = None
    for row_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if fields and fields[-1].strip() == "":
            fields = fields[:-1]
        head = fields[0].strip().upper()
        if head in ("HEAD", "序号"):
            continue
        if head == "TAIL":
            tail = (row_no, fields)
            continue
        if len(fields) < len(_PIPE_FIELDS) - 1:
            raise ReturnFileError(row_no, "line", f"应有 {len(_PIPE_FIELDS)} 个用 | 分隔的字段")
        result.append(_return_line(dict(zip(_PIPE_FIELDS, fields)), row_no))
    if tail is not None:
        _check_tail(tail, result)
    return result


def _check_tail(tail: tuple[int, list[str]], lines: list[ReturnLine]) -> None:
    row_no, fields = tail
    if len(fields) < 3:
        raise ReturnFileError(row_no, "TAIL", "尾行应为 TAIL|笔数|金额|")
    count = _parse_seq(fields[1], row_no) or 0
    if count != len(lines):
        raise ReturnFileError(row_no, "count", f"尾行写的是 {count} 笔，文件中有 {len(lines)} 笔")
    total = _parse_amount(fields[2], row_no)
    if total != sum(line.amount_fen for line in lines):
        raise ReturnFileError(row_no, "total", "尾行的合计金额与各行金额之和不符")


def _pipe_text(data: bytes) -> str | None:
    """The text of a pipe-format file, or None when the file is not one."""
    try:
        text = decode_text(data)
    except DomainError as problem:
        raise ReturnFileError(1, "encoding", str(problem.detail)) from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    return text if "|" in first else None


def parse_return_file(data: bytes, filename: str) -> list[ReturnLine]:
    """The lines of a bank's return file, in file order; the format is in the module docstring."""
    is_xlsx = filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04")
    text = None if is_xlsx else _pipe_text(data)
    if text is None:
        return _parse_table(data, filename)
    return _parse_pipe(text.splitlines())
