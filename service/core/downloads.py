"""File answers (PDF, xlsx, CSV) for the API and the pages alike: named in ASCII for old browsers
and in Chinese for everyone else (RFC 6266 filename*), never cached (they carry personal data)."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response
from litestar.openapi import ResponseSpec

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_response(
    content: bytes, media_type: str, ascii_name: str, name: str | None = None, *, inline: bool = False
) -> Response[bytes]:
    disposition = "inline" if inline else "attachment"
    value = f'{disposition}; filename="{ascii_name}"'
    if name and name != ascii_name:
        value += f"; filename*=UTF-8''{quote(name)}"
    return Response(
        content=content, media_type=media_type, headers={"Content-Disposition": value, "Cache-Control": "no-store"}
    )


def json_or_file(data_container: type) -> dict[int, ResponseSpec]:
    """The documented 200 of a route answering JSON, or with `?format=` a file (its return type,
    `X | Response`, would otherwise read in the OpenAPI document as "one of X and anything")."""
    return {200: ResponseSpec(data_container=data_container, description="JSON; `format=xlsx|pdf` answers the file")}
