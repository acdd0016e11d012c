"""Settings, read once from the environment (README lists every variable)."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import msgspec

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DATA_DIR = PROJECT_ROOT / ".data"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: bytes
    data_key: bytes
    admin_password: str | None = None
    test_clock: bool = False
    public_base_url: str = "http://127.0.0.1:8000"
    token_ttl_seconds: int = 8 * 3600
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 50_000_000
    # How the service is served (README, "Sizing"): processes, database connections each, logging.
    server: str = "granian"  # or "uvicorn"
    workers: int = 1
    pool_min_size: int = 2
    pool_max_size: int = 10
    # Requests a granian worker handles at once (the rest wait in the socket): two a pooled connection.
    backpressure: int = 20
    log_level: str = "info"
    # How long a signed-in user or household read from the database is reused (service/core/principals.py).
    principal_cache_seconds: float = 5.0
    # 公示 periods in days (DESIGN.md, Notice periods): the least each notice may run.
    notice_days_cooperative_plan: int = 15
    notice_days_fund: int = 10
    notice_days_exit_award: int = 7


def _local_key(name: str) -> bytes:
    """A key kept under .data/ for a developer machine, so `make run` needs no setup.

    Production sets the variable; this only exists so a fresh checkout works.
    """
    path = DATA_DIR / f"{name}.key"
    if path.exists():
        return base64.urlsafe_b64decode(path.read_text().strip())
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    path.write_text(base64.urlsafe_b64encode(key).decode())
    path.chmod(0o600)
    return key


def _decode_key(value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:
        raise ValueError("key must be urlsafe base64 of 32 bytes") from exc
    if len(key) != 32:
        raise ValueError("key must be urlsafe base64 of exactly 32 bytes")
    return key


def default_workers() -> int:
    """One serving process per core, at most four: PostgreSQL wants the rest of the machine."""
    return max(1, min(4, os.cpu_count() or 1))


SERVERS = ("granian", "uvicorn")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    if env.get("HUINONG_SERVER", "granian") not in SERVERS:
        raise ValueError(f"HUINONG_SERVER must be one of {', '.join(SERVERS)}")
    secret = env.get("HUINONG_SECRET_KEY")
    data = env.get("HUINONG_DATA_KEY")
    port = int(env.get("PORT", "8000"))
    host = env.get("HOST", "127.0.0.1")
    return Settings(
        database_url=env.get("DATABASE_URL") or None,
        host=host,
        port=port,
        secret_key=_decode_key(secret) if secret else _local_key("secret"),
        data_key=_decode_key(data) if data else _local_key("data"),
        admin_password=env.get("HUINONG_ADMIN_PASSWORD") or None,
        test_clock=env.get("HUINONG_TEST_CLOCK") == "1",
        server=env.get("HUINONG_SERVER", "granian"),
        # The test clock lives in the serving process: one process, so every request sees it moved.
        workers=1 if env.get("HUINONG_TEST_CLOCK") == "1" else int(env.get("HUINONG_WORKERS") or default_workers()),
        pool_max_size=int(env.get("HUINONG_POOL_SIZE", "10")),
        pool_min_size=min(2, int(env.get("HUINONG_POOL_SIZE", "10"))),
        backpressure=int(env.get("HUINONG_BACKPRESSURE") or 2 * int(env.get("HUINONG_POOL_SIZE", "10"))),
        log_level=env.get("HUINONG_LOG_LEVEL", "info").lower(),
        principal_cache_seconds=float(env.get("HUINONG_AUTH_CACHE_SECONDS", "5")),
        public_base_url=env.get("HUINONG_PUBLIC_URL", f"http://{host}:{port}"),
        notice_days_cooperative_plan=int(env.get("HUINONG_NOTICE_DAYS_COOPERATIVE_PLAN", "15")),
        notice_days_fund=int(env.get("HUINONG_NOTICE_DAYS_FUND", "10")),
        notice_days_exit_award=int(env.get("HUINONG_NOTICE_DAYS_EXIT_AWARD", "7")),
    )
