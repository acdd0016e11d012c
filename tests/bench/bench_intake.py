"""The edge's intake (service/core/intake.py): what its checks cost per request.

Each check timed on its own, on bodies a clerk sends (a trade, a share movement, a 200-member
reallocation) and on the worst bodies the limits let through (1,000,000 bytes of brackets 64 deep,
of strings full of brackets, of a flat array), next to what Litestar spends decoding the same body
into its Struct anyway (msgspec decode and a lax convert). A GET without a query string runs one
dictionary look-up and a regex over the path: timed too.

`python -m tests.bench intake`
"""

from __future__ import annotations

import datetime as dt
import timeit

import msgspec

from schemas.ventures import ReallocationConfirm, ShareMovementCreate, TradeCreate
from service.core.clock import RECORDED_DATES
from service.core.intake import (
    LINE_CONTROL,
    MAX_DEPTH,
    decoded,
    depth_exceeds,
    refuse_control_characters,
    refuse_deep,
    refuse_future_dates,
)
from tests.bench.common import report

TODAY = dt.date(2026, 1, 10)
MEMBER = "3f2a7c1e-9d4b-4e2a-8c1f-0a1b2c3d4e5f"
BODIES = {
    "trade": (
        TradeCreate,
        msgspec.json.encode(
            {"member_id": MEMBER, "traded_on": "2025-06-01", "product": "鸡蛋", "quantity_g": 5000, "amount_fen": 6000}
        ),
    ),
    "share movement": (
        ShareMovementCreate,
        msgspec.json.encode(
            {
                "kind": "transfer",
                "share_class": "ordinary",
                "shares": 100,
                "capital_fen": 10_000,
                "effective_date": "2025-03-01",
                "from_member_id": MEMBER,
                "to_member_id": MEMBER,
                "reason": "转让给本社成员\n经理事会同意",
            }
        ),
    ),
    "reallocation, 200 members": (
        ReallocationConfirm,
        msgspec.json.encode({"items": [{"member_id": MEMBER, "shares": n + 1} for n in range(200)]}),
    ),
}
WORST = {
    "1 MB nested 64 deep": (b"[" * MAX_DEPTH + b"1," * 10 + b"]" * MAX_DEPTH + b",") * 7_000,
    "1 MB of strings of brackets": b'["' + b"[{" * 499_990 + b'"]',
    "1 MB flat array": b"[" + b"[1]," * 249_990 + b"[1]]",
}


def per_call_us(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def intake(kind, body: bytes) -> None:
    """What check_body does with a body, but for reading it off the request."""
    refuse_deep(body)
    value = decoded(body, kind)
    if b"\\" in body or b"\x7f" in body:
        refuse_control_characters(msgspec.json.decode(body))
    refuse_future_dates({f: getattr(value, f, None) for f in RECORDED_DATES & set(kind.__struct_fields__)}, TODAY)


def litestar_anyway(kind, body: bytes) -> None:
    msgspec.convert(msgspec.json.decode(body), kind, strict=False, str_keys=True)


def main() -> None:
    rows: list[tuple[str, str]] = []
    for name, (kind, body) in BODIES.items():
        ours = per_call_us(lambda kind=kind, body=body: intake(kind, body), 2_000)
        theirs = per_call_us(lambda kind=kind, body=body: litestar_anyway(kind, body), 2_000)
        rows.append((f"{name} ({len(body)} B)", f"intake {ours:.1f} µs, Litestar's own decode {theirs:.1f} µs"))
    for name, body in WORST.items():
        depth = per_call_us(lambda body=body: depth_exceeds(body), 5) / 1000
        rows.append((f"depth scan, {name}", f"{depth:.1f} ms"))
    path = "/ventures/3f2a7c1e-9d4b-4e2a-8c1f-0a1b2c3d4e5f/register"
    get = per_call_us(lambda: LINE_CONTROL.search(path), 100_000)
    rows.append(("GET without a query (path regex)", f"{get:.2f} µs"))
    report("Intake checks per request", rows)


if __name__ == "__main__":
    main()
