"""The default deployment's cost script still runs (``--quick``): a smoke test, no timing asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_cost_script_prints_and_writes_every_figure(tmp_path: Path) -> None:
    # Given a place for the results
    output = tmp_path / "results-cost.json"
    # When the script runs in quick mode (one 1000x1000 upload through the shipped default profile)
    finished = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "default_cost.py"), "--quick", "--output", str(output)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Then it succeeded; if not, the failure says why
    assert finished.returncode == 0, (
        f"bench/default_cost.py exited {finished.returncode}\n--- stderr (end) ---\n"
        f"{finished.stderr[-4000:]}\n--- stdout (end) ---\n{finished.stdout[-2000:]}"
    )
    assert "USD per million uploads" in finished.stdout
    # And the upload was stored through the three variants, with the requests it made counted
    results = json.loads(output.read_text())
    [row] = results["sizes"]
    figures, cost = row["figures"], row["cost"]
    assert results["variants"] == "web-transparent, amazon-main, listing-webp"
    assert figures["status"] == "done"
    assert figures["s3"]["PUT"] == 4
    assert figures["s3"]["HEAD"] <= 4
    assert figures["events"] == 1
    assert figures["dynamodb"]["write_units"] >= 4  # the outcome and the paid call: put, then update
    # And every service has a cost, and the total is their sum
    per_million = cost["usd_per_million"]
    services = {name: usd for name, usd in per_million.items() if name != "total"}
    assert set(services) == {
        "lambda_duration",
        "lambda_requests",
        "s3_requests",
        "s3_storage_per_month",
        "dynamodb",
        "sqs",
        "eventbridge",
        "cloudwatch_logs",
    }
    assert all(usd > 0 for usd in services.values())
    assert abs(per_million["total"] - sum(services.values())) < 1e-9
    assert cost["gb_s_per_upload"] > 0
    # And every price says where it comes from
    assert {price["source"] for price in results["prices"].values()} <= {"facts", "list"}
