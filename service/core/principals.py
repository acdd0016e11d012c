"""Signed-in users and households, kept a few seconds so a read does not ask the database who is
asking on every request (登录身份缓存).

What keeps every refusal:
- An expired, forged or garbled token: the token is checked (signature and expiry) on every
  request before the cache is consulted; the cache is keyed by whom a valid token names.
- A disabled, deleted or changed user (role, region, ventures) and a household whose number or
  village changed: migration 0017 makes PostgreSQL notify `huinong_principals` with the id on
  commit; each serving process listens on a connection of its own and forgets that id when told.
  While that connection is down nothing is cached (every request reads the database again), and a
  principal read while a notification arrived is not kept (it may predate the change).
- A request that writes (anything but GET/HEAD) reads its principal fresh and forgets it after:
  what it changed of its own scope (an accountant's new venture) holds for its next request.
- An entry lives `seconds` at most (Settings.principal_cache_seconds), whatever happens.
Only principals found are kept: a refused one is asked for again each time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg

from service.core.credentials import TokenClaims
from service.core.principal import Principal

CHANNEL = "huinong_principals"
MAX_ENTRIES = 200_000  # a province's households; past it the cache starts again empty
RECONNECT_SECONDS = 1.0
log = logging.getLogger("huinong.principals")


class PrincipalCache:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.generation = 0  # notifications seen (and connection losses): a read spanning one is not kept
        self._entries: dict[tuple[str, str], tuple[float, Principal]] = {}
        self._listener: asyncpg.Connection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()

    async def principal(
        self, claims: TokenClaims, read: Callable[[], Awaitable[Principal | None]], *, fresh: bool = False
    ) -> Principal | None:
        """The principal a checked token names: from the cache, else `read()` from the database."""
        key = (claims.kind, claims.sub)
        if fresh or self.seconds <= 0 or not self.listening:
            self._entries.pop(key, None)
            return await read()
        now = self.clock()
        kept = self._entries.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        generation = self.generation
        principal = await read()
        if principal is not None and generation == self.generation and self.listening:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self.seconds, principal)
        return principal

    def cached(self, kind: str, subject: str) -> bool:
        kept = self._entries.get((kind, subject))
        return kept is not None and kept[0] > self.clock()

    def listener_pid(self) -> int | None:
        return self._listener.get_server_pid() if self._listener is not None else None

    def forget(self, subject: str) -> None:
        self.generation += 1
        for kind in ("user", "household"):
            self._entries.pop((kind, subject), None)
        self._changed.set()

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._changed.set()

    async def changed_since(self, generation: int, timeout: float = 10.0) -> None:
        """Wait until a notification (or a loss of the listener) came after `generation` (tests)."""
        async with asyncio.timeout(timeout):
            while self.generation == generation:
                self._changed.clear()
                await self._changed.wait()

    async def start(self, dsn: str) -> None:
        """Listen for changes, and keep listening: a lost connection is made again."""
        if self.seconds > 0:
            await self._connect(dsn)
            self._keeper = asyncio.create_task(self._keep(dsn))

    async def _connect(self, dsn: str) -> None:
        conn = await asyncpg.connect(dsn)
        await conn.add_listener(CHANNEL, lambda _conn, _pid, _channel, subject: self.forget(subject))
        conn.add_termination_listener(lambda _conn: self.forget_all())
        self._listener = conn

    async def _keep(self, dsn: str) -> None:
        while True:
            await asyncio.sleep(RECONNECT_SECONDS)
            if self.listening:
                continue
            self.forget_all()
            try:
                await self._connect(dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("principal cache: cannot listen for changes (%s); reading every request", exc)

    async def stop(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        self._listener = None
        self.forget_all()
