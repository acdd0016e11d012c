"""Charts drawn on the server as SVG by pygal, for pages and for PDFs alike.

Amounts arrive as integer fen and are plotted as fen; every label a person reads (axis ticks,
values) is written by format_yuan from an integer, so no float ever becomes a printed amount (the
chart's geometry is pygal's business).

For a PDF, fpdf2 draws the SVG itself: it ignores pygal's CSS and has no font fallback inside an
SVG, while the document fonts split Latin (DejaVu) and Chinese (Droid Sans Fallback, which has no
ASCII). for_pdf() therefore names the fonts on every text run: each <text> becomes <tspan>s of
one script each, with the family fpdf2 registered for that script.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pygal
from pygal.style import Style

from service.core.money import format_yuan

# fpdf2 logs every SVG element it does not draw (pygal's <title>/<desc> tooltips); they are
# stripped before, and what is left is not worth a log line per chart.
logging.getLogger("fpdf.svg").setLevel(logging.ERROR)

COLOURS = ("#b22222", "#2e6f9e", "#4f8a3c", "#c98a1b", "#6b4c9a", "#777777")
_STYLE = Style(
    font_family="sans-serif",
    background="white",
    plot_background="white",
    foreground="#222222",
    foreground_strong="#111111",
    foreground_subtle="#888888",
    colors=COLOURS,
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=12,
)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]  # fen, or counts when the chart counts


def _yuan_label(value: float) -> str:
    return format_yuan(int(round(value)), thousands=True)


def _count_label(value: float) -> str:
    return f"{int(round(value)):,}"


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    money: bool = True,
    stacked: bool = False,
    horizontal: bool = False,
) -> bytes:
    """A bar chart as SVG bytes: one bar (or stack) per label, one colour per series."""
    kind = pygal.StackedBar if stacked else (pygal.HorizontalBar if horizontal else pygal.Bar)
    chart = kind(
        style=_STYLE,
        js=[],  # no script: pages forbid it, and PDFs cannot run it
        width=900,
        height=480,
        title=title,
        legend_at_bottom=True,
        truncate_label=-1,
        truncate_legend=-1,
        x_label_rotation=0 if len(labels) <= 6 else 30,
        value_formatter=_yuan_label if money else _count_label,
        print_values=False,
        show_minor_y_labels=False,
    )
    chart.x_labels = list(labels)
    for s in series:
        chart.add(s.name, list(s.values))
    return _clean(chart.render())


def _clean(svg: bytes) -> bytes:
    """Without tooltips (<title>, <desc>) and the configuration <script> pygal always writes."""
    svg = re.sub(rb"<script\b.*?</script>", b"", svg, flags=re.S)
    return re.sub(rb"<title>.*?</title>|<desc\b[^>]*>.*?</desc>", b"", svg, flags=re.S)


def for_html(svg: bytes) -> str:
    """The SVG inline in a page (without its XML declaration)."""
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", svg.decode("utf-8"))


_TEXT = re.compile(r"(<text\b[^>]*>)([^<]*)(</text>)")


def _is_cjk(char: str) -> bool:
    return ord(char) > 0x2E7F  # CJK punctuation, ideographs and full-width forms


def _runs(text: str) -> list[tuple[bool, str]]:
    runs: list[tuple[bool, str]] = []
    for char in text:
        cjk = _is_cjk(char)
        if runs and runs[-1][0] == cjk:
            runs[-1] = (cjk, runs[-1][1] + char)
        else:
            runs.append((cjk, char))
    return runs


def for_pdf(svg: bytes, latin_family: str, cjk_family: str) -> bytes:
    """The SVG with each text run in a font that has its glyphs, for fpdf2."""
    source = svg.decode("utf-8")

    def split(match: re.Match[str]) -> str:
        opening, body, closing = match.groups()
        text = body.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        runs = "".join(
            f'<tspan font-family="{cjk_family if cjk else latin_family}">{escape(part)}</tspan>'
            for cjk, part in _runs(text)
        )
        return opening + runs + closing

    out = _TEXT.sub(split, source)
    out = out.replace("<svg ", f'<svg font-family="{latin_family}" ', 1)
    return out.encode("utf-8")
