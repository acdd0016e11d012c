"""Eligibility for the exit award (脱贫奖) and the 小康 award, checked from facts, not trusted.

The caller gathers the facts (status events, declared income, the year's lines, earlier awards,
cross-check hits); this module only decides. Each check is reported, passed or not, with a
Chinese detail a reviewer can read and the same in the household's own words. A failed check either rejects (``effect='reject'``) or holds
the application for a written decision (``effect='hold'``): a list hit or a household split is
never grounds to reject without a person looking at it.

Checks by kind:

- exit: registered_poor_at_year_start, exit_recorded, income_at_or_above_line (poverty line),
  no_earlier_exit_award, no_cross_check_hit (hold), split_after_registration (hold).
- xiaokang: income_at_or_above_line (小康 line), no_cross_check_hit (hold).

Around eligibility, the other rules of a programme, each on plain values: what an eligibility
outcome and a review do to an application's status, which candidates a grant run awards (first
applied first, within the remaining budget, one per split family), how each award splits over the
province/city/county cost shares so that no level passes its share of the budget, certificate
serials, the names of the cross-check lists, and what a household applying for itself gives: its
income breakdown (人均纯收入), the commitment, the stage it then follows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple, Protocol

from service.core.allocation import allocate
from service.core.errors import field_error
from service.core.money import BP_WHOLE, format_yuan, round_half_up_div

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
    detail: str  # for the reviewer
    effect: Effect = "reject"  # what a failure of this check does to the application
    plain: str = ""  # the same in the household's words (您家……), shown on its phone


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


def _event_on(events: list[StatusEvent], day: date) -> StatusEvent | None:
    """The event that set the household's status on `day` (None before its first event)."""
    found = None
    for event in events:
        if event.effective_date > day:
            break
        found = event
    return found


def _registered_at_year_start(events: list[StatusEvent], year: int) -> Check:
    start = date(year, 1, 1)
    event = _event_on(events, start)
    status = event.kind if event else None
    passed = status in _POOR_KINDS
    if event is None:
        detail = f"{year} 年 1 月 1 日前无建档立卡记录"
        plain = f"{year} 年以前没有您家登记为贫困户的记录"
    else:
        detail = f"{year} 年 1 月 1 日状态为{_STATUS_WORDS[event.kind]}" + ("" if passed else "，不是在册贫困户")
        if event.kind == "registered":
            plain = f"您家是 {event.year} 年登记的贫困户"
        elif event.kind == "returned":
            plain = f"您家 {event.year} 年返贫，重新登记为贫困户"
        else:
            plain = f"{year} 年初您家已是{_STATUS_WORDS[event.kind]}户，不是在册贫困户"
    return Check("registered_poor_at_year_start", passed, detail, plain=plain)


def _exit_recorded(events: list[StatusEvent], year: int) -> Check:
    exits = [event for event in events if event.kind == "exited" and event.year == year]
    if not exits:
        return Check("exit_recorded", False, f"无 {year} 年脱贫记录", plain=f"村里还没有登记您家 {year} 年脱贫")
    exit_event = exits[-1]
    on = exit_event.effective_date
    later = [e for e in events if e.effective_date >= on and e is not exit_event]
    if any(e.kind in _POOR_KINDS for e in later):
        return Check(
            "exit_recorded",
            False,
            f"{year} 年脱贫（{on.isoformat()}）后又返贫",
            plain=f"您家 {year} 年脱贫后又返贫了",
        )
    return Check(
        "exit_recorded",
        True,
        f"{year} 年脱贫，生效日期 {on.isoformat()}",
        plain=f"您家 {on.year} 年 {on.month} 月 {on.day} 日登记脱贫",
    )


def income_line(kind: str, poverty_line_fen: int, xiaokang_line_fen: int) -> tuple[int, str]:
    """The per-person income line an award's applicant must reach, and its name."""
    if kind == "exit":
        return poverty_line_fen, "脱贫标准"
    return xiaokang_line_fen, "小康标准"


def _income_check(facts: EligibilityFacts) -> Check:
    line, line_name = income_line(facts.kind, facts.poverty_line_fen, facts.xiaokang_line_fen)
    passed = facts.declared_income_fen >= line
    relation = "达到" if passed else "低于"
    declared, standard = format_yuan(facts.declared_income_fen), format_yuan(line)
    detail = f"申报人均纯收入 {declared} 元，{relation} {facts.year} 年{line_name} {standard} 元"
    plain = (
        f"您家人均纯收入 {format_yuan(facts.declared_income_fen, thousands=True)} 元，{relation}"
        f" {facts.year} 年{line_name} {format_yuan(line, thousands=True)} 元"
    )
    return Check("income_at_or_above_line", passed, detail, plain=plain)


def _earlier_award_check(awards: tuple[EarlierAward, ...]) -> Check:
    if not awards:
        return Check("no_earlier_exit_award", True, "本户及分户关联户均未领取过脱贫奖", plain="您家没有领过脱贫奖")
    listed = "；".join(
        f"{_RELATION_WORDS.get(award.relation, award.relation)}（{award.household_id}）已于 {award.year} 年领取"
        for award in awards
    )
    plain = "脱贫奖每户只发一次，您家（或分户前后的同一家）已经领过"
    return Check("no_earlier_exit_award", False, f"脱贫奖每户只发一次：{listed}", plain=plain)


def _cross_check(hits: tuple[CrossCheckHit, ...]) -> Check:
    if not hits:
        return Check(
            "no_cross_check_hit",
            True,
            "车辆、工商登记、财政供养人员比对均无记录",
            effect="hold",
            plain="车辆、工商登记、财政供养人员比对都没有问题",
        )
    listed = "；".join(f"{SOURCE_WORDS.get(hit.source, hit.source)}：{hit.detail}" for hit in hits)
    names = "、".join(dict.fromkeys(SOURCE_WORDS.get(hit.source, hit.source) for hit in hits))
    return Check(
        "no_cross_check_hit",
        False,
        f"比对发现记录，须书面核实后决定：{listed}",
        effect="hold",
        plain=f"{names}名单里有户主的记录，要由乡镇核实后决定",
    )


def _split_check(split: bool) -> Check:
    if split:
        return Check(
            "split_after_registration",
            False,
            "建档立卡后分户，须核实是否重复享受",
            effect="hold",
            plain="您家是登记贫困户以后分出来的户，要由乡镇核实",
        )
    return Check("split_after_registration", True, "建档立卡后未分户", effect="hold", plain="登记以后没有分户")


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
    "withdrawn",
]
ReviewLevel = Literal["village", "township"]

KIND_WORDS = {"exit": "脱贫奖", "xiaokang": "小康奖"}
LEVEL_WORDS = {"village": "村级", "township": "乡镇"}
# An application moves on only from the status its stage expects.
REVIEW_FROM: dict[str, ApplicationStatus] = {"village": "pending_village", "township": "pending_township"}
REVIEW_TO: dict[str, ApplicationStatus] = {"village": "pending_township", "township": "approved"}
REVIEWER_ROLE = {"village": "village_reviewer", "township": "township_approver"}
REVIEWER_WORDS = {"village": "村级审核人", "township": "乡镇审批人"}


# How a recorded reason begins, by what set it (the household's page retells the first two).
INELIGIBLE = "未通过资格审查："
HELD_FOR_TOWNSHIP = "须乡镇书面核实决定："


def status_for(result: Eligibility) -> tuple[ApplicationStatus, str]:
    """The status (and its reason) an application starts in, from its eligibility."""
    if result.outcome == "eligible":
        return "pending_village", ""
    if result.outcome == "ineligible":
        return "rejected", INELIGIBLE + "；".join(c.detail for c in result.failed if c.effect == "reject")
    return "held", HELD_FOR_TOWNSHIP + "；".join(c.detail for c in result.failed)


class ShownCheck(Protocol):
    passed: bool
    detail: str
    effect: str
    plain: str


def household_reason(status_reason: str, checks: Sequence[ShownCheck], reviews_say_it: bool) -> str:
    """The recorded reason as the household reads it. One built from the eligibility checks is the
    reviewers' (it may name a related household by its id): it is told again from the checks' own
    plain sentences. One a review gave is left to the reviews the page lists (`reviews_say_it`),
    not said twice."""
    failed = [c for c in checks if not c.passed]
    if status_reason.startswith(INELIGIBLE):
        return "没有通过资格审查：" + "；".join(c.plain or c.detail for c in failed if c.effect == "reject")
    if status_reason.startswith(HELD_FOR_TOWNSHIP):
        return "要由乡镇先核实：" + "；".join(c.plain or c.detail for c in failed)
    return "" if reviews_say_it else status_reason


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


# ---- a household applies for itself (自愿申请) -------------------------------------------------------

# Before the village has reviewed it, the household may take its application back.
WITHDRAWABLE: tuple[ApplicationStatus, ...] = ("pending_village", "held")
LIVE_EXCLUDED = ("rejected", "withdrawn")  # statuses that leave a household free to apply again

# The steps a household follows on its phone: 待村审核 → 待乡镇审核 → 公示中 → 发放奖金. The last
# is done only once the bank has paid: a granted award is a payable the batch has still to pay.
STEPS = (("village", "待村审核"), ("township", "待乡镇审核"), ("notice", "公示中"), ("granted", "发放奖金"))
_STEP_OF_STATUS = {
    "held": "village",
    "pending_village": "village",
    "pending_township": "township",
    "approved": "notice",
    "in_notice": "notice",
    "objected": "notice",
    "over_budget": "granted",
    "granted": "granted",
}
_STATUS_PLAIN = {
    "held": "要由乡镇先核实",
    "pending_village": "待村审核",
    "pending_township": "村里审核通过，待乡镇审核",
    "approved": "乡镇审核通过，等待公示",
    "in_notice": "公示中",
    "objected": "公示中，有人提出异议，乡镇正在核实",
    "over_budget": "公示已结束，这批奖励的钱已用完，等追加预算后发放",
    "granted": "奖励已批准，等待银行发放奖金",
    "rejected": "没有通过",
    "withdrawn": "您已撤回申请",
}


def stage_of(status: str) -> str:
    """Which of STEPS an application is at, or 'rejected' / 'withdrawn' once it left them."""
    return _STEP_OF_STATUS.get(status, status)


# A granted award by its payment's status (the payable's): told paid only once the bank paid it.
_GRANTED_PLAIN = {
    "in_batch": "奖励已批准，奖金正在通过银行发放",
    "paid": "已发放，奖金已打到户主的银行卡上",
    "cancelled": "奖励已批准，这笔奖金的发放已撤销，请向乡镇询问",
}


def status_words(
    status: str, notice_ends_on: date | None, today: date, payment_status: str | None = None, failed: bool = False
) -> str:
    """Where an application stands, in the household's words; a granted one by its payment (the
    payable's status, and whether an attempt to pay it failed)."""
    if status == "in_notice" and notice_ends_on is not None and notice_ends_on < today:
        return "公示已结束，等待发放"
    if status == "granted" and payment_status in _GRANTED_PLAIN:
        return _GRANTED_PLAIN[payment_status]
    if status == "granted" and failed:
        return "奖励已批准，上次发放没有成功，将重新发放"
    return _STATUS_PLAIN[status]


def award_paid(status: str, payment_status: str | None) -> bool:
    """Whether the last step (发放奖金) is done: granted, and the bank has paid it."""
    return status == "granted" and payment_status == "paid"


COMMITMENT_TITLE = {"exit": "脱贫承诺", "xiaokang": "诚信承诺"}
COMMITMENT_TEXT = "我承诺：上面填写的家庭收入和人口都是真实的。如果不真实，政府可以收回奖励和证书，我家愿意退回奖金。"


@dataclass(frozen=True)
class IncomeBreakdown:
    """A household's net income of the year as the national household survey counts it:
    人均纯收入 = (工资性收入 + 经营净收入 + 财产净收入 + 转移净收入) ÷ 家庭人口."""

    wage_fen: int  # 工资性收入
    business_net_fen: int  # 经营净收入
    property_net_fen: int  # 财产净收入
    transfer_net_fen: int  # 转移净收入
    people: int

    @property
    def total_fen(self) -> int:
        return self.wage_fen + self.business_net_fen + self.property_net_fen + self.transfer_net_fen


INCOME_FIELDS = (
    ("wage_fen", "工资性收入"),
    ("business_net_fen", "经营净收入"),
    ("property_net_fen", "财产净收入"),
    ("transfer_net_fen", "转移净收入"),
)
# What the service records for a household, by the income kind of its statement, and the part of
# the breakdown each kind belongs to: dividends and guaranteed returns are property income,
# purchase settlements and patronage refunds business income, awards transfer income.
RECORDED_KIND_FIELDS = {
    "生产经营性收入": "business_net_fen",
    "财产性收入": "property_net_fen",
    "转移性收入": "transfer_net_fen",
}


def per_capita_income(breakdown: IncomeBreakdown) -> int:
    """人均纯收入 in fen: the breakdown's sum ÷ people, rounded half up to the fen."""
    if breakdown.people < 1:
        raise ValueError("a household has at least one person")
    return round_half_up_div(breakdown.total_fen, breakdown.people)


def recorded_income(totals_by_kind: Mapping[str, int]) -> dict[str, int]:
    """The parts of the breakdown the service already knows, from a statement's totals by income kind."""
    return {field: totals_by_kind.get(kind, 0) for kind, field in RECORDED_KIND_FIELDS.items()}


def application_problems(
    *,
    declared_income_fen: int,
    breakdown: IncomeBreakdown | None,
    by_household: bool,
    commitment_accepted: bool | None,
) -> list[dict[str, Any]]:
    """What is wrong with an application's income and commitment, field by field.

    A household applying for itself gives its income breakdown and accepts the commitment; a
    clerk applying for it may give the breakdown. Whenever a breakdown is given, the declared
    per-person income must be the breakdown's per-person figure to the fen.
    """
    errors = []
    if by_household and breakdown is None:
        errors.append(field_error("income_breakdown", "请填写家庭收入明细：四类收入和家庭人口"))
    if by_household and commitment_accepted is not True:
        errors.append(field_error("commitment_accepted", "请阅读并同意承诺后再提交"))
    if breakdown is not None:
        expected = per_capita_income(breakdown)
        if declared_income_fen != expected:
            errors.append(
                field_error(
                    "declared_income_fen",
                    f"人均纯收入应为 {format_yuan(expected)} 元（合计 {format_yuan(breakdown.total_fen)} 元"
                    f" ÷ {breakdown.people} 人，四舍五入到分），与申报的 {format_yuan(declared_income_fen)} 元不符",
                )
            )
    return errors


def may_apply(
    kind: str,
    year: int,
    events: Iterable[StatusEvent],
    *,
    today: date,
    opens_on: date | None,
    closes_on: date | None,
    had_exit_award: bool,
) -> bool:
    """Whether a programme is open to a household today: within its window, and for the exit
    award a household registered poor at the start of the year whose exit that year is recorded
    and that has had no exit award."""
    if outside_window(today, opens_on, closes_on):
        return False
    if kind != "exit":
        return True
    ordered = _ordered(events)
    return (
        not had_exit_award and _registered_at_year_start(ordered, year).passed and _exit_recorded(ordered, year).passed
    )


_YUAN = re.compile(r"([0-9]{1,10})(?:\.([0-9]{0,2}))?")


def yuan_to_fen(text: str) -> int | None:
    """An amount a person typed in yuan ("1234", "1,234.5", "1234.56元") as fen; None when it is
    not one. ASCII digits only, at most two decimals, never through a float; empty is zero."""
    cleaned = text.strip().removesuffix("元").strip().replace(",", "").replace("，", "")
    if not cleaned:
        return 0
    match = _YUAN.fullmatch(cleaned)
    if match is None:
        return None
    cents = (match.group(2) or "").ljust(2, "0")
    return int(match.group(1)) * 100 + int(cents)


_PEOPLE = re.compile(r"[0-9]{1,2}")


def income_form(values: Mapping[str, str]) -> tuple[IncomeBreakdown | None, dict[str, str]]:
    """The breakdown a household typed on its phone: the four incomes in yuan (form fields named
    as the breakdown's without `_fen`) and the people; a message per bad field, or none."""
    errors: dict[str, str] = {}
    parts: dict[str, int] = {}
    for field, name in INCOME_FIELDS:
        fen = yuan_to_fen(values.get(field.removesuffix("_fen"), ""))
        if fen is None:
            errors[field] = f"{name}请只写数字，例如 1200 或 1200.50（元）"
        else:
            parts[field] = fen
    people = values.get("people", "").strip()
    if not _PEOPLE.fullmatch(people) or int(people) < 1:
        errors["people"] = "家庭人口请写 1 到 99 之间的数字"
    if errors:
        return None, errors
    return IncomeBreakdown(**parts, people=int(people)), {}


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
    alphabetical order (city, county, province), as service.core.allocation breaks them. A
    programme's budget by level is this split of its `budget_fen` (DESIGN.md, Awards).
    """
    return allocate(amount_fen, [(level, shares[level]) for level in LEVELS])


def award_split(
    amount_fen: int, shares: Mapping[str, int], budgets: Mapping[str, int], committed: Mapping[str, int]
) -> dict[str, int]:
    """How one award is paid by the province, the city and the county, so that no level ever
    commits more than its share of the budget (分级承担).

    Splitting every award the same way cannot hold the levels' shares: 100-fen awards at
    3333/3333/3334 bp are each 33/33/34, and after 100 of them the county has paid 3,400 fen of a
    3,334-fen share. So each award is split against what the levels have committed so far:

    1. each level first pays floor(amount × bp / 10000), but never more than the room its share
       still has (its budget less what it has committed);
    2. the fen left over (at most two, unless a level's room ran out) go one each to the levels
       that still have room, the level furthest behind its exact share of everything committed
       once this award is counted going first (ties: city, county, province, as
       service.core.allocation breaks them); should more fen be left than levels with room, they
       are spread evenly over those levels, each up to its room.

    So each level's committed amount stays within a fen of its exact share of the running total
    (tests/unit/test_award_budgets.py holds it over any sequence of grants), each part is within a
    fen of its exact quota while every level has room, and no part ever passes a level's room. An award that fits the total budget always fits the levels, because the
    levels' rooms sum to what the budget has left; when the whole budget is committed, each level
    has committed exactly its share. Raises ValueError when the award does not fit or a level has
    already passed its share (the database refuses both as well).
    """
    room = {level: budgets[level] - committed[level] for level in LEVELS}
    if amount_fen < 0 or any(r < 0 for r in room.values()):
        raise ValueError("an award is not negative and no level may already have passed its share")
    if sum(room.values()) < amount_fen:
        raise ValueError(f"an award of {amount_fen} fen does not fit what the budget has left")
    parts = {level: min(amount_fen * shares[level] // BP_WHOLE, room[level]) for level in LEVELS}
    left = amount_fen - sum(parts.values())
    total_after = sum(committed.values()) + amount_fen

    def behind(level: str) -> int:
        # The level's exact share of the total committed after this award, less what it would
        # have committed, times 10000 (so it stays an integer).
        return total_after * shares[level] - BP_WHOLE * (committed[level] + parts[level])

    while left:
        open_levels = sorted((lv for lv in LEVELS if parts[lv] < room[lv]), key=lambda lv: (-behind(lv), lv))
        if left < len(open_levels):
            for level in open_levels[:left]:
                parts[level] += 1
            break
        each = left // len(open_levels)
        for level in open_levels:
            give = min(each, room[level] - parts[level])
            parts[level] += give
            left -= give
    return parts


def split_awards(
    count: int, amount_fen: int, shares: Mapping[str, int], budgets: Mapping[str, int], committed: Mapping[str, int]
) -> list[dict[str, int]]:
    """The split of each of `count` awards granted one after the other (award_split, in turn)."""
    running = dict(committed)
    splits = []
    for _ in range(count):
        part = award_split(amount_fen, shares, budgets, running)
        for level in LEVELS:
            running[level] += part[level]
        splits.append(part)
    return splits


# ---- certificates -----------------------------------------------------------------------------

SERIAL_PREFIX = {"exit": "TP", "xiaokang": "XK"}


def serial_for(kind: str, county_code: str, year: int, number: int) -> str:
    """A certificate's serial: TP-621223-2025-000001 (kind, county, year, number in the county).

    Numbers run per county, kind and year, across programmes: two exit-award programmes of one
    county and year never hand out the same serial.
    """
    return f"{SERIAL_PREFIX[kind]}-{county_code[:6]}-{year}-{number:06d}"


# ASCII digits only: str.isdigit (and \d) also take "²" or "１", which int() refuses or misreads.
_SERIAL = re.compile(r"(TP|XK)-([0-9]{6})-([0-9]{4})-([0-9]{6,12})")


def county_of_serial(serial: str) -> str | None:
    """The county a serial was issued in (its awards live there), or None when it is not a serial."""
    match = _SERIAL.fullmatch(serial)
    return match.group(2) + "000000" if match else None


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
