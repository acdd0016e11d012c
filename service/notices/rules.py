"""Rules of public notices (公示) and objections (异议), on plain values.

A notice runs from the day it is published to that day plus its period; anyone may object while
it runs, at most OBJECTIONS_PER_ADDRESS_PER_HOUR times an hour from one network address, so one
address cannot hold a whole list by flooding it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

NoticeKind = Literal["award", "distribution"]
NoticeState = Literal["upcoming", "open", "ended"]

NOTICE_KINDS = ("award", "distribution")
NOTICE_TITLES = {"award": "奖励名单公示", "distribution": "收益分配方案公示"}
OBJECTIONS_PER_ADDRESS_PER_HOUR = 20


def notice_period(kind: str, days: int, subjects: int, today: date) -> tuple[date, date]:
    """The dates a new notice runs (today to today + days); ValueError for one that cannot run.

    An award notice publishes a list of households and needs at least one. A distribution notice
    publishes the plan itself: a loss year's plan, with no household lines, is still noticed."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    if days < 1:
        raise ValueError("a notice runs at least one day")
    if subjects < 1 and kind != "distribution":
        raise ValueError("a notice needs at least one subject")
    return today, today + timedelta(days=days)


def notice_state(starts_on: date, ends_on: date, today: date) -> NoticeState:
    """Upcoming before its first day, open through its last day (ends_on included), then ended."""
    if today < starts_on:
        return "upcoming"
    return "open" if today <= ends_on else "ended"


def how_to_object(starts_on: date, ends_on: date) -> str:
    return (
        f"公示期为 {starts_on.isoformat()} 至 {ends_on.isoformat()}。"
        "对名单中任何一户有异议的，请在公示期内向乡镇人民政府反映，或在网上提交异议"
        "（写明对象编号和理由）。有异议的户在核实处理前暂缓发放。"
    )


def too_many_objections(filed_lately: int) -> bool:
    """Whether one address has filed as many objections in the last hour as it may."""
    return filed_lately >= OBJECTIONS_PER_ADDRESS_PER_HOUR


def resolution_status(upheld: bool) -> Literal["upheld", "dismissed"]:
    return "upheld" if upheld else "dismissed"
