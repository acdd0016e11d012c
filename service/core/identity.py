"""National ID numbers (居民身份证号码, GB 11643-1999) and the masks shown to people."""

from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")
_CARD_SHAPE = re.compile(r"^[0-9]{12,19}$")


def check_digit(first17: str) -> str:
    """The 18th character of a national ID number: ISO 7064 MOD 11-2 over the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(raw: str) -> str:
    return raw.strip().upper()


def id_number_problem(raw: str) -> str | None:
    """Why this is not a valid ID number, in Chinese, or None when it is valid."""
    value = normalize_id_number(raw)
    if not _ID_SHAPE.match(value):
        return "身份证号码应为18位，前17位为数字，末位为数字或X"
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号码中的出生日期无效"
    if check_digit(value[:17]) != value[17]:
        return "身份证号码校验位错误"
    return None


def example_id_number(county_code: str = "621223", birth: str = "19800101", serial: str = "001") -> str:
    """A valid ID number for a template's example row, made here rather than written out: the
    code holds no literal ID number (a real person's could slip in), and its check digit is right."""
    first17 = county_code + birth + serial
    return first17 + check_digit(first17)


def example_card_number(issuer: str = "621700", account: str = "12345678901") -> str:
    """A card number of 19 digits for a template's example row (issuer, zero padding, account)."""
    return (issuer + account.rjust(13, "0"))[:19]


def normalize_card_number(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw)


def card_number_problem(raw: str) -> str | None:
    if not _CARD_SHAPE.match(normalize_card_number(raw)):
        return "银行卡号应为12至19位数字"
    return None


def mask_id_number(value: str) -> str:
    """620102********1234: the region and the last four, as public notices show them."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_card_number(value: str) -> str:
    """6228 **** **** 1234."""
    return f"{value[:4]} **** **** {value[-4:]}"


def mask_name(name: str) -> str:
    """张*三 for three characters or more, 张* for two, as on 公示 lists."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(value: str) -> str:
    value = value.strip()
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
