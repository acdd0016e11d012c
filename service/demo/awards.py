"""The exit award (脱贫奖) of 2025 in 宕昌县, every step by the person whose step it is.

The county finance office opens the programme; 南沿沟村's clerk records the year's exits and
applies for the households; the checks stop one household below the income line and hold one
found on the vehicle register; a household split off in 王何村 after its family was registered is
held too, and the township refuses it in writing. The village and the township review, the
township publishes the list (公示), someone objects to one household and the township dismisses the
objection after a visit, and the finance office grants the awards within the budget, each with
its payable and numbered certificate. Three late applications are still in the reviewers' queues.
"""

from __future__ import annotations

import datetime as dt
import random

import asyncpg

from schemas.awards import (
    ApplicationCreate,
    CostShares,
    DecisionCreate,
    GrantOut,
    ObjectionCreate,
    ObjectionResolve,
    ProgramCreate,
    ReviewCreate,
)
from schemas.registry import HouseholdCreate, HouseholdOut, StatusEventCreate
from service.app import feature_hooks
from service.awards import workflow as awards
from service.core.crypto import DataCipher
from service.core.settings import Settings
from service.demo.actors import SYSTEM, Person, staff
from service.demo.lookups import head_id_number, households_of
from service.demo.people import (
    BANK,
    COUNTY,
    DEMO_PIN,
    NANYANGOU,
    WANGHE,
    demo_card_number,
    demo_id_number,
    household_no,
    person_name,
)
from service.notices import workflow as notices
from service.registry import workflow as registry

YEAR = 2025
AMOUNT_FEN = 30_000
PROGRAM = ProgramCreate(
    county_code=COUNTY,
    kind="exit",
    year=YEAR,
    amount_fen=AMOUNT_FEN,
    budget_fen=25 * AMOUNT_FEN,
    cost_shares=CostShares(province_bp=5000, city_bp=2000, county_bp=3000),
    notice_days=7,
    opens_on=dt.date(YEAR, 10, 1),
    closes_on=dt.date(YEAR, 12, 31),
)
EXITED_ON = dt.date(YEAR, 9, 30)
APPLICANTS = [*range(1, 11), *range(25, 37)]  # 南沿沟村 households applying in October
BELOW_LINE = 36  # declares 3,600 yuan a person, below the line of 4,000
ON_VEHICLE_LIST = 35  # its head is on the county's vehicle register: held
OBJECTED = 3  # someone objects while the list is published; dismissed after a visit
LATE = [37, 38, 39]  # applied in December: two wait for the village, one for the township
SPLIT_PARENT, SPLIT_NO = household_no(WANGHE, 12), household_no(WANGHE, 33)


class Days:
    """The programme's calendar."""

    applied = dt.date(YEAR, 10, 10)
    village_review = dt.date(YEAR, 10, 20)
    township_review = dt.date(YEAR, 11, 1)
    published = dt.date(YEAR, 11, 10)
    objected = dt.date(YEAR, 11, 12)
    resolved = dt.date(YEAR, 11, 14)
    granted = dt.date(YEAR, 11, 20)
    late = dt.date(YEAR, 12, 15)
    late_review = dt.date(YEAR, 12, 18)


async def exit_award(conn: asyncpg.Connection, settings: Settings, cipher: DataCipher) -> GrantOut:
    caizheng, cunwei, xiangzhen = [await staff(conn, u) for u in ("caizheng", "cunwei", "xiangzhen")]
    program = await awards.create_program(conn, caizheng.actor, caizheng.principal, settings, PROGRAM)
    await _vehicle_list(conn, caizheng, cipher)
    village = await households_of(conn, NANYANGOU)
    rng = random.Random(YEAR + 1)
    applied = {}
    for n in APPLICANTS:
        h = village[household_no(NANYANGOU, n)]
        income = 360_000 if n == BELOW_LINE else rng.randrange(4_200, 8_000) * 100
        applied[n] = await _apply(conn, cunwei, program.id, h, income, Days.applied)
    split = await _split_household(conn, xiangzhen, cipher)
    split_app = await _apply(conn, SYSTEM, program.id, split, 450_000, Days.applied, exit_by=xiangzhen)
    await _review(conn, cunwei, "village", [a for n, a in applied.items() if n not in (BELOW_LINE, ON_VEHICLE_LIST)])
    await _review(
        conn, xiangzhen, "township", [a for n, a in applied.items() if n not in (BELOW_LINE, ON_VEHICLE_LIST)]
    )
    refusal = DecisionCreate(
        release=False, reason=f"该户系建档立卡后从 {SPLIT_PARENT} 分户，经入户核实为重复享受政策，不予奖励"
    )
    await awards.decide(conn, xiangzhen.actor, xiangzhen.principal, split_app, refusal)
    published = await awards.publish(conn, xiangzhen.actor, xiangzhen.principal, Days.published, program.id)
    assert published.notice is not None  # applications were approved just above
    await _objection(conn, xiangzhen, published.notice.id, applied[OBJECTED])
    granted = await awards.grant(conn, caizheng.actor, caizheng.principal, Days.granted, program.id)
    await _late_applications(conn, cunwei, program.id, village)
    return granted


async def _vehicle_list(conn: asyncpg.Connection, caizheng: Person, cipher: DataCipher) -> None:
    """The vehicle register's owners in the county, as the traffic police sent them: one of them
    heads an applying household."""
    rng = random.Random(YEAR + 2)
    owners = [head_id_number(household_no(NANYANGOU, ON_VEHICLE_LIST))]
    owners += [demo_id_number(rng, dt.date(1960, 1, 1)) for _ in range(5)]
    sheet = "id_number,source\r\n" + "".join(f"{number},vehicle\r\n" for number in owners)
    await awards.import_cross_check_list(
        conn, caizheng.actor, caizheng.principal, cipher, sheet.encode(), "车辆登记比对名单.csv"
    )


async def _apply(
    conn: asyncpg.Connection,
    clerk: Person,
    program_id: str,
    household: HouseholdOut,
    income_fen: int,
    day: dt.date,
    *,
    exit_by: Person | None = None,
) -> str:
    """The year's exit recorded (by the village's registrar), then the application made."""
    registrar = exit_by or clerk
    event = StatusEventCreate(kind="exited", year=YEAR, effective_date=EXITED_ON)
    await registry.record_status_event(conn, registrar.actor, registrar.principal, feature_hooks(), household.id, event)
    data = ApplicationCreate(household_id=household.id, declared_income_fen=income_fen)
    return (await awards.apply(conn, clerk.actor, clerk.principal, day, program_id, data)).id


async def _split_household(conn: asyncpg.Connection, xiangzhen: Person, cipher: DataCipher) -> HouseholdOut:
    """A son's household split off (分户) from a registered poor family of 王何村 in 2021, and
    registered poor on its own the same day."""
    rng = random.Random(2021)
    parent = (await households_of(conn, WANGHE))[SPLIT_PARENT]
    data = HouseholdCreate(
        household_no=SPLIT_NO,
        village_code=WANGHE,
        head_name=person_name(rng),
        head_id_number=demo_id_number(rng, dt.date(1985, 1, 1)),
        members=3,
        bank_name=BANK,
        bank_account=demo_card_number(rng),
        pin=DEMO_PIN,
        split_from=parent.id,
    )
    split = await registry.create_household(conn, xiangzhen.actor, xiangzhen.principal, cipher, data)
    registered = StatusEventCreate(kind="registered", year=2021, effective_date=dt.date(2021, 6, 1))
    await registry.record_status_event(
        conn, xiangzhen.actor, xiangzhen.principal, feature_hooks(), split.id, registered
    )
    return split


async def _review(conn: asyncpg.Connection, reviewer: Person, level: str, applications: list[str]) -> None:
    day = Days.village_review if level == "village" else Days.township_review
    data = ReviewCreate(level=level, decision="approve", reason=f"{day.isoformat()} 入户核实，同意")  # type: ignore[arg-type]
    for application in applications:
        await awards.review(conn, reviewer.actor, reviewer.principal, application, data)


async def _objection(conn: asyncpg.Connection, xiangzhen: Person, notice_id: str, application: str) -> None:
    """Someone objects while the list is up; the township visits and dismisses it."""
    hooks = feature_hooks()
    objection = await notices.file_objection(
        conn,
        hooks,
        Days.objected,
        notice_id,
        ObjectionCreate(subject_id=application, reason="听说这户家里买了小轿车，不应再算困难户"),
        None,
    )
    dismissal = ObjectionResolve(
        upheld=False, reason="经乡镇入户核实，车辆登记在已分户的亲属名下，不影响本户脱贫认定，异议不成立"
    )
    await notices.resolve_objection(conn, xiangzhen.actor, xiangzhen.principal, hooks, objection.id, dismissal)


async def _late_applications(
    conn: asyncpg.Connection, cunwei: Person, program_id: str, village: dict[str, HouseholdOut]
) -> None:
    """Three households that exited late apply in December; the village has reviewed one."""
    apps = [
        await _apply(conn, cunwei, program_id, village[household_no(NANYANGOU, n)], 520_000, Days.late) for n in LATE
    ]
    data = ReviewCreate(level="village", decision="approve", reason="入户核实，同意")
    await awards.review(conn, cunwei.actor, cunwei.principal, apps[-1], data)
