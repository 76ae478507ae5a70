"""cutout's function against the naive baseline: time, billed GB-s, memory, init, layer, engine.

Run: ``.venv/bin/python bench/performance.py [--quick] [--latency-ms 2000] [--runs 3]``
(``make bench`` runs it after ``bench/engine_quality.py``). Prints a table and writes
``bench/results.json``. See docs/benchmarks.md for what each figure means.

Both sides run against moto (HTTP) and the Aidge emulator in this process, with the same injected
API latency and the same inputs (noisy 3000×3000 JPEGs), each side in its own child process
(``perf/function_process.py``) so that peak RSS is the function's alone:

- baseline: one image per invocation, whole object in memory (``perf/naive_handler.py``), 1024 MB;
- cutout: the deployed handler with the production wiring, one SQS batch of 10 per invocation,
  URL mode, at ``--memory-mb`` (the template's default).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from perf.images import input_set
from perf.probes import LAMBDA_RUNTIME, engine_seconds_per_megapixel, init_times, layer_size, summary
from perf.stack import BenchStack

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results.json"
CHILD = BENCH_DIR / "perf" / "function_process.py"
# us-east-1 list prices (docs/benchmarks.md, /work/shared/reference/aws-cost-facts.md).
PRICE_PER_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
PRICE_PER_REQUEST = 0.20 / 1_000_000
FULL_VCPU_MB = 1769  # Lambda gives about one vCPU at 1,769 MB, proportionally less below
BASELINE_MEMORY_MB = 1024
TARGETS = {
    "P1": "billed GB-s per image <= 1/40 of the baseline's",
    "P2": "peak RSS <= 128 MB (batch of 10 max-size inputs, URL mode)",
    "P3": "init <= 1.5x bare boto3 + one client",
    "P4": "layer <= 20 MB zipped",
    "P5": "local engine <= 1 s per megapixel on one core (sizes >= 1 MP)",
}


def billed_gb_seconds(duration_ms: float, memory_mb: int) -> float:
    """Lambda bills configured memory × duration rounded up to the millisecond."""
    return math.ceil(duration_ms) / 1000.0 * memory_mb / 1024.0


class FunctionProcess:
    """One side's child process: send events, read measurements; close to get the peak RSS."""

    def __init__(self, side: str, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), side],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.init_ms = float(self._read()["init_ms"])

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the function process ended (exit {self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(event) + "\n")
        answer = self._read()
        if answer.get("error"):
            raise RuntimeError(f"the function failed: {answer['error']}")
        return answer

    def close(self) -> float:
        assert self.process.stdin is not None
        self.process.stdin.close()
        peak = float(self._read()["max_rss_mib"])
        self.process.wait(timeout=30)
        return peak


def run_cutout(stack: BenchStack, images: list[bytes], runs: int, memory_mb: int) -> dict[str, Any]:
    """Per run: a fresh process, a first batch (after init), then a warm batch; both of ``images``."""
    first, warm, cpu, rss, inits = [], [], [], [], []
    for run in range(runs):
        child = FunctionProcess("cutout", stack.function_environment("cutout", memory_mb) | LAMBDA_RUNTIME)
        inits.append(child.init_ms)
        for phase in ("first", "warm"):
            stack.upload("cutout", run * 2 + (phase == "warm"), images)
            event, handles = stack.sqs_batch(len(images))
            answer = child.invoke(event)
            failures = (answer["response"] or {}).get("batchItemFailures", [])
            if failures:
                raise RuntimeError(f"cutout reported failures: {failures}")
            stack.delete_messages(handles)
            (first if phase == "first" else warm).append(answer["duration_ms"])
            if phase == "warm":
                cpu.append(answer["cpu_s"])
        rss.append(child.close())
    outputs = stack.output_count("cutout")
    if outputs != runs * 2 * len(images):
        raise RuntimeError(
            f"cutout wrote {outputs} outputs, expected {runs * 2 * len(images)}; DLQ: {stack.dlq_records()}"
        )
    batch = len(images)
    return {
        "memory_mb": memory_mb,
        "batch_size": batch,
        "batch_ms": warm,
        "first_batch_ms": first,
        "per_image_ms": [value / batch for value in warm],
        "gb_s_per_image": [billed_gb_seconds(value, memory_mb) / batch for value in warm],
        "cpu_s_per_batch": cpu,
        "peak_rss_mib": rss,
        "init_in_process_ms": inits,
    }


def run_baseline(stack: BenchStack, images: list[bytes], runs: int) -> dict[str, Any]:
    """Per run: a fresh process, one invocation per image (the first one after init)."""
    per_run_ms, per_run_cpu, rss, first = [], [], [], []
    for run in range(runs):
        child = FunctionProcess("baseline", stack.function_environment("baseline", BASELINE_MEMORY_MB))
        durations, cpu = [], []
        for key in stack.upload("baseline", run, images):
            answer = child.invoke(stack.s3_event(key))
            durations.append(answer["duration_ms"])
            cpu.append(answer["cpu_s"])
        first.append(durations[0])
        per_run_ms.append(statistics.median(durations[1:] or durations))
        per_run_cpu.append(statistics.median(cpu[1:] or cpu))
        rss.append(child.close())
    if stack.output_count("baseline") != runs * len(images):
        raise RuntimeError("the baseline did not write every output")
    return {
        "memory_mb": BASELINE_MEMORY_MB,
        "per_image_ms": per_run_ms,
        "first_invocation_ms": first,
        "gb_s_per_image": [billed_gb_seconds(value, BASELINE_MEMORY_MB) for value in per_run_ms],
        "cpu_s_per_image": per_run_cpu,
        "peak_rss_mib": rss,
    }


def cost_per_1000(gb_s_per_image: float, images_per_invocation: int, architecture: str) -> dict[str, float]:
    duration = gb_s_per_image * 1000 * PRICE_PER_GB_SECOND[architecture]
    requests = 1000 / images_per_invocation * PRICE_PER_REQUEST
    return {"duration": duration, "requests": requests, "total": duration + requests}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "cpu model")):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def verdicts(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cutout, baseline = results["cutout"], results["baseline"]
    ratio = statistics.median(baseline["gb_s_per_image"]) / statistics.median(cutout["gb_s_per_image"])
    init_ratio = statistics.median(results["init"]["cutout_ms"]) / statistics.median(
        results["init"]["bare_boto3_ms"]
    )
    out = {
        "P1": {"value": f"baseline/cutout = {ratio:.1f}x", "met": ratio >= 40},
        "P2": {"value": f"{max(cutout['peak_rss_mib']):.0f} MiB", "met": max(cutout["peak_rss_mib"]) <= 128},
        "P3": {"value": f"{init_ratio:.2f}x", "met": init_ratio <= 1.5},
    }
    layer = results["layer"]
    if "zipped_bytes" in layer:
        zipped_mb = layer["zipped_bytes"] / 1e6
        out["P4"] = {"value": f"{zipped_mb:.1f} MB", "met": zipped_mb <= 20}
    big = [max(values) for side, values in results["engine_s_per_mp"].items() if int(side) >= 1000]
    if big:
        out["P5"] = {"value": f"{max(big):.2f} s/MP", "met": max(big) <= 1.0}
    return out


def _fmt(values: list[float], spec: str) -> str:
    stats = summary(values)
    return " / ".join(format(stats[name], spec) for name in ("min", "median", "max"))


def print_table(results: dict[str, Any]) -> None:
    cutout, baseline, init = results["cutout"], results["baseline"], results["init"]
    rows = [
        (
            "wall time per invocation (ms)",
            _fmt(baseline["per_image_ms"], ".0f"),
            _fmt(cutout["batch_ms"], ".0f"),
        ),
        (
            "wall time per image (ms)",
            _fmt(baseline["per_image_ms"], ".0f"),
            _fmt(cutout["per_image_ms"], ".0f"),
        ),
        (
            "first invocation after init (ms)",
            _fmt(baseline["first_invocation_ms"], ".0f"),
            _fmt(cutout["first_batch_ms"], ".0f"),
        ),
        ("configured memory (MB)", str(baseline["memory_mb"]), str(cutout["memory_mb"])),
        (
            "billed GB-s per image",
            _fmt(baseline["gb_s_per_image"], ".4f"),
            _fmt(cutout["gb_s_per_image"], ".4f"),
        ),
        (
            "CPU s per image",
            _fmt(baseline["cpu_s_per_image"], ".3f"),
            _fmt([value / cutout["batch_size"] for value in cutout["cpu_s_per_batch"]], ".3f"),
        ),
        ("peak RSS (MiB)", _fmt(baseline["peak_rss_mib"], ".0f"), _fmt(cutout["peak_rss_mib"], ".0f")),
        (
            "init (ms): bare boto3+client | cutout",
            _fmt(init["bare_boto3_ms"], ".0f"),
            _fmt(init["cutout_ms"], ".0f"),
        ),
    ]
    costs = results["cost_per_1000_images_usd"]
    rows += [
        (
            "$ per 1000 images (x86_64 | arm64)",
            f"{costs['baseline_x86_64']['total']:.4f}",
            f"{costs['cutout_arm64']['total']:.4f}",
        ),
        (
            "  of which requests",
            f"{costs['baseline_x86_64']['requests']:.6f}",
            f"{costs['cutout_arm64']['requests']:.6f}",
        ),
        ("$ per 1000, baseline on arm64 too", f"{costs['baseline_arm64']['total']:.4f}", ""),
    ]
    print(
        f"\nlatency {results['config']['latency_ms']:.0f} ms, {results['config']['runs']} runs, "
        f"{results['config']['images']} images of {results['config']['side']}x{results['config']['side']} "
        "(min / median / max)"
    )
    print(f"{'figure':<40} {'baseline':>28} {'cutout':>28}")
    for name, left, right in rows:
        print(f"{name:<40} {left:>28} {right:>28}")
    layer = results["layer"]
    if "zipped_bytes" in layer:
        print(
            f"layer: {layer['zipped_bytes'] / 1e6:.2f} MB zipped, "
            f"{layer['unzipped_bytes'] / 1e6:.2f} MB unzipped"
        )
    for side, values in results["engine_s_per_mp"].items():
        print(f"studio engine {side}x{side}: {_fmt(values, '.2f')} CPU s per megapixel (one thread)")
    print(f"modules loaded at init: {', '.join(init['cutout_modules_at_init'])}")
    for name, verdict in results["targets"].items():
        print(f"{name} {'met   ' if verdict['met'] else 'NOT met'} {verdict['value']:<24} {TARGETS[name]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 run, 1000x1000 inputs, no sam build")
    parser.add_argument("--latency-ms", type=float, default=2000.0, help="API latency the emulator adds")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--images", type=int, default=10, help="images per batch (the event source's 10)")
    parser.add_argument("--side", type=int, default=3000, help="input width and height in pixels")
    parser.add_argument("--memory-mb", type=int, default=128, help="cutout's configured memory")
    parser.add_argument("--skip-build", action="store_true", help="measure the existing .aws-sam build")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.side, args.skip_build = 1, 1000, True
    started = time.monotonic()
    images = input_set(args.images, args.side)
    results: dict[str, Any] = {
        "config": {
            "latency_ms": args.latency_ms,
            "runs": args.runs,
            "images": args.images,
            "side": args.side,
            "input_bytes": [len(image) for image in images],
            "quick": args.quick,
        },
        "machine": machine(),
    }
    with BenchStack(latency_ms=args.latency_ms) as stack:
        results["result_bytes"] = len(stack.engine.result_for(args.side, args.side))
        results["baseline"] = run_baseline(stack, images, args.runs)
        results["cutout"] = run_cutout(stack, images, args.runs, args.memory_mb)
        # Init as a default deployment runs it: the template's profiles file is parsed at init.
        results["init"] = init_times(
            stack.function_environment("cutout", args.memory_mb, deliverables=True), max(3, args.runs + 2)
        )
    results["layer"] = layer_size(build=not args.skip_build)
    results["engine_s_per_mp"] = engine_seconds_per_megapixel(
        [500, 1000] if args.quick else [500, 1000, 2000, 3000], 1 if args.quick else 3
    )
    cutout_gb_s = statistics.median(results["cutout"]["gb_s_per_image"])
    baseline_gb_s = statistics.median(results["baseline"]["gb_s_per_image"])
    results["cost_per_1000_images_usd"] = {
        "cutout_arm64": cost_per_1000(cutout_gb_s, args.images, "arm64"),
        "baseline_x86_64": cost_per_1000(baseline_gb_s, 1, "x86_64"),
        "baseline_arm64": cost_per_1000(baseline_gb_s, 1, "arm64"),
    }
    cpu_per_batch = statistics.median(results["cutout"]["cpu_s_per_batch"])
    results["cutout"]["cpu_bound_floor_ms_at_memory"] = cpu_per_batch / (args.memory_mb / FULL_VCPU_MB) * 1000
    results["targets"] = verdicts(results)
    results["elapsed_seconds"] = time.monotonic() - started
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"wrote {args.output} in {results['elapsed_seconds']:.0f} s")


if __name__ == "__main__":
    main()
