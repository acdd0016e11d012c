"""Where the database is: DATABASE_URL, or the embedded PostgreSQL under .data/."""

from __future__ import annotations

import asyncpg
import msgspec

from db.embedded import start_embedded
from db.pool import connect as connect_to
from service.core.settings import DATA_DIR, Settings


def with_database(settings: Settings) -> Settings:
    if settings.database_url:
        return settings
    return msgspec.structs.replace(settings, database_url=start_embedded(DATA_DIR / "pg"))


async def connect(settings: Settings) -> asyncpg.Connection:
    """One connection with the service's codecs, for the CLI and scripts (the app uses a pool)."""
    if not settings.database_url:
        raise RuntimeError("no database: settings.database_url is unset")
    return await connect_to(settings.database_url)
