"""Sheets uploaded in the console (a weighing station's trades or purchases): the file from the
form, a refusal shown row by row with the column a clerk sees, and the template to fill in."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import xlsxwriter
from litestar import Request
from litestar.datastructures import UploadFile

from service.console.words import FIELD_WORDS
from service.core.errors import DomainError
from service.core.uploads import kept_filename

# (the column name the import reads, what a clerk writes in it, an example)
SheetColumn = tuple[str, str, str]


@dataclass
class Upload:
    """What the upload form shows again: why the sheet was refused, and every bad row."""

    message: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    repeat: bool = False  # refused as rows imported before: the form offers "新的一批"


async def new_batch_asked(request: Request[Any, Any, Any]) -> bool:
    """The clerk ticked 新的一批: rows identical to an earlier import are imported again."""
    return (await request.form()).get("new_batch") == "true"


async def uploaded(request: Request[Any, Any, Any]) -> tuple[bytes, str] | None:
    """The file of the form's `file` field, or None when none was chosen."""
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await upload.read(), kept_filename(upload.filename) or "file"


def refused(problem: DomainError, columns: Sequence[SheetColumn]) -> Upload:
    """A sheet's refusal as rows a clerk can find: row number, the column by its title, why."""
    words: Mapping[str, str] = {key: title for key, title, _ in columns}
    if problem.slug == "already-imported":
        # The API's wording names its form field; the clerk sees the checkbox instead.
        return Upload(problem.detail.replace("（表单字段 new_batch=true）", "") + "。", repeat=True)
    return Upload(
        f"{problem.detail}。请改正后重新上传整张表。",
        [
            {
                "row": e.get("row"),
                "column": words.get(e["field"], FIELD_WORDS.get(e["field"], e["field"])),
                "message": e["message"],
            }
            for e in problem.errors or []
        ],
    )


def template_bytes(columns: Sequence[SheetColumn], sheet_name: str) -> bytes:
    """A sheet with the import's column names, every cell text (so a date or a number is kept
    exactly as typed), a note on each header saying what goes in it, and one example row."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name)
    text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True, "num_format": "@"})
    for col, (key, title, example) in enumerate(columns):
        sheet.set_column(col, col, 22, text)
        sheet.write_string(0, col, key, bold)
        sheet.write_comment(0, col, title)
        sheet.write_string(1, col, example, text)
    book.close()
    return out.getvalue()
