"""Splitting an amount of fen over weights by the largest-remainder method (最大余额法).

Each holder first gets floor(amount × weight / Σweight); the fen still left over go one each to
the holders with the largest fractional remainders, ties broken by the holder key in ascending
order. Consequences every caller relies on:

- the parts sum exactly to the amount (no fen created or lost);
- each part is within one fen of its exact quota amount × weight / Σweight;
- a larger weight never gets less than a smaller one (equal floors mean the larger weight has the
  larger remainder, so it is served first);
- a zero weight gets zero, because fewer fen are left over than there are non-zero remainders.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def allocate(amount_fen: int, weights: Sequence[tuple[K, int]]) -> dict[K, int]:
    """Split amount_fen over (key, weight) pairs; returns key -> fen.

    Keys are holder ids (str); any mutually comparable hashable key works, which lets callers key
    by (member_id, share_class). Raises ValueError on a negative amount or weight, a repeated key,
    or a zero total weight (there is no fair split of an amount over nothing, and silently keeping
    the amount would hide the mistake).
    """
    if amount_fen < 0:
        raise ValueError(f"cannot allocate a negative amount: {amount_fen}")
    total = 0
    seen: set[K] = set()
    for key, weight in weights:
        if weight < 0:
            raise ValueError(f"negative weight {weight} for {key!r}")
        if key in seen:
            raise ValueError(f"holder {key!r} appears twice")
        seen.add(key)
        total += weight
    if total == 0:
        raise ValueError("cannot allocate over a zero total weight")

    parts: dict[K, int] = {}
    remainders: list[tuple[int, K]] = []
    handed_out = 0
    for key, weight in weights:
        part, remainder = divmod(amount_fen * weight, total)
        parts[key] = part
        handed_out += part
        if remainder:
            remainders.append((remainder, key))

    leftover = amount_fen - handed_out
    if leftover:
        # Larger remainder first, then the smaller key: negating the remainder lets one ascending
        # sort express both orders.
        remainders.sort(key=lambda item: (-item[0], item[1]))
        for _, key in remainders[:leftover]:
            parts[key] += 1
    return parts
