"""Where the database is: DATABASE_URL, or the embedded PostgreSQL under .data/."""

from __future__ import annotations

import msgspec

from db.embedded import start_embedded
from service.core.settings import DATA_DIR, Settings


def with_database(settings: Settings) -> Settings:
    if settings.database_url:
        return settings
    return msgspec.structs.replace(settings, database_url=start_embedded(DATA_DIR / "pg"))
