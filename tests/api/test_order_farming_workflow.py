"""Order farming's use cases called as the CLI, the console and the benchmarks call them: no HTTP,
the caller's transaction, access checked by the workflow itself."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest

from db.pool import init_connection
from schemas.order_farming import AdvanceCreate, ContractCreate, PurchaseCreate
from service.core.audit import Actor
from service.core.errors import Conflict, Forbidden, Invalid, NotFound
from service.core.principal import Principal, Role
from service.order_farming import workflow

VILLAGE = "621223100201"
TODAY = dt.date(2025, 12, 20)
ACTOR = Actor.system("test")
SYSTEM = Principal.system("cli")


@pytest.fixture
async def conn(demo_db):
    c = await asyncpg.connect(demo_db)
    await init_connection(c)
    yield c
    await c.close()


async def enterprise(conn: asyncpg.Connection) -> str:
    return str(
        await conn.fetchval(
            """INSERT INTO ventures (county_code, name, model, village_code, registered_capital_fen, record_date_mmdd,
                   charter) VALUES ('621223000000', '宕昌药业有限公司', 'enterprise', $1, 500000000, '12-31', '{}')
               RETURNING id""",
            VILLAGE,
        )
    )


async def household(conn: asyncpg.Connection, no: str) -> str:
    return str(await conn.fetchval("SELECT id FROM households WHERE household_no = $1", no))


async def test_a_season_through_the_workflows(conn):
    vid = await enterprise(conn)
    hid = await household(conn, "621223100201-002")
    async with conn.transaction():
        c2025 = await workflow.create_contract(
            conn,
            ACTOR,
            SYSTEM,
            vid,
            ContractCreate(hid, "党参", 2025, contracted_g=50_000, floor_price_fen_per_kg=1000),
        )
        await workflow.record_advance(
            conn, ACTOR, SYSTEM, c2025.id, AdvanceCreate(25_000, dt.date(2025, 3, 10), "种子"), TODAY
        )
        await workflow.record_purchase(
            conn, ACTOR, SYSTEM, c2025.id, PurchaseCreate(dt.date(2025, 10, 15), "一等", 10_000, 800), TODAY
        )
    async with conn.transaction():
        run = await workflow.settle_season(conn, ACTOR, SYSTEM, vid, 2025, TODAY)
    (item,) = run.items
    assert (item.gross_fen, item.advances_deducted_fen, item.payable_fen, item.advance_carried_fen) == (
        10_000,
        10_000,
        0,
        15_000,
    )

    # 2026: the 150.00 carried is recovered first from the contract signed first.
    async with conn.transaction():
        first = await workflow.create_contract(
            conn, ACTOR, SYSTEM, vid, ContractCreate(hid, "红芪", 2026, contracted_g=20_000, floor_price_fen_per_kg=800)
        )
        second = await workflow.create_contract(
            conn,
            ACTOR,
            SYSTEM,
            vid,
            ContractCreate(hid, "当归", 2026, contracted_g=50_000, floor_price_fen_per_kg=1000),
        )
        for cid, weight, market in ((first.id, 10_000, 700), (second.id, 40_000, 1100)):
            purchase = PurchaseCreate(dt.date(2026, 10, 1), "一等", weight, market)
            await workflow.record_purchase(conn, ACTOR, SYSTEM, cid, purchase, dt.date(2026, 12, 20))
        run = await workflow.settle_season(conn, ACTOR, SYSTEM, vid, 2026, dt.date(2026, 12, 20))
    items = {i.contract_id: i for i in run.items}
    assert (items[first.id].carried_in_fen, items[first.id].payable_fen) == (8_000, 0)
    assert (items[second.id].carried_in_fen, items[second.id].payable_fen) == (7_000, 37_000)

    # The household reads its own settlement, with its lines; another household cannot.
    own = Principal(kind="household", id=hid, name="h", role=Role.HOUSEHOLD, household_id=hid)
    read = await workflow.get_settlement(conn, own, items[second.id].id)
    assert read.lines and "往季结转未扣清的农资款 70.00 元" in read.explanation
    other = Principal(kind="household", id="x", name="x", role=Role.HOUSEHOLD, household_id=str(uuid.uuid4()))
    with pytest.raises(NotFound):
        await workflow.get_settlement(conn, other, items[second.id].id)

    # 2025 cannot be reversed while 2026 took in what it carried; 2026's can.
    with pytest.raises(Conflict) as refused:
        async with conn.transaction():
            await workflow.reverse_settlement(conn, ACTOR, SYSTEM, item.id, TODAY)
    assert refused.value.slug == "carry-taken"
    async with conn.transaction():
        out = await workflow.reverse_settlement(conn, ACTOR, SYSTEM, items[second.id].id, dt.date(2026, 12, 21))
    assert out.status == "reversed" and out.payables_cancelled == 1


async def test_the_workflows_check_access_themselves(conn):
    vid = await enterprise(conn)
    hid = await household(conn, "621223100201-001")
    async with conn.transaction():
        c = await workflow.create_contract(
            conn, ACTOR, SYSTEM, vid, ContractCreate(hid, "当归", 2025, contracted_g=1_000, floor_price_fen_per_kg=100)
        )
    stranger = Principal(kind="user", id="u", name="kuaiji2", role=Role.ACCOUNTANT, venture_ids=frozenset())
    auditor = Principal(kind="user", id="a", name="shenji", role=Role.AUDITOR, region_code="621223000000")
    with pytest.raises(NotFound):
        await workflow.get_contract(conn, stranger, c.id)
    with pytest.raises(NotFound):
        await workflow.settle_season(conn, ACTOR, stranger, vid, 2025, TODAY)
    assert (await workflow.get_contract(conn, auditor, c.id)).id == c.id
    with pytest.raises(Forbidden):
        await workflow.record_purchase(
            conn, ACTOR, auditor, c.id, PurchaseCreate(dt.date(2025, 10, 1), "一等", 1, 1), TODAY
        )
    # A date after today, and a sheet with no file, are refused before anything is written.
    with pytest.raises(Invalid):
        await workflow.record_advance(conn, ACTOR, SYSTEM, c.id, AdvanceCreate(1, dt.date(2025, 12, 21), "化肥"), TODAY)
    with pytest.raises(Invalid) as no_file:
        await workflow.import_purchases(conn, ACTOR, SYSTEM, vid, None, None, TODAY)
    assert no_file.value.errors == [{"field": "file", "message": "请上传称重单文件（字段名 file）"}]
    sheet = f"contract_id,bought_on,grade,weight_g,market_price_fen_per_kg\n{c.id},2025-10-01,一等,1000,900\n"
    async with conn.transaction():
        created = await workflow.import_purchases(conn, ACTOR, SYSTEM, vid, sheet.encode(), "s.csv", TODAY)
    assert created.created == 1
