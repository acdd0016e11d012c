"""Regions as the console names them: a village by its name rather than its 12-digit code."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from service.core.errors import DomainError
from service.registry.workflow import get_region


async def region_names(conn: asyncpg.Connection, codes: Iterable[str]) -> dict[str, str]:
    """The name of each region (its code where the registry has none)."""
    names = {}
    for code in sorted(set(codes)):
        try:
            names[code] = (await get_region(conn, code)).name
        except DomainError:
            names[code] = code
    return names
