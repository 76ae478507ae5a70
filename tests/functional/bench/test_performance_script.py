"""The performance benchmark still runs (``--quick``): a smoke test, no timing asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_quick_benchmark_writes_every_figure(tmp_path: Path) -> None:
    # Given a place for the results
    output = tmp_path / "results.json"

    # When the benchmark runs in quick mode with a short latency
    finished = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "performance.py"),
            "--quick",
            "--latency-ms",
            "200",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )

    # Then it succeeded; if not, the failure says why (the script's own last words, not just its code)
    assert finished.returncode == 0, (
        f"bench/performance.py exited {finished.returncode}\n--- stderr (end) ---\n"
        f"{finished.stderr[-4000:]}\n--- stdout (end) ---\n{finished.stdout[-2000:]}"
    )

    # And both sides were measured and every target has a verdict
    results = json.loads(output.read_text())
    assert results["baseline"]["gb_s_per_image"]
    assert results["cutout"]["peak_rss_mib"]
    assert {"P1", "P2", "P3", "P5"} <= set(results["targets"])
