"""Paying the county's households through the bank (代发): a finance officer builds the batch, the
finance approver (another person) approves it, the bank file goes to the rural credit union, and
its return file (回盘) is imported. In February 2026 one line comes back failed because the
household's card number in the registry was wrong; the village corrects the card (改卡) and the
payable goes out again in a batch of its own."""

from __future__ import annotations

import datetime as dt
import random

import asyncpg

from schemas.payments import BankAccountPut, BatchCreate, ReturnResult
from service.core.crypto import DataCipher
from service.demo.actors import staff
from service.demo.lookups import households_of
from service.demo.people import BANK, COUNTY, NANYANGOU, demo_card_number, household_no
from service.payments import workflow as payments

WRONG_CARD = household_no(NANYANGOU, 30)  # paid its exit award only, to a card number one digit off
WRONG_CARD_REASON = "户名与账号不符"
SPRING_2025 = dt.date(2025, 2, 12)  # the 2024 dividends
SPRING_2026 = dt.date(2026, 2, 12)  # everything of 2025
REISSUED_ON = dt.date(2026, 2, 16)


def bank_answer(bank_file: bytes, failing: set[int], reason: str) -> bytes:
    """What the bank sends back for a pipe bank file: each line with 成功 or 失败 and its reason."""
    out = []
    for line in bank_file.decode("gb18030").splitlines():
        if not line or line.startswith(("HEAD|", "TAIL|")):
            continue
        failed = int(line.split("|")[0]) in failing
        out.append(line + ("失败|" + reason + "|" if failed else "成功||"))
    return ("\r\n".join(out) + "\r\n").encode("gb18030")


async def pay(
    conn: asyncpg.Connection,
    cipher: DataCipher,
    selection: BatchCreate,
    returned_on: dt.date,
    failing_household: str | None = None,
) -> ReturnResult:
    """One batch from building to the bank's return file."""
    caizheng, caizheng2 = await staff(conn, "caizheng"), await staff(conn, "caizheng2")
    batch = await payments.build_batch(conn, caizheng.actor, caizheng.principal, selection)
    await payments.approve_batch(conn, caizheng2.actor, caizheng2.principal, batch.id)
    file = await payments.export_bank_file(conn, caizheng.actor, caizheng.principal, cipher, batch.id, "pipe")
    failing: set[int] = set()
    cursor = None
    while failing_household:
        page = await payments.get_batch(conn, caizheng.principal, batch.id, limit=500, cursor=cursor)
        failing |= {line.seq for line in page.lines if line.household_id == failing_household}
        if not (cursor := page.next_cursor):
            break
    answer = bank_answer(file.content, failing, WRONG_CARD_REASON)
    upload = await payments.prepare_return(conn, caizheng.principal, batch.id, answer, f"回盘-{returned_on}.txt")
    return await payments.import_return(conn, caizheng.actor, caizheng.principal, upload, today=returned_on)


async def pay_2024_dividends(conn: asyncpg.Connection, cipher: DataCipher) -> ReturnResult:
    return await pay(conn, cipher, BatchCreate(county_code=COUNTY), SPRING_2025)


async def pay_2025(conn: asyncpg.Connection, cipher: DataCipher) -> tuple[ReturnResult, ReturnResult]:
    """Every unpaid payable of 2025 in one batch, one line failing on a wrong card; the card
    corrected by the village and the payable re-issued in a new batch."""
    wrong = (await households_of(conn, NANYANGOU))[WRONG_CARD]
    first = await pay(conn, cipher, BatchCreate(county_code=COUNTY), SPRING_2026, wrong.id)
    failed = [line.payable_id for line in first.lines if line.outcome == "failed" and line.payable_id]
    cunwei = await staff(conn, "cunwei")
    card = BankAccountPut(bank_name=BANK, bank_account=demo_card_number(random.Random(2026)))
    await payments.correct_card(conn, cunwei.actor, cunwei.principal, cipher, wrong.id, card)
    again = await pay(conn, cipher, BatchCreate(county_code=COUNTY, payable_ids=failed), REISSUED_ON)
    return first, again
