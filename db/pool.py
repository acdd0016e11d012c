"""The asyncpg pool and its type codecs."""

from __future__ import annotations

import asyncpg
import msgspec

_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder()

_JSONB_VERSION = b"\x01"


def _encode_jsonb(value: object) -> bytes:
    return _JSONB_VERSION + _json_encoder.encode(value)


def _decode_jsonb(data: bytes) -> object:
    return _json_decoder.decode(data[1:])


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
    )
