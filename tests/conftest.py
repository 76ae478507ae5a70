"""Fixtures shared by every kind of test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = REPO_ROOT / "events"


@pytest.fixture
def load_event() -> Any:
    """Load a real-shaped payload from ``events/`` by name (with or without ``.json``)."""

    def _load(name: str) -> Any:
        path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
        return json.loads(path.read_text(encoding="utf-8"))

    return _load
