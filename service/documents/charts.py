"""Charts drawn on the server as SVG by pygal, for pages and for PDFs alike.

Amounts arrive as integer fen and are plotted as fen; every label a person reads (axis ticks,
values) is written by format_yuan from an integer, so no float ever becomes a printed amount (the
chart's geometry is pygal's business).

For a PDF, fpdf2 draws the SVG itself, and two things differ from a browser: it does not apply
the <style> sheet pygal colours everything with (unstyled shapes come out black), and it has no
font fallback inside an SVG, while the document fonts split Latin (DejaVu) and Chinese (Droid
Sans Fallback, which has no ASCII). for_pdf() therefore writes pygal's CSS onto the elements it
selects (classes, descendants; no pseudo-classes) and names the fonts on every text run: each
<text> becomes <tspan>s of one script each, with the family fpdf2 registered for that script.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
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
    title_font_size=24,
    label_font_size=17,
    major_label_font_size=17,
    legend_font_size=18,
    value_font_size=15,
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
    )
    chart.x_labels = list(labels)
    for s in series:
        chart.add(s.name, list(s.values))
    return _clean(chart.render())


def _clean(svg: bytes) -> bytes:
    """Without tooltips (<title>, <desc>) and the configuration <script> pygal always writes, and
    with coordinates to two decimals: pygal writes sixteen, and a run of sixteen digits after a
    point reads as a card number to the scans of every page (and is no sharper on paper)."""
    svg = re.sub(rb"<script\b.*?</script>", b"", svg, flags=re.S)
    svg = re.sub(rb"([0-9]\.[0-9]{2})[0-9]+", rb"\1", svg)
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


SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
_PAINT = (
    "fill",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "fill-opacity",
    "stroke-opacity",
    "opacity",
    "font-size",
    "text-anchor",
    "display",
)
Compound = tuple[str | None, frozenset[str]]  # (tag or None, classes)


def _compound(text: str) -> Compound | None:
    if ":" in text or "[" in text or "#" in text:
        return None
    tag, *classes = text.split(".")
    return (tag or None, frozenset(classes))


def _rules(css: str) -> list[tuple[list[Compound], dict[str, str]]]:
    """pygal's style sheet as (descendant selector, declarations), in source order."""
    rules = []
    for block in css.replace("&gt;", ">").split("}"):
        if "{" not in block:
            continue
        selectors, body = block.split("{", 1)
        decls = {
            k.strip(): v.replace("!important", "").strip().replace("transparent", "none")
            for k, _, v in (d.partition(":") for d in body.split(";"))
            if k.strip() in _PAINT
        }
        for selector in selectors.split(","):
            words = [w for w in (re.sub(r"#chart-[0-9a-f-]+", "", w) for w in selector.replace(">", " ").split()) if w]
            parts = [_compound(w) for w in words]
            if decls and parts and all(p is not None for p in parts):
                rules.append(([p for p in parts if p is not None], decls))
    return rules


def _matches(el: ET.Element, c: Compound) -> bool:
    tag, classes = c
    if tag and el.tag.rsplit("}", 1)[-1] != tag:
        return False
    return classes <= set(el.get("class", "").split())


def _selects(chain: list[ET.Element], selector: list[Compound]) -> bool:
    """Whether the last element of chain (root first) is selected by a descendant selector."""
    if not selector or not _matches(chain[-1], selector[-1]):
        return not selector
    rest, ancestors = selector[:-1], chain[:-1]
    while rest and ancestors:
        if _matches(ancestors[-1], rest[-1]):
            rest = rest[:-1]
        ancestors = ancestors[:-1]
    return not rest


def _inline_css(svg: str) -> str:
    root = ET.fromstring(svg)
    css = "".join(style.text or "" for style in root.iter(f"{{{SVG_NS}}}style"))
    rules = _rules(css)

    def walk(chain: list[ET.Element]) -> None:
        el = chain[-1]
        own = el.get("style", "")
        for selector, decls in rules:
            if _selects(chain, selector):
                for prop, value in decls.items():
                    if prop not in own:
                        el.set(prop, value)
        for child in el:
            walk([*chain, child])

    walk([root])
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}style" or child.get("display") == "none":
                parent.remove(child)
    return ET.tostring(root, encoding="unicode")


def for_pdf(svg: bytes, latin_family: str, cjk_family: str) -> bytes:
    """The SVG with pygal's colours on its elements and each text run in a font that has its
    glyphs, for fpdf2."""
    source = _inline_css(re.sub(r"^<\?xml[^>]*\?>\s*", "", svg.decode("utf-8")))

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
