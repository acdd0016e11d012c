"""Finding fonts with Chinese glyphs (and, if that font lacks them, Latin digits) for the PDFs.

fpdf2 embeds a TrueType/OpenType file; the PDF core fonts have no Chinese. Debian's
fonts-droid-fallback is preferred because it is small, complete for Simplified Chinese and
installed by `make test`; otherwise any font in the usual folders that really maps the characters
our documents use will do. Droid Sans Fallback has no ASCII at all (not even digits), being meant
as a fallback, so a Latin font is then found too and used first, the CJK font behind it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError  # type: ignore[import-untyped]

PREFERRED_FONT = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
DEBIAN_PACKAGE = "fonts-droid-fallback"
PREFERRED_LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LATIN_DEBIAN_PACKAGE = "fonts-dejavu-core"

# Characters from every document we render; a font lacking any of them would print boxes.
_PROBE = "光荣脱贫证小康户人民币元角分整壹贰叁肆伍陆柒捌玖拾佰仟万亿县村收入财产性经营转移合计"
_LATIN_PROBE = "".join(chr(code) for code in range(0x21, 0x7F))
_SUFFIXES = (".ttf", ".otf")
_CJK_NAME_HINTS = (
    "cjk",
    "droid",
    "wqy",
    "wenquanyi",
    "hei",
    "song",
    "kai",
    "ming",
    "han",
    "sc",
    "zh",
    "chinese",
    "simsun",
    "msyh",
    "yahei",
    "fang",
    "ukai",
    "uming",
    "arphic",
)
_LATIN_NAME_HINTS = ("dejavusans.", "liberationsans-regular", "notosans-regular", "sans")


class CJKFontNotFound(RuntimeError):
    """A font the documents need is not installed; the message names the Debian package."""


def _font_dirs() -> list[Path]:
    dirs = [
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        Path.home() / ".local/share/fonts",
        Path.home() / ".fonts",
        Path("/Library/Fonts"),
        Path("/System/Library/Fonts"),
    ]
    windows = os.environ.get("WINDIR")
    if windows:
        dirs.append(Path(windows) / "Fonts")
    return dirs


def _covers(path: Path, probe: str) -> bool:
    try:
        with TTFont(path, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except (TTLibError, OSError, AssertionError, KeyError):
        return False
    return all(ord(char) in cmap for char in probe)


@functools.cache
def _font_files() -> tuple[Path, ...]:
    found: list[Path] = []
    for folder in _font_dirs():
        if folder.is_dir():
            found.extend(path for path in folder.rglob("*") if path.suffix.lower() in _SUFFIXES)
    return tuple(sorted(found))


def _find(preferred: Path, probe: str, hints: tuple[str, ...]) -> Path | None:
    if preferred.is_file() and _covers(preferred, probe):
        return preferred
    # Files whose names suggest the script are opened first; opening every font is slow.
    ranked = sorted(_font_files(), key=lambda p: not any(hint in p.name.lower() for hint in hints))
    return next((path for path in ranked if _covers(path, probe)), None)


def _missing(what: str, package: str, path: Path) -> CJKFontNotFound:
    return CJKFontNotFound(
        f"no font with {what} found for PDF documents; install the Debian package {package} "
        f"(apt-get install {package}), which provides {path}"
    )


@functools.cache
def cjk_font_path() -> Path:
    """The path of a font that renders Simplified Chinese, found once per process.

    Raises CJKFontNotFound, naming the Debian package to install, when there is none.
    """
    path = _find(PREFERRED_FONT, _PROBE, _CJK_NAME_HINTS)
    if path is None:
        raise _missing("Chinese glyphs", DEBIAN_PACKAGE, PREFERRED_FONT)
    return path


@functools.cache
def document_fonts() -> tuple[Path, ...]:
    """The fonts a document registers, in the order glyphs are looked up in them.

    Either the CJK font alone, when it has ASCII too, or a Latin font followed by the CJK font.
    """
    cjk = cjk_font_path()
    if _covers(cjk, _LATIN_PROBE):
        return (cjk,)
    latin = _find(PREFERRED_LATIN_FONT, _LATIN_PROBE, _LATIN_NAME_HINTS)
    if latin is None:
        raise _missing("Latin letters and digits", LATIN_DEBIAN_PACKAGE, PREFERRED_LATIN_FONT)
    return (latin, cjk)


def cjk_font_available() -> bool:
    try:
        document_fonts()
    except CJKFontNotFound:
        return False
    return True
