"""The asyncpg pool and its type codecs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import asyncpg.transaction
import msgspec

_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder()

_JSONB_VERSION = b"\x01"


def _encode_jsonb(value: object) -> bytes:
    return _JSONB_VERSION + _json_encoder.encode(value)


def _decode_jsonb(data: bytes) -> object:
    return _json_decoder.decode(data[1:])


class _Transaction(asyncpg.transaction.Transaction):
    """asyncpg's transaction, which runs its connection's pending seals just before COMMIT."""

    __slots__ = ()

    def _top_level(self) -> bool:
        return not self._nested  # type: ignore[attr-defined]

    def _owner(self) -> Connection:
        owner: Connection = self._connection  # type: ignore[attr-defined]
        return owner

    async def start(self) -> None:
        await super().start()
        if self._top_level():
            self._owner().seals.clear()

    async def __aexit__(self, extype, ex, tb):  # type: ignore[no-untyped-def]
        if extype is None and self._top_level():
            try:
                await self._owner().run_seals()
            except BaseException as error:
                await super().__aexit__(type(error), error, error.__traceback__)
                raise
        await super().__aexit__(extype, ex, tb)

    async def commit(self) -> None:
        if self._top_level() and not self._managed:  # type: ignore[attr-defined]
            await self._owner().run_seals()
        await super().commit()


Seal = Callable[[asyncpg.Connection], Awaitable[None]]


class Connection(asyncpg.Connection):
    """The service's connection: asyncpg's, plus seals, statements a transaction owes the database
    just before it commits (the audit chain's head, docs/scale-out.md "The audit head"), queued by
    key while the transaction writes. What a deferred constraint trigger did on one server, done by
    the committing code, so it also runs on a Citus cluster."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seals: dict[str, Seal] = {}

    def transaction(self, *, isolation: Any = None, readonly: bool = False, deferrable: bool = False) -> _Transaction:
        self._check_open()  # type: ignore[attr-defined]
        return _Transaction(self, isolation, readonly, deferrable)

    def seals_at_commit(self) -> bool:
        """Whether a seal queued now runs at this transaction's commit: inside a transaction this
        connection opened with transaction() (not in autocommit, not after a hand-written BEGIN)."""
        return self._top_xact is not None  # type: ignore[attr-defined]

    async def run_seals(self) -> None:
        pending, self.seals = self.seals, {}
        for seal in pending.values():
            await seal(self)


def queue_seal(conn: asyncpg.Connection, key: str, seal: Seal) -> bool:
    """Queue `seal` (once per key) for just before the transaction `conn` is in commits. False when
    it cannot be (a plain asyncpg connection, or not in a transaction of its own): the caller runs
    it at once instead. A pooled connection is a proxy of the service's class."""
    seals_at_commit = getattr(conn, "seals_at_commit", None)
    if seals_at_commit is None or not seals_at_commit():
        return False
    pending: dict[str, Seal] = conn.seals  # type: ignore[attr-defined]
    pending.setdefault(key, seal)
    return True


async def connect(dsn: str, **kwargs: Any) -> Connection:
    """One connection of the service's class, with its codecs (the CLI, scripts and tests)."""
    conn: Connection = await asyncpg.connect(dsn, connection_class=Connection, **kwargs)
    await init_connection(conn)
    return conn


async def init_connection(conn: asyncpg.Connection) -> None:
    # Binary format: COPY ... (FORMAT binary) needs binary codecs, a text jsonb codec breaks it.
    await conn.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog", format="binary"
    )
    await conn.execute("SET TIME ZONE 'Asia/Shanghai'")


# The session's time zone as a startup parameter too: a connection's defaults, which no RESET undoes.
SERVER_SETTINGS = {"timezone": "Asia/Shanghai"}


async def keep_session(conn: asyncpg.Connection) -> None:
    """What a connection needs on its way back to the pool, beyond asyncpg's own rollback of an
    open transaction: nothing. The default reset (advisory unlock, CLOSE ALL, UNLISTEN *, RESET
    ALL) costs a round trip on every request, and the service leaves no session state behind:
    its advisory locks are transaction-scoped, its cursors live inside transactions, it LISTENs on
    a connection of its own (service/core/principals.py), and it SETs nothing after init."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=keep_session,
        command_timeout=600,
        server_settings=SERVER_SETTINGS,
        connection_class=Connection,
    )
