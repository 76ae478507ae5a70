"""``cutout local run DIR``: a folder of images through the local stack, and what came out.

Uploads every file under DIR (relative paths as keys; dotfiles and README.md stay home), waits until
each upload has its one outcome — an output object whose ``source-key`` metadata names it, or a
dead-letter record for it — downloads the outputs, and writes ``summary.json`` (schema
``cutout.local-run/1``) and ``report.html``. Outcomes are observed from the outside, through S3 and
SQS, exactly as a user of the deployed stack would see them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mimetypes
import posixpath
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, unquote_plus

from cutout_tools.local_stack.stack import LocalStack

SUMMARY_SCHEMA = "cutout.local-run/1"
SUMMARY_NAME = "summary.json"
LOG_NAME = "run.log"
BACKGROUNDS = {"transparent": "TRANSPARENT", "white": "WHITE_BACKGROUND"}
SKIPPED_NAMES = {"readme.md"}
DEFAULT_TIMEOUT_SECONDS = 600.0
POLL_SECONDS = 0.5
DLQ_HIDE_SECONDS = 3600  # a record read once stays hidden for the rest of the run


def input_files(input_dir: Path) -> list[tuple[str, Path]]:
    """``(key, path)`` for every file to upload, sorted by key: no dotfiles, no README.md."""
    found = []
    for path in sorted(input_dir.rglob("*")):
        relative = path.relative_to(input_dir)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        if path.name.lower() in SKIPPED_NAMES:
            continue
        found.append((PurePosixPath(*relative.parts).as_posix(), path))
    return found


@dataclass
class Progress:
    """A one-line progress bar on a TTY; plain lines, only when something changes, otherwise."""

    total: int
    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    width: int = 30
    _last: tuple[int, int] | None = None

    def update(self, done: int, failed: int) -> None:
        if (done, failed) == self._last:
            return
        self._last = (done, failed)
        settled = done + failed
        if self.stream.isatty():
            filled = self.width * settled // max(1, self.total)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {settled}/{self.total}  done {done}  failed {failed}")
            if settled >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"progress: {settled}/{self.total} settled (done {done}, failed {failed})\n")
        self.stream.flush()

    def close(self) -> None:
        if self.stream.isatty() and self._last is not None and sum(self._last) < self.total:
            self.stream.write("\n")
            self.stream.flush()


def _same_output_stem(files: list[tuple[str, Path]]) -> dict[str, list[str]]:
    """Inputs whose cut-outs would get the same key (``a.jpg`` and ``a.png`` both make ``a.png``)."""
    by_stem: dict[str, list[str]] = {}
    for key, _ in files:
        by_stem.setdefault(posixpath.splitext(key)[0], []).append(key)
    return {stem: keys for stem, keys in by_stem.items() if len(keys) > 1}


def _source_keys_of_dead_letter(body: str) -> tuple[list[str], dict[str, Any] | None]:
    """The upload(s) a DLQ message is about: a ``cutout.failure/1`` record, or a redriven S3 event."""
    try:
        document = json.loads(body)
    except ValueError:
        return [], None
    if not isinstance(document, dict):
        return [], None
    source = document.get("source")
    if isinstance(source, dict) and isinstance(source.get("key"), str):
        return [source["key"]], document
    records = document.get("Records") or []
    keys = [
        unquote_plus(record["s3"]["object"]["key"])
        for record in records
        if isinstance(record, dict) and isinstance(record.get("s3"), dict)
    ]
    return keys, {"redriven_message": document}


def _inside(out_dir: Path, key: str) -> Path:
    """Where an output key goes under ``out_dir``; refuses keys that would land outside it."""
    target = (out_dir / key).resolve()
    if not target.is_relative_to(out_dir.resolve()):
        raise ValueError(f"output key {key!r} would be written outside {out_dir}")
    return target


@contextlib.contextmanager
def _function_output_to(log_file: IO[str]) -> Iterator[None]:
    """The function's logs and metrics (stdout in Lambda, CloudWatch's) and warnings go to the log file."""
    handlers = [
        handler
        for handler in logging.getLogger("cutout").handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    previous = [handler.setStream(log_file) for handler in handlers]
    try:
        with contextlib.redirect_stdout(log_file), contextlib.redirect_stderr(log_file):
            yield
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            if stream is not None:
                handler.setStream(stream)


def run_directory(
    input_dir: Path,
    out_dir: Path,
    *,
    background: str = "transparent",
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    port: int = 0,
    progress_stream: IO[str] | None = None,
    stack_factory: Callable[..., LocalStack] = LocalStack,
) -> dict[str, Any]:
    """Bring the stack up, process ``input_dir``, write ``out_dir``; return the summary written."""
    input_dir = input_dir.resolve()
    files = input_files(input_dir)
    if not files:
        raise ValueError(f"{input_dir} has no files to upload")
    for stem, keys in _same_output_stem(files).items():
        print(
            f"cutout local run: {', '.join(keys)} share the output name {stem}.*: one overwrites the other",
            file=progress_stream or sys.stderr,
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    progress = Progress(len(files), progress_stream or sys.stderr)  # the real stderr, before redirection
    started = time.monotonic()
    with (
        (out_dir / LOG_NAME).open("w", encoding="utf-8") as log_file,
        _function_output_to(log_file),
    ):

        def log(line: str) -> None:
            log_file.write(f"cutout local: {line}\n")
            log_file.flush()

        stack = stack_factory(
            port=port, parameter_overrides={"BackgroundType": BACKGROUNDS[background]}, log=log
        )
        with stack:
            items = _process(stack, files, out_dir, timeout_seconds, progress)
            emulator = stack.emulator.stats()
    summary = {
        "schema": SUMMARY_SCHEMA,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input_dir": str(input_dir),
        "background": BACKGROUNDS[background],
        "wall_seconds": round(time.monotonic() - started, 2),
        "totals": {
            "inputs": len(items),
            "done": sum(item["status"] == "done" for item in items),
            "failed": sum(item["status"] == "failed" for item in items),
        },
        "emulator": {"calls": emulator.get("calls", 0), "billed": emulator.get("billed", 0)},
        "items": items,
    }
    (out_dir / SUMMARY_NAME).write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return summary


def _process(
    stack: LocalStack,
    files: list[tuple[str, Path]],
    out_dir: Path,
    timeout_seconds: float,
    progress: Progress,
) -> list[dict[str, Any]]:
    facts = stack.describe()
    s3, sqs = stack.client("s3"), stack.client("sqs")
    items: dict[str, dict[str, Any]] = {}
    for key, path in files:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.put_object(Bucket=facts["input_bucket"], Key=key, Body=path.read_bytes(), ContentType=content_type)
        items[key] = {
            "key": key,
            "input_file": str(path),
            "status": "pending",
            "output_key": None,
            "output_file": None,
            "metadata": None,
            "dlq_record": None,
        }
    seen_outputs: set[str] = set()
    deadline = time.monotonic() + timeout_seconds
    try:
        while True:
            _collect_outputs(s3, facts["output_bucket"], items, seen_outputs)
            _collect_dead_letters(sqs, facts["dead_letter_queue_url"], items)
            done = sum(item["status"] == "done" for item in items.values())
            failed = sum(item["status"] == "failed" for item in items.values())
            progress.update(done, failed)
            if done + failed == len(items) or time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
    finally:
        progress.close()
    for item in items.values():
        if item["status"] == "pending":
            item["status"] = "failed"
            item["error"] = f"no outcome within {timeout_seconds:g} s"
        elif item["status"] == "done":
            target = _inside(out_dir, item["output_key"])
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(facts["output_bucket"], item["output_key"], str(target))
            item["output_file"] = target.relative_to(out_dir.resolve()).as_posix()
    return list(items.values())


def _collect_outputs(s3: Any, bucket: str, items: dict[str, dict[str, Any]], seen: set[str]) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for listed in page.get("Contents", []):
            output_key = listed["Key"]
            if output_key in seen:
                continue
            seen.add(output_key)
            metadata = s3.head_object(Bucket=bucket, Key=output_key).get("Metadata", {})
            source_key = unquote(metadata.get("source-key", ""))
            item = items.get(source_key)
            if item is not None and item["status"] == "pending":
                item.update(status="done", output_key=output_key, metadata=metadata)


def _collect_dead_letters(sqs: Any, queue_url: str, items: dict[str, dict[str, Any]]) -> None:
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=DLQ_HIDE_SECONDS
        ).get("Messages", [])
        if not messages:
            return
        for message in messages:
            keys, record = _source_keys_of_dead_letter(message["Body"])
            for key in keys:
                item = items.get(key)
                if item is not None and item["status"] == "pending":
                    item.update(status="failed", dlq_record=record)


def summary_table(summary: dict[str, Any]) -> str:
    """A short plain-text table: one line per input, then the totals."""
    rows = []
    for item in summary["items"]:
        if item["status"] == "done":
            detail = f"-> {item['output_key']}"
            score = (item.get("metadata") or {}).get("score")
            if score:
                detail += f"  (score {score})"
        else:
            record: dict[str, Any] = item.get("dlq_record") or {}
            found = record.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            detail = str(error.get("code") or item.get("error") or "dead-lettered")
            if error.get("message"):
                detail += f": {error['message']}"
        rows.append((item["key"], item["status"], detail))
    width = max([len(key) for key, _, _ in rows] + [5])
    lines = [f"{'input':<{width}}  {'status':<6}  outcome"]
    lines += [f"{key:<{width}}  {status:<6}  {detail}" for key, status, detail in rows]
    totals = summary["totals"]
    lines.append(
        f"{totals['inputs']} inputs: {totals['done']} done, {totals['failed']} failed; "
        f"{summary['emulator']['billed']} billed API calls; {summary['wall_seconds']:.1f} s"
    )
    return "\n".join(lines)
