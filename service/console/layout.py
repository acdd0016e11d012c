"""The console's house: who is at the desk (Desk), the page layout, figures as people write them,
and the answers every console page gives (a page, a redirect after a form, an error page).

Pages are server-rendered Jinja under service/templates/console/, styled by /static/console.css
and working without JavaScript; the Content-Security-Policy admits only the service's own files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from service.console import words
from service.console.nav import NavItem, main_nav, venture_nav
from service.core.audit import Actor
from service.core.money import format_yuan
from service.core.pages import cn_date as household_date
from service.core.principal import Principal

CONSOLE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# What a page says after a form did its work (…?done=key): the redirect names the key, never text.
DONE_WORDS = {
    "venture-created": "经营主体已设立。",
    "member-added": "成员已登记。",
    "movement-recorded": "股权变动已登记。",
    "reallocation-confirmed": "调整方案已确认，贫困户股已转入。",
    "subsidy-received": "财政补助已入账，并已平均量化到每位成员的账户。",
    "trade-recorded": "交易已记录。",
    "trades-imported": "交易表已导入。",
    "draft-made": "分配方案草稿已生成，请核对后提交。",
    "submitted": "方案已提交乡镇审批。",
    "approved": "方案已审批，开始公示。",
    "returned": "方案已退回会计修改。",
    "posted": "方案已入账，应付款已生成。",
    "reversed": "方案已冲销。",
    "contract-created": "订单合同已签订。",
    "advance-recorded": "赊销农资已记录。",
    "purchase-recorded": "收购记录已登记。",
    "purchases-imported": "称重单已导入。",
    "settled": "本季收购已结算。",
}


def yuan(fen: int | None) -> str:
    """1234567 → '12,345.67' (a table cell; the column title says 元)."""
    return "" if fen is None else format_yuan(fen, thousands=True)


def cn_date(day: dt.date | str | None) -> str:
    """A date as people write it (2025年6月1日), from a date or its ISO text."""
    return household_date(dt.date.fromisoformat(day) if isinstance(day, str) and day else day or None)


def percent(bp: int | None) -> str:
    """Basis points as people write a rate: 1000 → '10%', 1250 → '12.5%'."""
    if bp is None:
        return ""
    whole, rest = divmod(bp, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def kilograms(grams: int | None) -> str:
    """Grams as kilograms with up to three decimals: 1500 → '1.5'."""
    if grams is None:
        return ""
    whole, rest = divmod(grams, 1000)
    return f"{whole:,}" if rest == 0 else f"{whole:,}.{rest:03d}".rstrip("0")


def mmdd(value: str) -> str:
    return f"{int(value[:2])}月{int(value[3:])}日"


def short(identifier: str | None) -> str:
    """The first characters of an opaque id, enough to tell two apart on a page."""
    return (identifier or "")[:8]


templates = Environment(
    loader=PackageLoader("service", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # The templates ship with the code: no stat() of each template and its parents on every page.
    auto_reload=False,
)
templates.filters.update(yuan=yuan, cn_date=cn_date, percent=percent, count=count, kg=kilograms, mmdd=mmdd, short=short)
templates.globals.update(W=words, urlencode=urlencode, venture_nav=venture_nav)


@dataclass
class Desk:
    """Who is at the console for this request, and what every page of theirs needs."""

    principal: Principal
    actor: Actor
    csrf: str
    today: dt.date
    path: str
    query: dict[str, str]
    section: str = ""
    venture: Any = None  # the VentureOut a venture's pages are about
    cookies: list[Cookie] = field(default_factory=list)

    @property
    def role(self) -> str:
        return self.principal.role

    @property
    def nav(self) -> list[NavItem]:
        return main_nav(self.principal)

    @property
    def keeps_venture(self) -> bool:
        """Whether the reader keeps the books of the venture on the page (its accountant, or the admin)."""
        return self.venture is not None and self.principal.covers_venture(self.venture.id)

    def link(self, path: str, /, **params: Any) -> str:
        """`path` with the query `params` (the page's own query is passed on as it came: a
        parameter named path or self is one of them, hence the positional-only path)."""
        kept = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{path}?{urlencode(kept)}" if kept else path


def render(desk: Desk | None, template: str, status_code: int = 200, **context: Any) -> Response[str]:
    context.setdefault("done", words_of_done(desk))
    html = templates.get_template(template).render(desk=desk, **context)
    return Response(
        content=html,
        media_type="text/html; charset=utf-8",
        status_code=status_code,
        headers=CONSOLE_HEADERS,
        cookies=desk.cookies if desk else None,
    )


def words_of_done(desk: Desk | None) -> str | None:
    return DONE_WORDS.get(desk.query.get("done", "")) if desk else None


def see_other(path: str, done: str | None = None, cookies: list[Cookie] | None = None) -> Redirect:
    """After a form: to the page that shows its result (303), saying what was done."""
    if done:
        path = f"{path}{'&' if '?' in path else '?'}done={done}"
    return Redirect(path, status_code=303, headers=CONSOLE_HEADERS, cookies=cookies)


def error_page(desk: Desk | None, status_code: int, message: str, heading: str = "无法打开") -> Response[str]:
    return render(desk, "console/error.html", status_code, heading=heading, message=message)
