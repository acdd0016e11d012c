"""`python -m service distribute --venture … --year … --profit …`: compute a draft plan from the CLI.

Large registers take a while, so each stage shows on a progress bar. The draft then goes through
the same submit → approve (公示) → post workflow as one made through the API.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.core.money import format_yuan


def configure(parser: Any) -> None:
    parser.add_argument("--venture", required=True, help="venture id")
    parser.add_argument("--year", required=True, type=int, help="fiscal year")
    parser.add_argument("--profit", required=True, type=int, help="the year's after-tax profit (surplus), in fen")


async def _run(settings: Any, args: Any) -> int:
    from db import distributions as dist
    from db import ventures as vq
    from service.__main__ import _connect
    from service.core.audit import Actor, record
    from service.core.errors import DomainError
    from service.distributions.routes import write_draft

    console = Console()
    conn = await _connect(settings)
    try:
        venture = await vq.venture(conn, args.venture)
        if venture is None:
            console.print(f"[red]经营主体 {args.venture} 不存在[/red]")
            return 2
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("读取股权登记簿与往年结转", total=3)
            facts = await dist.load_facts(conn, venture, args.year)
            bar.update(task, advance=1, description=f"计算分配方案（{len(facts.members):,} 名成员）")
            async with conn.transaction():
                try:
                    row = await write_draft(conn, venture, args.year, args.profit, "cli", facts=facts)
                except DomainError as problem:
                    console.print(f"[red]{problem.detail}[/red]")
                    return 1
                bar.update(task, advance=1, description=f"写入分配明细（{row['lines_count']:,} 行）")
                await record(
                    conn,
                    Actor.system("cli"),
                    county_code=venture["county_code"],
                    action="distribution.draft",
                    object_type="distribution",
                    object_id=str(row["id"]),
                    after={"profit_fen": args.profit, "lines_total_fen": row["lines_total_fen"]},
                )
            bar.update(task, advance=1, description="完成")
        table = Table(title=f"{venture['name']} {args.year} 年度分配方案（草稿 {row['id']}）")
        table.add_column("项目")
        table.add_column("金额（元）", justify="right")
        for key, value in row["waterfall"].items():
            table.add_row(key, format_yuan(value, thousands=True))
        table.add_row("明细行数", f"{row['lines_count']:,}")
        table.add_row("明细合计", format_yuan(row["lines_total_fen"], thousands=True))
        console.print(table)
        return 0
    finally:
        await conn.close()


def run(settings: Any, args: Any) -> int:
    return asyncio.run(_run(settings, args))
