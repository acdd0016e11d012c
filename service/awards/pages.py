"""A household downloads its award certificate; anyone checks a certificate by its serial."""

from __future__ import annotations

import asyncpg
from litestar import Request, Response, get

from service.awards.workflow import certificate_pdf, verify_certificate
from service.core.downloads import PDF, file_response
from service.core.errors import DomainError
from service.core.pages import HOUSEHOLD_HOME, HOUSEHOLD_LOGIN, PAGE, error_page, render, see_other, signed_in_household
from service.core.settings import Settings


@get("/h/certificates/{serial:str}", opt=PAGE, include_in_schema=False)
async def certificate_download(serial: str, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
    principal = await signed_in_household(request, conn, settings)
    if principal is None:
        return see_other(HOUSEHOLD_LOGIN)
    try:
        # The household's own certificate only (the workflow answers not found for any other).
        content, found = await certificate_pdf(conn, principal, settings, serial.removesuffix(".pdf"))
    except DomainError as problem:
        return error_page(problem, back=HOUSEHOLD_HOME)
    return file_response(content, PDF, f"{found}.pdf")


@get("/p/verify/{serial:str}", opt=PAGE, include_in_schema=False)
async def verify_page(serial: str, conn: asyncpg.Connection) -> Response:
    try:
        certificate = await verify_certificate(conn, serial)
    except DomainError:
        return render("verify.html", status_code=404, certificate=None, serial=serial)
    return render("verify.html", certificate=certificate, serial=serial)


PAGES = [certificate_download, verify_page]
