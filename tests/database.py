"""Where the tests and benchmarks find PostgreSQL: DATABASE_URL, or an embedded server under .data/."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from service.core.settings import DATA_DIR


def server_url(embedded_folder: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from db.embedded import start_embedded

    return start_embedded(DATA_DIR / embedded_folder)


def with_database(url: str, name: str) -> str:
    """The same server, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
