"""``cutout rerender``: make the variants again from the stored masters, after a profile change.

Every master under ``masters/`` (optionally under a key prefix) is read back and the variants of
its profile are made from it, exactly as the function makes them: a variant already stored by the
same spec is kept, a changed or new one is made and stored. Nothing is sent to Aidge: a re-render
costs S3 requests and CPU on this machine, never an API call. Variants a profile no longer lists are
left where they are (delete them with ``aws s3 rm --recursive s3://BUCKET/VARIANT/``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from cutout.profiles import Profile, ProfileSet
    from cutout.storage.objects import ObjectStore

DEFAULT_PROFILES = Path("functions/process_upload/profiles.toml")
_MASTER_SUFFIX = ".png"


@dataclass
class RerenderSummary:
    """What a re-render did."""

    masters: int = 0
    written: int = 0
    kept: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (master key, reason)

    def line(self, seconds: float) -> str:
        return (
            f"{self.masters} masters, {self.written} variants made, {self.kept} already up to date, "
            f"{len(self.failed)} failed, 0 API calls, {seconds:.1f} s"
        )


def master_keys(list_keys: Callable[[str], Iterator[str]], prefix: str) -> Iterator[str]:
    """The master keys under ``masters/<prefix>`` (``list_keys`` lists an output-bucket prefix)."""
    from cutout.variants.keys import MASTERS_PREFIX

    for key in list_keys(MASTERS_PREFIX + prefix):
        if key.endswith(_MASTER_SUFFIX) and len(key) > len(MASTERS_PREFIX) + len(_MASTER_SUFFIX):
            yield key


def rerender(
    store: ObjectStore,
    output_bucket: str,
    keys: Iterator[str],
    profiles: ProfileSet,
    *,
    profile_name: str | None = None,
    source_metadata: Callable[[str], dict[str, str]] = lambda _key: {},
    report: Callable[[str], None] = lambda _line: None,
) -> RerenderSummary:
    """Re-render the variants of every master in ``keys``; ``source_metadata(key)`` chooses profiles."""
    from cutout.deliverables import Deliverables
    from cutout.deliverables.store import SOURCE_FIELDS
    from cutout.failures import FailureReason
    from cutout.variants.keys import MASTERS_PREFIX

    deliverables = Deliverables(store, output_bucket)
    summary = RerenderSummary()
    chosen: Profile | None = profiles.profiles[profile_name] if profile_name else None
    for key in keys:
        source_key = key[len(MASTERS_PREFIX) : -len(_MASTER_SUFFIX)]
        summary.masters += 1
        try:
            head = store.head(output_bucket, key)
            profile = chosen or profiles.choose(source_key, source_metadata(source_key))
            match = {name: head.metadata[name] for name in SOURCE_FIELDS if name in head.metadata}
            master = store.read_range(output_bucket, key, None, 0, None)
            result = deliverables.deliver(
                source_key, master, profile, head.metadata, match=match, master_reused=True
            )
        except FailureReason as error:
            summary.failed.append((key, error.code))
            report(f"{source_key}: FAILED [{error.code}] {error.message}")
            continue
        summary.written += result.written
        summary.kept += len(result.outputs) - result.written
        report(
            f"{source_key}: profile {profile.name!r}, {result.written} of {len(result.outputs)} variants made"
        )
    return summary


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from cutout_tools.operations.command import _add_target_options

    parser = commands.add_parser(
        "rerender",
        help="make the variants again from the stored masters (0 API calls)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--prefix", default="", help="only sources whose key starts with this (default: all)")
    parser.add_argument("--profile", help="render this profile for every master (default: each key's own)")
    parser.add_argument(
        "--profiles",
        type=Path,
        default=DEFAULT_PROFILES,
        help="the profiles file (default: %(default)s, the one the function ships with)",
    )
    _add_target_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cutout_tools.operations.command import _guarded

    return _guarded("rerender", _run, args)


def _run(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    from cutout.profiles import ProfilesError, load_profiles
    from cutout.storage import S3ObjectStore
    from cutout.storage.objects import ObjectNotFound
    from cutout_tools.operations.command import UsageError, _target
    from cutout_tools.operations.stack import OperationsError

    stream = stream or sys.stdout
    try:
        profiles = load_profiles(args.profiles)
    except ProfilesError as error:  # a wrong file is exit 1, as `cutout profiles check` says it
        raise OperationsError(str(error)) from None
    if args.profile and args.profile not in profiles.profiles:
        raise UsageError(f"no profile {args.profile!r} in {args.profiles} (known: {profiles.known})")
    session, resources = _target(args)
    s3 = session.client("s3", endpoint_url=args.endpoint_url)
    store = S3ObjectStore(s3)

    def list_keys(prefix: str) -> Iterator[str]:
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=resources.output_bucket, Prefix=prefix
        ):
            for item in page.get("Contents", []):
                yield item["Key"]

    def source_metadata(source_key: str) -> dict[str, str]:
        try:
            return store.head(resources.input_bucket, source_key).metadata
        except ObjectNotFound:
            return {}  # the source is gone: its profile is chosen by its key alone

    started = time.monotonic()
    summary = rerender(
        store,
        resources.output_bucket,
        master_keys(list_keys, args.prefix),
        profiles,
        profile_name=args.profile,
        source_metadata=source_metadata,
        report=lambda line: print(line, file=stream, flush=True),
    )
    print(summary.line(time.monotonic() - started), file=stream)
    return 1 if summary.failed else 0
