"""A picture of the review page as headless Chromium shows it (the demo's, the docs').

Debian's Chromium (``/usr/bin/chromium``, ``make browser``) driven by Playwright's Python package:
nothing downloads a browser (``playwright install`` is never run).
"""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
TIMEOUT_MS = 60_000


class NoBrowser(Exception):  # noqa: N818 - what the user meets: no browser to take the picture
    """Chromium or Playwright is missing; the message says how to get it."""


def chromium() -> Path:
    """Debian's Chromium, or ``NoBrowser`` saying how to install it."""
    found = shutil.which("chromium")
    path = Path(found) if found else CHROMIUM
    if not path.is_file():
        raise NoBrowser(f"headless Chromium is not installed ({CHROMIUM}): `make browser` installs it")
    return path


def screenshot(url: str, target: Path, *, width: int = 1280, height: int = 1000) -> Path:
    """Load ``url`` with every image, and write the first ``width`` × ``height`` CSS pixels to ``target``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise NoBrowser(
            f"Playwright's Python package is missing ({error}): `make venv` installs it"
        ) from None
    executable = chromium()
    target.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=list(BROWSER_ARGS))
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url, wait_until="networkidle", timeout=TIMEOUT_MS)
            page.screenshot(path=str(target))
        finally:
            browser.close()
    return target
