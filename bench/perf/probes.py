"""Measurements that need no AWS: init time, the layer's size, the local engine's speed.

Each timing runs in a fresh ``python`` process (imports are cached per process), the child
measuring itself from its first statement, so interpreter start-up is left out on both sides.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LAYER_BUILD_DIR = ROOT / ".aws-sam" / "build" / "CutoutLayer"
HEAVY_MODULES = ("PIL", "pydantic", "httpx", "aws_xray_sdk", "asyncio", "numpy", "requests", "botocore")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
SINGLE_THREAD = dict.fromkeys(THREAD_VARIABLES, "1")
# What the Lambda runtime sets in every function's process. Libraries take other paths inside
# Lambda: the X-Ray SDK, for one, skips building two X-Ray API clients for centralized sampling
# (about 0.24 s) because Lambda decides sampling. Both sides of the init comparison get these.
LAMBDA_RUNTIME = {
    "LAMBDA_TASK_ROOT": str(ROOT / "functions" / "process_upload"),
    "AWS_LAMBDA_FUNCTION_NAME": "cutout-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    # The runtime API's address (Lambda sets it for every runtime): cutout.cold_start keys on it.
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
}

BARE_BOTO3 = """
import time
started = time.perf_counter()
import boto3
boto3.client("s3")
elapsed = time.perf_counter() - started
"""

CUTOUT_INIT = """
import time
started = time.perf_counter()
import importlib.util
spec = importlib.util.spec_from_file_location("process_upload_app", {app!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from cutout.entrypoint import default_pipeline
default_pipeline()
elapsed = time.perf_counter() - started
"""

REPORT = """
import json, sys
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r}))
print(json.dumps({{"ms": elapsed * 1000.0, "loaded": heavy}}))
"""


LAMBDA_PACKAGES_DIR = ROOT / "bench" / ".cache" / "lambda-packages"
RUNTIME_SDK = ("boto3", "botocore", "s3transfer")  # what the Lambda runtime provides


def lambda_like_packages() -> Path:
    """The packages a deployed function sees, installed for this machine's Python: the layer's
    requirements plus boto3 (the Lambda runtime provides it), and nothing of the dev venv.

    The dev venv holds more (moto, rich, pygments, requests, ...), and some libraries import
    optional extras when present (httpx loads its command line and pygments): measuring init
    there would count imports Lambda never does. Built once, cached under bench/.cache/.
    """
    requirements = ROOT / "layers" / "cutout" / "requirements.txt"
    pins = [
        line
        for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
        if line.split("==")[0].strip().lower() in RUNTIME_SDK
    ]
    stamp = LAMBDA_PACKAGES_DIR / ".installed"
    wanted = requirements.read_text() + "\n".join(pins)
    if not stamp.is_file() or stamp.read_text() != wanted:
        # From nothing: `pip install --target --upgrade` would leave packages the requirements no
        # longer name (the X-Ray SDK after the Tracer went), and init would be measured on them.
        shutil.rmtree(LAMBDA_PACKAGES_DIR, ignore_errors=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--upgrade",
                "--target",
                str(LAMBDA_PACKAGES_DIR),
                "-r",
                str(requirements),
                *pins,
            ],
            check=True,
            capture_output=True,
        )
        # Bytecode made now, as the layer ships it (compiled at build, unchecked-hash), and never
        # written while measuring (PYTHONDONTWRITEBYTECODE): Lambda's /opt is read-only.
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
             str(LAMBDA_PACKAGES_DIR)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        stamp.write_text(wanted)
    return LAMBDA_PACKAGES_DIR


def _run_timed(code: str, environment: dict[str, str]) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter that sees only the Lambda-like packages and our code."""
    script = code + REPORT.format(heavy=list(HEAVY_MODULES))
    path = os.pathsep.join([str(lambda_like_packages()), str(ROOT / "layers" / "cutout")])
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],  # -S: no site-packages of the dev venv
        env=environment | {"PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def init_times(cutout_environment: dict[str, str], repeats: int) -> dict[str, Any]:
    """Init of the handler module + pipeline, and of a bare ``import boto3`` + one client (interleaved)."""
    bare, cutout = [], []
    app = str(ROOT / "functions" / "process_upload" / "app.py")
    # Our own code's bytecode as of now (timestamp-checked, so an edit is never measured stale).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "layers" / "cutout" / "cutout")],
        check=True,
        capture_output=True,
    )
    bare_environment = {
        key: value for key, value in cutout_environment.items() if key.startswith(("AWS", "PATH"))
    } | LAMBDA_RUNTIME
    cutout_environment = cutout_environment | LAMBDA_RUNTIME
    for _ in range(repeats):
        bare.append(_run_timed(BARE_BOTO3, bare_environment))
        cutout.append(_run_timed(CUTOUT_INIT.format(app=app), cutout_environment))
    return {
        "bare_boto3_ms": [run["ms"] for run in bare],
        "cutout_ms": [run["ms"] for run in cutout],
        "cutout_modules_at_init": cutout[-1]["loaded"],
    }


def layer_size(build: bool) -> dict[str, Any]:
    """Zipped (deflate) and unzipped bytes of the layer from ``sam build`` (``make build``)."""
    if build:
        subprocess.run(["make", "--no-print-directory", "build"], cwd=ROOT, check=True, capture_output=True)
    if not LAYER_BUILD_DIR.is_dir():
        return {"error": "no .aws-sam/build/CutoutLayer: run `make build` (or drop --skip-build)"}
    files = [path for path in sorted(LAYER_BUILD_DIR.rglob("*")) if path.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(LAYER_BUILD_DIR))
    return {
        "zipped_bytes": buffer.getbuffer().nbytes,
        "unzipped_bytes": sum(path.stat().st_size for path in files),
        "files": len(files),
        "built_now": build,
    }


ENGINE_SPEED = """
import io, json, statistics, sys, time
import numpy as np
from PIL import Image
from cutout.engine.port import Background, CutoutOptions, ImageBytes
from cutout_tools.studio import StudioEngine

def studio_photo(side):
    # A product on a light studio backdrop: a soft gradient, a dark rounded object, mild noise.
    rng = np.random.default_rng(side)
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32) / side
    rgb = np.stack([235 - 20 * ys, 238 - 18 * ys, 240 - 15 * ys], axis=-1)
    inside = ((xs - 0.5) / 0.28) ** 2 + ((ys - 0.55) / 0.33) ** 2 <= 1.0
    rgb[inside] = (150, 40, 45)
    rgb += rng.normal(0, 3, size=rgb.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()

engine, options, out = StudioEngine(), CutoutOptions(background=Background.TRANSPARENT), {}
for side in SIDES:
    data, runs = studio_photo(side), []
    engine.remove_background(ImageBytes(data), options)  # warm-up (first-use imports)
    for _ in range(REPEATS):
        started = time.process_time()
        engine.remove_background(ImageBytes(data), options)
        runs.append((time.process_time() - started) / (side * side / 1e6))
    out[str(side)] = runs
print(json.dumps(out))
"""


def engine_seconds_per_megapixel(sides: list[int], repeats: int) -> dict[str, list[float]]:
    """StudioEngine CPU seconds per megapixel (decode → segment → PNG), numeric libraries on one thread."""
    script = f"SIDES = {sides!r}\nREPEATS = {repeats}\n" + ENGINE_SPEED
    environment = dict(os.environ) | SINGLE_THREAD
    done = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    )
    result: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def summary(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}
