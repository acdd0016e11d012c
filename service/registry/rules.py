"""The household registry's rules (建档立卡户档案): region codes, household rows, duplicates, status.

Pure functions on plain data. The queries they need answered (which villages exist, which numbers
are taken) are asked by service/registry/workflow.py and handed in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Literal

from service.core import identity
from service.core.errors import FieldErrors, field_error, invalid_field
from service.core.principal import _GROUPS, county_of

HOUSEHOLD_COLUMNS = [
    "household_no",
    "village_code",
    "head_name",
    "head_id_number",
    "members",
    "bank_name",
    "bank_account",
    "phone",
    "pin",
    "split_from",
]
REQUIRED_COLUMNS = HOUSEHOLD_COLUMNS[:7]

# ---- regions ------------------------------------------------------------------------------------

# How many of the code's digit groups (service/core/principal.py, _GROUPS) a region of each level fills.
LEVEL_DEPTH = {"province": 1, "city": 2, "county": 3, "township": 4, "village": 5}
COUNTY_LEVELS = ("county", "township", "village")


def region_shape_problem(code: str, level: str) -> str | None:
    """Why a 12-digit code does not fit its level (its groups down to the level non-zero, the rest zero)."""
    depth = LEVEL_DEPTH[level]
    groups = [code[a:b] for a, b in _GROUPS]
    if any(set(g) == {"0"} for g in groups[:depth]) or any(set(g) != {"0"} for g in groups[depth:]):
        return f"区域代码 {code} 与级别 {level} 不符"
    return None


def check_region(code: str, level: str, parent_code: str | None) -> None:
    """A region as it is put: a 12-digit code of its level, and a parent unless it is a province."""
    if not (len(code) == 12 and code.isascii() and code.isdigit()):
        raise invalid_field("code", "区域代码应为12位数字")
    if problem := region_shape_problem(code, level):
        raise invalid_field("level", problem)
    if level != "province" and not parent_code:
        raise invalid_field("parent_code", "非省级区域必须指定上级区域")


def check_parent(parent_code: str, parent_level: str | None, level: str) -> None:
    """The parent exists (`parent_level` is None when it does not) and is one level up."""
    if parent_level is None:
        raise invalid_field("parent_code", f"上级区域 {parent_code} 不存在")
    if LEVEL_DEPTH[parent_level] != LEVEL_DEPTH[level] - 1:
        raise invalid_field("parent_code", "上级区域的级别应比本区域高一级")


def region_county(code: str, level: str) -> str | None:
    """The county a region belongs to: counties and what lies in them; None above a county."""
    return county_of(code) if level in COUNTY_LEVELS else None


# ---- households ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdDraft:
    row: int
    household_no: str
    village_code: str
    county_code: str
    head_name: str
    id_number: str
    members: int
    bank_name: str
    card_number: str
    phone: str | None
    pin: str | None
    split_from: uuid.UUID | None


def check_row(
    row: int, values: dict[str, str], villages: dict[str, str]
) -> tuple[HouseholdDraft | None, list[dict[str, Any]]]:
    """Validate one row against the shape rules; `villages` maps village code → county code."""
    errors: list[dict[str, Any]] = []

    def err(field: str, message: str) -> None:
        errors.append(field_error(field, message, row))

    household_no = values.get("household_no", "").strip()
    if not household_no:
        err("household_no", "户号不能为空")
    elif not (4 <= len(household_no) <= 40 and all(c.isascii() and (c.isalnum() or c == "-") for c in household_no)):
        err("household_no", "户号应为4至40位字母、数字或连字符")
    village_code = values.get("village_code", "").strip()
    if village_code not in villages:
        err("village_code", f"村代码 {village_code or '(空)'} 不存在或不是村级区域")
    head_name = values.get("head_name", "").strip()
    if not head_name or len(head_name) > 50:
        err("head_name", "户主姓名不能为空，且不超过50字")
    id_number = identity.normalize_id_number(values.get("head_id_number", ""))
    if problem := identity.id_number_problem(id_number):
        err("head_id_number", problem)
    members_text = values.get("members", "").strip()
    members = int(members_text) if members_text.isascii() and members_text.isdigit() and len(members_text) <= 3 else 0
    if not 1 <= members <= 30:
        err("members", "家庭人口应为1至30之间的整数")
    bank_name = values.get("bank_name", "").strip()
    if not bank_name or len(bank_name) > 100:
        err("bank_name", "开户银行不能为空")
    card = identity.normalize_card_number(values.get("bank_account", ""))
    if problem := identity.card_number_problem(card):
        err("bank_account", problem)
    phone = (values.get("phone") or "").strip() or None
    if phone is not None and not (5 <= len(phone) <= 20 and all(c.isdigit() or c in "+- " for c in phone)):
        err("phone", "电话号码格式无效")
    pin = (values.get("pin") or "").strip() or None
    if pin is not None and not (len(pin) == 6 and pin.isascii() and pin.isdigit()):
        err("pin", "登录密码应为6位数字")
    split_text = (values.get("split_from") or "").strip()
    split_from: uuid.UUID | None = None
    if split_text:
        try:
            split_from = uuid.UUID(split_text)
        except ValueError:
            err("split_from", "分户来源编号格式无效")
    if errors:
        return None, errors
    return HouseholdDraft(
        row,
        household_no,
        village_code,
        villages[village_code],
        head_name,
        id_number,
        members,
        bank_name,
        card,
        phone,
        pin,
        split_from,
    ), []


def duplicate_errors(
    drafts: Sequence[HouseholdDraft],
    id_hashes: Mapping[int, bytes],
    *,
    taken_numbers: Set[str],
    taken_ids: Set[tuple[str, bytes]],
    split_targets: Set[uuid.UUID],
    single: bool = False,
) -> FieldErrors:
    """Household numbers and heads' ID numbers already registered, or repeated within the file.

    `id_hashes` maps each draft's row to the keyed hash of its head's ID number; `taken_numbers`,
    `taken_ids` ((county, hash)) and `split_targets` are what the registry already holds. A person
    heads at most one household of a county; a repeat names the row it repeats. A single form has
    no rows to name (`single`).
    """
    errors: FieldErrors = []
    seen_numbers: dict[str, int] = {}
    seen_ids: dict[tuple[str, bytes], int] = {}
    for d in drafts:
        row = None if single else d.row
        if d.household_no in taken_numbers:
            errors.append(field_error("household_no", f"户号 {d.household_no} 已登记", row))
        elif d.household_no in seen_numbers:
            errors.append(
                field_error("household_no", f"户号 {d.household_no} 与第 {seen_numbers[d.household_no]} 行重复", row)
            )
        seen_numbers.setdefault(d.household_no, d.row)
        key = (d.county_code, id_hashes[d.row])
        if key in taken_ids:
            errors.append(field_error("head_id_number", "该身份证号已是本县另一户的户主", row))
        elif key in seen_ids:
            errors.append(field_error("head_id_number", f"身份证号与第 {seen_ids[key]} 行重复", row))
        seen_ids.setdefault(key, d.row)
        if d.split_from and d.split_from not in split_targets:
            errors.append(field_error("split_from", "分户来源户不存在", row))
    return errors


# ---- status -------------------------------------------------------------------------------------

# The values of schemas.registry.HouseholdStatus.
Status = Literal["not_registered", "poor", "exited", "xiaokang"]

# Derived status from the latest status event (by effective date, then by when it was recorded).
STATUS_AFTER_EVENT: dict[str, Status] = {
    "registered": "poor",
    "returned": "poor",
    "exited": "exited",
    "xiaokang": "xiaokang",
}


@dataclass(frozen=True)
class StatusEvent:
    kind: str
    effective_date: dt.date
    recorded_at: dt.datetime


def derived_status(events: Iterable[StatusEvent]) -> Status:
    """A household's status: what its latest event (by effective date, then recording) makes it."""
    latest = max(events, key=lambda e: (e.effective_date, e.recorded_at), default=None)
    if latest is None:
        return "not_registered"
    return STATUS_AFTER_EVENT.get(latest.kind, "not_registered")


def check_status_event(year: int, effective_date: dt.date) -> None:
    if effective_date.year != year:
        raise invalid_field("effective_date", "生效日期应在所填年度内")


# ---- poverty lines ------------------------------------------------------------------------------


def check_poverty_line(year: int, poverty_line_fen: int, xiaokang_line_fen: int) -> None:
    if not 2000 <= year <= 2100:
        raise invalid_field("year", "年度应在2000至2100之间")
    if xiaokang_line_fen <= poverty_line_fen:
        raise invalid_field("xiaokang_line_fen", "小康标准应高于脱贫标准")
