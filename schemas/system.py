"""Health, the test clock and the audit log."""

from __future__ import annotations

import datetime as dt

import msgspec


class Health(msgspec.Struct):
    status: str
    database: str
    today: dt.date


class Liveness(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    """Ready: the database answers and holds every migration this code knows (none pending)."""

    status: str
    database: str
    migrations: str
    pending: list[int]


class ClockOut(msgspec.Struct):
    today: dt.date
    movable: bool


class AuditEntry(msgspec.Struct):
    county_code: str
    seq: int
    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before_digest: str | None
    after_digest: str | None
    detail: dict | None
    address: str | None
    hash: str
