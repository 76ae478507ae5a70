"""``cutout local up`` and ``cutout local run``: the local stack from the command line.

``local up`` runs until SIGINT/SIGTERM (exit 0) and, once ready, prints one line of JSON (and
writes it to ``--describe FILE``): ``endpoint_url``, ``region``, ``input_bucket``, ``output_bucket``,
``work_queue_url``, ``dead_letter_queue_url``, ``emulator_url``, and more. ``local run DIR`` brings
the stack up, processes DIR, writes OUT/summary.json and OUT/report.html, and stops.
Heavy modules (moto, boto3, the studio engine) load inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from cutout_tools.emulator.command import add_fault_options
from cutout_tools.local_stack.defaults import DEFAULT_PORT
from cutout_tools.shutdown import stop_on_signals


def _parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``cutout local up`` and ``cutout local run``."""
    local = commands.add_parser(
        "local",
        help="run the whole pipeline on this machine: template.yaml on moto, the emulator, the function",
        description="The local stack: template.yaml deployed into moto (an AWS endpoint on loopback), the "
        "Aidge emulator with the local studio engine, and the function run in-process by a local "
        "event source mapping. No AWS account, no Aidge key, no Docker.",
    )
    actions = local.add_subparsers(dest="local_command", metavar="ACTION", required=True)

    up = actions.add_parser(
        "up",
        help="run the local stack until interrupted; point any S3 client at it",
        description="Run until SIGINT/SIGTERM. When ready, print (and write to --describe FILE) one line of "
        "JSON with endpoint_url, region, input_bucket, output_bucket, work_queue_url, dead_letter_queue_url, "
        "emulator_url. Then e.g. `aws --endpoint-url ENDPOINT s3 cp photo.jpg s3://INPUT_BUCKET/photo.jpg` "
        "(any dummy credentials) makes the cut-out appear in OUTPUT_BUCKET.",
    )
    up.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port of the AWS endpoint; 0 picks a free one (default: %(default)s)",
    )
    up.add_argument(
        "--describe", type=Path, default=None, metavar="FILE", help="write the JSON description here"
    )
    add_fault_options(up)  # passed to the emulator
    up.add_argument(
        "--retry-delay-seconds",
        type=int,
        default=None,
        help="retry every failed message after this many seconds instead of the template's retry schedule "
        "(parameters RetryBackoffSeconds, RateLimitBackoffSeconds: 30,120,480 and 120,480,900 by default)",
    )
    up.set_defaults(handler=run_up)

    run = actions.add_parser(
        "run",
        help="process a folder through the local stack and write OUT/summary.json and OUT/report.html",
        description="Bring the stack up, upload every file under DIR (relative paths as keys; dotfiles and "
        "README.md are skipped), wait for each upload's outcome (a cut-out, or a dead-letter record with "
        "its reason), download the cut-outs into OUT, write OUT/summary.json, OUT/report.html and "
        "OUT/run.log (the stack's and the function's logs), print a table, and stop.",
    )
    run.add_argument("directory", type=Path, metavar="DIR")
    run.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: %(default)s)")
    run.add_argument(
        "--background", choices=("transparent", "white"), default="transparent", help="(default: %(default)s)"
    )
    run.add_argument(
        "--timeout-seconds", type=float, default=600.0, help="give up waiting after this long (default: 600)"
    )
    run.set_defaults(handler=run_local_run)


def _write_atomically(path: Path, text: str) -> None:
    """Readers polling for the file never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def run_up(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; exit 0 on either."""
    from cutout_tools.local_stack.stack import LocalStack

    stop = stop_on_signals()
    stack = LocalStack(
        port=args.port,
        latency_ms=args.latency_ms,
        faults=args.faults,
        seed=args.seed,
        retry_delay_seconds=args.retry_delay_seconds,
    )
    try:
        stack.start()
    except (OSError, RuntimeError, ValueError) as error:
        print(f"cutout local up: {error}", file=sys.stderr)
        return 1
    try:
        description = json.dumps(stack.describe())
        if args.describe is not None:
            _write_atomically(args.describe, description + "\n")
        print(description, flush=True)
        while not stop.wait(0.5):
            pass
        print("cutout local: stopping", file=sys.stderr, flush=True)
    finally:
        started = time.monotonic()
        stack.stop()
        print(f"cutout local: stopped in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return 0


def run_local_run(args: argparse.Namespace) -> int:
    """Process a folder; exit 0 when every input has an outcome (done or failed), 1 otherwise."""
    from cutout_tools.local_stack.local_run import LOG_NAME, run_directory, summary_table

    if not args.directory.is_dir():
        print(f"cutout local run: {args.directory} is not a folder", file=sys.stderr)
        return 2
    try:
        summary = run_directory(
            args.directory, args.out, background=args.background, timeout_seconds=args.timeout_seconds
        )
    except ValueError as error:
        print(f"cutout local run: {error}", file=sys.stderr)
        return 2
    print(summary_table(summary))
    report = _write_report(args.out, summary)
    print(
        f"summary: {args.out / 'summary.json'}; logs: {args.out / LOG_NAME}"
        + (f"; report: {report}" if report else "")
    )
    unsettled = [item for item in summary["items"] if item.get("error")]
    return 1 if unsettled else 0


def _write_report(out_dir: Path, summary: dict[str, object]) -> Path | None:
    try:
        from cutout_tools.report import write_report
    except ImportError as error:
        print(f"cutout local run: no report.html ({error})", file=sys.stderr)
        return None
    return write_report(out_dir, dict(summary))
