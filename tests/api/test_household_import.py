"""Registering households one by one and by file (issue 2: Registry).

The builders here (valid ID numbers, rows, CSV and xlsx files) are imported by the other API test
files, so every test speaks about the same kind of household.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import Workbook

from service.core.identity import check_digit
from tests.api.test_auth_and_clock import assert_problem

COUNTY = "621223000000"
VILLAGE = "621223100201"
OTHER_VILLAGE = "621223100202"
COLUMNS = [
    "household_no",
    "village_code",
    "head_name",
    "head_id_number",
    "members",
    "bank_name",
    "bank_account",
    "phone",
    "pin",
]
_GIVEN = "建国红梅秀英志强丽娟永福海燕春花明亮金山玉兰德胜"


def id_number(n: int, region: str = "620102") -> str:
    """The n-th of a family of valid ID numbers. The demo county's people are born in 621223,
    so the default region keeps these clear of them."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=n // 1000 % 20000)
    first17 = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + check_digit(first17)


def card_number(n: int) -> str:
    return f"6217{n:015d}"


def head_name(n: int) -> str:
    return "张" + _GIVEN[n % len(_GIVEN)] + _GIVEN[n // len(_GIVEN) % len(_GIVEN)]


def household_row(n: int, village: str = VILLAGE, **overrides: str) -> dict[str, str]:
    """A valid row; household numbers with five digits never meet the demo's three-digit ones."""
    row = {
        "household_no": f"{village}-{n:05d}",
        "village_code": village,
        "head_name": head_name(n),
        "head_id_number": id_number(n),
        "members": str(n % 6 + 1),
        "bank_name": "甘肃省农村信用社",
        "bank_account": card_number(n),
        "phone": f"139{n:08d}",
        "pin": "246810",
    }
    row.update(overrides)
    return row


def household_json(n: int, village: str = VILLAGE, **overrides: object) -> dict:
    """The same household as a POST /households body (members is a number there)."""
    body: dict = household_row(n, village)
    body["members"] = int(body["members"])
    body.update(overrides)
    return body


def csv_file(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_file(rows: list[dict[str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for row in rows:
        # Members typed as a number, as a person would; long numbers kept as text, as Excel needs.
        sheet.append([int(row[c]) if c == "members" and row[c].isdigit() else row[c] for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FORMATS = {
    "csv-utf8": ("households.csv", lambda rows: csv_file(rows), "text/csv"),
    "csv-utf8-bom": ("households.csv", lambda rows: csv_file(rows, "utf-8-sig"), "text/csv"),
    "csv-gb18030": ("households.csv", lambda rows: csv_file(rows, "gb18030"), "text/csv"),
    "xlsx": ("households.xlsx", xlsx_file, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def upload(fmt: str, rows: list[dict[str, str]]) -> dict:
    name, build, media_type = FORMATS[fmt]
    return {"files": {"file": (name, build(rows), media_type)}}


async def count_rows(api, sql: str = "SELECT count(*) FROM households") -> int:
    conn = await api.connect()
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def three_bad_rows() -> list[dict[str, str]]:
    """Spreadsheet rows 2..6: rows 3, 4 and 6 are bad (the header is row 1)."""
    good = household_row(1)
    bad_digit = household_row(2)
    bad_digit["head_id_number"] = bad_digit["head_id_number"][:17] + (
        "0" if bad_digit["head_id_number"][17] != "0" else "1"
    )
    return [
        good,
        bad_digit,
        household_row(3, village="621223100299"),
        household_row(4),
        household_row(5, household_no=good["household_no"]),
    ]


# --- files -----------------------------------------------------------------------------------


async def test_good_file_imports_in_every_format(api):
    for k, fmt in enumerate(FORMATS):
        before = await count_rows(api)
        rows = [household_row(n) for n in range(10 * k, 10 * k + 3)]
        r = await api.as_("cunwei", "POST", "/households/import", **upload(fmt, rows))
        assert r.status_code == 201, f"{fmt}: {r.text}"
        assert r.json() == {"created": 3}, fmt
        assert await count_rows(api) == before + 3, fmt
        # The names survive the file's encoding: the mask keeps the first and last character.
        hid = await api.household_id(rows[0]["household_no"])
        got = (await api.as_("cunwei", "GET", f"/households/{hid}")).json()
        name = rows[0]["head_name"]
        assert got["head_name"] == name[0] + "*" + name[-1], fmt
        assert got["members"] == int(rows[0]["members"]) and got["village_code"] == VILLAGE, fmt
    # The PIN in the file is the household's login.
    await api.household_login(household_row(0)["household_no"], "246810")


async def test_bad_rows_change_nothing(api):
    before = await count_rows(api)
    audit_before = await count_rows(api, "SELECT count(*) FROM audit_log")
    for fmt in FORMATS:
        r = await api.as_("cunwei", "POST", "/households/import", **upload(fmt, three_bad_rows()))
        body = assert_problem(r, 422)
        assert all("row" in e for e in body["errors"]), f"{fmt}: {body}"
    assert await count_rows(api) == before
    assert await count_rows(api, "SELECT count(*) FROM audit_log") == audit_before


async def test_bad_rows_are_all_named_at_once(api):
    for fmt in FORMATS:
        r = await api.as_("cunwei", "POST", "/households/import", **upload(fmt, three_bad_rows()))
        body = assert_problem(r, 422)
        named = {(e["row"], e["field"]) for e in body["errors"]}
        assert named == {(3, "head_id_number"), (4, "village_code"), (6, "household_no")}, f"{fmt}: {body}"


async def test_duplicates_alone_are_named_with_their_rows(api):
    # Without shape errors the duplicate checks run: in-file and against the registry.
    rows = [
        household_row(1),
        household_row(2, household_no="621223100201-001"),
        household_row(3, household_no=household_row(1)["household_no"]),
        household_row(4, head_id_number=id_number(1)),
    ]
    before = await count_rows(api)
    body = assert_problem(await api.as_("cunwei", "POST", "/households/import", **upload("csv-utf8", rows)), 422)
    named = {(e["row"], e["field"]) for e in body["errors"]}
    assert named == {(3, "household_no"), (4, "household_no"), (5, "head_id_number")}, body
    assert await count_rows(api) == before


async def test_file_problems_name_the_file(api):
    for content in (
        b"",
        b"household_no,village_code\r\n621223100201-00001,621223100201\r\n",
        b"\xff\xfe\x00garbage\x00",
        ",".join(COLUMNS).encode(),
    ):
        r = await api.as_("cunwei", "POST", "/households/import", files={"file": ("h.csv", content, "text/csv")})
        assert_problem(r, 422, fields={"file"})
    r = await api.as_(
        "cunwei",
        "POST",
        "/households/import",
        files={"file": ("h.xlsx", b"PK\x03\x04 not really a workbook", "application/octet-stream")},
    )
    assert_problem(r, 422, fields={"file"})


async def test_ten_thousand_rows_import(api):
    before = await count_rows(api)
    rows = [household_row(n, village=(VILLAGE, OTHER_VILLAGE)[n % 2]) for n in range(10_000)]
    r = await api.as_("xiangzhen", "POST", "/households/import", **upload("csv-utf8", rows))
    assert r.status_code == 201, r.text[:2000]
    assert r.json() == {"created": 10_000}
    assert await count_rows(api) == before + 10_000


# --- one at a time ---------------------------------------------------------------------------


async def test_create_answers_the_masked_household(api):
    body = household_json(7)
    r = await api.as_("cunwei", "POST", "/households", json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["household_no"] == body["household_no"] and got["county_code"] == COUNTY
    assert got["status"] == "not_registered"
    assert got["head_id_number"] == body["head_id_number"][:6] + "********" + body["head_id_number"][-4:]
    assert got["bank_account"] == f"{body['bank_account'][:4]} **** **** {body['bank_account'][-4:]}"


async def test_same_person_cannot_head_two_households_in_a_county(api):
    first = household_json(8)
    assert (await api.as_("cunwei", "POST", "/households", json=first)).status_code == 201
    before = await count_rows(api)
    again = household_json(9, village=OTHER_VILLAGE, head_id_number=first["head_id_number"])
    r = await api.as_("xiangzhen", "POST", "/households", json=again)
    assert r.status_code in (409, 422), r.text
    if r.status_code == 422:
        assert_problem(r, 422, fields={"head_id_number"})
    else:
        assert "身份证" in assert_problem(r, 409)["detail"]
    assert await count_rows(api) == before


BAD_FIELDS = [
    ("head_id_number", "620102199001010071"),  # the check digit of 62010219900101007 is 0
    ("head_id_number", "620102199002300070"),  # 30 February
    ("village_code", "621223100299"),
    ("village_code", "621223100000"),  # a township, not a village
    ("household_no", "621223100201-001"),  # the demo's first household
    ("bank_account", "6228-12"),
    ("members", "x"),
    ("members", 0),
    ("pin", "12ab56"),
]


async def test_single_create_names_the_bad_field(api):
    before = await count_rows(api)
    for field, value in BAD_FIELDS:
        r = await api.as_("xiangzhen", "POST", "/households", json=household_json(11, **{field: value}))
        body = assert_problem(r, 422, fields={field})
        assert all("row" not in e for e in body["errors"]), "a form has no rows"
    assert await count_rows(api) == before


async def test_missing_and_unknown_fields_are_named(api):
    missing = household_json(12)
    del missing["household_no"]
    r = await api.as_("cunwei", "POST", "/households", json=missing)
    assert_problem(r, 422, fields={"household_no"})
    r = await api.as_("cunwei", "POST", "/households", json={**household_json(12), "extra": 1})
    assert_problem(r, 422, fields={"extra"})
