"""The demo county's places and people: 宕昌县, 城关镇 and four villages from the field reports.

Names, ID numbers (with valid GB 11643 check digits) and card numbers are generated from a seeded
random source, never written down: the same run always yields the same county, and no real
person's number is in the code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass

from service.core.identity import check_digit

PROVINCE, CITY, COUNTY, TOWNSHIP = "620000000000", "621200000000", "621223000000", "621223100000"
NANYANGOU, WANGHE, FENGHUANGGU, CAOTANZI = "621223100201", "621223100202", "621223100203", "621223100204"
# (code, name, level, parent): the regions above the villages.
REGIONS = [
    (PROVINCE, "甘肃省", "province", None),
    (CITY, "陇南市", "city", PROVINCE),
    (COUNTY, "宕昌县", "county", CITY),
    (TOWNSHIP, "城关镇", "township", COUNTY),
]
# village code → (name, registered poor households, people)
VILLAGES = {
    NANYANGOU: ("南沿沟村", 97, 336),
    WANGHE: ("王何村", 32, 112),
    FENGHUANGGU: ("凤凰谷村", 24, 80),
    CAOTANZI: ("草滩子村", 18, 61),
}
REGISTERED_ON = dt.date(2016, 3, 1)  # every demo household was registered poor (建档立卡) that day
POVERTY_LINE_FEN, XIAOKANG_LINE_FEN = 400_000, 1_000_000  # per person per year, 2016–2030
LINE_YEARS = range(2016, 2031)
DEMO_PASSWORD = "huinong-demo"
DEMO_PIN = "123456"
DEMO_USERS = [
    ("kuaiji", "accountant", COUNTY),  # sets up ventures in the county, keeps those it sets up
    ("cunwei", "village_reviewer", NANYANGOU),
    ("xiangzhen", "township_approver", TOWNSHIP),
    ("caizheng", "finance_officer", COUNTY),
    ("caizheng2", "finance_approver", COUNTY),
    ("shenji", "auditor", COUNTY),
]
BANK = "甘肃省农村信用社"
HOUSEHOLD_COLUMNS = ["household_no", "village_code", "head_name", "head_id_number", "members"]
HOUSEHOLD_COLUMNS += ["bank_name", "bank_account", "phone", "pin"]

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
_GIVEN = "建国红梅秀英志强丽娟永福海燕春花明亮金山玉兰德胜小军桂芳文华东升淑珍宝林"


def household_no(village_code: str, n: int) -> str:
    """The demo's household numbers: the village code and a three-digit number (621223100201-001)."""
    return f"{village_code}-{n:03d}"


def person_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN)


def demo_id_number(rng: random.Random, born_after: dt.date = dt.date(1950, 1, 1)) -> str:
    """A national ID number of 宕昌县 with its GB 11643 check digit."""
    born = born_after + dt.timedelta(days=rng.randrange(20000))
    first17 = f"621223{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + check_digit(first17)


def demo_card_number(rng: random.Random) -> str:
    """A 19-digit card number of the rural credit union (6228…)."""
    return "6228" + "".join(str(rng.randrange(10)) for _ in range(15))


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


@dataclass(frozen=True)
class Household:
    household_no: str
    village_code: str
    head_name: str
    head_id_number: str
    members: int
    bank_account: str
    phone: str


def demo_households() -> list[Household]:
    """Every registered household of the demo county, the same ones on every run."""
    rng = random.Random(2016)
    out = []
    for code, (_, count, people) in VILLAGES.items():
        for n, members in enumerate(_members_split(count, people, rng), start=1):
            name = person_name(rng)
            id_number = demo_id_number(rng)
            card = demo_card_number(rng)
            phone = f"139{rng.randrange(10**8):08d}"
            out.append(Household(household_no(code, n), code, name, id_number, members, card, phone))
    return out


def households_sheet(households: list[Household]) -> bytes:
    """The register as a village clerk's CSV sheet, for the household import."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HOUSEHOLD_COLUMNS)
    for h in households:
        writer.writerow(
            [h.household_no, h.village_code, h.head_name, h.head_id_number, h.members, BANK, h.bank_account]
            + [h.phone, DEMO_PIN]
        )
    return out.getvalue().encode("utf-8")
