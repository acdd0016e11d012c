"""The demo county, built from the field reports: 宕昌县, 城关镇, and four villages.

南沿沟村 has 97 registered poor households with 336 people, 王何村 32 households with 112 people.
Names, ID numbers (with valid check digits) and card numbers are generated, never real.
"""

from __future__ import annotations

import datetime as dt
import random

import asyncpg

from service.core import auth
from service.core.audit import Actor, record
from service.core.crypto import DataCipher
from service.core.identity import check_digit
from service.registry.rules import check_row
from service.registry.workflow import STORED_COLUMNS, to_record

PROVINCE, CITY, COUNTY, TOWNSHIP = "620000000000", "621200000000", "621223000000", "621223100000"
VILLAGES = {
    "621223100201": ("南沿沟村", 97, 336),
    "621223100202": ("王何村", 32, 112),
    "621223100203": ("凤凰谷村", 24, 80),
    "621223100204": ("草滩子村", 18, 61),
}
DEMO_PASSWORD = "huinong-demo"
DEMO_PIN = "123456"
DEMO_USERS = [
    ("kuaiji", "accountant", None),
    ("cunwei", "village_reviewer", "621223100201"),
    ("xiangzhen", "township_approver", TOWNSHIP),
    ("caizheng", "finance_officer", COUNTY),
    ("caizheng2", "finance_approver", COUNTY),
    ("shenji", "auditor", COUNTY),
]
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
_GIVEN = "建国红梅秀英志强丽娟永福海燕春花明亮金山玉兰德胜小军桂芳文华东升淑珍宝林"


def _members_split(households: int, people: int, rng: random.Random) -> list[int]:
    """Household sizes between 1 and 7 summing to exactly `people`."""
    sizes = [1] * households
    left = people - households
    while left:
        i = rng.randrange(households)
        if sizes[i] < 7:
            sizes[i] += 1
            left -= 1
    return sizes


def demo_id_number(rng: random.Random) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))
    first17 = f"621223{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + check_digit(first17)


def demo_card_number(rng: random.Random) -> str:
    return "6228" + "".join(str(rng.randrange(10)) for _ in range(15))


async def is_seeded(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)", COUNTY))


async def seed_demo(conn: asyncpg.Connection, cipher: DataCipher) -> bool:
    """Load the demo county once; answer False when it was already there."""
    if await is_seeded(conn):
        return False
    rng = random.Random(2016)
    actor = Actor.system("seed-demo")
    async with conn.transaction():
        regions = [
            (PROVINCE, "甘肃省", "province", None, None),
            (CITY, "陇南市", "city", PROVINCE, None),
            (COUNTY, "宕昌县", "county", CITY, COUNTY),
            (TOWNSHIP, "城关镇", "township", COUNTY, COUNTY),
        ]
        regions += [(code, name, "village", TOWNSHIP, COUNTY) for code, (name, _, _) in VILLAGES.items()]
        await conn.executemany(
            "INSERT INTO regions (code, name, level, parent_code, county_code) VALUES ($1, $2, $3, $4, $5)", regions
        )
        villages = dict.fromkeys(VILLAGES, COUNTY)
        records = []
        for code, (_, count, people) in VILLAGES.items():
            for n, members in enumerate(_members_split(count, people, rng), start=1):
                name = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN)
                values = {
                    "household_no": f"{code}-{n:03d}",
                    "village_code": code,
                    "head_name": name,
                    "head_id_number": demo_id_number(rng),
                    "members": str(members),
                    "bank_name": "甘肃省农村信用社",
                    "bank_account": demo_card_number(rng),
                    "phone": f"139{rng.randrange(10**8):08d}",
                    "pin": DEMO_PIN,
                }
                draft, errors = check_row(n, values, villages)
                assert draft is not None, errors
                records.append(to_record(draft, cipher))
        await conn.copy_records_to_table("households", records=records, columns=STORED_COLUMNS)
        await conn.execute(
            """INSERT INTO household_status_events (county_code, household_id, kind, year, effective_date, recorded_by)
               SELECT county_code, id, 'registered', 2016, DATE '2016-03-01', 'seed-demo' FROM households
               WHERE county_code = $1""",
            COUNTY,
        )
        await conn.execute("UPDATE households SET status = 'poor' WHERE county_code = $1", COUNTY)
        for year in range(2016, 2031):
            await conn.execute(
                "INSERT INTO poverty_lines (year, poverty_line_fen, xiaokang_line_fen) VALUES ($1, $2, $3) "
                "ON CONFLICT (year) DO NOTHING",
                year,
                400_000,
                1_000_000,
            )
        for username, role, region in DEMO_USERS:
            await conn.execute(
                "INSERT INTO users (username, password_hash, role, region_code) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (username) DO NOTHING",
                username,
                auth.hash_password(DEMO_PASSWORD),
                role,
                region,
            )
        await record(
            conn,
            actor,
            county_code=COUNTY,
            action="demo.seed",
            object_type="county",
            object_id=COUNTY,
            detail={"households": len(records)},
        )
    return True


def demo_logins_text(base_url: str) -> str:
    lines = [
        f"惠农 Huinong is serving at {base_url}  (API schema: {base_url}/schema)",
        f"Staff logins (password '{DEMO_PASSWORD}'):",
    ]
    lines += [f"  {u:<10} {r}" + (f"  region {g}" if g else "") for u, r, g in DEMO_USERS]
    lines.append("  admin      admin  (password from HUINONG_ADMIN_PASSWORD, default 'admin-demo-2026' under make run)")
    lines.append(f"Household logins: household_no 621223100201-001 … 621223100201-097, PIN {DEMO_PIN}")
    lines.append(f"Household pages: {base_url}/h/login")
    return "\n".join(lines)
