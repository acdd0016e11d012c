"""Login, tokens and users."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.common import RegionCode, RequestBody

Role = Literal[
    "admin",
    "accountant",
    "village_reviewer",
    "township_approver",
    "finance_officer",
    "finance_approver",
    "auditor",
]


class TokenRequest(RequestBody):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class HouseholdTokenRequest(RequestBody):
    household_no: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    pin: Annotated[str, msgspec.Meta(min_length=4, max_length=12)]


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    role: str


class UserCreate(RequestBody):
    username: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{3,64}$")]
    password: Annotated[str, msgspec.Meta(min_length=10, max_length=256)]
    role: Role
    region_code: RegionCode | None = None
    venture_ids: list[str] = []


class UserOut(msgspec.Struct):
    id: str
    username: str
    role: str
    region_code: str | None
    venture_ids: list[str]
