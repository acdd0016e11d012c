"""Sheets as clerks keep them (issue 12, items 7-9; issue 13, digits and scope): real xlsx files
written by openpyxl and xlsxwriter, Chinese column titles, the templates, GBK bytes, and digits
that are not ASCII. Every refusal names the row and the column, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import xlsxwriter

from tests.api.test_auth_and_clock import assert_problem
from tests.api.test_household_import import COLUMNS, VILLAGE, card_number, count_rows, household_row, id_number
from tests.api.test_ventures import add_member, make_venture

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHINESE = ["户号", "村代码", "户主姓名", "身份证号", "家庭人口", "开户银行", "银行卡号", "联系电话"]


def xlsxwriter_book(header: list[str], rows: list[list]) -> bytes:
    """A workbook as Excel writes one: numbers as numbers, text as shared strings."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif isinstance(value, dt.date):
                sheet.write_datetime(
                    r, c, dt.datetime.combine(value, dt.time()), book.add_format({"num_format": "yyyy/m/d"})
                )
            else:
                sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


def household_values(n: int, **typed) -> list:
    row = household_row(n)
    return [typed.get(c, row[c]) for c in COLUMNS]


async def import_households(api, content: bytes, name: str = "农户.xlsx", user: str = "cunwei"):
    return await api.as_(user, "POST", "/households/import", files={"file": (name, content, XLSX_TYPE)})


async def stored_card(api, household_no: str) -> str:
    from service.core.crypto import CARD_CONTEXT, DataCipher
    from tests.conftest import DATA_KEY

    conn = await api.connect()
    try:
        blob = await conn.fetchval("SELECT bank_account_enc FROM households WHERE household_no = $1", household_no)
    finally:
        await conn.close()
    return DataCipher(DATA_KEY).decrypt(blob, context=CARD_CONTEXT)


# --- numbers typed into identity columns ---------------------------------------------------------


async def test_card_and_id_numbers_typed_as_numbers_are_refused(api):
    # Excel keeps 15 significant digits: 6217000000000081901 is stored as 6.21700000000008E+18.
    rows = [
        household_values(82_001, bank_account=int(card_number(82_001))),
        household_values(82_002, head_id_number=float(id_number(82_002))),
        household_values(82_003),
    ]
    before = await count_rows(api)
    body = assert_problem(await import_households(api, xlsxwriter_book(COLUMNS, rows)), 422)
    named = {(e["row"], e["field"]): e["message"] for e in body["errors"]}
    assert set(named) == {(2, "bank_account"), (3, "head_id_number")}, body
    assert all("文本" in m for m in named.values()), named
    assert await count_rows(api) == before


async def test_numbers_typed_as_text_keep_every_digit(api):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(CHINESE)
    row = household_row(82_010)
    sheet.append(
        [row[c] for c in ("household_no", "village_code", "head_name", "head_id_number")]
        + [3]
        + [row["bank_name"], row["bank_account"], row["phone"]]
    )
    for cell in ("B2", "D2", "G2", "H2"):
        sheet[cell].number_format = "@"
    out = io.BytesIO()
    book.save(out)
    r = await import_households(api, out.getvalue())
    assert r.status_code == 201 and r.json() == {"created": 1}, r.text
    assert await stored_card(api, row["household_no"]) == row["bank_account"]


async def test_a_csv_that_a_spreadsheet_saved_in_scientific_notation_is_refused(api):
    row = household_row(82_020, bank_account="6.217E+18")
    text = ",".join(COLUMNS) + "\n" + ",".join(row[c] for c in COLUMNS) + "\n"
    r = await api.as_("cunwei", "POST", "/households/import", files={"file": ("h.csv", text.encode(), "text/csv")})
    body = assert_problem(r, 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "bank_account")]
    assert "科学计数法" in body["errors"][0]["message"]


# --- money and counts read exactly ---------------------------------------------------------------


async def coop(api) -> str:
    vid = await make_venture(api)
    await add_member(api, vid, "household", "社员1", "621223100201-001")
    return vid


async def send_trades(api, vid, content: bytes, name: str = "交易.xlsx"):
    return await api.as_(
        "kuaiji", "POST", f"/ventures/{vid}/transactions/import", files={"file": (name, content, XLSX_TYPE)}
    )


async def volume(api, vid) -> int:
    members = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/members")).json()
    a = await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{members[0]['id']}/account", params={"year": 2025})
    return a.json()["transaction_volume_fen"]


async def test_money_cells_that_are_not_whole_fen_are_refused(api):
    vid = await coop(api)
    header = ["成员编号", "交易日期", "品名", "数量（克）", "金额（分）"]
    rows = [
        [1, dt.date(2025, 3, 1), "鸡蛋", 50000, 60000.0],  # a whole number of fen, typed as a number
        [1, dt.date(2025, 3, 2), "鸡蛋", 1.5e4, 1200.5],  # half a fen
        [1, "2025-03-03", "鸡蛋", 10000, 0.1 + 0.2],  # a third of a fen, left by a formula
    ]
    body = assert_problem(await send_trades(api, vid, xlsxwriter_book(header, rows)), 422)
    assert {(e["row"], e["field"]) for e in body["errors"]} == {(3, "amount_fen"), (4, "amount_fen")}, body
    assert all("整数" in e["message"] for e in body["errors"])
    del rows[1:]
    r = await send_trades(api, vid, xlsxwriter_book(header, rows))
    assert r.status_code == 201, r.text
    assert await volume(api, vid) == 60_000  # and the date cell read as 2025-03-01


async def test_bank_return_amount_cells_are_read_exactly(api):
    from service.payments.bank_files import parse_return_file

    # Half a fen, as a formula such as =0.61/2 leaves it.
    sheet = openpyxl.Workbook()
    sheet.active.append(["序号", "金额", "状态"])
    sheet.active.append([1, 300, "成功"])
    sheet.active.append([2, 0.305, "成功"])
    out = io.BytesIO()
    sheet.save(out)
    book = out.getvalue()
    try:
        parse_return_file(book, "回盘.xlsx")
    except ValueError as e:
        assert (e.row, e.field) == (3, "amount") and "整分" in e.message  # type: ignore[attr-defined]
    else:
        raise AssertionError("0.305 yuan was read as an amount")
    book = xlsxwriter_book(["序号", "金额（元）", "状态"], [[1, 300, "成功"], [2, 123.45, "失败"]])
    assert [line.amount_fen for line in parse_return_file(book, "回盘.xlsx")] == [30_000, 12_345]


# --- digits --------------------------------------------------------------------------------------


async def test_only_ascii_digits_are_numbers(api):
    vid = await coop(api)
    sheet = (
        "member_no,traded_on,product,quantity_g,amount_fen\n"
        "1,2025-03-01,鸡蛋,50000,1²\n"  # superscript two: before, a 500
        "1,2025-03-01,鸡蛋,50000,١٥٠٠\n"  # Arabic-Indic digits: before, silently 1500
        "1,２０２５-０３-０２,鸡蛋,１００００,１２０００\n"  # full-width: made ASCII on purpose
    )
    r = await send_trades(api, vid, sheet.encode(), name="交易.csv")
    body = assert_problem(r, 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "amount_fen"), (3, "amount_fen")], body
    assert "半角" in body["errors"][0]["message"] and "²" in body["errors"][0]["message"]
    r = await send_trades(api, vid, "\n".join(sheet.split("\n")[:1] + sheet.split("\n")[3:]).encode(), name="交易.csv")
    assert r.status_code == 201, r.text
    assert await volume(api, vid) == 12_000


async def test_a_return_file_with_a_superscript_sequence_number_names_the_row(api):
    from service.payments.bank_files import ReturnFileError, parse_return_file

    for body in ("序号,金额,状态\n²,300.00,成功\n", "1²|张三|6228480402564890018|300.00|620102199003071234|成功||\r\n"):
        try:
            parse_return_file(body.encode(), "r.csv" if "," in body else "r.txt")
        except ReturnFileError as e:
            assert (e.row, e.field) == (2 if "," in body else 1, "seq"), e
        else:
            raise AssertionError(f"accepted {body!r}")


# --- Chinese column titles and the templates -----------------------------------------------------


async def test_households_with_chinese_titles_import(api):
    rows = [household_row(n) for n in (82_100, 82_101)]
    text = ",".join(CHINESE) + "\n" + "".join(",".join(r[c] for c in COLUMNS[:8]) + "\n" for r in rows)
    r = await api.as_("cunwei", "POST", "/households/import", files={"file": ("农户.csv", text.encode(), "text/csv")})
    assert r.status_code == 201 and r.json() == {"created": 2}, r.text


async def test_a_missing_column_is_named_by_its_chinese_title(api):
    text = "户号,村代码\n621223100201-82200,621223100201\n"
    body = assert_problem(
        await api.as_("cunwei", "POST", "/households/import", files={"file": ("h.csv", text.encode(), "text/csv")}),
        422,
        fields={"file"},
    )
    assert "户主姓名（head_name）" in body["detail"]


async def test_cross_check_sources_as_people_write_them(api):
    ids = ["621223198001010015", id_number(82_300, "621223"), id_number(82_301, "621223")]
    text = "身份证号,来源\n" + f"{ids[0]},车辆\n{ids[1]},工商/市场主体\n{ids[2]},财政供养\n{ids[0]},市场主体\n"
    r = await api.as_(
        "caizheng", "POST", "/cross-check-lists/import", files={"file": ("名单.csv", text.encode(), "text/csv")}
    )
    assert r.status_code == 201, r.text
    assert r.json()["by_source"] == {"vehicle": 1, "business_registration": 2, "public_payroll": 1}


async def test_each_template_has_chinese_titles_text_columns_and_imports_as_it_is(api):
    r = await api.as_("cunwei", "GET", "/households/import-template")
    assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX_TYPE)
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    titles = [c.value for c in sheet[1]]
    assert titles[:8] == ["户号", "村代码", "户主姓名", "户主身份证号", "家庭人口", "开户银行", "银行卡号", "联系电话"]
    id_col, card_col = titles.index("户主身份证号") + 1, titles.index("银行卡号") + 1
    assert sheet.cell(2, id_col).number_format == "@" and sheet.cell(2, card_col).number_format == "@"
    assert isinstance(sheet.cell(2, id_col).value, str) and len(sheet.cell(2, card_col).value) == 19
    # The example row is a household one can register as it is.
    r = await import_households(api, r.content, "农户导入模板.xlsx")
    assert r.status_code == 201 and r.json() == {"created": 1}, r.text

    vid = await coop(api)
    for url in (f"/ventures/{vid}/transactions/import-template", f"/ventures/{vid}/purchases/import-template"):
        r = await api.as_("kuaiji", "GET", url)
        assert r.status_code == 200 and "填写说明" in openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames
    r = await api.as_("kuaiji", "GET", f"/ventures/{vid}/transactions/import-template")
    r = await send_trades(api, vid, r.content, "交易导入模板.xlsx")
    assert r.status_code == 201, r.text
    r = await api.as_("caizheng", "GET", "/cross-check-lists/import-template")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["身份证号", "来源"] and sheet["B2"].value == "车辆"


# --- encodings -----------------------------------------------------------------------------------


async def test_gbk_bytes_that_are_also_valid_utf8_are_read_as_gbk(api):
    row = household_row(82_400, head_name="郑志强", bank_name="农业")
    text = ",".join(COLUMNS) + "\r\n" + ",".join(row[c] for c in COLUMNS) + "\r\n"
    content = text.encode("gbk")
    content.decode("utf-8")  # the trap: these GBK bytes are valid UTF-8 too (֣־ǿ, ũҵ)
    r = await api.as_("cunwei", "POST", "/households/import", files={"file": ("h.csv", content, "text/csv")})
    assert r.status_code == 201, r.text
    hid = await api.household_id(row["household_no"])
    got = (await api.as_("cunwei", "GET", f"/households/{hid}")).json()
    assert got["head_name"] == "郑*强" and got["bank_name"] == "农业"


async def test_a_file_of_no_plausible_encoding_is_refused_asking_for_utf8(api):
    row = household_row(82_410, head_name="陳大文", bank_name="臺灣銀行")
    text = ",".join(COLUMNS) + "\r\n" + ",".join(row[c] for c in COLUMNS) + "\r\n"
    r = await api.as_(
        "cunwei", "POST", "/households/import", files={"file": ("h.csv", text.encode("big5"), "text/csv")}
    )
    body = assert_problem(r, 422, fields={"file"})
    assert "UTF-8" in body["detail"]


# --- scope ---------------------------------------------------------------------------------------


async def test_a_file_naming_another_countys_village_is_refused_before_its_rows(api):
    for code, name, level, parent in (
        ("621222000000", "文县", "county", "621200000000"),
        ("621222100000", "城关镇", "township", "621222000000"),
        ("621222100201", "东峪村", "village", "621222100000"),
    ):
        r = await api.as_(
            "admin", "PUT", f"/regions/{code}", json={"name": name, "level": level, "parent_code": parent}
        )
        assert r.status_code == 200, r.text
    rows = [household_row(82_500), household_row(82_501, village="621222100201"), household_row(82_502, members="x")]
    for user in ("cunwei", "xiangzhen"):
        r = await api.as_(user, "POST", "/households/import", **_csv(rows))
        body = assert_problem(r, 403)  # before: 422 naming the rows
        assert "621222100201" in body["detail"] and "辖区" in body["detail"]
    # Within the caller's region the rows are checked as ever.
    body = assert_problem(await api.as_("cunwei", "POST", "/households/import", **_csv([rows[0], rows[2]])), 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, "members")]
    assert (await api.as_("admin", "POST", "/households/import", **_csv(rows[:2]))).status_code == 201


def _csv(rows: list[dict[str, str]]) -> dict:
    text = ",".join(COLUMNS) + "\n" + "".join(",".join(r[c] for c in COLUMNS) + "\n" for r in rows)
    return {"files": {"file": ("h.csv", text.encode(), "text/csv")}}


async def test_village_code_typed_as_a_number_is_read_exactly(api):
    content = xlsxwriter_book(COLUMNS, [household_values(82_600, village_code=int(VILLAGE), members=2)])
    r = await import_households(api, content)
    assert r.status_code == 201, r.text
