"""`python -m service distribute --venture … --year … --profit …`: compute a draft plan from the CLI.

Large registers take a while, so each stage shows on a progress bar. The draft is made by the very
use case the API calls (workflow.draft_distribution), as the system user `cli`, and then goes
through the same submit → approve (公示) → post workflow as one made through the API.
"""

from __future__ import annotations

from typing import Any

import msgspec
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.core.money import format_yuan


def configure(parser: Any) -> None:
    parser.add_argument("--venture", required=True, help="venture id")
    parser.add_argument("--year", required=True, type=int, help="fiscal year")
    parser.add_argument("--profit", required=True, type=int, help="the year's after-tax profit (surplus), in fen")


def _stage_reporter(bar: Progress, task: TaskID) -> Any:
    def report(stage: str, count: int) -> None:
        if stage == "facts":
            bar.update(task, advance=1, description=f"计算分配方案（{count:,} 名成员）")
        elif stage == "lines":
            bar.update(task, advance=1, description=f"写入分配明细（{count:,} 行）")

    return report


async def run(settings: Any, args: Any) -> int:
    from service.core.audit import Actor
    from service.core.database import connect
    from service.core.errors import DomainError, NotFound
    from service.core.policy import venture_for
    from service.core.principal import Principal
    from service.distributions.workflow import draft_distribution

    console = Console()
    principal = Principal.system("cli")
    conn = await connect(settings)
    try:
        try:
            venture = await venture_for(conn, principal, args.venture)
        except NotFound:
            console.print(f"[red]经营主体 {args.venture} 不存在[/red]")
            return 2
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("读取股权登记簿与往年结转", total=3)
            try:
                async with conn.transaction():
                    out = await draft_distribution(
                        conn,
                        Actor.system("cli"),
                        principal,
                        args.venture,
                        args.year,
                        args.profit,
                        progress=_stage_reporter(bar, task),
                    )
            except DomainError as problem:
                console.print(f"[red]{problem.detail}[/red]")
                return 1
            bar.update(task, advance=1, description="完成")
        table = Table(title=f"{venture['name']} {args.year} 年度分配方案（草稿 {out.id}）")
        table.add_column("项目")
        table.add_column("金额（元）", justify="right")
        for key, value in msgspec.structs.asdict(out.waterfall).items():
            table.add_row(key, format_yuan(value, thousands=True))
        table.add_row("明细行数", f"{out.lines_total:,}")
        table.add_row("明细合计", format_yuan(out.lines_total_fen, thousands=True))
        console.print(table)
        return 0
    finally:
        await conn.close()
