"""A venture's books as its people keep them: the accountant sets it up (and so keeps it), and
closes each year: drafts and submits the plan, the township approves it into its public notice
(公示), the accountant posts it once the notice has ended."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from schemas.distributions import DistributionOut
from schemas.ventures import VentureCreate, VentureOut
from service.core.settings import Settings
from service.demo.actors import Person, staff
from service.distributions import workflow as distributions
from service.ventures.workflow import create_venture


async def set_up(conn: asyncpg.Connection, data: VentureCreate) -> tuple[VentureOut, Person]:
    """kuaiji sets the venture up; answers it and kuaiji as it now is, keeping the venture."""
    kuaiji = await staff(conn, "kuaiji")
    venture = await create_venture(conn, kuaiji.actor, kuaiji.principal, data)
    return venture, await staff(conn, "kuaiji")


@dataclass(frozen=True)
class YearEnd:
    approved_on: dt.date  # the notice runs from this day
    posted_on: dt.date  # after the notice has ended


async def close_year(
    conn: asyncpg.Connection, settings: Settings, venture_id: str, year: int, profit_fen: int, days: YearEnd
) -> DistributionOut:
    kuaiji, xiangzhen = await staff(conn, "kuaiji"), await staff(conn, "xiangzhen")
    draft = await distributions.draft_distribution(conn, kuaiji.actor, kuaiji.principal, venture_id, year, profit_fen)
    await distributions.submit_distribution(conn, kuaiji.actor, kuaiji.principal, draft.id)
    await distributions.approve_distribution(
        conn, xiangzhen.actor, xiangzhen.principal, draft.id, None, settings, days.approved_on
    )
    return await distributions.post_distribution(conn, kuaiji.actor, kuaiji.principal, draft.id, days.posted_on)
