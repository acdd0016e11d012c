"""How one feature reacts to another's events without either importing the other.

Notices (公示) do not know what an objection means to the award or the distribution it holds, and
the registry does not know that poverty shares follow a household's status. Each owning feature
offers plain functions; service/app.py wires them into one Hooks value at start, and the API, the
pages, the CLI and the demo all pass that same value to the workflows that fire events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Conn = Any  # an asyncpg connection; typed loosely so this module imports no driver


@dataclass(frozen=True)
class ObjectionHooks:
    """What an objection does to the subject of one notice kind; both run in the caller's transaction."""

    filed: Callable[[Conn, Any, Any], Awaitable[None]]
    resolved: Callable[[Conn, Any, Any, bool, str], Awaitable[None]]


StatusListener = Callable[[Conn, Any, Any, str, dt.date], Awaitable[None]]


@dataclass(frozen=True)
class Hooks:
    objections: Mapping[str, ObjectionHooks] = field(default_factory=dict)
    status_listeners: Sequence[StatusListener] = ()
