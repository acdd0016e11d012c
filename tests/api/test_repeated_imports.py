"""An upload of rows already imported is refused unless the clerk says it is a new batch (issue 12,
item 6): the trades sheet sent twice must not double members' volumes (and so their patronage
refunds); the same holds for the weighing station's sheet, the household register and the
cross-check lists. Two uploads of the same rows at once import them once.
"""

from __future__ import annotations

import asyncio
import re

from tests.api.test_household_import import household_row, upload
from tests.api.test_order_farming_api import _sheet, contract, make_enterprise, purchase_count, set_today
from tests.api.test_ventures import add_member, make_venture

TRADES = (
    "成员编号,交易日期,品名,数量（克）,金额（分）\n"
    "1,2025-03-01,鸡蛋,50000,60000\n"
    "2,2025-03-02,鸡蛋,10000,12000\n"
    ",2025-03-03,鸡蛋,10000,12000\n"  # a non-member's trade (art. 41)
)


async def volumes(api, vid) -> list[int]:
    members = (await api.as_("kuaiji", "GET", f"/ventures/{vid}/members")).json()
    out = []
    for m in members:
        a = await api.as_("kuaiji", "GET", f"/ventures/{vid}/members/{m['id']}/account", params={"year": 2025})
        out.append(a.json()["transaction_volume_fen"])
    return sorted(out)


async def send_trades(api, vid, content: bytes, name: str = "交易.csv", **fields):
    return await api.as_(
        "kuaiji",
        "POST",
        f"/ventures/{vid}/transactions/import",
        files={"file": (name, content, "text/csv")},
        data=fields or None,
    )


async def coop(api) -> str:
    vid = await make_venture(api)
    await add_member(api, vid, "household", "社员1", "621223100201-001")
    await add_member(api, vid, "household", "社员2", "621223100201-002")
    return vid


async def test_the_trades_sheet_sent_twice_counts_once(api):
    vid = await coop(api)
    r = await send_trades(api, vid, TRADES.encode("utf-8-sig"))
    assert r.status_code == 201 and r.json() == {"created": 3}, r.text
    assert await volumes(api, vid) == [12_000, 60_000]

    # Sent again, as GB18030 this time and under another name: the same rows, refused.
    r = await send_trades(api, vid, TRADES.encode("gb18030"), name="交易(1).csv")
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"].endswith("already-imported")
    assert (
        "accountant:kuaiji" in problem["detail"]
        and "交易.csv" in problem["detail"]
        and "new_batch" in problem["detail"]
    )
    assert problem["imported_by"] == "accountant:kuaiji" and re.fullmatch(
        r"20\d\d-\d\d-\d\d \d\d:\d\d", problem["imported_at"]
    )
    assert await volumes(api, vid) == [12_000, 60_000]

    # The clerk says it is another batch of the very same deliveries: then it counts.
    r = await send_trades(api, vid, TRADES.encode(), new_batch="true")
    assert r.status_code == 201, r.text
    assert await volumes(api, vid) == [24_000, 120_000]
    r = await api.as_("shenji", "GET", "/ledger/verify")
    assert r.json()["ok"], r.text


async def test_two_uploads_of_the_same_sheet_at_once_import_it_once(api):
    vid = await coop(api)
    await api.login("kuaiji")
    answers = await asyncio.gather(*(send_trades(api, vid, TRADES.encode()) for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409], [r.text for r in answers]
    assert await volumes(api, vid) == [12_000, 60_000]


async def test_the_weighing_sheet_sent_twice_is_refused(api):
    await set_today(api, "2025-12-20")
    vid = await make_enterprise(api)
    cid = await contract(api, vid, "621223100201-001", contracted_g=5_000_000, floor=1200)
    sheet = _sheet([(cid, "2025-10-01", "一等", 1000, 1100), (cid, "2025-10-02", "二等", 2000, 1000)])
    url = f"/ventures/{vid}/purchases/import"
    r = await api.as_("kuaiji", "POST", url, files={"file": ("称重单.csv", sheet, "text/csv")})
    assert r.status_code == 201, r.text
    r = await api.as_("kuaiji", "POST", url, files={"file": ("称重单.csv", sheet, "text/csv")})
    assert r.status_code == 409 and "称重单.csv" in r.json()["detail"], r.text
    assert await purchase_count(api, vid) == 2


async def test_the_household_register_sent_twice_says_when_it_was_imported(api):
    rows = [household_row(n) for n in range(81_000, 81_003)]
    r = await api.as_("cunwei", "POST", "/households/import", **upload("csv-utf8", rows))
    assert r.status_code == 201, r.text
    # Before: 422 naming every household number as taken; now the file is known for what it is.
    r = await api.as_("xiangzhen", "POST", "/households/import", **upload("xlsx", rows))
    assert r.status_code == 409, r.text
    assert "village_reviewer:cunwei" in r.json()["detail"]


async def test_the_same_cross_check_list_twice_is_refused(api):
    text = "身份证号,来源\n621223198001010015,车辆\n"
    url = "/cross-check-lists/import"
    r = await api.as_("caizheng", "POST", url, files={"file": ("车辆.csv", text.encode(), "text/csv")})
    assert r.status_code == 201 and r.json()["added"] == 1, r.text
    r = await api.as_("caizheng", "POST", url, files={"file": ("车辆.csv", text.encode(), "text/csv")})
    assert r.status_code == 409, r.text
    r = await api.as_(
        "caizheng", "POST", url, files={"file": ("车辆.csv", text.encode(), "text/csv")}, data={"new_batch": "是"}
    )
    assert r.status_code == 201 and (r.json()["added"], r.json()["already_listed"]) == (0, 1), r.text
