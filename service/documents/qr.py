"""QR codes (segno) drawn into fpdf2 documents as vector squares, so they print sharp at any size
and a phone can open the address they carry (a certificate's verification page, a notice's page)."""

from __future__ import annotations

import segno
from fpdf import FPDF


def qr_modules(text: str) -> list[list[bool]]:
    """The dark (True) and light modules of the QR code of `text`, quiet zone excluded."""
    code = segno.make(text, error="m", micro=False)
    return [[bool(cell) for cell in row] for row in code.matrix]


def draw_qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """A QR code of `text` with its top-left corner at (x, y), `size` mm wide, quiet zone included."""
    modules = qr_modules(text)
    quiet = 4  # modules of white border the standard asks for
    step = size / (len(modules) + 2 * quiet)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(modules):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # one rectangle per run of dark modules: fewer drawing operations, the same code
            pdf.rect(x + (quiet + start) * step, y + (quiet + r) * step, (c - start) * step, step, style="F")
    pdf.set_fill_color(255, 255, 255)
