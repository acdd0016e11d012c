"""Upload bombs (issue 13, "Uploads that exhaust the server"), built in memory for the tests and
tests/bench/bench_uploads.py: a small xlsx expanding to millions of rows, one holding a huge shared
string, one whose ZIP lies about the size of a part, and a CSV of too many rows."""

from __future__ import annotations

import io
import struct
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_BOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData>"
)
_SHEET_TAIL = b"</sheetData></worksheet>"
_HEADER_ROW = (
    b'<row><c t="inlineStr"><is><t>member_no</t></is></c><c t="inlineStr"><is><t>traded_on</t></is></c>'
    b'<c t="inlineStr"><is><t>product</t></is></c><c t="inlineStr"><is><t>quantity_g</t></is></c>'
    b'<c t="inlineStr"><is><t>amount_fen</t></is></c></row>'
)


def _book(sheet_chunks, strings_chunks=None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        for name, chunks in (("xl/worksheets/sheet1.xml", sheet_chunks), ("xl/sharedStrings.xml", strings_chunks)):
            if chunks is not None:
                with z.open(name, "w", force_zip64=True) as part:
                    for chunk in chunks:
                        part.write(chunk)
    return out.getvalue()


def rows_bomb(rows: int = 2_000_000) -> bytes:
    """A small xlsx (a trades sheet) whose one sheet expands to `rows` data rows."""
    row = b"<row><c><v>1</v></c><c><v>45717</v></c><c><v>7</v></c><c><v>500</v></c><c><v>600</v></c></row>"

    def chunks():
        yield _SHEET_HEAD + _HEADER_ROW
        block = row * 10_000
        for _ in range(rows // 10_000):
            yield block
        yield row * (rows % 10_000) + _SHEET_TAIL

    return _book(chunks())


def string_bomb(size: int = 200 * 2**20) -> bytes:
    """A small xlsx whose one shared string is `size` characters long."""
    sheet = _SHEET_HEAD + _HEADER_ROW + b'<row><c t="s"><v>0</v></c></row>' + _SHEET_TAIL

    def strings():
        yield b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        block = b"A" * 2**20
        for _ in range(size // 2**20):
            yield block
        yield b"</t></si></sst>"

    return _book([sheet], strings())


def lying_bomb(size: int = 200 * 2**20, claimed: int = 4096) -> bytes:
    """The string bomb with its ZIP's central directory claiming the shared strings hold `claimed`
    bytes: a reader that trusted the header and read on would inflate all of them."""
    data = bytearray(string_bomb(size))
    name = b"xl/sharedStrings.xml"
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == name:
            extra_len = struct.unpack_from("<H", data, at + 30)[0]
            if struct.unpack_from("<I", data, at + 24)[0] == 0xFFFFFFFF:  # sizes in the zip64 extra field
                extra = at + 46 + name_len
                end = extra + extra_len
                while extra < end:
                    tag, length = struct.unpack_from("<HH", data, extra)
                    if tag == 1:
                        struct.pack_into("<Q", data, extra + 4, claimed)
                    extra += 4 + length
            else:
                struct.pack_into("<I", data, at + 24, claimed)
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError("no central directory entry for the shared strings")


def csv_rows(rows: int = 1_500_000) -> bytes:
    """A trades CSV of `rows` data rows (25 bytes each: 1,500,000 rows stay under the 50 MB upload limit)."""
    return b"member_no,traded_on,product,quantity_g,amount_fen\n" + b"1,2025-03-01,egg,500,600\n" * rows
