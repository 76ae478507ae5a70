"""bench/quality_gate.py judges a saved run again without the engine (``--from``, ``--set``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "bench" / "quality_gate.py"


def cutout(kind: str, bad: bool, score: float, opaque: float, iou: float | None = None) -> dict[str, object]:
    stats = {
        "width": 800,
        "height": 600,
        "opaque_share": opaque,
        "subject_share": 0.3 if opaque else 0.0,
        "edges_touched": [],
        "fragments": 1 if opaque else 0,
    }
    return {
        "kind": kind, "group": "colour", "backdrop": "white", "variant": "colour", "seed": 7,
        "name": f"{kind}-{score}", "bad": bad, "iou": iou, "score": score, "stats": stats,
    }  # fmt: skip


def test_a_saved_run_is_judged_again_with_other_thresholds(tmp_path: Path) -> None:
    # Given a saved run: a good cut-out with a middling score, a blank one, an engine failure
    saved = tmp_path / "run.json"
    cutouts = [
        cutout("engine", False, 0.45, 0.2, iou=0.98),
        cutout("blank", True, 0.9, 0.0),
        cutout("engine", True, 0.35, 0.2, iou=0.40),
    ]
    saved.write_text(json.dumps({"seeds": [7], "groups": ["colour"], "bad_iou": 0.75, "cutouts": cutouts}))
    # When it is judged with min_score 0.3 (the default before issue 26), with 0.5, and with the
    # defaults (min_score 0.8: the one "look at this" threshold)
    runs = {
        label: subprocess.run(
            [sys.executable, str(SCRIPT), "--from", str(saved), *extra],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=REPO_ROOT,
        ).stdout
        for label, extra in (
            ("lenient", ["--set", "min_score=0.3"]),
            ("strict", ["--set", "min_score=0.5"]),
            ("defaults", []),
        )
    }
    # Then 0.3 catches the blank one only (the failure's score passes, nothing good is held);
    # the stricter scores catch both, and hold the good one too
    all_rows = {
        label: next(line for line in out.splitlines() if line.startswith("all"))
        for label, out in runs.items()
    }
    assert all_rows["lenient"].split()[1:] == ["3", "2", "1", "50.0", "%", "1", "0", "0.0", "%"]
    assert all_rows["strict"].split()[1:] == ["3", "2", "2", "100.0", "%", "1", "1", "100.0", "%"]
    assert all_rows["defaults"].split()[1:] == ["3", "2", "2", "100.0", "%", "1", "1", "100.0", "%"]
    assert "thresholds {'min_score': 0.5}" in runs["strict"]
