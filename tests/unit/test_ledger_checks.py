"""verify-ledger's catalogue and how a check reads (service/ledger/workflow.py), without a database."""

import asyncio

from service.ledger.workflow import INVARIANTS, LIMIT, Invariant, check


def test_the_invariants_verify_ledger_reports_in_order():
    assert [i.name for i in INVARIANTS] == [
        "entries_balance",
        "lines_have_a_header",
        "ledger_sums_to_zero",
        "balances_equal_lines",
        "reversed_at_most_once",
        "payables_paid_once",
        "member_capital_equals_register",
        "member_subsidies_equal_receipts",
    ]


def test_a_check_says_what_holds_or_names_the_failing_rows():
    asked = []

    def invariant(rows):
        async def failures(conn, limit, county_code=None):
            asked.append(limit)
            return rows

        paid_once = next(i for i in INVARIANTS if i.name == "payables_paid_once")
        return Invariant("payables_paid_once", failures, "每笔应付款至多支付一次", paid_once.describe)

    ok = asyncio.run(check(None, invariant([])))
    assert (ok.name, ok.ok, ok.detail) == ("payables_paid_once", True, "每笔应付款至多支付一次")
    rows = [{"id": "p1", "status": "paid", "payments": 0}, {"id": "p2", "status": "unpaid", "payments": 2}]
    failed = asyncio.run(check(None, invariant(rows)))
    assert not failed.ok
    assert failed.detail == "payable p1 is paid with 0 payments; payable p2 is unpaid with 2 payments"
    assert asked == [LIMIT, LIMIT]
