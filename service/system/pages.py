"""The landing page at /: what the service is, and the ways in (household login, staff console,
API documentation). Server-rendered, no script."""

from __future__ import annotations

from litestar import Response, get

from service.core.pages import PAGE, render


@get("/", opt=PAGE, include_in_schema=False)
async def landing_page() -> Response:
    return render("home.html")


PAGES = [landing_page]
