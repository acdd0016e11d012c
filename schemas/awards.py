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
    share_bp: int
    budget_fen: int
    committed_fen: int


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


class ApplicationCreate(RequestBody):
    household_id: Id
    declared_income_fen: Fen


class CheckOut(msgspec.Struct):
    name: str
    passed: bool
    detail: str
    effect: str = "reject"


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
