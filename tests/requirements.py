"""What some tests need from the machine: Debian's headless Chromium (the browser tests) and a CJK
font (the PDFs). `make test` installs both when missing. Without them a test is skipped on a
developer's machine, but fails under CI (CI=true): a green CI must have run the pages and the PDFs.
"""

from __future__ import annotations

import functools
import inspect
import os
import shutil
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import pytest

CHROMIUM = "/usr/bin/chromium"
FONT_PACKAGES = "fonts-droid-fallback fonts-dejavu-core"

Test = TypeVar("Test", bound=Callable[..., Any])


def under_ci() -> bool:
    return os.environ.get("CI") == "true"


def missing(what: str) -> NoReturn:
    """Skips the test for want of `what`, or fails it under CI=true."""
    if under_ci():
        pytest.fail(f"{what}, and CI=true does not skip it (`make browser` installs it)", pytrace=False)
    pytest.skip(what)


def require_browser() -> str:
    """The path of Chromium; without it the test is skipped (failed under CI=true)."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None:
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return path


def require_cjk_font() -> None:
    """Returns when the PDFs' fonts are installed; otherwise the test is skipped (failed under CI=true)."""
    from service.documents.fonts import cjk_font_available

    if not cjk_font_available():
        missing(f"no CJK font installed (apt-get install {FONT_PACKAGES})")


def needs_cjk_font(test: Test) -> Test:
    """A decorator: the test calls require_cjk_font first."""
    if inspect.iscoroutinefunction(test):

        @functools.wraps(test)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            require_cjk_font()
            return await test(*args, **kwargs)

        return run_async  # type: ignore[return-value]

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        require_cjk_font()
        return test(*args, **kwargs)

    return run  # type: ignore[return-value]
