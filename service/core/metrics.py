"""The counters /metrics renders for Prometheus and the access log's line (issue 13); the
middleware that feeds them is service/core/telemetry.py.

The access line says who asked (the user's id, never its name), in what role and county, which
route (its template, `/households/{household_id}`, never the path or the query, which may carry
a name being searched for) answered what and how fast. It carries no ID, card or phone number, no
name, PIN or token, because nothing it is made of can hold one.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterable

import msgspec

# Upper bounds (seconds) of the latency histogram's buckets; +Inf is implied.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


class AccessLine(msgspec.Struct):
    """One request, as the JSON line the access log writes."""

    request_id: str
    method: str
    route: str
    status: int
    duration_ms: float
    user: str | None
    role: str | None
    county: str | None


class _Latency:
    __slots__ = ("count", "total", "buckets")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * len(BUCKETS)


class Metrics:
    """In-process counters of one server process (the service runs one per machine)."""

    def __init__(self) -> None:
        self.answered: dict[tuple[str, str, int], int] = {}
        self.latency: dict[tuple[str, str], _Latency] = {}
        self.in_flight: dict[tuple[str, str], int] = {}

    def started(self, method: str, route: str) -> None:
        key = (method, route)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1

    def finished(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route)
        self.in_flight[key] -= 1
        counted = (method, route, status)
        self.answered[counted] = self.answered.get(counted, 0) + 1
        latency = self.latency.get(key)
        if latency is None:
            latency = self.latency[key] = _Latency()
        latency.count += 1
        latency.total += seconds
        index = bisect_left(BUCKETS, seconds)
        if index < len(BUCKETS):
            latency.buckets[index] += 1


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _series(name: str, labels: dict[str, str], value: float | int) -> str:
    inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}} {value}" if inner else f"{name} {value}"


def _resident_bytes() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def render(metrics: Metrics, gauges: Iterable[tuple[str, str, float | int]]) -> str:
    """The Prometheus text exposition (format 0.0.4) of the counters and the given gauges
    (name, help, value)."""
    out = [
        "# HELP huinong_requests_total Requests answered, by method, route template and status.",
        "# TYPE huinong_requests_total counter",
    ]
    for (method, route, status), n in sorted(metrics.answered.items()):
        out.append(_series("huinong_requests_total", {"method": method, "route": route, "status": str(status)}, n))
    out += [
        "# HELP huinong_request_duration_seconds Time to answer, by method and route template.",
        "# TYPE huinong_request_duration_seconds histogram",
    ]
    for (method, route), latency in sorted(metrics.latency.items()):
        labels = {"method": method, "route": route}
        cumulative = 0
        for bound, n in zip(BUCKETS, latency.buckets):
            cumulative += n
            out.append(_series("huinong_request_duration_seconds_bucket", {**labels, "le": repr(bound)}, cumulative))
        out.append(_series("huinong_request_duration_seconds_bucket", {**labels, "le": "+Inf"}, latency.count))
        out.append(_series("huinong_request_duration_seconds_sum", labels, round(latency.total, 6)))
        out.append(_series("huinong_request_duration_seconds_count", labels, latency.count))
    out += [
        "# HELP huinong_requests_in_flight Requests being worked on now (long imports and batches show here).",
        "# TYPE huinong_requests_in_flight gauge",
    ]
    for (method, route), n in sorted(metrics.in_flight.items()):
        out.append(_series("huinong_requests_in_flight", {"method": method, "route": route}, n))
    resident = _resident_bytes()
    if resident is not None:
        gauges = [*gauges, ("process_resident_memory_bytes", "Resident memory of the server process.", resident)]
    for name, help_text, value in gauges:
        out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
    return "\n".join(out) + "\n"
