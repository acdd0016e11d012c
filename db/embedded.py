"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is unset."""

from __future__ import annotations

from pathlib import Path


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) a PostgreSQL under data_dir and return a URL to it."""
    import pgserver  # imported here: only machines without DATABASE_URL need it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir), cleanup_mode=None)
    return server.get_uri()
