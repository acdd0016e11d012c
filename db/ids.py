"""Ids as they arrive from outside (paths, bodies, files): a uuid, or None when it is not one.

A malformed id is answered like an unknown one, so callers need no second error path.
"""

from __future__ import annotations

import uuid


def as_uuid(value: str | uuid.UUID | None) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
