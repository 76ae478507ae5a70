"""One side of the benchmark in its own process, so its peak RSS is the function's alone.

Run by ``bench/performance.py`` as ``python bench/perf/function_process.py {cutout|baseline}``
with the function's environment (moto and the emulator run in the parent). Protocol: one JSON
event per stdin line; one JSON line per invocation on the original stdout (duration, CPU time,
response); at EOF a last line with the process's peak RSS. The function's own stdout (Powertools
logs and EMF metrics) goes to /dev/null, as it would go to CloudWatch.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
APP_PATH = ROOT / "functions" / "process_upload" / "app.py"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_kib() -> int:
    """This process's peak RSS. VmHWM, not ``ru_maxrss``: Linux carries ``ru_maxrss`` over from the
    parent through fork and exec, so a child of the big benchmark process would report the parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the best there is


def _load_cutout() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The deployed handler, loaded from its file as Lambda does, and the production pipeline."""
    spec = importlib.util.spec_from_file_location("process_upload_app", APP_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from cutout.entrypoint import default_pipeline

    default_pipeline()  # the production wiring, from the environment (AWS_ENDPOINT_URL → moto)
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = module.lambda_handler
    return handler


def _load_baseline() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import naive_handler

    return naive_handler.lambda_handler


def main(side: str) -> None:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (the function's logs: like CloudWatch, unread)
    started = time.perf_counter()
    handler = _load_cutout() if side == "cutout" else _load_baseline()
    init_ms = (time.perf_counter() - started) * 1000.0
    protocol.write(json.dumps({"init_ms": init_ms}) + "\n")

    from cutout_tools.local_stack.lambda_runtime import LocalLambdaContext

    memory_mb = int(os.environ.get("BENCH_MEMORY_MB", "128"))
    for line in sys.stdin:
        event = json.loads(line)
        context = LocalLambdaContext(memory_limit_in_mb=memory_mb, timeout_seconds=120.0)
        cpu_before, wall_before = _cpu_seconds(), time.perf_counter()
        error = None
        try:
            response: Any = handler(event, context)
        except Exception as exc:  # noqa: BLE001  (reported to the parent, which fails the run)
            response, error = None, f"{type(exc).__name__}: {exc}"
        duration_ms = (time.perf_counter() - wall_before) * 1000.0
        cpu_s = _cpu_seconds() - cpu_before
        protocol.write(
            json.dumps({"duration_ms": duration_ms, "cpu_s": cpu_s, "response": response, "error": error})
            + "\n"
        )
    protocol.write(json.dumps({"max_rss_mib": peak_rss_kib() / 1024.0}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
