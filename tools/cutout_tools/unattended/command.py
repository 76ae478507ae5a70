"""``cutout resume``, ``cutout budget status``, ``cutout review list|approve|reject``, ``cutout events tail``.

Targets a deployed stack (``--stack-name``, ``--region``) or the local stack (``--endpoint-url``),
as ``cutout dlq`` does. Exit codes: 0 done, 1 runtime failure, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from cutout_tools.operations.command import _add_target_options, _guarded
from cutout_tools.operations.stack import LOCAL_STACK_NAME


class _Session:
    """A boto3 session whose clients all use the target's endpoint (moto for the local stack)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from cutout_tools.operations.command import UsageError
        from cutout_tools.operations.stack import aws_session

        self.stack_name = args.stack_name or (LOCAL_STACK_NAME if args.endpoint_url else None)
        if self.stack_name is None:
            raise UsageError("give --stack-name (a deployed stack) or --endpoint-url (the local stack)")
        self._session = aws_session(region=args.region, endpoint_url=args.endpoint_url)
        self._endpoint_url = args.endpoint_url

    def client(self, service: str, config: Any = None) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint_url, config=config)  # type: ignore[call-overload]

    @property
    def label(self) -> str:
        """How a page names the target: the stack, and where it is."""
        where = self._endpoint_url or self._session.region_name or "your AWS configuration's region"
        return f"stack {self.stack_name!r} ({where})"


def _target(args: argparse.Namespace) -> tuple[_Session, Any]:
    from cutout_tools.unattended.control import resolve

    session = _Session(args)
    return session, resolve(session.client("cloudformation"), str(session.stack_name))


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("expected 0 (no cap) or a positive number of units")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected a positive number")
    return value


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    resume = commands.add_parser(
        "resume",
        help="resume a paused pipeline (optionally with a new budget)",
        description="Enable the work queue's event source mapping again, so the uploads waiting in the "
        "queue are processed, whoever disabled it (the daily schedule resumes only a pause cutout made). "
        "With --daily-budget/--monthly-budget, first change the function's budget "
        "(on a deployed stack, also change the DailyBudget/MonthlyBudget parameters, or the next deploy "
        "sets them back).",
    )
    resume.add_argument(
        "--daily-budget", type=_non_negative, metavar="UNITS", help="new daily budget (0: none)"
    )
    resume.add_argument(
        "--monthly-budget", type=_non_negative, metavar="UNITS", help="new monthly budget (0: none)"
    )
    _add_target_options(resume)
    resume.set_defaults(handler=lambda args: _guarded("resume", run_resume, args))

    budget = commands.add_parser("budget", help="the spending cap: what is used and left")
    budget_actions = budget.add_subparsers(dest="budget_action", metavar="ACTION", required=True)
    status = budget_actions.add_parser(
        "status", help="today's and this month's usage, the caps, paused or not"
    )
    status.add_argument("--json", action="store_true", help="one JSON object")
    _add_target_options(status)
    status.set_defaults(handler=lambda args: _guarded("budget status", run_budget_status, args))

    review = commands.add_parser(
        "review",
        help="cut-outs the quality gate held back (under review/)",
        description="List, approve (publish by S3 copy, no API call) or reject held cut-outs.",
    )
    review_actions = review.add_subparsers(dest="review_action", metavar="ACTION", required=True)
    listing = review_actions.add_parser("list", help="every held output with its reasons")
    listing.add_argument("--prefix", default="", help="only published keys starting with this")
    _add_target_options(listing)
    listing.set_defaults(handler=lambda args: _guarded("review list", run_review_list, args))
    for action, verb, event in (
        ("approve", "publish", "Cutout Image Processed"),
        ("reject", "delete", "Cutout Image Failed (rejected_in_review)"),
    ):
        parser = review_actions.add_parser(
            action,
            help=f"{verb} held outputs",
            description=f"{verb.capitalize()} every held output of each KEY's upload (the gate judges an "
            f"upload, not one variant) and announce {event} on the stack's bus. No API call.",
        )
        parser.add_argument(
            "keys",
            nargs="+",
            metavar="KEY",
            help="the upload's key (kitchen/mug.jpg), a held output's (review/...) or its published key",
        )
        _add_target_options(parser)
        parser.set_defaults(
            handler=lambda args, name=action: _guarded(f"review {name}", run_review_change, args)
        )

    serve = review_actions.add_parser(
        "serve",
        help="a web page to look at held cut-outs and approve or reject them",
        description="Serve the review page: every held upload as a card (original, master on a "
        "checkerboard, every variant, the gate's reasons, score, profile), newest first, filtered by "
        "reason and key prefix, with approve/reject per card or for a selection and keyboard shortcuts. "
        "A decision does what `cutout review approve|reject` does. Loopback only unless --host; "
        "Ctrl-C stops.",
    )
    serve.add_argument(
        "--host",
        default=None,
        help="the address to listen on (default 127.0.0.1, this machine only); any other address lets "
        "whoever reaches it look and decide (the page has no login): a warning says so",
    )
    serve.add_argument("--port", type=int, default=None, help="the port (default 4598; 0 picks a free one)")
    serve.add_argument(
        "--page-size", type=_positive, default=20, metavar="N", help="cards per page (default: %(default)s)"
    )
    serve.add_argument(
        "--undo-seconds",
        type=float,
        default=5.0,
        metavar="S",
        help="a decision is sent this long after the key or click, so u (undo) can take it back "
        "(default: %(default)s; 0: at once, no undo)",
    )
    _add_target_options(serve)
    serve.set_defaults(handler=lambda args: _guarded("review serve", run_review_serve, args))

    events = commands.add_parser("events", help="the completion events on EventBridge")
    events_actions = events.add_subparsers(dest="events_action", metavar="ACTION", required=True)
    tail = events_actions.add_parser(
        "tail",
        help="print cutout's events as they come",
        description="Print each event as it arrives, from the stack's events queue (template parameter "
        'EventsQueue "true", output EventsQueueUrl; the local stack has one): each event is read once, '
        "and deleted. A stack without one (or with --temporary) is followed through a temporary rule "
        "(source 'cutout') and SQS queue on its bus, both removed on exit. Stops on Ctrl-C, or after "
        "--seconds.",
    )
    tail.add_argument("--json", action="store_true", help="each event as one JSON line")
    tail.add_argument("--seconds", type=float, default=None, help="stop after this long")
    tail.add_argument(
        "--temporary",
        action="store_true",
        help="leave the stack's events queue to its consumer: follow a temporary rule and queue instead",
    )
    _add_target_options(tail)
    tail.set_defaults(handler=lambda args: _guarded("events tail", run_events_tail, args))


def run_resume(args: argparse.Namespace) -> int:
    from cutout_tools.unattended.control import resume, set_budget

    session, stack = _target(args)
    if args.daily_budget is not None or args.monthly_budget is not None:
        limits = set_budget(session, stack, daily=args.daily_budget, monthly=args.monthly_budget)
        print(f"budget set: daily {limits.daily or 'none'}, monthly {limits.monthly or 'none'} (units)")
    resumed = resume(session, stack)
    if not resumed.changed:
        print("not paused: nothing to resume")
    elif resumed.mark is None:
        print(
            "resumed: the work queue's mapping is enabled (it was disabled by someone else, not by "
            "cutout: the schedule would have left it alone)"
        )
    else:
        print(
            f"resumed: the work queue's mapping is enabled (cutout paused it at "
            f"{resumed.mark.paused_at:%Y-%m-%d %H:%M} UTC: {resumed.mark.reason_code})"
        )
    return 0


def run_budget_status(args: argparse.Namespace) -> int:
    from cutout_tools.unattended.control import budget_status, pause_mark

    session, stack = _target(args)
    status, state = budget_status(session, stack)
    mark = pause_mark(session, stack)
    facts = {
        "period": f"{status.period.month}-{status.period.day}",
        "daily_budget": status.limits.daily,
        "monthly_budget": status.limits.monthly,
        "used_today": status.day_used,
        "used_this_month": status.month_used,
        "remaining": status.remaining,
        "calls_reserved": status.calls,
        "released_unbilled": status.released,
        "event_source": state,
        "paused": state in ("Disabled", "Disabling"),
        "paused_by": (mark.by if mark else "someone else") if state in ("Disabled", "Disabling") else None,
        "pause_reason": mark.reason_code if mark else None,
        "paused_since": mark.paused_at.isoformat() if mark else None,
    }
    if args.json:
        print(json.dumps(facts))
        return 0

    def used(units: int, limit: int, which: str) -> str:
        return f"{units} of {limit} units" if limit > 0 else f"{units} units (no {which} cap)"

    print(f"period (UTC)      {facts['period']}")
    print(f"today             {used(status.day_used, status.limits.daily, 'daily')}")
    print(f"this month        {used(status.month_used, status.limits.monthly, 'monthly')}")
    print(f"remaining         {'unlimited' if status.remaining is None else status.remaining}")
    print(
        f"event source      {state}{' (paused: uploads wait in the work queue)' if facts['paused'] else ''}"
    )
    if facts["paused"]:
        print(
            f"paused by         cutout, {mark.reason_code}, since {mark.paused_at:%Y-%m-%d %H:%M} UTC"
            if mark
            else "paused by         someone else (no cutout pause marker): the schedule leaves it paused"
        )
    return 0


def run_review_list(args: argparse.Namespace) -> int:
    from cutout_tools.unattended.control import held_outputs

    session, stack = _target(args)
    count = 0
    for held in held_outputs(session.client("s3"), stack.output_bucket, args.prefix):
        print(f"{held.key}\t{'+'.join(held.reasons) or '?'}\t{held.size} bytes")
        count += 1
    print(f"{count} held", file=sys.stderr)
    return 0


def run_review_change(args: argparse.Namespace) -> int:
    from cutout_tools.review_decisions import approve_upload, held_key_of, reject_upload
    from cutout_tools.unattended.control import publisher_for

    session, stack = _target(args)
    s3 = session.client("s3")
    publisher = publisher_for(session, stack)
    decide = approve_upload if args.review_action == "approve" else reject_upload
    verb = "published" if args.review_action == "approve" else "deleted"
    done: set[str] = set()  # keys of an upload already decided (a decision covers all its outputs)
    for key in args.keys:
        if held_key_of(key) in done:
            continue
        decision = decide(s3, stack.output_bucket, key, publisher)
        done.update(held_key_of(item) for item in decision.keys)
        done.add(held_key_of(key))  # the upload's own key, when that is what was given
        for item in decision.keys:
            print(f"{verb} {item}")
        detail = decision.announcement.detail
        if decision.announced:
            print(f"announced {decision.announcement.detail_type} (id {detail['id']})", file=sys.stderr)
        else:
            print("no event: the stack publishes none (EventBusName is empty)", file=sys.stderr)
    return 0


def review_target(args: argparse.Namespace) -> Any:
    """The review page's ``ReviewTarget`` for the stack ``args`` name (as every command resolves it):
    its output bucket, an S3 client that signs expiring URLs, and the stack's bus to announce on."""
    from botocore.config import Config

    from cutout_tools.review_page.app import ReviewTarget
    from cutout_tools.unattended.control import publisher_for

    session, stack = _target(args)
    s3 = session.client("s3", config=Config(signature_version="s3v4"))  # presigned URLs that expire
    s3.head_bucket(Bucket=stack.output_bucket)  # an error now is a sentence before any page
    return ReviewTarget(s3, stack.output_bucket, publisher_for(session, stack), session.label)


def run_review_serve(args: argparse.Namespace) -> int:
    from cutout_tools.review_page.app import LOOPBACK_HOSTS, PageSettings, review_app
    from cutout_tools.review_page.serve import (
        DEFAULT_HOST,
        DEFAULT_PORT,
        bind,
        is_loopback,
        serve_forever,
        url_of,
    )

    if args.undo_seconds < 0 or args.undo_seconds > 60:
        print("cutout review serve: --undo-seconds must be between 0 and 60", file=sys.stderr)
        return 2
    host = args.host or DEFAULT_HOST
    target = review_target(args)
    wildcard = host in ("0.0.0.0", "::", "[::]")  # noqa: S104 - only when the operator asks for it
    allowed = ("*",) if wildcard else (*LOOPBACK_HOSTS, host)
    settings = PageSettings(page_size=args.page_size, undo_seconds=args.undo_seconds, allowed_hosts=allowed)
    if args.host is not None and not is_loopback(host):
        print(
            f"cutout review serve: warning: listening on {host}, not on loopback: anyone who reaches "
            "this address can see the held cut-outs and approve or reject them (the page has no login)",
            file=sys.stderr,
        )
    port = DEFAULT_PORT if args.port is None else args.port
    try:
        sock = bind(host, port)
    except OSError as error:
        hint = " (give --port, or --port 0 for a free one)" if args.port is None else ""
        print(
            f"cutout review serve: cannot listen on {host}:{port}: {error.strerror or error}{hint}",
            file=sys.stderr,
        )
        return 1
    print(
        f"cutout review serve: the review page of {target.label} is at {url_of(sock)} (Ctrl-C stops)",
        flush=True,
    )
    app = review_app(target, settings)
    app.state.queue.warm()  # every held object read while the browser opens the address
    try:
        serve_forever(app, sock)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("cutout review serve: stopped", file=sys.stderr)
    return 0


def run_events_tail(args: argparse.Namespace) -> int:
    from cutout_tools.unattended.control import event_queue, one_line

    session, stack = _target(args)
    if not stack.event_bus:
        print("cutout events tail: the stack publishes no events (EventBusName is empty)", file=sys.stderr)
        return 1
    if not stack.events_queue_url and not args.temporary:
        print(
            'cutout events tail: the stack has no events queue (template parameter EventsQueue is "false"):'
            " following a temporary rule and queue on its bus instead, removed on exit",
            file=sys.stderr,
        )
    tail = event_queue(session, stack, temporary=args.temporary)
    stopping = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stopping.set())
    where = (
        "the stack's events queue" if stack.events_queue_url and not args.temporary else "a temporary queue"
    )
    print(f"following events on bus {stack.event_bus!r} through {where} (Ctrl-C to stop)", file=sys.stderr)
    try:
        count = tail.follow(
            lambda event: print(json.dumps(event) if args.json else one_line(event), flush=True),
            stop=stopping.is_set,
            seconds=args.seconds,
        )
    finally:
        tail.close()
        signal.signal(signal.SIGINT, previous)
    print(f"{count} event(s)", file=sys.stderr)
    return 0
