"""Eligibility for the exit award (脱贫奖) and the 小康 award, checked from facts, not trusted.

The caller gathers the facts (status events, declared income, the year's lines, earlier awards,
cross-check hits); this module only decides. Each check is reported, passed or not, with a
Chinese detail a reviewer can read. A failed check either rejects (``effect='reject'``) or holds
the application for a written decision (``effect='hold'``): a list hit or a household split is
never grounds to reject without a person looking at it.

Checks by kind:

- exit: registered_poor_at_year_start, exit_recorded, income_at_or_above_line (poverty line),
  no_earlier_exit_award, no_cross_check_hit (hold), split_after_registration (hold).
- xiaokang: income_at_or_above_line (小康 line), no_cross_check_hit (hold).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

from service.core.money import format_yuan

AwardKind = Literal["exit", "xiaokang"]
Outcome = Literal["eligible", "ineligible", "held"]
Effect = Literal["reject", "hold"]

_POOR_KINDS = frozenset({"registered", "returned"})
_STATUS_KINDS = frozenset({"registered", "exited", "returned", "xiaokang"})
_STATUS_WORDS = {"registered": "建档立卡", "exited": "脱贫", "returned": "返贫", "xiaokang": "小康"}
_SOURCE_WORDS = {"vehicle": "车辆登记", "business_registration": "工商登记", "public_payroll": "财政供养人员"}
_RELATION_WORDS = {"self": "本户", "split_from": "本户分出前的原户", "split_into": "从本户分出的户"}


class StatusEvent(NamedTuple):
    kind: str  # registered | exited | returned | xiaokang
    year: int
    effective_date: date


class EarlierAward(NamedTuple):
    """An exit award already granted to this household or to one related to it by a split."""

    household_id: str
    year: int
    relation: str  # self | split_from (it split from that one) | split_into (that one split from it)


class CrossCheckHit(NamedTuple):
    source: str  # vehicle | business_registration | public_payroll | ...
    detail: str


@dataclass(frozen=True)
class EligibilityFacts:
    kind: AwardKind
    year: int
    status_events: tuple[StatusEvent, ...]
    declared_income_fen: int  # per person per year
    poverty_line_fen: int
    xiaokang_line_fen: int
    earlier_exit_awards: tuple[EarlierAward, ...] = ()
    cross_check_hits: tuple[CrossCheckHit, ...] = ()
    split_after_registration: bool = False


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str
    effect: Effect = "reject"  # what a failure of this check does to the application


@dataclass(frozen=True)
class Eligibility:
    outcome: Outcome
    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.passed)


def _ordered(events: Iterable[StatusEvent]) -> list[StatusEvent]:
    # Events of the same day keep the caller's (recorded) order: the sort is stable.
    return sorted((StatusEvent(*event) for event in events), key=lambda e: e.effective_date)


def _status_on(events: list[StatusEvent], day: date) -> str | None:
    status = None
    for event in events:
        if event.effective_date > day:
            break
        status = event.kind
    return status


def _registered_at_year_start(events: list[StatusEvent], year: int) -> Check:
    start = date(year, 1, 1)
    status = _status_on(events, start)
    passed = status in _POOR_KINDS
    if status is None:
        detail = f"{year} 年 1 月 1 日前无建档立卡记录"
    else:
        detail = f"{year} 年 1 月 1 日状态为{_STATUS_WORDS[status]}" + ("" if passed else "，不是在册贫困户")
    return Check("registered_poor_at_year_start", passed, detail)


def _exit_recorded(events: list[StatusEvent], year: int) -> Check:
    exits = [event for event in events if event.kind == "exited" and event.year == year]
    if not exits:
        return Check("exit_recorded", False, f"无 {year} 年脱贫记录")
    exit_event = exits[-1]
    later = [e for e in events if e.effective_date >= exit_event.effective_date and e is not exit_event]
    if any(e.kind in _POOR_KINDS for e in later):
        return Check("exit_recorded", False, f"{year} 年脱贫（{exit_event.effective_date.isoformat()}）后又返贫")
    return Check("exit_recorded", True, f"{year} 年脱贫，生效日期 {exit_event.effective_date.isoformat()}")


def _income_check(facts: EligibilityFacts) -> Check:
    if facts.kind == "exit":
        line, line_name = facts.poverty_line_fen, "脱贫标准"
    else:
        line, line_name = facts.xiaokang_line_fen, "小康标准"
    passed = facts.declared_income_fen >= line
    relation = "达到" if passed else "低于"
    detail = (
        f"申报人均纯收入 {format_yuan(facts.declared_income_fen)} 元，{relation}"
        f" {facts.year} 年{line_name} {format_yuan(line)} 元"
    )
    return Check("income_at_or_above_line", passed, detail)


def _earlier_award_check(awards: tuple[EarlierAward, ...]) -> Check:
    if not awards:
        return Check("no_earlier_exit_award", True, "本户及分户关联户均未领取过脱贫奖")
    listed = "；".join(
        f"{_RELATION_WORDS.get(award.relation, award.relation)}（{award.household_id}）已于 {award.year} 年领取"
        for award in awards
    )
    return Check("no_earlier_exit_award", False, f"脱贫奖每户只发一次：{listed}")


def _cross_check(hits: tuple[CrossCheckHit, ...]) -> Check:
    if not hits:
        return Check("no_cross_check_hit", True, "车辆、工商登记、财政供养人员比对均无记录", effect="hold")
    listed = "；".join(f"{_SOURCE_WORDS.get(hit.source, hit.source)}：{hit.detail}" for hit in hits)
    return Check("no_cross_check_hit", False, f"比对发现记录，须书面核实后决定：{listed}", effect="hold")


def _split_check(split: bool) -> Check:
    if split:
        return Check("split_after_registration", False, "建档立卡后分户，须核实是否重复享受", effect="hold")
    return Check("split_after_registration", True, "建档立卡后未分户", effect="hold")


def check_eligibility(facts: EligibilityFacts) -> Eligibility:
    """Every check for the award kind, and the outcome they lead to.

    'ineligible' when a rejecting check fails; otherwise 'held' when a holding check fails;
    otherwise 'eligible'.
    """
    if facts.kind not in ("exit", "xiaokang"):
        raise ValueError(f"unknown award kind {facts.kind!r}")
    for event in facts.status_events:
        if StatusEvent(*event).kind not in _STATUS_KINDS:
            raise ValueError(f"unknown status event kind {event[0]!r}")
    if facts.declared_income_fen < 0:
        raise ValueError("declared income cannot be negative")
    events = _ordered(facts.status_events)

    if facts.kind == "exit":
        checks = (
            _registered_at_year_start(events, facts.year),
            _exit_recorded(events, facts.year),
            _income_check(facts),
            _earlier_award_check(tuple(EarlierAward(*a) for a in facts.earlier_exit_awards)),
            _cross_check(tuple(CrossCheckHit(*h) for h in facts.cross_check_hits)),
            _split_check(facts.split_after_registration),
        )
    else:
        checks = (
            _income_check(facts),
            _cross_check(tuple(CrossCheckHit(*h) for h in facts.cross_check_hits)),
        )

    failed = [check for check in checks if not check.passed]
    if any(check.effect == "reject" for check in failed):
        outcome: Outcome = "ineligible"
    elif failed:
        outcome = "held"
    else:
        outcome = "eligible"
    return Eligibility(outcome=outcome, checks=checks)
