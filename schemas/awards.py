"""Award programmes (脱贫奖, 小康奖), applications, reviews, grants, certificates; public notices (公示)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from schemas.common import BasisPoints, Fen, Id, RegionCode, RequestBody, Year

AwardKind = Literal["exit", "xiaokang"]
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
Reason = Annotated[str, msgspec.Meta(max_length=2000)]
RequiredReason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
NoticeDays = Annotated[int, msgspec.Meta(ge=1, le=90)]


class CostShares(RequestBody):
    province_bp: BasisPoints
    city_bp: BasisPoints
    county_bp: BasisPoints


class ProgramCreate(RequestBody):
    county_code: RegionCode
    kind: AwardKind
    year: Year
    amount_fen: Annotated[int, msgspec.Meta(gt=0, le=10**12)]
    budget_fen: Fen
    cost_shares: CostShares
    notice_days: NoticeDays = 7
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None


class LevelFigures(msgspec.Struct):
    """One level's part of a programme: its cost share, its share of the budget (the
    largest-remainder split of budget_fen by the cost shares), what it has committed, what is left."""

    share_bp: int
    budget_fen: int
    committed_fen: int
    remaining_fen: int


class ProgramOut(msgspec.Struct):
    id: str
    county_code: str
    kind: str
    year: int
    name: str
    amount_fen: int
    budget_fen: int
    committed_fen: int
    remaining_fen: int
    cost_shares: dict[str, int]
    by_level: dict[str, LevelFigures]
    notice_days: int
    opens_on: dt.date | None
    closes_on: dt.date | None
    counts: dict[str, int]


People = Annotated[int, msgspec.Meta(ge=1, le=99, description="people in the household (家庭人口)")]


class IncomeBreakdown(RequestBody):
    """The household's net income of the year as the national survey counts it (人均纯收入 =
    the sum of the four ÷ people)."""

    wage_fen: Fen  # 工资性收入
    business_net_fen: Fen  # 经营净收入
    property_net_fen: Fen  # 财产净收入
    transfer_net_fen: Fen  # 转移净收入
    people: People


class ApplicationCreate(RequestBody):
    """`income_breakdown` and `commitment_accepted: true` are required when the household applies
    itself; with a breakdown, `declared_income_fen` must be its sum ÷ people rounded half up."""

    household_id: Id
    declared_income_fen: Fen
    income_breakdown: IncomeBreakdown | None = None
    commitment_accepted: bool | None = None


class RecordedIncome(msgspec.Struct):
    """What the service recorded for the household in the programme's year, by part of the breakdown:
    dividends and guaranteed returns (财产性收入), purchase settlements and patronage refunds
    (生产经营性收入), awards (转移性收入)."""

    business_net_fen: int
    property_net_fen: int
    transfer_net_fen: int


class CommitmentOut(msgspec.Struct):
    title: str
    text: str
    accepted_at: dt.datetime


class PaymentOut(msgspec.Struct):
    payable_id: str
    amount_fen: int
    status: str  # unpaid | in_batch | paid | cancelled
    paid_on: dt.date | None
    failure_reason: str | None


class CheckOut(msgspec.Struct):
    name: str
    passed: bool
    detail: str  # for the reviewer
    effect: str = "reject"
    plain: str = ""  # the same in the household's words


class ReviewOut(msgspec.Struct):
    level: str
    decision: str
    reason: str
    reviewer: str
    at: dt.datetime


class ObjectionBrief(msgspec.Struct):
    id: str
    status: str
    reason: str
    filed_on: dt.date
    resolution_reason: str | None


class ApplicationOut(msgspec.Struct):
    id: str
    program_id: str
    household_id: str
    household_name: str
    village_code: str
    declared_income_fen: int
    status: str
    status_reason: str
    outcome: str
    checks: list[CheckOut]
    reviews: list[ReviewOut] = []
    objections: list[ObjectionBrief] = []
    notice_id: str | None = None
    certificate_serial: str | None = None
    created_at: dt.datetime | None = None
    program_kind: str = "exit"
    program_year: int = 0
    stage: str = ""  # village | township | notice | granted, or rejected | withdrawn
    filed_by_household: bool = False
    income_breakdown: IncomeBreakdown | None = None
    income_recorded: RecordedIncome | None = None
    commitment: CommitmentOut | None = None
    notice_starts_on: dt.date | None = None
    notice_ends_on: dt.date | None = None
    payment: PaymentOut | None = None
    household_no: str = ""  # 户号


class ApplicationBrief(msgspec.Struct):
    id: str
    status: str
    stage: str


class OpenProgramOut(msgspec.Struct):
    """A programme as the household sees it: open to it, or one it has applied to."""

    id: str
    kind: str
    year: int
    name: str
    amount_fen: int
    opens_on: dt.date | None
    closes_on: dt.date | None
    line_fen: int  # the per-person income line to reach (脱贫标准 or 小康标准)
    line_name: str
    people: int  # as the registry has it, to start the breakdown with
    recorded_income: RecordedIncome
    can_apply: bool
    application: ApplicationBrief | None = None


class ReviewCreate(RequestBody):
    level: Literal["village", "township"]
    decision: Literal["approve", "reject"]
    reason: Reason = ""


class DecisionCreate(RequestBody):
    release: bool
    reason: RequiredReason


class GrantRequest(RequestBody):
    application_ids: list[Id] | None = None


class GrantedAward(msgspec.Struct):
    application_id: str
    household_id: str
    serial: str
    amount_fen: int


class GrantOut(msgspec.Struct):
    program_id: str
    granted: int
    granted_fen: int
    over_budget: int
    held: int
    rejected: int
    committed_fen: int
    remaining_fen: int
    entry_id: str | None
    awards: list[GrantedAward]


class CrossCheckImportOut(msgspec.Struct):
    import_id: str
    county_code: str
    rows: int
    added: int
    already_listed: int
    by_source: dict[str, int]


class NoticeOut(msgspec.Struct):
    id: str
    county_code: str
    kind: str
    source_id: str
    title: str
    starts_on: dt.date
    ends_on: dt.date
    subjects: int


class NoticeSummary(NoticeOut):
    """A notice in a list (GET /notices): its state today and the objections still open on it."""

    state: str = "open"  # upcoming | open | ended
    open_objections: int = 0
    published_by: str = ""


class PublishOut(msgspec.Struct):
    notice: NoticeOut | None
    published: int


class VerifyOut(msgspec.Struct):
    """A certificate as anyone may check it: an unknown serial is a 404, so every answer is a real one."""

    serial: str
    holder: str
    village_name: str
    award: str
    kind: str
    year: int
    amount_fen: int
    county_code: str
    county_name: str
    granted_on: dt.date


class NoticeItem(msgspec.Struct):
    subject_id: str
    name: str
    id_number: str
    village_name: str
    amount_fen: int | None
    objection_open: bool
    objection_upheld: bool = False  # the township upheld an objection on it (异议成立)


class PublicNotice(msgspec.Struct):
    id: str
    kind: str
    title: str
    county_name: str
    starts_on: dt.date
    ends_on: dt.date
    state: Literal["upcoming", "open", "ended"]
    how_to_object: str
    objection_url: str
    items: list[NoticeItem]
    next_cursor: str | None = None
    subject_count: int = 0  # every subject of the notice (of the region, on a staff page), not the page's


class ObjectionCreate(RequestBody):
    subject_id: Id
    reason: RequiredReason


class ObjectionResolve(RequestBody):
    upheld: bool
    reason: RequiredReason


class ObjectionOut(msgspec.Struct):
    id: str
    notice_id: str
    subject_id: str
    status: str
    reason: str
    filed_on: dt.date
    resolution_reason: str | None = None
