"""Properties of a whole plan, from a venture's facts to the books, for companies and cooperatives
and each floor mode: every fen of the profit is accounted for (assert_conserved), no line is
negative, the journal entry balances, and the payables are exactly the households' lines.

The register is built from a seed (as in test_distribution_rules.py): hypothesis draws a few
integers rather than lists of objects, which keeps many examples fast while the registers stay
varied; a failing case prints its seed, and the same seed rebuilds the same register.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.distributions.rules import (
    CarriedState,
    Charter,
    Member,
    VentureFacts,
    account_keys,
    assert_conserved,
    compute_plan,
    holders_for,
    payables_for,
    posting_for,
)
from service.ledger.rules import checked_lines
from service.ventures.rules import ShareMovement

YEAR = 2025
MODELS = ("branch_company", "enterprise", "cooperative")
MODES = ("none", "fixed", "preferred", "minimum")


def _register(seed: int, model: str, charter: Charter, carried_seed: int) -> VentureFacts:
    """A venture with a collective, households with ordinary shares, and poverty shares allocated
    out of the collective's, some of them during the year; cooperatives also get member accounts
    and the year's trades (some members trade nothing)."""
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(rng.randint(1, 10))]
    collective, households = ids[0], ids[1:]
    members = {collective: Member(collective, None, "村集体", "collective")}
    for n, mid in enumerate(households):
        members[mid] = Member(mid, str(uuid.UUID(int=rng.getrandbits(128))), f"农户{n}", "household")
    start = dt.date(YEAR - 1, 12, 1)
    movements = [ShareMovement("subscribe", None, collective, "ordinary", 10_000, rng.randint(0, 10**8), start)]
    for mid in households:
        on = rng.choice((start, dt.date(YEAR, rng.randint(1, 12), rng.randint(1, 28))))
        if rng.random() < 0.6:
            shares = rng.randint(1, 5_000)
            movements.append(ShareMovement("subscribe", None, mid, "ordinary", shares, rng.randint(0, 10**7), on))
        if rng.random() < 0.5:
            movements.append(ShareMovement("allocate", collective, mid, "poverty", rng.randint(1, 500), None, on))
    movements.sort(key=lambda m: m.effective_date)
    accounts, volumes = {}, {}
    if model == "cooperative":
        for mid in ids:
            accounts[mid] = (rng.randint(0, 10**7), rng.choice((0, rng.randint(0, 10**6))), rng.randint(0, 10**5))
            if rng.random() < 0.7:
                volumes[mid] = rng.choice((rng.randint(1, 100), rng.randint(1, 10**8)))
    crng = random.Random(carried_seed)
    carried = CarriedState(
        losses_carried_fen=crng.choice((0, crng.randint(0, 10**7))),
        statutory_reserve_balance_fen=crng.randint(0, 10**8),
        arrears_by_member={m: crng.randint(1, 10**5) for m in crng.sample(ids, crng.randint(0, min(3, len(ids))))},
    )
    return VentureFacts(
        venture_id=str(uuid.UUID(int=rng.getrandbits(128))),
        county_code="621223000000",
        village_code="621223100201",
        model=model,
        registered_capital_fen=rng.choice((0, rng.randint(0, 10**9))),
        record_date_mmdd=rng.choice(("12-31", "06-30", "02-29")),
        charter=charter,
        members=members,
        movements=movements,
        member_accounts=accounts,
        volumes=volumes,
        carried=carried,
    )


def _charters(floor_mode: str, model: str) -> st.SearchStrategy[Charter]:
    return st.builds(
        Charter,
        weighting=st.sampled_from(("record_date", "share_days")),
        reserve_bp=st.integers(1_000 if model != "cooperative" else 0, 3_000),
        discretionary_bp=st.integers(0, 3_000) if model != "cooperative" else st.just(0),
        patronage_bp=st.integers(6_000, 10_000),
        floor_mode=st.just(floor_mode),
        floor_bp=st.just(0) if floor_mode == "none" else st.integers(1, 1_500),
        poverty_participates=st.just(True) if floor_mode == "none" else st.booleans(),
    )


def _accounts() -> dict[str, uuid.UUID]:
    return {
        key: uuid.uuid5(uuid.NAMESPACE_OID, key) for key in set(account_keys("cooperative")) | set(account_keys(""))
    }


@pytest.mark.parametrize("floor_mode", MODES)
@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    seed=st.integers(0, 2**32),
    carried_seed=st.integers(0, 2**32),
    profit=st.one_of(st.integers(-(10**7), -1), st.integers(0, 10**6), st.integers(0, 10**9)),
)
def test_a_plan_accounts_for_every_fen_and_posts_balanced(model, floor_mode, data, seed, carried_seed, profit):
    charter = data.draw(_charters(floor_mode, model))
    facts = _register(seed, model, charter, carried_seed)
    plan = compute_plan(facts, YEAR, profit)

    assert_conserved(plan, profit)
    assert all(line.amount_fen > 0 for line in plan.lines)  # none negative, and no line of nothing
    assert {line.member_id for line in plan.lines} <= set(facts.members)
    if plan.loss_added_fen:
        assert plan.distributable_fen == 0 and plan.patronage_fen == 0
    if floor_mode == "none":
        assert plan.floor_paid_fen == plan.floor_expense_fen == 0
        assert not any(line.basis == "floor" for line in plan.lines)
    if model == "cooperative":
        assert plan.patronage_fen * 10_000 >= 6_000 * plan.distributable_fen
        assert plan.statutory_reserve_fen == plan.discretionary_reserve_fen == 0
    else:
        assert plan.reserve_fen == plan.patronage_fen == 0 and not plan.reserve_quantified

    distribution_id = uuid.UUID(int=seed)
    accounts = _accounts()
    entry, payable_lines = posting_for(distribution_id, facts, YEAR, profit, plan, accounts, dt.date(YEAR + 1, 2, 1))
    if sum(1 for line in entry.lines if line.amount_fen) >= 2:
        checked_lines(entry)  # raises unless the entry balances
    assert sum(line.amount_fen for line in entry.lines) == 0
    payables = payables_for(distribution_id, facts, uuid.uuid4(), payable_lines, accounts["bank"], {})
    household_lines = [line for line in plan.lines if line.household_id]
    assert sum(p.amount_fen for p in payables) == sum(line.amount_fen for line in household_lines)
    assert sorted(p.source_ref for p in payables) == sorted(f"{ln.member_id}:{ln.basis}" for ln in household_lines)


@pytest.mark.parametrize("floor_mode", MODES)
@settings(max_examples=100, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_holders_are_the_register_and_floors_sit_only_on_poverty_shares(floor_mode, data, seed):
    charter = data.draw(_charters(floor_mode, "branch_company"))
    facts = _register(seed, "branch_company", charter, 0)
    holders = holders_for(facts, YEAR)
    assert len({(h.member_id, h.share_class) for h in holders}) == len(holders)
    assert all(h.weight > 0 and h.shares >= 0 and h.floor_base_fen >= 0 for h in holders)
    assert all(h.floor_base_fen == 0 for h in holders if h.share_class == "ordinary" or floor_mode == "none")
    # Shares are conserved at the year's end: allocations move the collective's, never create any.
    issued = sum(m.shares for m in facts.movements if m.kind == "subscribe")
    assert sum(h.shares for h in holders) <= issued
