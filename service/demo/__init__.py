"""The demo county (DESIGN.md, "The demo county"), built only through the use cases people call.

seed_demo loads the base (regions, households, poverty lines, staff), which the tests' template
database holds too; seed_demo_year works the year through on it (three ventures, the exit award,
the payment batches). load_demo, which `make run` and `python -m service seed-demo` call, does both.
"""

from __future__ import annotations

import time

import asyncpg

from service.awards.rules import serial_for
from service.core.crypto import DataCipher
from service.core.settings import Settings
from service.demo.base import is_seeded, seed_demo
from service.demo.people import COUNTY, DEMO_PASSWORD, DEMO_PIN, DEMO_USERS, demo_card_number, demo_id_number
from service.demo.year import seed_demo_year

__all__ = [
    "COUNTY",
    "DEMO_PASSWORD",
    "DEMO_PIN",
    "DEMO_USERS",
    "demo_card_number",
    "demo_id_number",
    "demo_logins_text",
    "is_seeded",
    "load_demo",
    "seed_demo",
    "seed_demo_year",
]


async def load_demo(conn: asyncpg.Connection, cipher: DataCipher, settings: Settings) -> float | None:
    """The whole demo, once: the seconds it took to load, or None when it was already there."""
    started = time.perf_counter()
    loaded = await seed_demo(conn, cipher)
    loaded = await seed_demo_year(conn, cipher, settings) or loaded
    return time.perf_counter() - started if loaded else None


def demo_logins_text(base_url: str) -> str:
    lines = [
        f"惠农 Huinong is serving at {base_url}  (API documentation: {base_url}/schema/swagger)",
        f"Staff logins (password '{DEMO_PASSWORD}'):",
    ]
    lines += [f"  {u:<10} {r}" + (f"  region {g}" if g else "") for u, r, g in DEMO_USERS]
    lines.append("  admin      admin  (password from HUINONG_ADMIN_PASSWORD, default 'admin-demo-2026' under make run)")
    lines.append(f"Household logins: household_no 621223100201-001 … 621223100201-097, PIN {DEMO_PIN}")
    lines.append("  also 621223100203-001 (凤凰谷 dividends), 621223100204-001 (帽帽鸡 refunds), same PIN")
    lines.append(f"Household pages: {base_url}/h/login   Staff console: {base_url}/console/")
    lines.append(f"A certificate to verify: {base_url}/p/verify/{serial_for('exit', COUNTY, 2025, 1)}")
    return "\n".join(lines)
