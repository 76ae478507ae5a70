"""Headless Chromium (Debian's ``chromium``) for the report's browser check.

``make browser`` installs it. Outside CI a missing browser skips the test with the command that
installs it; in CI (``CI=true``) it fails the test: a check that silently never runs checks nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_SECONDS = 120
# Headless, offline, no profile left behind: no sandbox (tests may run as root in a container), no
# GPU, no background traffic of any kind (there is no network to reach).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def chromium_or_skip() -> Path:
    """The browser's path; skip (or fail, in CI) when it is not installed."""
    found = shutil.which("chromium")
    path = Path(found) if found else CHROMIUM
    if path.is_file() and os.access(path, os.X_OK):
        return path
    reason = f"headless Chromium is not installed ({CHROMIUM}); run `make browser` to install it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def run_chromium(chromium: Path, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run the browser once with ``arguments`` after the common flags; raise if it fails."""
    return subprocess.run(
        [str(chromium), *FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=True,
        env={**os.environ, "HOME": str(profile)},
    )


def dump_dom(chromium: Path, profile: Path, page: Path) -> str:
    """The page's DOM after load, serialised by the browser."""
    return run_chromium(chromium, profile, "--dump-dom", page.as_uri()).stdout


def screenshot(chromium: Path, profile: Path, page: Path, target: Path, *, window: tuple[int, int]) -> Path:
    """A PNG of the page's first ``window`` (width, height) CSS pixels."""
    size = f"--window-size={window[0]},{window[1]}"
    run_chromium(chromium, profile, f"--screenshot={target}", size, page.as_uri())
    return target
