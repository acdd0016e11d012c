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

Around eligibility, the other rules of a programme, each on plain values: what an eligibility
outcome and a review do to an application's status, which candidates a grant run awards (first
applied first, within the remaining budget, one per split family), how one award splits over the
province/city/county cost shares, certificate serials, and the names of the cross-check lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple

from service.core.allocation import allocate
from service.core.errors import field_error
from service.core.money import format_yuan

AwardKind = Literal["exit", "xiaokang"]
Outcome = Literal["eligible", "ineligible", "held"]
Effect = Literal["reject", "hold"]

_POOR_KINDS = frozenset({"registered", "returned"})
_STATUS_KINDS = frozenset({"registered", "exited", "returned", "xiaokang"})
_STATUS_WORDS = {"registered": "建档立卡", "exited": "脱贫", "returned": "返贫", "xiaokang": "小康"}
_RELATION_WORDS = {"self": "本户", "split_from": "本户分出前的原户", "split_into": "从本户分出的户"}


# The cross-check lists (比对名单) and the words a clerk may use for each in an import file.
SOURCE_WORDS = {"vehicle": "车辆登记", "business_registration": "工商登记", "public_payroll": "财政供养人员"}
SOURCE_ALIASES = {
    "vehicle": "vehicle",
    "business": "business_registration",
    "business_registration": "business_registration",
    "payroll": "public_payroll",
    "public_payroll": "public_payroll",
}


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
    listed = "；".join(f"{SOURCE_WORDS.get(hit.source, hit.source)}：{hit.detail}" for hit in hits)
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

    checks: tuple[Check, ...]
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


# ---- applications: the status an outcome or a review leads to ------------------------------------

ApplicationStatus = Literal[
    "held",
    "rejected",
    "pending_village",
    "pending_township",
    "approved",
    "in_notice",
    "objected",
    "over_budget",
    "granted",
]
ReviewLevel = Literal["village", "township"]

KIND_WORDS = {"exit": "脱贫奖", "xiaokang": "小康奖"}
LEVEL_WORDS = {"village": "村级", "township": "乡镇"}
# An application moves on only from the status its stage expects.
REVIEW_FROM: dict[str, ApplicationStatus] = {"village": "pending_village", "township": "pending_township"}
REVIEW_TO: dict[str, ApplicationStatus] = {"village": "pending_township", "township": "approved"}
REVIEWER_ROLE = {"village": "village_reviewer", "township": "township_approver"}
REVIEWER_WORDS = {"village": "村级审核人", "township": "乡镇审批人"}


def status_for(result: Eligibility) -> tuple[ApplicationStatus, str]:
    """The status (and its reason) an application starts in, from its eligibility."""
    if result.outcome == "eligible":
        return "pending_village", ""
    if result.outcome == "ineligible":
        return "rejected", "未通过资格审查：" + "；".join(c.detail for c in result.failed if c.effect == "reject")
    return "held", "须乡镇书面核实决定：" + "；".join(c.detail for c in result.failed)


def review_outcome(level: str, decision: str, reason: str) -> tuple[ApplicationStatus, str]:
    """Where a village or township review moves an application, and the reason it records."""
    if decision == "reject":
        return "rejected", f"{LEVEL_WORDS[level]}审核不通过：{reason}"
    return REVIEW_TO[level], ""


def held_decision(release: bool, reason: str) -> tuple[ApplicationStatus, str]:
    """The township's written decision on a held application: go on to the village, or not at all."""
    if release:
        return "pending_village", f"乡镇书面决定继续办理：{reason}"
    return "rejected", f"乡镇书面决定不予奖励：{reason}"


def outside_window(today: date, opens_on: date | None, closes_on: date | None) -> bool:
    """Whether a programme takes no applications today (either end may be open)."""
    return bool((opens_on and today < opens_on) or (closes_on and today > closes_on))


# ---- programmes -------------------------------------------------------------------------------

LEVELS = ("province", "city", "county")


def program_problems(
    *,
    kind: str,
    shares: Mapping[str, int],
    notice_days: int,
    opens_on: date | None,
    closes_on: date | None,
    exit_notice_days: int,
) -> list[dict[str, Any]]:
    """What is wrong with a new programme, field by field (empty when nothing is)."""
    errors = []
    if sum(shares[level] for level in LEVELS) != 10000:
        errors.append(field_error("cost_shares", "省、市、县分担比例合计应为 10000（100%）"))
    least = exit_notice_days if kind == "exit" else 1
    if notice_days < least:
        errors.append(field_error("notice_days", f"脱贫奖公示期不得少于{least}天"))
    if opens_on and closes_on and opens_on > closes_on:
        errors.append(field_error("closes_on", "申请截止日期不得早于开始日期"))
    return errors


def level_split(amount_fen: int, shares: Mapping[str, int]) -> dict[str, int]:
    """An amount split over the province/city/county cost shares (basis points) by largest remainder.

    The parts sum exactly to the amount; ties of remainder go to the level named first in
    alphabetical order (city, county, province), as service.core.allocation breaks them.
    """
    return allocate(amount_fen, [(level, shares[level]) for level in LEVELS])


# ---- certificates -----------------------------------------------------------------------------

SERIAL_PREFIX = {"exit": "TP", "xiaokang": "XK"}


def serial_for(kind: str, county_code: str, year: int, number: int) -> str:
    """A certificate's serial: TP-621223-2025-000001 (kind, county, year, number in the programme)."""
    return f"{SERIAL_PREFIX[kind]}-{county_code[:6]}-{year}-{number:06d}"


def county_of_serial(serial: str) -> str | None:
    """The county a serial was issued in (its awards live there), or None when it is not a serial."""
    parts = serial.split("-")
    if len(parts) != 4 or parts[0] not in SERIAL_PREFIX.values() or not (len(parts[1]) == 6 and parts[1].isdigit()):
        return None
    return parts[1] + "000000"


# ---- cross-check lists ------------------------------------------------------------------------


def source_of(word: str) -> str | None:
    """The list a file's `source` cell names (vehicle, business, payroll or the full name), or None."""
    return SOURCE_ALIASES.get(word.strip().lower())


def listed_hit(source: str, imported_on: date) -> CrossCheckHit:
    """A household head found on a list, as the reviewer reads it."""
    return CrossCheckHit(source, f"户主身份证号在{SOURCE_WORDS[source]}名单中（{imported_on:%Y-%m-%d} 导入）")


# ---- grants -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantCandidate:
    """An application whose notice ended with no open objection, with what the grant must know."""

    application_id: uuid.UUID
    household_id: uuid.UUID
    split_from: uuid.UUID | None = None  # the household it split (分户) from
    new_hit: bool = False  # found on a cross-check list imported after its eligibility was checked
    earlier_award: bool = False  # an exit award already went to it or to its split family


@dataclass(frozen=True)
class GrantSelection:
    granted: tuple[GrantCandidate, ...]
    held: tuple[GrantCandidate, ...]  # a new list hit: back to the township for a written decision
    rejected: tuple[GrantCandidate, ...]  # one exit award per household and split family
    over_budget: tuple[GrantCandidate, ...]
    left_fen: int  # what the budget still holds once the granted are paid for


def select_grants(
    candidates: Sequence[GrantCandidate], *, amount_fen: int, remaining_fen: int, one_per_family: bool
) -> GrantSelection:
    """Which candidates a grant run awards, in the order given (first applied first).

    A candidate with a new list hit is held. For the exit award (`one_per_family`), one with an
    earlier exit award in its split family is rejected, and so is one whose parent or child (分户)
    is ahead of it in this run and not itself held or rejected (granted, or over budget). Then as
    many of the rest as the remaining budget pays for are granted, in order, and the others are
    over budget: never more than `remaining_fen` committed.
    """
    if amount_fen <= 0 or remaining_fen < 0:
        raise ValueError("an award is a positive amount and the remaining budget is not negative")
    held = tuple(c for c in candidates if c.new_hit)
    rest = [c for c in candidates if not c.new_hit]
    rejected: list[GrantCandidate] = []
    if one_per_family:
        rest, rejected = _one_per_family(rest)
    fits = min(len(rest), remaining_fen // amount_fen)
    return GrantSelection(
        granted=tuple(rest[:fits]),
        held=held,
        rejected=tuple(rejected),
        over_budget=tuple(rest[fits:]),
        left_fen=remaining_fen - fits * amount_fen,
    )


def _one_per_family(candidates: Sequence[GrantCandidate]) -> tuple[list[GrantCandidate], list[GrantCandidate]]:
    children: dict[uuid.UUID, set[uuid.UUID]] = {}
    for c in candidates:
        if c.split_from is not None:
            children.setdefault(c.split_from, set()).add(c.household_id)
    kept: list[GrantCandidate] = []
    rejected: list[GrantCandidate] = []
    ahead: set[uuid.UUID] = set()
    for c in candidates:
        related = c.split_from in ahead or not ahead.isdisjoint(children.get(c.household_id, ()))
        if c.earlier_award or related:
            rejected.append(c)
        else:
            kept.append(c)
            ahead.add(c.household_id)
    return kept, rejected
