"""``cutout emulator``: run the Aidge emulator in the foreground until SIGINT/SIGTERM.

Prints one line when ready, ending with the base URL (scripts take the last word of the first line).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from cutout_tools.arguments import port, positive_seconds
from cutout_tools.emulator.faults import FaultPlan
from cutout_tools.shutdown import stop_on_signals

KEY_SECRET_ENV = "CUTOUT_EMULATOR_KEY_SECRET"  # noqa: S105 - the name of a variable, not a secret


def _fault_spec(text: str) -> str:
    """Reject a bad entry at parse time, with argparse's usage message and the reason."""
    try:
        FaultPlan.parse([text])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def add_fault_options(parser: argparse.ArgumentParser) -> None:
    """``--latency-ms``, ``--fault`` and ``--seed``: shared by ``cutout emulator`` and ``cutout local up``."""
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay added to every API call (default: 0)"
    )
    parser.add_argument(
        "--fault",
        dest="faults",
        action="extend",
        nargs="+",
        type=_fault_spec,
        default=[],
        metavar="CODE:PROBABILITY",
        help="inject a fault per API call with this probability: an API resCode (500, 501, 700, 801, 1000, "
        "1001, 1002), 'timeout', 'malformed' or 'result404'. Repeatable; probabilities sum to <= 1",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault RNG (reproducible runs)")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``cutout emulator``."""
    parser = commands.add_parser(
        "emulator",
        help="serve an Aidge-compatible background-removal API backed by the local studio engine",
        description=(
            "Serve POST /rest/ai/image/cut/out like Aidge (v2 signature, parameters, envelope, error codes), "
            "results at /results/..., and GET /_emulator/stats, GET|POST /_emulator/config, "
            "POST /_emulator/reset. Prints 'Aidge emulator ready at URL' once serving."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=port, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--key-name", required=True, help="the API key name (app_key) callers must send")
    parser.add_argument(
        "--key-secret",
        default=None,
        help=f"the API key secret callers sign with; defaults to the {KEY_SECRET_ENV} environment variable "
        "(prefer the variable: command lines are visible to other users)",
    )
    add_fault_options(parser)
    parser.add_argument(
        "--timeout-seconds",
        type=positive_seconds,
        default=60.0,
        help="how long a 'timeout' fault holds the request unanswered (default: %(default)s)",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        help="base URL put in result URLs (default: http://<OSS-shaped host>:<port>, as the API answers)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; exit 0 on either."""
    key_secret = args.key_secret or os.environ.get(KEY_SECRET_ENV, "")
    if not key_secret:
        print(f"cutout emulator: give --key-secret or set {KEY_SECRET_ENV}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    stop = stop_on_signals()
    from cutout_tools.emulator.server import AidgeEmulator

    emulator = AidgeEmulator(
        host=args.host,
        port=args.port,
        key_name=args.key_name,
        key_secret=key_secret,
        latency_ms=args.latency_ms,
        faults=FaultPlan.parse(args.faults),
        seed=args.seed,
        public_url=args.public_url,
        timeout_seconds=args.timeout_seconds,
    )
    try:
        emulator.start()
    except (OSError, RuntimeError) as error:
        print(f"cutout emulator: {error}", file=sys.stderr)
        return 1
    try:
        print(f"Aidge emulator ready at {emulator.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0
