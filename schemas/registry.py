"""Regions, households, status events, poverty lines."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from schemas.common import Fen, RegionCode, RequestBody, Year

RegionLevel = Literal["province", "city", "county", "township", "village"]
HouseholdStatus = Literal["not_registered", "poor", "exited", "xiaokang"]
StatusEventKind = Literal["registered", "exited", "returned", "xiaokang"]


class RegionPut(RequestBody):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    level: RegionLevel
    parent_code: RegionCode | None = None


class RegionOut(msgspec.Struct):
    code: str
    name: str
    level: str
    parent_code: str | None
    county_code: str | None


class HouseholdCreate(RequestBody):
    household_no: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9-]{4,40}$")]
    village_code: RegionCode
    head_name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    head_id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
    members: Annotated[int, msgspec.Meta(ge=1, le=30)]
    bank_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    bank_account: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    phone: Annotated[str, msgspec.Meta(pattern=r"^[0-9+\- ]{5,20}$")] | None = None
    pin: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None
    split_from: str | None = None


class HouseholdOut(msgspec.Struct):
    id: str
    household_no: str
    county_code: str
    village_code: str
    head_name: str
    head_id_number: str
    members: int
    bank_name: str
    bank_account: str
    phone: str | None
    status: HouseholdStatus
    split_from: str | None
    created_at: dt.datetime


class StatusEventCreate(RequestBody):
    kind: StatusEventKind
    year: Year
    effective_date: dt.date


class StatusEventOut(msgspec.Struct):
    id: str
    household_id: str
    kind: str
    year: int
    effective_date: dt.date
    status: HouseholdStatus


class PovertyLinePut(RequestBody):
    poverty_line_fen: Annotated[int, msgspec.Meta(gt=0, le=10**9)]
    xiaokang_line_fen: Annotated[int, msgspec.Meta(gt=0, le=10**9)]


class PovertyLineOut(msgspec.Struct):
    year: int
    poverty_line_fen: Fen
    xiaokang_line_fen: Fen
