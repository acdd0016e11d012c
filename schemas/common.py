"""Shared wire types: request base, pagination, small constrained types."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, TypeVar

import msgspec

T = TypeVar("T")

RegionCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{12}$", description="12-digit statistical code")]
Fen = Annotated[int, msgspec.Meta(ge=0, le=10**15, description="money in fen (分)")]
SignedFen = Annotated[int, msgspec.Meta(ge=-(10**15), le=10**15, description="money in fen, may be negative")]
BasisPoints = Annotated[int, msgspec.Meta(ge=0, le=10000, description="rate in basis points, 10000 = 100%")]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class RequestBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Every request body refuses fields it does not know: a typo must not pass silently."""


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class Created(msgspec.Struct):
    created: int


class FieldError(msgspec.Struct, omit_defaults=True):
    field: str
    message: str
    row: int | None = None


class Today(RequestBody):
    today: dt.date
