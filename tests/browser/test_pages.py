"""The household and public pages in headless Chromium at 360×740, as an elderly reader's phone.

Screenshots land in test-artifacts/browser/. Every page is checked for the elder-friendly rules
(适老化): body text ≥ 18 px, line height ≥ 1.3, contrast ≥ 4.5:1 for every piece of text, tap
targets ≥ 60 px tall, nothing wider than the screen, no script; and for full ID or card numbers.
"""

from __future__ import annotations

import pytest

from tests.api.test_distribution_workflow import cooperative_of_design_md, set_today
from tests.api.test_statements import (
    AWARD_A,
    CAPITAL_A,
    PATRONAGE_A,
    SETTLEMENT_A,
    A,
    B,
    exit_award,
    ok,
    pdf_text,
    seed_household_year,
    yuan,
)
from tests.conftest import assert_no_full_numbers

pytestmark = pytest.mark.browser

# Runs in the page: every rule the design sets for these pages, as a list of what breaks it.
ELDER_RULES = """() => {
  const problems = [];
  const body = getComputedStyle(document.body);
  const size = parseFloat(body.fontSize);
  if (size < 18) problems.push(`body font-size ${size}px < 18px`);
  const lh = body.lineHeight === 'normal' ? 0 : parseFloat(body.lineHeight);
  if (lh / size < 1.3) problems.push(`body line-height ${body.lineHeight} < 1.3`);
  if (document.documentElement.scrollWidth > window.innerWidth)
    problems.push(`page ${document.documentElement.scrollWidth}px wider than the ${window.innerWidth}px screen`);
  if (document.querySelector('script')) problems.push('page has a script');
  if (!/width=device-width/.test(document.querySelector('meta[name=viewport]')?.content || ''))
    problems.push('no viewport meta');
  for (const el of document.querySelectorAll('a, button, input, select, textarea')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.height < 60) problems.push(`tap target <${el.tagName.toLowerCase()}> "${el.textContent.trim().slice(0, 20)}" is ${r.height}px tall`);
  }
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('body *')) {
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join('');
    if (!text || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    const fg = lum(rgb(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} of "${text.slice(0, 20)}"`);
    if (parseFloat(style.fontSize) < 18) problems.push(`text "${text.slice(0, 20)}" is ${style.fontSize}`);
  }
  return problems;
}"""


async def check_page(page, artifacts, name: str) -> str:
    """Screenshot, elder-friendly rules and privacy; answers the page's text."""
    await page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    assert await page.evaluate(ELDER_RULES) == [], name
    html = await page.content()
    assert_no_full_numbers(html)
    assert 'lang="zh-CN"' in html
    return await page.inner_text("body")


async def log_in(page, household_no: str, pin: str = "123456") -> None:
    await page.goto("/h/login")
    await page.fill("#household_no", household_no)
    await page.fill("#pin", pin)
    await page.click("button[type=submit]")


async def test_household_logs_in_sees_its_lines_and_downloads_its_pdf(live, phone, artifacts):
    seeded = await seed_household_year(live)
    bearer = await live.household_login(A)
    st = await ok(
        await live.client.get(f"/households/{seeded['household_id']}/statement", params={"year": 2025}, headers=bearer),
        200,
    )

    # Not signed in: the statement sends the reader to the login page.
    await phone.goto("/h/statement?year=2025")
    assert phone.url.endswith("/h/login")
    await check_page(phone, artifacts, "login")

    await log_in(phone, A, "000000")
    text = await check_page(phone, artifacts, "login-wrong-pin")
    assert "户号或密码不对" in text and phone.url.endswith("/h/login")

    await log_in(phone, A)
    assert phone.url.endswith("/h/statement")
    cookie = next(c for c in await phone.context.cookies() if c["name"] == "huinong_household")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    text = await check_page(phone, artifacts, "statement")
    assert "我的分红" in text and "2025 年" in text
    for fen in (PATRONAGE_A, CAPITAL_A, SETTLEMENT_A, AWARD_A):
        assert f"{int(fen) // 100:,}.{fen % 100:02d} 元" in text, fen
    assert "已发放（2026年2月10日）" in text and "待发放" in text and "已冲销" in text
    assert "盈余返还" in text and "分红" in text and "收购结算" in text and "奖励" in text
    assert f"证书编号：{seeded['serial']}" in text
    for line in st["lines"]:  # every line says where the money came from and why
        assert line["explanation"] in text and line["source_name"] in text
    for kind, fen in st["totals_by_kind"].items():
        assert kind in text and f"{fen // 100:,}.{fen % 100:02d} 元" in text
    assert f"{st['total_fen'] // 100:,}.{st['total_fen'] % 100:02d} 元" in text

    async with phone.expect_download() as info:
        await phone.click("text=下载 2025 年收益明细（PDF）")
    download = await info.value
    assert "2025" in download.suggested_filename
    pdf = pdf_text(open(await download.path(), "rb").read())
    for kind, fen in st["totals_by_kind"].items():
        assert f"{kind}：{yuan(fen)} 元" in pdf
    assert f"全年合计：{yuan(st['total_fen'])} 元" in pdf
    assert_no_full_numbers(pdf)

    async with phone.expect_download() as info:
        await phone.click("text=下载荣誉证书（PDF）")
    certificate = open(await (await info.value).path(), "rb").read()
    assert certificate.startswith(b"%PDF") and seeded["serial"] in pdf_text(certificate)

    # The year switcher reaches a year without lines.
    await phone.goto("/h/statement?year=2024")
    assert "这一年没有分红或收益记录" in await phone.inner_text("body")
    # A mangled year in a link shows the newest year, not an error.
    response = await phone.goto("/h/statement?year=20x5")
    assert response.status == 200 and "2025 年明细（5 笔）" in await phone.inner_text("body")

    await phone.click("text=退出登录")
    assert phone.url.endswith("/h/login")
    await phone.goto("/h/statement")
    assert phone.url.endswith("/h/login")
    response = await phone.goto("/h/statement.pdf?year=2025")
    assert phone.url.endswith("/h/login") and response.headers["content-type"].startswith("text/html")


async def test_another_households_statement_is_refused(live, phone, artifacts):
    seeded = await seed_household_year(live)
    await log_in(phone, B)
    text = await check_page(phone, artifacts, "statement-other-household")
    # B is a member of the same cooperative: it sees its own refund and dividend, none of A's money.
    assert "621223100201-002" in text and "75,600.00 元" in text and "32,400.00 元" in text
    for fen in (PATRONAGE_A, CAPITAL_A, AWARD_A):
        assert f"{fen // 100:,}.{fen % 100:02d} 元" not in text

    # A's statement URL: the page session is no bearer token, and B's token finds nothing there.
    url = f"/households/{seeded['household_id']}/statement?year=2025"
    response = await phone.goto(url)
    assert response.status == 401 and str(CAPITAL_A) not in await response.text()
    bearer = await live.household_login(B)
    for accept in ("application/json", "application/pdf"):
        r = await phone.request.get(url, headers={**bearer, "Accept": accept})
        assert r.status == 404, accept
    # B's own PDF holds none of A's money.
    r = await phone.request.get("/h/statement.pdf?year=2025")
    assert r.status == 200 and yuan(CAPITAL_A) not in pdf_text(await r.body())


async def test_visitor_files_an_objection_on_a_notice_page(live, phone, artifacts):
    await set_today(live, "2026-01-10")
    vid, _ = await cooperative_of_design_md(live)
    did = (
        await ok(
            await live.as_(
                "kuaiji", "POST", f"/ventures/{vid}/distributions", json={"fiscal_year": 2025, "profit_fen": 40_000_000}
            )
        )
    )["id"]
    await ok(await live.as_("kuaiji", "POST", f"/distributions/{did}/submit"))
    notice_id = (await ok(await live.as_("xiangzhen", "POST", f"/distributions/{did}/approve")))["notice_id"]

    await phone.goto(f"/p/notices/{notice_id}")
    text = await check_page(phone, artifacts, "notice")
    assert "年度分配方案公示" in text and "2026年1月10日 至 2026年1月25日" in text and "公示中" in text
    assert text.count("*") >= 6  # three masked names and three masked ID numbers
    assert "187,714.29 元" in text  # A's 126,000.00 + 61,714.29

    # Spaces only are no reason: the page says so and nothing is filed.
    await phone.click("text=对此户提出异议 >> nth=0")
    await phone.fill("#reason", "   ")
    await phone.click('button:has-text("提交异议")')
    assert "请选择对哪一户有异议，并写明理由" in await check_page(phone, artifacts, "objection-missing-reason")
    # The answer opens at the form and its message, not at the top of a long list.
    assert await phone.evaluate("window.scrollY") > 0

    subject = await phone.eval_on_selector("#subject_id", "s => s.value")
    assert subject
    await phone.fill("#reason", "他家鸡蛋交售量登记多了 <b>一倍</b>")
    await phone.click('button:has-text("提交异议")')
    text = await check_page(phone, artifacts, "objection-filed")
    assert "您的异议已收到" in text and "他家鸡蛋交售量登记多了 <b>一倍</b>" in text  # shown as typed, escaped

    objections = await ok(await live.as_("xiangzhen", "GET", f"/notices/{notice_id}/objections"), 200)
    assert [(o["subject_id"], o["status"]) for o in objections] == [(subject, "open")]
    await phone.goto(f"/p/notices/{notice_id}")
    assert "有异议，正在核实" in await phone.inner_text("body")


async def test_certificate_verification_and_award_notice_pages(live, phone, artifacts):
    serial = await exit_award(live)
    await phone.goto(f"/p/verify/{serial}")
    text = await check_page(phone, artifacts, "verify")
    assert "这是真实有效的证书" in text and "光荣脱贫证" in text and serial in text and "300.00 元" in text
    assert "*" in text  # the holder's name is masked

    response = await phone.goto("/p/verify/TP-621223-2025-999999")
    assert response.status == 404 and "查不到" in await check_page(phone, artifacts, "verify-unknown")

    conn = await live.connect()
    try:
        notice_id = await conn.fetchval("SELECT id::text FROM notices WHERE kind = 'award'")
    finally:
        await conn.close()
    await phone.goto(f"/p/notices/{notice_id}")
    text = await check_page(phone, artifacts, "notice-award-ended")
    assert "公示已结束" in text and "网上不能提交异议" in text
    assert await phone.query_selector("form") is None
    response = await phone.goto("/p/notices/00000000-0000-0000-0000-000000000000")
    assert response.status == 404
