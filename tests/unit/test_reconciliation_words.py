"""The reconciliation page names each difference in words, with the amount in yuan to the fen."""

from schemas.payments import Reconciliation
from service.payments.pages import differences_named


def reconciliation(**figures: int) -> Reconciliation:
    base = {
        "paid_count": 2,
        "paid_fen": 60_000,
        "failed_count": 1,
        "failed_fen": 30_000,
        "pending_count": 0,
        "pending_fen": 0,
        "sent_count": 3,
        "sent_fen": 90_000,
        "difference_fen": 0,
        "payments_fen": 60_000,
        "ledger_fen": 60_000,
        "ledger_difference_fen": 0,
    }
    return Reconciliation(county_code="621223000000", batch_id=None, ok=True, **(base | figures))


def test_an_agreeing_reconciliation_names_nothing():
    assert differences_named(reconciliation()) == []


def test_each_difference_is_named_with_its_amount():
    named = differences_named(
        reconciliation(difference_fen=1, ledger_fen=59_999, ledger_difference_fen=1, payments_fen=1_230_001)
    )
    assert named == [
        "发给银行 900.00 元，成功、失败、待回盘合计 900.00 元，相差 0.01 元",
        "银行回盘成功 600.00 元，账簿中的付款凭证 599.99 元，相差 0.01 元",
        "银行回盘成功 600.00 元，已付款记录 12,300.01 元，相差 11,700.01 元",
    ]
