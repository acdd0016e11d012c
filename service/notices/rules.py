"""Rules of public notices (公示) and objections (异议), on plain values.

A notice runs from the day it is published to that day plus its period; anyone may object while
it runs, at most OBJECTIONS_PER_ADDRESS_PER_HOUR times an hour from one network address, so one
address cannot hold a whole list by flooding it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from service.core.clock import written_date

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
    """How to object, as the board and the page say it: the dates as people write them, and what
    to write (the household as the list names it: there is no number on the board to quote)."""
    return (
        f"公示期为 {written_date(starts_on)}至{written_date(ends_on)}。"
        "对名单中任何一户有异议的，请在公示期内向乡镇人民政府反映，或在网上提交异议"
        "（写明是名单上的哪一户，即户主和所在村，以及理由）。有异议的户在核实处理前暂缓发放。"
    )


def too_many_objections(filed_lately: int) -> bool:
    """Whether one address has filed as many objections in the last hour as it may."""
    return filed_lately >= OBJECTIONS_PER_ADDRESS_PER_HOUR


def resolution_status(upheld: bool) -> Literal["upheld", "dismissed"]:
    return "upheld" if upheld else "dismissed"


def resolution_effect(kind: str, status: str, subject_status: str | None, still_open: int) -> str:
    """What resolving an objection did to the subject it named, in words (released or held).

    `status` is the objection's (open, upheld, dismissed); `subject_status` the subject's own
    status now where the owning feature has one (an award application's); `still_open` the
    objections on the same subject (for an award) or the same notice (for a plan) still open."""
    if status == "open":
        return "待乡镇核实处理：该户暂缓发放" if kind == "award" else "待乡镇核实处理：方案暂不能入账"
    if kind == "distribution":
        if status == "upheld":
            return "异议成立：分配方案已退回会计修改，须重新审批和公示"
        if still_open:
            return f"异议不成立；本公示还有 {still_open} 条异议未处理，方案仍不能入账"
        return "异议不成立：不再阻止方案入账"
    if status == "upheld":
        return "异议成立：该户已从名单中撤下，不予奖励"
    if still_open or subject_status == "objected":
        return "异议不成立；该户还有其他异议未处理，继续暂缓发放"
    if subject_status == "granted":
        return "异议不成立：该户已恢复，奖励已发放"
    return "异议不成立：该户恢复公示，公示期满后可以发放"
