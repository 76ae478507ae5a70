"""``cutout local up`` and ``cutout local run``: the local stack from the command line.

``local up`` runs until SIGINT/SIGTERM (exit 0). Once ready it prints a block for a person on
stdout (the endpoint, the buckets and queues, the ``export`` line to paste into another shell) or,
with ``--json``, one line of JSON (``endpoint_url``, ``region``, ``input_bucket``, ``output_bucket``,
``work_queue_url``, ``dead_letter_queue_url``, ``emulator_url``, and more; ``--describe FILE``
writes the same JSON to FILE, removed on stop). The stack's and the function's logs go to stderr, or
to ``--log FILE``. ``local run DIR`` brings the stack up, processes DIR, writes OUT/summary.json and
OUT/report.html, and stops; Ctrl-C stops it early with a partial summary (exit 130).
Heavy modules (moto, boto3, the studio engine) load inside the handlers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from cutout_tools.arguments import port, positive_seconds
from cutout_tools.emulator.command import add_fault_options
from cutout_tools.local_stack.defaults import DEFAULT_PORT
from cutout_tools.shutdown import Interrupted, StopRequest, stop_request_on_signals

REVIEW_SCREENSHOT = "review-page.png"


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
        description="Run until SIGINT/SIGTERM. When ready, print on stdout the endpoint, the buckets, the "
        "queues and the `export` line that points the AWS CLI and boto3 at it (or, with --json, one line of "
        "JSON with endpoint_url, region, input_bucket, output_bucket, work_queue_url, dead_letter_queue_url, "
        "emulator_url). Then e.g. `aws s3 cp photo.jpg s3://INPUT_BUCKET/photo.jpg` makes the cut-out "
        "appear in OUTPUT_BUCKET. The stack's and the function's logs go to stderr (or --log FILE).",
    )
    up.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        help="port of the AWS endpoint; 0 picks a free one (default: %(default)s)",
    )
    up.add_argument(
        "--describe",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the JSON description to FILE once ready (removed on stop)",
    )
    up.add_argument(
        "--json", action="store_true", help="print the description as one line of JSON instead of the block"
    )
    up.add_argument(
        "--log",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the stack's and the function's logs to FILE instead of stderr",
    )
    add_fault_options(up)  # passed to the emulator
    up.add_argument(
        "--retry-delay-seconds",
        type=int,
        default=None,
        help="retry every failed message after this many seconds instead of the template's retry schedule "
        "(parameters RetryBackoffSeconds, RateLimitBackoffSeconds: 30,120,480 and 120,480,900 by default)",
    )
    estate = up.add_argument_group("your own bucket (template parameter ExistingInputBucketName)")
    estate.add_argument(
        "--existing-bucket",
        metavar="NAME",
        help="join a bucket the stack does not own: it is made in moto (unversioned) with EventBridge "
        "notifications on, and the stack creates no input bucket; an EventBridge rule feeds the queue",
    )
    estate.add_argument(
        "--existing-topic",
        metavar="NAME",
        help="with --existing-bucket: the bucket notifies this SNS topic instead (S3 -> SNS fan-out) and "
        "the work queue subscribes to it",
    )
    estate.add_argument("--key-prefix", default="", help="only keys starting with this (InputKeyPrefix)")
    estate.add_argument("--key-suffix", default="", help="only keys ending with this (InputKeySuffix)")
    up.set_defaults(handler=run_up)

    run = actions.add_parser(
        "run",
        help="process a folder through the local stack and write OUT/summary.json and OUT/report.html",
        description="Bring the stack up, upload every file under DIR (relative paths as keys; dotfiles, "
        "README.md, OUT and any folder holding an earlier run's summary.json are skipped), wait for "
        "each upload's outcome (its master and every variant of its profile, or a dead-letter record "
        "with its reason), download them into OUT, write OUT/summary.json, OUT/report.html and "
        "OUT/run.log (the stack's and the function's logs), print a table, and stop. OUT holds one "
        "run: the files the previous run wrote there are removed first, other files are left alone. "
        "Ctrl-C stops early: batches in flight finish, then a partial summary and report are written "
        "(exit 130). Exit 0 when every input has an outcome, 1 when some had none in time, 2 for bad "
        "arguments.",
    )
    run.add_argument("directory", type=Path, metavar="DIR", help="the folder of images to upload")
    run.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        help="output folder, created if missing; must not be DIR itself (default: %(default)s)",
    )
    run.add_argument(
        "--background",
        choices=("transparent", "white"),
        default=None,
        help="the single cut-out mode instead of the deliverables: one output per upload, a "
        "transparent PNG or a JPEG on white (sets the template's ProfilesFile to empty and its "
        "BackgroundType). Default: the shipped profiles, every variant of each upload's profile",
    )
    run.add_argument(
        "--timeout-seconds",
        type=positive_seconds,
        default=600.0,
        help="stop waiting for outcomes after this long (default: %(default)s)",
    )
    review = run.add_argument_group("the uploads the quality gate held")
    review.add_argument(
        "--review",
        action="store_true",
        help="once every upload has its outcome, keep the stack up and serve the review page of the held "
        "uploads (`cutout review serve` on this stack) until Ctrl-C; then the summary and report are written",
    )
    review.add_argument(
        "--review-screenshot",
        action="store_true",
        help=f"also write OUT/{REVIEW_SCREENSHOT}: the review page of the held uploads as headless Chromium "
        "shows it (Debian's chromium: `make browser`; skipped with a note without it)",
    )
    run.set_defaults(handler=run_local_run)


def _write_atomically(path: Path, text: str) -> None:
    """Readers polling for the file never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def human_description(facts: dict[str, Any]) -> str:
    """The block ``cutout local up`` prints for a person once the stack is ready."""
    endpoint, region = facts["endpoint_url"], facts["region"]
    lines = [
        f"cutout local stack is up: template.yaml on moto at {endpoint} (region {region})",
        f"  input bucket    {facts['input_bucket']}",
        f"  output bucket   {facts['output_bucket']}",
        f"  work queue      {facts['work_queue_url']}",
        f"  dead letters    {facts['dead_letter_queue_url']}",
        *([f"  events queue    {facts['events_queue_url']}"] if facts.get("events_queue_url") else []),
        f"  Aidge emulator  {facts.get('emulator_url', '')}",
        "",
        "In another shell, point the AWS CLI and boto3 at it (any credentials do):",
        f"  export AWS_ENDPOINT_URL={endpoint} AWS_DEFAULT_REGION={region} "
        "AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local",
        f"  aws s3 cp photo.jpg s3://{facts['input_bucket']}/photo.jpg",
        f"  aws s3 ls --recursive s3://{facts['output_bucket']}/  # masters/photo.jpg.png, each variant",
        f"  {_cutout_command()} dlq list --endpoint-url {endpoint}",
        *(
            [f"  {_cutout_command()} events tail --endpoint-url {endpoint}"]
            if facts.get("events_queue_url")
            else []
        ),
        "",
        "Logs of the stack and the function: stderr (or --log FILE). Ctrl-C stops.",
    ]
    return "\n".join(lines)


def _cutout_command() -> str:
    """How this shell ran us: ``.venv/bin/cutout`` from the repository, else ``cutout``."""
    invoked = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("cutout")
    return str(invoked) if invoked.name == "cutout" and invoked.parent != Path() else "cutout"


@contextlib.contextmanager
def _log_stream(path: Path | None) -> Iterator[IO[str]]:
    """Where the stack's and the function's logs go: stderr, or a file (line-buffered)."""
    if path is None:
        yield sys.stderr
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", buffering=1) as handle:
        yield handle


def run_up(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; exit 0 on either."""
    from cutout_tools.local_stack.function_output import function_output_to
    from cutout_tools.local_stack.stack import LocalStack

    if args.existing_topic and not args.existing_bucket:
        print("cutout local up: --existing-topic needs --existing-bucket", file=sys.stderr)
        return 2
    key_filters = {
        name: value
        for name, value in (("InputKeyPrefix", args.key_prefix), ("InputKeySuffix", args.key_suffix))
        if value
    }
    stdout, stderr = sys.stdout, sys.stderr  # ours: the function's output is redirected below

    def on_signal(stop: StopRequest) -> None:
        if not stop.forced.is_set():
            print("cutout local: stopping", file=stderr, flush=True)

    with (
        stop_request_on_signals(on_signal) as stop,
        _log_stream(args.log) as log_stream,
        function_output_to(log_stream),
    ):

        def log(line: str) -> None:
            print(f"cutout local: {line}", file=log_stream, flush=True)

        stack = LocalStack(
            port=args.port,
            latency_ms=args.latency_ms,
            faults=args.faults,
            seed=args.seed,
            retry_delay_seconds=args.retry_delay_seconds,
            log=log,
            parameter_overrides=key_filters,
            existing_bucket=args.existing_bucket,
            existing_topic=args.existing_topic,
        )
        try:
            with stop.interruptible():  # Ctrl-C while it comes up: nothing to finish, stop at once
                stack.start()
        except Interrupted:
            pass  # start() stopped what it had started
        except (OSError, RuntimeError, ValueError) as error:
            print(f"cutout local up: {error}", file=stderr)
            return 1
        else:
            try:
                facts = stack.describe()
                description = json.dumps(facts)
                print(description if args.json else human_description(facts), file=stdout, flush=True)
                if args.describe is not None:  # after stdout: a script waiting for the file finds both
                    _write_atomically(args.describe, description + "\n")
                while not stop.requested.wait(0.5):
                    pass
            finally:
                stack.stop()
                if args.describe is not None:
                    args.describe.unlink(missing_ok=True)  # it names an endpoint that is gone
        _join_other_threads()
        stopping_at = stop.requested_at or time.monotonic()  # from the signal
        print(f"cutout local: stopped in {time.monotonic() - stopping_at:.1f} s", file=stderr, flush=True)
    return 0


def _join_other_threads(timeout: float = 10.0) -> None:
    """Wait for the threads the interpreter would wait for at exit, so "stopped in" is when we end."""
    import threading

    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))


def run_local_run(args: argparse.Namespace) -> int:
    """Process a folder; exit 0 when every input has an outcome, 1 when some had none in time,
    2 for bad arguments, 128 + the signal's number (130 for Ctrl-C) when interrupted."""
    from cutout_tools.local_stack.local_run import (
        LOG_NAME,
        RunFolderError,
        held_for_review,
        run_directory,
        summary_table,
    )

    stderr = sys.stderr
    reviewing = threading.Event()  # the run is over: Ctrl-C now stops the review page and the stack

    def on_signal(stop: StopRequest) -> None:
        if reviewing.is_set():
            print("\ncutout local run: stopping the review page and the stack…", file=stderr, flush=True)
        elif stop.forced.is_set():
            print(
                "\ncutout local run: stopping now, abandoning the batches in flight", file=stderr, flush=True
            )
        else:
            print(
                "\ncutout local run: stopping… (no more uploads; what is in flight finishes; "
                "Ctrl-C again to quit at once)",
                file=stderr,
                flush=True,
            )

    if args.review_screenshot:  # a previous run's picture must not pass for this run's
        with contextlib.suppress(OSError):
            (args.out / REVIEW_SCREENSHOT).unlink(missing_ok=True)
    with stop_request_on_signals(on_signal) as stop:
        wanted = args.review or args.review_screenshot
        while_up = _review_while_up(args, stop, reviewing, stderr) if wanted else None
        try:
            summary = run_directory(
                args.directory,
                args.out,
                background=args.background,
                timeout_seconds=args.timeout_seconds,
                progress_stream=stderr,
                stop=stop,
                while_up=while_up,
            )
        except RunFolderError as error:
            print(f"cutout local run: {error}", file=stderr)
            return 2
        except (OSError, RuntimeError) as error:  # the stack could not come up (a port, a missing part)
            print(f"cutout local run: the local stack did not start: {error}", file=stderr)
            return 1
        print(summary_table(summary))
        held = held_for_review(summary["items"])
        if held and not args.review:
            print(review_hint(len(held), args.directory, args.out))
        report = _write_report(args.out, summary)
        print(
            f"summary: {args.out / 'summary.json'}; logs: {args.out / LOG_NAME}"
            + (f"; report: {report}" if report else "")
        )
    if summary.get("interrupted"):
        return stop.exit_code
    unsettled = [item for item in summary["items"] if item.get("error")]
    return 1 if unsettled else 0


def review_hint(held: int, directory: Path, out: Path) -> str:
    """What the summary says when the gate held uploads: the command that shows them in a browser."""
    command = _cutout_command()
    return (
        f"{held} upload{'' if held == 1 else 's'} held for review by the quality gate (under review/, not "
        f"published). To look at them and approve or reject them in a browser: {command} local run "
        f"{directory} --out {out} --review (the stack stays up with the review page until Ctrl-C); on a "
        f"deployed stack: {command} review serve --stack-name NAME"
    )


def _review_while_up(
    args: argparse.Namespace, stop: StopRequest, reviewing: threading.Event, stderr: IO[str]
) -> Callable[[Any, list[dict[str, Any]]], None]:
    """What runs while the stack is still up after the run: the review page's screenshot, and/or the
    page itself until Ctrl-C, when anything is held. It says so on ``stderr``, the real one (the
    process's is the run log's while the stack is up)."""

    def say(line: str) -> None:
        print(f"cutout local run: {line}", file=stderr, flush=True)

    def while_up(stack: Any, items: list[dict[str, Any]]) -> None:
        from cutout_tools.local_stack.local_run import held_for_review
        from cutout_tools.review_page.app import PageSettings, explain, review_app
        from cutout_tools.review_page.serve import serving_in_thread
        from cutout_tools.unattended.command import review_target

        held = held_for_review(items)
        if not held:
            if args.review:
                say("nothing was held for review: no review page to serve")
            return
        try:  # the run's summary and report come first: a page that cannot be served must not stop them
            target = review_target(
                argparse.Namespace(stack_name=None, endpoint_url=stack.endpoint_url, region=None)
            )
        except Exception as error:  # noqa: BLE001 - said in a sentence, the run goes on
            say(f"no review page: {explain(error) or repr(error)}")
            return
        with serving_in_thread(review_app(target, PageSettings())) as url:
            if args.review_screenshot:
                _review_screenshot(url, args.out / REVIEW_SCREENSHOT, say)
            if args.review:
                reviewing.set()
                uploads = f"{len(held)} upload{'' if len(held) == 1 else 's'}"
                say(
                    f"{uploads} held for review: the review page is at {url} (Ctrl-C stops it and the "
                    "stack, then writes the summary and the report)"
                )
                while not stop.requested.wait(0.5):
                    pass

    return while_up


def _review_screenshot(url: str, target: Path, say: Callable[[str], None]) -> None:
    from cutout_tools.review_page.screenshot import NoBrowser, screenshot

    started = time.monotonic()
    try:
        screenshot(url, target)
    except NoBrowser as error:
        say(f"no {target.name}: {error}")
        return
    except Exception as error:  # noqa: BLE001 - the browser failing (a crash, a timeout) must not fail the run
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        say(f"no {target.name}: the browser failed ({first_line[:200]})")
        return
    say(f"the review page of the held uploads: {target} ({time.monotonic() - started:.1f} s)")


def _write_report(out_dir: Path, summary: dict[str, object]) -> Path | None:
    try:
        from cutout_tools.report import write_report
    except ImportError as error:
        print(f"cutout local run: no report.html ({error})", file=sys.stderr)
        return None
    return write_report(out_dir, dict(summary))
