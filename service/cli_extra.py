"""Commands added by later parts of the service (verify-ledger, distribute, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

COMMANDS: dict[str, tuple[Callable[[Any], None], Callable[[Any, Any], int]]] = {}


def register_commands(sub: Any) -> dict[str, Callable[[Any, Any], int]]:
    from service.distributions import cli as cli_distribute

    COMMANDS.setdefault("distribute", (cli_distribute.configure, cli_distribute.run))
    handlers = {}
    for name, (configure, handler) in COMMANDS.items():
        configure(sub.add_parser(name))
        handlers[name] = handler
    return handlers
