"""The household registry (建档立卡户档案): validating rows and turning them into stored records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from service.core import identity
from service.core.crypto import CARD_CONTEXT, ID_CONTEXT, PHONE_CONTEXT, DataCipher
from service.core.errors import field_error

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

# Derived status from the latest status event (by effective date, then by when it was recorded).
STATUS_AFTER_EVENT = {"registered": "poor", "returned": "poor", "exited": "exited", "xiaokang": "xiaokang"}

STORED_COLUMNS = [
    "county_code",
    "id",
    "household_no",
    "village_code",
    "head_name",
    "head_name_masked",
    "head_id_enc",
    "head_id_hash",
    "head_id_masked",
    "members",
    "bank_name",
    "bank_account_enc",
    "bank_account_hash",
    "bank_account_masked",
    "phone_enc",
    "phone_masked",
    "pin_hash",
    "split_from",
]


@dataclass
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
    members = int(members_text) if members_text.isdigit() else 0
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
    if pin is not None and not (len(pin) == 6 and pin.isdigit()):
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


def to_record(draft: HouseholdDraft, cipher: DataCipher) -> tuple[Any, ...]:
    """The stored row, in STORED_COLUMNS order: numbers encrypted, hashed and masked."""
    return (
        draft.county_code,
        uuid.uuid4(),
        draft.household_no,
        draft.village_code,
        draft.head_name,
        identity.mask_name(draft.head_name),
        cipher.encrypt(draft.id_number, context=ID_CONTEXT),
        cipher.lookup_hash(draft.id_number, context=ID_CONTEXT),
        identity.mask_id_number(draft.id_number),
        draft.members,
        draft.bank_name,
        cipher.encrypt(draft.card_number, context=CARD_CONTEXT),
        cipher.lookup_hash(draft.card_number, context=CARD_CONTEXT),
        identity.mask_card_number(draft.card_number),
        cipher.encrypt(draft.phone, context=PHONE_CONTEXT) if draft.phone else None,
        identity.mask_phone(draft.phone) if draft.phone else None,
        cipher.pin_hash(draft.household_no, draft.pin) if draft.pin else None,
        draft.split_from,
    )
