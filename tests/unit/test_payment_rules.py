"""The rules of payments (service/payments/rules.py): return-line matching, what a return file
settles and posts, the reconciliation differences, and the checks of building, approving and
correcting a card. No database: plain data in, plain data out."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.errors import Conflict, Forbidden, Invalid
from service.payments import rules
from service.payments.rules import BankFigures, BatchLine, ReturnLine

PAYABLE_ACCOUNT = uuid.UUID(int=1)
BANK_ACCOUNT = uuid.UUID(int=2)


def line(seq: int, amount: int = 30_000, status: str = "pending", last4: str = "1234") -> BatchLine:
    return BatchLine(
        seq=seq,
        payable_id=uuid.UUID(int=1000 + seq),
        household_id=uuid.UUID(int=5000 + seq),
        amount_fen=amount,
        status=status,
        card_last4=last4,
        payable_account_id=PAYABLE_ACCOUNT,
        paying_account_id=BANK_ACCOUNT,
    )


def ret(
    seq: int | None,
    amount: int = 30_000,
    ok: bool = True,
    payable_id: str | None = None,
    last4: str | None = None,
    reason: str = "",
) -> ReturnLine:
    return ReturnLine(seq, payable_id, last4, amount, ok, reason)


# ---- matching, by example -------------------------------------------------------------------------


def test_lines_match_by_seq_and_settle_by_outcome():
    lines = [line(1), line(2), line(3)]
    matches = rules.match_return_lines(lines, [ret(1), ret(2, ok=False, reason="户名不符"), ret(3, ok=False)])
    assert [(m.outcome, m.line.seq, m.reason) for m in matches] == [
        ("paid", 1, ""),
        ("failed", 2, "户名不符"),
        ("failed", 3, rules.NO_REASON),
    ]


def test_unknown_seq_wrong_amount_and_wrong_card_tail_are_unmatched():
    lines = [line(1), line(2, last4="0018")]
    matches = rules.match_return_lines(lines, [ret(99), ret(1, amount=30_001), ret(2, last4="1234")])
    assert [m.outcome for m in matches] == ["unmatched"] * 3
    assert all(m.line is None for m in matches)
    assert "批次中没有序号 99" in matches[0].reason
    assert matches[1].reason == "金额不符：回盘 300.01 元，批次 300.00 元"
    assert "后四位" in matches[2].reason


def test_a_line_repeated_in_the_file_is_settled_once():
    matches = rules.match_return_lines([line(1)], [ret(1), ret(1, ok=False)])
    assert [m.outcome for m in matches] == ["paid", "unmatched"]
    assert "重复出现" in matches[1].reason


def test_payable_id_alone_or_with_a_seq_that_must_agree():
    lines = [line(1), line(2)]
    pid = str(lines[1].payable_id)
    matches = rules.match_return_lines(
        lines,
        [
            ret(None, payable_id=pid.upper()),  # any spelling of the same uuid
            ret(1, payable_id=pid),  # 序号 1 is another payment
            ret(None, payable_id="not-a-uuid"),
            ret(None, payable_id=str(uuid.UUID(int=7))),
        ],
    )
    assert [m.outcome for m in matches] == ["paid", "unmatched", "unmatched", "unmatched"]
    assert matches[0].line == lines[1]
    assert "不是同一笔" in matches[1].reason
    assert "批次中没有流水号 not-a-uuid" in matches[2].reason


def test_lines_settled_by_an_earlier_file_stay_as_they_are():
    lines = [line(1, status="paid"), line(2, status="failed"), line(3, status="paid"), line(4, status="failed")]
    matches = rules.match_return_lines(lines, [ret(1), ret(2, ok=False), ret(3, ok=False), ret(4)])
    assert [m.outcome for m in matches] == ["already_paid", "already_failed", "already_paid", "already_failed"]
    assert [m.reason for m in matches[:2]] == ["", ""]
    assert "此前已成功入账" in matches[2].reason and "此前已退回待付" in matches[3].reason


def test_tally_and_payment_legs():
    lines = [line(1, 100), line(2, 200), line(3, 300, status="paid")]
    matches = rules.match_return_lines(lines, [ret(1, 100), ret(2, 200, ok=False), ret(3, 300), ret(9, 5)])
    t = rules.tally(matches)
    assert [p.seq for p in t.paid] == [1] and [m.line.seq for m in t.failed] == [2]
    assert (t.paid_fen, t.failed_fen, t.repeated) == (100, 200, 1)
    assert dict(t.counts) == {"paid": 1, "failed": 1, "unmatched": 1, "already_paid": 1, "already_failed": 0}
    legs = rules.payment_legs(t.paid)
    assert [(leg.account_id, leg.amount_fen, leg.party_id) for leg in legs] == [
        (PAYABLE_ACCOUNT, 100, lines[0].household_id),
        (BANK_ACCOUNT, -100, lines[0].household_id),
    ]
    assert rules.payment_legs([]) == []


# ---- matching, whatever the file holds ---------------------------------------------------------------


@st.composite
def batch_and_file(draw):
    n = draw(st.integers(0, 12))
    lines = [
        line(
            seq,
            amount=draw(st.sampled_from([100, 30_000, 30_001])),
            status=draw(st.sampled_from(["pending", "pending", "paid", "failed"])),
            last4=draw(st.sampled_from(["1234", "0018"])),
        )
        for seq in range(1, n + 1)
    ]
    ids = [str(x.payable_id) for x in lines] + [str(uuid.UUID(int=9)), "junk"]
    returned = draw(
        st.lists(
            st.builds(
                ReturnLine,
                seq=st.one_of(st.none(), st.integers(1, n + 2)),
                payable_id=st.one_of(st.none(), st.sampled_from(ids)),
                account_last4=st.sampled_from([None, "1234", "0018"]),
                amount_fen=st.sampled_from([100, 30_000, 30_001]),
                ok=st.booleans(),
                reason=st.sampled_from(["", "卡号已注销"]),
            ).filter(lambda r: r.seq is not None or r.payable_id is not None),
            max_size=30,
        )
    )
    return lines, returned


@settings(max_examples=500, deadline=None)
@given(batch_and_file())
def test_each_batch_line_is_settled_at_most_once_and_every_file_line_is_accounted_for(case):
    lines, returned = case
    matches = rules.match_return_lines(lines, returned)
    t = rules.tally(matches)

    # One answer per line of the file, in its order; the outcomes add up to the file.
    assert [m.returned for m in matches] == returned
    assert t.counts["paid"] + t.counts["failed"] + t.counts["unmatched"] + t.repeated == len(returned)
    # A batch line is named by at most one line of the file, so it is settled at most once.
    named = Counter(m.line.seq for m in matches if m.line is not None)
    assert all(count == 1 for count in named.values())
    assert len({p.seq for p in t.paid} | {m.line.seq for m in t.failed}) == len(t.paid) + len(t.failed)
    for m in matches:
        if m.line is None:
            assert m.outcome == "unmatched" and m.reason
            continue
        # Nothing guessed: the line is the one named, for the same amount and card.
        r, x = m.returned, m.line
        assert r.seq == x.seq if r.seq is not None else rules.canonical_id(r.payable_id) == str(x.payable_id)
        assert r.amount_fen == x.amount_fen
        assert r.account_last4 in (None, x.card_last4)
        # Only a pending line changes, and as the bank says.
        if x.status == "pending":
            assert m.outcome == ("paid" if r.ok else "failed")
        else:
            assert m.outcome == f"already_{x.status}"
    # What is paid and failed is exactly the lines settled, to the fen; the entry balances.
    assert t.paid_fen == sum(p.amount_fen for p in t.paid) and t.paid_fen >= 0
    assert t.failed_fen == sum(m.line.amount_fen for m in t.failed)
    legs = rules.payment_legs(t.paid)
    assert sum(leg.amount_fen for leg in legs) == 0 and len(legs) == 2 * len(t.paid)


# ---- reconciliation -------------------------------------------------------------------------------------


def test_reconciliation_balances_or_names_the_difference():
    even = BankFigures(sent_fen=150, paid_fen=90, failed_fen=30, pending_fen=30, payments_fen=90, ledger_fen=90)
    assert rules.differences(even) == rules.Differences(0, 0, True)
    lost = BankFigures(sent_fen=150, paid_fen=90, failed_fen=30, pending_fen=20, payments_fen=90, ledger_fen=80)
    assert rules.differences(lost) == rules.Differences(10, 10, False)
    unrecorded = BankFigures(sent_fen=90, paid_fen=90, failed_fen=0, pending_fen=0, payments_fen=60, ledger_fen=90)
    assert rules.differences(unrecorded) == rules.Differences(0, 0, False)


fen = st.integers(0, 10**12)


@given(paid=fen, failed=fen, pending=fen, extra=st.integers(-(10**6), 10**6))
def test_reconciliation_is_ok_exactly_when_everything_agrees(paid, failed, pending, extra):
    sent = paid + failed + pending
    agreeing = BankFigures(sent, paid, failed, pending, payments_fen=paid, ledger_fen=paid)
    assert rules.differences(agreeing).ok
    off = BankFigures(sent + extra, paid, failed, pending, payments_fen=paid, ledger_fen=paid - extra)
    d = rules.differences(off)
    assert (d.difference_fen, d.ledger_difference_fen) == (extra, extra)
    assert d.ok == (extra == 0)


def test_max_payable_is_what_a_batch_can_still_pay():
    assert rules.max_payable_fen(paid_fen=0, pending_fen=150_000) == 150_000  # a draft: its total
    assert rules.max_payable_fen(paid_fen=90_000, pending_fen=30_000) == 120_000  # a line failed
    assert rules.max_payable_fen(paid_fen=0, pending_fen=0) == 0  # cancelled


# ---- building, approving, exporting, importing ---------------------------------------------------------


def test_a_batch_is_a_list_or_filters_never_both():
    good = str(uuid.uuid4())
    assert rules.selection_problem([good], {}) is None
    assert rules.selection_problem(None, {"source": "award", "venture_id": good}) is None
    assert rules.selection_problem([good], {"source": "award"})[0] == "payable_ids"
    assert rules.selection_problem(None, {"program_id": "x"}) == ("program_id", "program_id 格式无效")
    assert rules.selection_problem([good, "x"], {}) == ("payable_ids", "应付款编号格式无效")
    with pytest.raises(Invalid) as caught:
        rules.check_selection([good], {"village_code": "621223100201"})
    assert caught.value.errors[0]["field"] == "payable_ids"


def test_recorded_selection_keeps_filters_and_the_count_of_ids():
    fields = {"county_code": "621223000000", "payable_ids": None, "source": "award", "village_code": None}
    assert rules.recorded_selection(fields, None) == {"source": "award", "village_code": None}
    assert rules.recorded_selection({**fields, "payable_ids": ["a", "b"]}, 2)["payable_count"] == 2


def test_maker_checker_and_states():
    rules.check_approval("draft", "maker", "checker")
    with pytest.raises(Forbidden):
        rules.check_approval("draft", "maker", "maker")
    with pytest.raises(Forbidden):  # the maker is refused before the state is looked at
        rules.check_approval("approved", "maker", "maker")
    with pytest.raises(Conflict) as caught:
        rules.check_approval("approved", "maker", "checker")
    assert caught.value.slug == "batch-not-draft"
    rules.check_cancellable("draft")
    with pytest.raises(Conflict):
        rules.check_cancellable("approved")
    rules.check_exportable("approved")
    for status in ("draft", "closed", "cancelled"):
        with pytest.raises(Conflict):
            rules.check_exportable(status)
    rules.check_importable("approved")
    rules.check_importable("closed")
    for status in ("draft", "cancelled"):
        with pytest.raises(Conflict):
            rules.check_importable(status)


def test_checked_card():
    card = rules.checked_card(" 甘肃农信 ", "6228 4804 0256 4890 018")
    assert card == rules.Card("甘肃农信", "6228480402564890018", "6228 **** **** 0018")
    with pytest.raises(Invalid) as caught:
        rules.checked_card("甘肃农信", "12")
    assert caught.value.errors[0]["field"] == "bank_account"
    with pytest.raises(Invalid) as caught:
        rules.checked_card("  ", "6228480402564890018")
    assert caught.value.errors[0]["field"] == "bank_name"
