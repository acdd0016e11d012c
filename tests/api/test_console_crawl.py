"""Every console page of every demo login on the demo county with its whole year worked through
(`make run`'s data), followed by links from /console/ (GET only, bounded): no server error, no
full ID or card number, and nothing of another region: a page of a village's or township's
reviewer names only households and villages of its own region. Each login's home opens onto its
own work first."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from service.core.principal import region_prefix
from tests.access import demo_staff
from tests.api import test_demo
from tests.api.console_client import Console
from tests.conftest import assert_no_full_numbers

# The demo year's database and client, as tests/api/test_demo.py builds them.
year_db, demo = test_demo.year_db, test_demo.demo

HREF = re.compile(r'href="([^"]+)"')
MAX_PAGES = 600
HOUSEHOLD_NO = re.compile(r"(?<![0-9])(62[0-9]{10})-[0-9]{3}(?![0-9])")
REGION_CODE = re.compile(r"(?<![0-9])(62[0-9]{10})(?![0-9])")
# A UUID's last group is 12 hex digits, now and then all decimal and starting 62, like a region
# code (a chart's id repeated through its CSS once failed the crawl so): no UUID is scanned.
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SCOPE = {"cunwei": "621223100201", "xiangzhen": "621223100"}
COUNTY = "621223"


def links(page_url: str, html: str) -> set[str]:
    found = set()
    for href in HREF.findall(html.replace("&amp;", "&")):
        parts = urlsplit(urljoin(page_url, href))
        if parts.netloc == urlsplit(page_url).netloc and parts.path.startswith("/console"):
            found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def outside(login: str, html: str) -> list[str]:
    """Households and regions of another region named on a page: a region inside the login's
    own, or one of the regions it lies in (its township, county, city, province), may be named.
    The admin's region is everything."""
    if login == "admin":
        return []
    prefix = SCOPE.get(login, COUNTY)
    html = UUID.sub("", html)
    wrong = [no for no in HOUSEHOLD_NO.findall(html) if not no.startswith(prefix)]
    for code in REGION_CODE.findall(html):
        if not (code.startswith(prefix) or prefix.startswith(region_prefix(code))):
            wrong.append(code)
    return wrong


# Report downloads are made by the report workflows, tested whole in test_reports*.py and from the
# console in test_console_review.py; the crawl fetches a few of each kind (the slow PDFs are
# seconds each) rather than every venture's every year.
DOWNLOADS_PER_KIND = 2


def download_kind(path: str) -> str | None:
    """The kind of a report download link (/console/reports/{kind}/…), None for a page."""
    parts = path.split("?")[0].split("/")
    return parts[3] if len(parts) > 4 and parts[2] == "reports" else None


async def crawl(console: Console) -> dict[str, int]:
    """Every console page reachable by links from /console/, each fetched once (GET only)."""
    seen: dict[str, int] = {}
    downloads: dict[str, int] = {}
    queue = ["/console/"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen or path.startswith("/console/logout"):
            continue
        if (kind := download_kind(path)) is not None:
            downloads[kind] = downloads.get(kind, 0) + 1
            if downloads[kind] > DOWNLOADS_PER_KIND:
                continue
        r = await console.client.get(path)
        seen[path] = r.status_code
        assert r.status_code < 500, (path, r.text[-500:])
        kind = r.headers.get("content-type", "")
        if kind.startswith("text/html"):
            assert_no_full_numbers(r.text)
            assert not outside(console.username, r.text), (path, outside(console.username, r.text))
            queue += sorted(links(str(r.url), r.text) - seen.keys())
        elif "spreadsheetml" in kind:
            assert r.content[:2] == b"PK", path
        elif "pdf" in kind:
            assert r.content[:5] == b"%PDF-", path
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("caller", demo_staff(), ids=lambda c: c.login)
async def test_every_console_page_of_every_demo_login_stays_in_its_region(demo, caller):
    async with Console(demo, caller.login) as console:
        seen = await crawl(console)
    assert len(seen) < MAX_PAGES, "the crawl did not finish within its bound"
    # 409: a report of a year not yet posted (the reports page links the year asked for).
    answers = (200, 303, 403, 404, 409)
    assert all(status in answers for status in seen.values()), {p: s for p, s in seen.items() if s not in answers}
    pages = set(seen)
    if caller.role in ("village_reviewer", "township_approver"):
        assert "/console/reviews" in pages and any(p.startswith("/console/applications/") for p in pages)
        assert any(p.startswith("/console/notices/") for p in pages)
    if caller.role == "auditor":
        assert {"/console/audit", "/console/verify", "/console/reports"} <= pages
        assert any(p.startswith("/console/reports/") for p in pages)
    if caller.role in ("finance_officer", "finance_approver"):
        reached = "\n".join(pages)
        for section in ("/console/award-programs/", "/console/payment-batches/", "/console/households/"):
            assert section in reached, section
        assert {"/console/payables", "/console/reconciliation"} <= pages


@pytest.mark.parametrize(
    "login, first",
    [
        ("cunwei", "待我审核的奖励申请"),
        ("xiangzhen", "待我审核的奖励申请"),
        ("shenji", "审计"),
        ("caizheng", "县财政的工作"),
        ("caizheng2", "县财政的工作"),
    ],
)
async def test_each_home_shows_its_own_work_first(demo, login, first):
    async with Console(demo, login) as console:
        home = await console.get("/console/")
    headings = re.findall(r"<h2>([^<（]+)", home.text)
    assert headings and headings[0].startswith(first), headings
    if login in ("cunwei", "xiangzhen"):
        count = re.search(r"待我审核的奖励申请（([0-9]+)）", home.text)
        assert count and int(count.group(1)) >= 1, home.text[:2000]
