"""``cutout dlq list``, ``cutout dlq replay`` and ``cutout backfill``: operating a deployed stack.

The target is a stack by name (``--stack-name``, ``--region``), resolved through its CloudFormation
outputs, or the local stack (``--endpoint-url``; stack name ``cutout-local`` unless given). Exit
codes: 0 done, 1 runtime failure (no such stack or queue, AWS refused, a send failed), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cutout_tools.operations.stack import LOCAL_STACK_NAME

if TYPE_CHECKING:
    import boto3

    from cutout_tools.operations.dead_letters import DeadLetter, ReplaySummary
    from cutout_tools.operations.stack import StackResources

DEFAULT_LIST_LIMIT = 100
_MESSAGE_WIDTH = 90
_KEY_WIDTH = 48
# The work queue's MessageRetentionPeriod in template.yaml (1,209,600 s; a test keeps them equal).
WORK_QUEUE_RETENTION_DAYS = 14


class UsageError(Exception):
    """Wrong or missing options: exit 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _s3_url(text: str) -> str:
    from cutout_tools.operations.backfill import S3Location

    try:
        S3Location.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("target stack")
    target.add_argument(
        "--stack-name",
        help="the CloudFormation stack deployed from template.yaml (required unless --endpoint-url; "
        f"with --endpoint-url the default is the local stack, {LOCAL_STACK_NAME!r})",
    )
    target.add_argument("--region", help="the stack's AWS region (default: your AWS configuration)")
    target.add_argument(
        "--endpoint-url",
        help="an AWS-compatible endpoint, e.g. the local stack's (`cutout local up` prints it); "
        "dummy credentials are used if none are configured",
    )


def add_dlq_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``cutout dlq list`` and ``cutout dlq replay``."""
    dlq = commands.add_parser(
        "dlq",
        help="list or replay the dead-letter queue of a stack",
        description="Read the dead-letter queue (failure records with their reason codes, and raw "
        "messages SQS redrove after maxReceiveCount: reason 'redriven'), or move messages back to "
        "the work queue. Replay never pays twice for an object that already succeeded.",
    )
    actions = dlq.add_subparsers(dest="dlq_action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="show the DLQ's messages without consuming them",
        description="Show the DLQ's "
        "messages without consuming them (they are made visible again right after reading).",
    )
    listing.add_argument(
        "--reason", metavar="CODE", help="only this reason code (e.g. image_too_small, redriven)"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    listing.add_argument(
        "--limit",
        type=_positive_int,
        default=DEFAULT_LIST_LIMIT,
        metavar="N",
        help="show at most N messages (default: %(default)s)",
    )
    _add_target_options(listing)
    listing.set_defaults(handler=run_dlq_list)

    replay = actions.add_parser(
        "replay",
        help="move DLQ messages back to the work queue",
        description="Send matching DLQ messages back to the work queue unchanged, deleting each from "
        "the DLQ once its copy is queued. Only retryable failures are replayed unless --include-permanent: "
        "a permanent one (image_too_small, not_an_image, ...) fails again the same way. Records of "
        "unrecognised messages name no object and stay.",
    )
    replay.add_argument("--reason", metavar="CODE", help="only messages with this reason code")
    replay.add_argument(
        "--dry-run",
        action="store_true",
        help="count what would be replayed, by reason, retryable or not; change nothing",
    )
    replay.add_argument(
        "--include-permanent",
        action="store_true",
        help="also replay permanent failures (after fixing their cause: the Aidge key or quota, the limits)",
    )
    replay.add_argument(
        "--limit", type=_positive_int, default=None, metavar="N", help="replay at most N messages"
    )
    replay.add_argument(
        "--repay",
        action="store_true",
        help="pay once more, on purpose, for records whose call was paid but whose result is lost "
        "(result_expired, result_gone, ...); without it a paid record reuses its stored result",
    )
    _add_target_options(replay)
    replay.set_defaults(handler=run_dlq_replay)


def add_backfill_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``cutout backfill``."""
    parser = commands.add_parser(
        "backfill",
        help="enqueue objects already in the input bucket",
        description="Put one S3 ObjectCreated notification per existing object under the prefix on the "
        "work queue (folder placeholders skipped). Objects whose cut-out exists are not paid for again. "
        "With --inventory, the objects come from an S3 Inventory report (manifest.json + CSV files) "
        "instead of a listing: rate-bounded, with a progress bar and a checkpoint to resume from.",
    )
    parser.add_argument(
        "location",
        type=_s3_url,
        nargs="?",
        metavar="s3://BUCKET/PREFIX",
        help="the stack's input bucket and a prefix (with --inventory: optional, a prefix to keep)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be enqueued; send nothing")
    inventory = parser.add_argument_group("from an S3 Inventory report")
    inventory.add_argument(
        "--inventory",
        metavar="MANIFEST",
        help="the report's manifest.json: s3://DESTINATION/.../manifest.json or a local path (CSV format)",
    )
    inventory.add_argument(
        "--rate",
        type=float,
        default=None,
        metavar="N",
        help="at most N messages a second (default 200; 0 for no bound). Keep it under what the "
        f"function drains: the work queue drops messages older than its {WORK_QUEUE_RETENTION_DAYS}-day "
        "retention",
    )
    inventory.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        metavar="FILE",
        help="where progress is kept, to resume after an interruption by running the same command "
        "(default: cutout-backfill-<report creation time>.checkpoint.json here); removed when done",
    )
    inventory.add_argument(
        "--no-skip-existing",
        action="store_true",
        help="do not list the output bucket to skip objects whose cut-out is newer (the function "
        "still skips them without paying, one invocation each)",
    )
    inventory.add_argument(
        "--senders", type=_positive_int, default=4, metavar="N", help="concurrent SendMessageBatch calls"
    )
    _add_target_options(parser)
    parser.set_defaults(handler=run_backfill)


# -- running --------------------------------------------------------------------------------------


def _guarded(name: str, action: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run ``action``; an error an operator can meet becomes one clear line and an exit code."""
    try:
        return action(args)
    except Exception as error:
        explained = _explain(error)
        if explained is None:
            raise
        exit_code, sentence = explained
        print(f"cutout {name}: {sentence}", file=sys.stderr)
        return exit_code


def _explain(error: Exception) -> tuple[int, str] | None:
    """(exit code, sentence) for the errors we expect; ``None`` for a bug (let it raise)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    from cutout_tools.operations.stack import OperationsError

    # First match wins: the specific botocore errors before their base class.
    table: list[tuple[type[Exception], int, Callable[[Any], str]]] = [
        (UsageError, 2, str),
        (NoRegionError, 2, lambda _: "no AWS region configured: give --region"),
        (OperationsError, 1, str),
        (ClientError, 1, _client_error_sentence),
        (
            NoCredentialsError,
            1,
            lambda _: "no AWS credentials found (configure a profile or AWS_* variables)",
        ),
        (
            EndpointConnectionError,
            1,
            lambda e: f"cannot reach {e.kwargs.get('endpoint_url', 'the endpoint')}",
        ),
        (BotoCoreError, 1, str),
    ]
    for kind, exit_code, sentence in table:
        if isinstance(error, kind):
            return exit_code, sentence(error)
    return None


def _client_error_sentence(error: Any) -> str:
    details = error.response.get("Error", {})
    code, message = details.get("Code", "?"), details.get("Message", "")
    if "NonExistentQueue" in code or code == "QueueDoesNotExist":
        return f"a queue named by the stack's outputs does not exist: {message}"
    if code == "NoSuchBucket":
        return f"no such bucket: {message}"
    return f"AWS refused ({code}): {message}"


def _target(args: argparse.Namespace) -> tuple[boto3.session.Session, StackResources]:
    from cutout_tools.operations.stack import aws_session, resolve_stack

    stack_name = args.stack_name or (LOCAL_STACK_NAME if args.endpoint_url else None)
    if stack_name is None:
        raise UsageError("give --stack-name (a deployed stack) or --endpoint-url (the local stack)")
    session = aws_session(region=args.region, endpoint_url=args.endpoint_url)
    cloudformation = session.client("cloudformation", endpoint_url=args.endpoint_url)
    return session, resolve_stack(cloudformation, stack_name)


def run_dlq_list(args: argparse.Namespace) -> int:
    return _guarded("dlq list", _dlq_list, args)


def _dlq_list(args: argparse.Namespace) -> int:
    from cutout_tools.operations.dead_letters import peek_dead_letters

    session, resources = _target(args)
    sqs = session.client("sqs", endpoint_url=args.endpoint_url)
    letters = peek_dead_letters(sqs, resources.dead_letter_queue_url, reason=args.reason, limit=args.limit)
    if args.json:
        for letter in letters:
            print(json.dumps(letter.to_json_dict(), ensure_ascii=False))
        return 0
    print(format_table(letters))
    what = f"with reason {args.reason!r}" if args.reason else "on the dead-letter queue"
    note = f" (stopped at --limit {args.limit})" if len(letters) == args.limit else ""
    copies = sum(letter.copies for letter in letters)
    also = (
        f", and {copies} byte-identical copy(ies) of listed records (the same record_id) not listed again"
        if copies
        else ""
    )
    print(f"{len(letters)} message(s) {what}{note}{also}; none was consumed")
    return 0


def format_table(letters: list[DeadLetter]) -> str:
    """The ``dlq list`` table: key, reason, retryable, attempts, failed_at, message."""
    header = ("KEY", "REASON", "RETRYABLE", "ATTEMPTS", "FAILED_AT", "MESSAGE")
    rows = [
        (
            _clip(letter.key or "-", _KEY_WIDTH),
            letter.reason,
            "-" if letter.retryable is None else ("yes" if letter.retryable else "no"),
            "-" if letter.attempts is None else str(letter.attempts),
            letter.failed_at or "-",
            _clip(letter.message, _MESSAGE_WIDTH),
        )
        for letter in letters
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header) - 1)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def run_dlq_replay(args: argparse.Namespace) -> int:
    return _guarded("dlq replay", _dlq_replay, args)


def _dlq_replay(args: argparse.Namespace) -> int:
    from cutout_tools.operations.dead_letters import UNRECOGNISED_MESSAGE_CODE, replay_dead_letters

    session, resources = _target(args)
    sqs = session.client("sqs", endpoint_url=args.endpoint_url)
    summary = replay_dead_letters(
        sqs,
        resources.dead_letter_queue_url,
        resources.work_queue_url,
        reason=args.reason,
        limit=args.limit,
        dry_run=args.dry_run,
        repay=args.repay,
        include_permanent=args.include_permanent,
    )
    what = f" with reason {args.reason!r}" if args.reason else ""
    if summary.dry_run:
        print(f"dry run: {summary.matched} message(s){what} would be replayed; nothing changed")
    else:
        print(f"replayed {summary.replayed} of {summary.matched} matching message(s){what} to the work queue")
    for line in replay_breakdown(summary):
        print(line)
    if summary.repaid:
        print(
            f"{summary.repaid} paid record(s) {'would be' if summary.dry_run else 'were'} sent back marked "
            "--repay: each is paid for once more (metric RepaidOnPurpose)"
        )
    if summary.not_replayable:
        print(
            f"skipped {summary.not_replayable} {UNRECOGNISED_MESSAGE_CODE} record(s): they name no object, "
            "so there is nothing to replay; they stay on the DLQ (see `cutout dlq list --reason "
            f"{UNRECOGNISED_MESSAGE_CODE}`)"
        )
    for failure in summary.failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if summary.failed else 0


def replay_breakdown(summary: ReplaySummary) -> list[str]:
    """The lines after a replay's count: what it was made of, and what stayed on the DLQ and why."""
    lines = []
    verb = "would be" if summary.dry_run else "were"
    if summary.retryable:
        lines.append(f"  retryable: {_by_reason(summary.retryable)}")
    if summary.permanent:
        lines.append(f"  permanent (--include-permanent): {_by_reason(summary.permanent)}")
    skipped = sum(summary.permanent_skipped.values())
    if skipped:
        lines.append(
            f"not replayed: {skipped} permanent failure(s) ({_by_reason(summary.permanent_skipped)}) that "
            f"{verb} left on the DLQ: replayed as they are, they fail again; add --include-permanent once "
            "their cause is fixed (the Aidge key or quota, the limits)"
        )
    if summary.copies_removed:
        lines.append(
            f"{summary.copies_removed} byte-identical copy(ies) of a replayed record (the same record_id: "
            f"one record delivered twice) {verb} deleted from the DLQ, not replayed again"
        )
    return lines


def _by_reason(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in counts.items())


def run_backfill(args: argparse.Namespace) -> int:
    return _guarded("backfill", _backfill, args)


def _backfill(args: argparse.Namespace) -> int:
    from cutout_tools.operations.backfill import S3Location, backfill

    if args.inventory:
        return _backfill_inventory(args)
    if args.location is None:
        raise UsageError("give s3://BUCKET/PREFIX (the stack's input bucket), or --inventory MANIFEST")
    location = S3Location.parse(args.location)
    session, resources = _target(args)
    if location.bucket != resources.input_bucket:
        raise UsageError(
            f"{location.bucket!r} is not the stack's input bucket ({resources.input_bucket!r}); "
            "the function reads only its input bucket"
        )
    s3 = session.client("s3", endpoint_url=args.endpoint_url)
    sqs = session.client("sqs", endpoint_url=args.endpoint_url)
    summary = backfill(s3, sqs, location, resources.work_queue_url, dry_run=args.dry_run)
    if summary.dry_run:
        for key in summary.keys:
            print(key)
        print(f"dry run: {summary.enqueued} object(s) under {location} would be enqueued; nothing sent")
    else:
        print(f"enqueued {summary.enqueued} object(s) under {location} on the work queue")
    if summary.skipped_placeholders:
        print(f"skipped {summary.skipped_placeholders} folder placeholder(s) (keys ending in '/')")
    for failure in summary.failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if summary.failed else 0


def _backfill_inventory(args: argparse.Namespace) -> int:
    from cutout_tools.operations.backfill import S3Location
    from cutout_tools.operations.inventory import (
        DEFAULT_RATE,
        SQS_PRICE_PER_MILLION_REQUESTS,
        InventoryError,
        ReportLocation,
        backfill_inventory,
    )
    from cutout_tools.progress import progress
    from cutout_tools.shutdown import stop_on_signals

    if args.dry_run:
        raise UsageError("--dry-run lists objects; with --inventory, read the report instead")
    session, resources = _target(args)
    prefix = ""
    if args.location is not None:
        location = S3Location.parse(args.location)
        if location.bucket != resources.input_bucket:
            raise UsageError(
                f"{location.bucket!r} is not the stack's input bucket ({resources.input_bucket!r})"
            )
        prefix = location.prefix
    s3 = session.client("s3", endpoint_url=args.endpoint_url)
    sqs = session.client("sqs", endpoint_url=args.endpoint_url)
    report = ReportLocation(args.inventory)
    rate = DEFAULT_RATE if args.rate is None else (args.rate or None)
    stop = stop_on_signals()
    try:
        checkpoint = args.checkpoint
        if checkpoint is None:
            created = report.read_manifest(s3).creation_timestamp or "report"
            checkpoint = Path(f"cutout-backfill-{created}.checkpoint.json")
        with progress("backfill (rows)", None) as bar:
            summary = backfill_inventory(
                s3,
                sqs,
                report,
                resources.work_queue_url,
                input_bucket=resources.input_bucket,
                prefix=prefix,
                output_bucket=None if args.no_skip_existing else resources.output_bucket,
                rate=rate,
                senders=args.senders,
                checkpoint_path=checkpoint,
                bar=bar,
                stop=stop,
            )
    except InventoryError as error:
        raise UsageError(str(error)) from None
    dollars = summary.send_requests * SQS_PRICE_PER_MILLION_REQUESTS / 1_000_000
    print(
        f"rows read {summary.rows}; enqueued {summary.enqueued}; skipped: {summary.skipped_existing_output} "
        f"with a newer cut-out, {summary.skipped_not_current} not current (old versions, delete markers), "
        f"{summary.skipped_placeholders} folder placeholder(s), {summary.skipped_outside} outside the "
        f"prefix; failed {summary.failed}"
    )
    print(
        f"{summary.send_requests} SendMessageBatch request(s) in {summary.seconds:.1f} s "
        f"(${dollars:.4f} at SQS's ${SQS_PRICE_PER_MILLION_REQUESTS:.2f} per million requests)"
    )
    for failure in summary.failures:
        print(f"failed: {failure}", file=sys.stderr)
    if summary.interrupted:
        print(f"interrupted: run the same command again to resume from {checkpoint}", file=sys.stderr)
        return 130
    return 1 if summary.failed else 0
