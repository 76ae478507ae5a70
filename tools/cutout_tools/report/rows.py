"""The report's content, read from a ``cutout.local-run/1`` summary: one ``Row`` per input.

The summary comes from another process and its items from files a user dropped in a folder, so
nothing here trusts its shape: every field is read with a default, every value becomes a string the
template escapes, and a row is built for every item, whatever its status.

Rows are shown in the order a person should look at them: done rows flagged for review
(``attention.py``: low score, empty or whole-frame mask, subject cut by the frame, the quality
gate's verdict), then failures, then the other done rows, then anything else (the inputs of an
interrupted run, which have nothing to show).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutout_tools.report.attention import Flag, attention_flags, mask_facts
from cutout_tools.report.previews import NoPreview, Preview, preview
from cutout_tools.units import human_bytes, run_duration

SCHEMA = "cutout.local-run/1"
# any other status is shown as it is, as "other"; "held" (the quality gate kept it under review/)
# is a done row whose flags (the gate's reasons) put it among those to look at
STATUS_CLASSES = {"done": "done", "held": "done", "failed": "failed"}
HAS_OUTPUTS = ("done", "held")
REVIEW = "review"  # the class of a done row with attention flags
ROW_ORDER = {REVIEW: 0, "failed": 1, "done": 2, "other": 3}


@dataclass(frozen=True, slots=True)
class VariantView:
    """One deliverable of an input, as the page shows it: name, key, size, bytes and a preview."""

    name: str
    key: str
    format: str
    size: str  # "2000 × 2000", or "" when unknown
    bytes: str  # "412 KB"
    image: Preview | NoPreview


@dataclass(frozen=True, slots=True)
class Row:
    """One input: where it is on the page, its two images and what is known about it."""

    anchor: str
    key: str
    status: str
    status_class: str
    original: Preview | NoPreview
    original_size: str  # "412 KB", or "" when the file is gone
    cutout: Preview | NoPreview | None  # None: no output was expected (the input failed)
    details: list[tuple[str, str]] = field(default_factory=list)
    failure_code: str = ""
    failure_message: str = ""
    failure_details: list[tuple[str, str]] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)  # why a person should look at it (done rows)
    status_note: str = ""  # e.g. why an interrupted input has no outcome
    variants: list[VariantView] = field(default_factory=list)  # the deliverables (profiles mode)
    master_key: str = ""  # where the paid call's transparent master is kept

    @property
    def row_class(self) -> str:
        """``review`` for a done row with flags, else the status class."""
        return REVIEW if self.flags and self.status_class == "done" else self.status_class


@dataclass(frozen=True, slots=True)
class Header:
    """The run as a whole, for the top of the page."""

    schema: str
    schema_known: bool
    generated_at: str
    input_dir: str
    background: str
    wall_time: str
    inputs: int
    done: int
    failed: int
    other: int
    emulator_calls: str
    emulator_billed: str
    review: int = 0
    interrupted: bool = False
    engine_backend: str = ""
    variants: int = 0  # the deliverables made, every input's variants together


def build_header(summary: Mapping[str, Any], rows: list[Row]) -> Header:
    """The header's figures: the summary's totals when given, else counted from the rows."""
    totals = _mapping(summary.get("totals"))
    emulator = _mapping(summary.get("emulator"))
    counted = {name: sum(row.status_class == name for row in rows) for name in ("done", "failed", "other")}
    schema = _text(summary.get("schema"))
    return Header(
        schema=schema,
        schema_known=schema == SCHEMA,
        generated_at=_text(summary.get("generated_at")),
        input_dir=_text(summary.get("input_dir")),
        background=_text(summary.get("background")),
        wall_time=_seconds(summary.get("wall_seconds")),
        inputs=_count(totals.get("inputs"), len(rows)),
        done=_count(_sum(totals.get("done"), totals.get("held")), counted["done"]),
        failed=_count(totals.get("failed"), counted["failed"]),
        other=counted["other"],
        emulator_calls=_text(emulator.get("calls"), "–"),
        emulator_billed=_text(emulator.get("billed"), "–"),
        review=sum(row.row_class == REVIEW for row in rows),
        interrupted=summary.get("interrupted") is True,
        engine_backend=_text(summary.get("engine_backend")),
        variants=_count(totals.get("variants"), sum(len(row.variants) for row in rows)),
    )


def build_rows(out_dir: Path, items: object, engine_backend: str = "") -> list[Row]:
    """One row per item of the summary: flagged ones first, then failures, done, others (stable)."""
    if not isinstance(items, list):
        return []
    rows = [build_row(out_dir, index, _mapping(item), engine_backend) for index, item in enumerate(items)]
    return sorted(rows, key=lambda row: ROW_ORDER.get(row.row_class, len(ROW_ORDER)))


def build_row(out_dir: Path, index: int, item: Mapping[str, Any], engine_backend: str = "") -> Row:
    """The row of one item: previews of both images, the metadata that matters, or the failure."""
    status = _text(item.get("status"), "unknown")
    input_file = _text(item.get("input_file"))
    original_path = Path(input_file) if input_file else None
    original = preview(original_path) if original_path else NoPreview("no input file in the summary")
    metadata = _mapping(item.get("metadata"))
    dlq_record = _mapping(item.get("dlq_record"))
    error = _mapping(dlq_record.get("error"))
    # With deliverables, the cut-out shown beside the original is the master (the paid call's
    # transparent result, at the input's size); each variant is shown below them.
    output_file = _text(item.get("master_file")) or _text(item.get("output_file"))
    cutout: Preview | NoPreview | None = None
    flags: list[Flag] = []
    if output_file:
        cutout = _output_preview(out_dir, output_file)
    elif status in HAS_OUTPUTS:
        cutout = NoPreview("no output file in the summary")
    if status in HAS_OUTPUTS and isinstance(cutout, Preview):
        same_size = isinstance(original, Preview) and (original.width, original.height) == (
            cutout.width,
            cutout.height,
        )
        facts = mask_facts((out_dir.resolve() / output_file).resolve())
        flags = attention_flags(metadata, facts, same_size_as_original=same_size)
    elif status in HAS_OUTPUTS:
        flags = attention_flags(metadata, None)
    return Row(
        anchor=f"item-{index + 1}",
        key=_text(item.get("key"), "(no key)"),
        status=status,
        status_class=STATUS_CLASSES.get(status, "other"),
        original=original,
        original_size=_file_size(original_path),
        cutout=cutout,
        details=_output_details(item, metadata, engine_backend),
        failure_code=_text(error.get("code")),
        failure_message=_text(error.get("message")),
        failure_details=_failure_details(dlq_record, error),
        flags=flags,
        status_note="" if status in STATUS_CLASSES else _text(item.get("error")),
        variants=_variant_views(out_dir, item.get("outputs")),
        master_key=_text(item.get("master_key")),
    )


def _variant_views(out_dir: Path, outputs: object) -> list[VariantView]:
    """Every variant the summary lists for an input (``outputs``), in its profile's order."""
    if not isinstance(outputs, list):
        return []
    views = []
    for found in outputs:
        output = _mapping(found)
        file = _text(output.get("file"))
        width, height = _text(output.get("width")), _text(output.get("height"))
        size = output.get("bytes")
        views.append(
            VariantView(
                name=_text(output.get("variant"), "(unnamed)"),
                key=_text(output.get("key")),
                format=_text(output.get("format")).upper(),
                size=f"{width} × {height}" if width and height else "",
                bytes=human_bytes(size) if isinstance(size, int) and not isinstance(size, bool) else "",
                image=_output_preview(out_dir, file) if file else NoPreview("not downloaded"),
            )
        )
    return views


def _output_preview(out_dir: Path, output_file: str) -> Preview | NoPreview:
    """The cut-out's preview; a path that leaves ``out_dir`` is not read (the summary names files in it)."""
    root = out_dir.resolve()
    path = (root / output_file).resolve()
    if not path.is_relative_to(root):
        return NoPreview("output path outside the output folder")
    return preview(path)


def _output_details(
    item: Mapping[str, Any], metadata: Mapping[str, Any], engine_backend: str = ""
) -> list[tuple[str, str]]:
    """Score, size, engine, background, duration and ids: the metadata a person checks, in that order.

    ``engine`` is what the output's metadata says (the API the pipeline called: ``aidge``) and, for
    a local run, who answered it (``local Aidge emulator (studio engine)``).
    """
    width, height = _text(metadata.get("width")), _text(metadata.get("height"))
    engine = _text(metadata.get("engine"))
    if engine and engine_backend:
        engine = f"{engine}, answered by the {engine_backend}"
    verdict = _text(metadata.get("quality-verdict"))
    details = [
        ("score", _text(metadata.get("score"))),
        ("quality gate", verdict),
        ("size", f"{width} × {height}" if width and height else ""),
        ("engine", engine),
        ("background", _text(metadata.get("background"))),
        ("turnaround", _turnaround(item.get("seconds"))),
        ("output key", "" if item.get("outputs") else _text(item.get("output_key"))),
        ("profile", _text(item.get("profile"))),
        ("master", _text(item.get("master_key"))),
        ("source version", _text(metadata.get("source-version-id"))),
        ("request id", _text(metadata.get("request-id"))),
    ]
    return [(label, value) for label, value in details if value]


def _failure_details(dlq_record: Mapping[str, Any], error: Mapping[str, Any]) -> list[tuple[str, str]]:
    retryable = error.get("retryable")
    details = [
        ("retryable", "" if retryable is None else ("yes" if retryable else "no")),
        ("attempts", _text(dlq_record.get("attempts"))),
        ("failed", _text(dlq_record.get("failed_at"))),
        ("API code", _text(error.get("api_code"))),
        ("API message", _text(error.get("api_message"))),
        ("request id", _text(error.get("request_id"))),
    ]
    return [(label, value) for label, value in details if value]


def _turnaround(value: object) -> str:
    """Seconds from the upload to its outcome, as the run saw it (queue wait included)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    return _seconds(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object, default: str = "") -> str:
    if value is None or value == "":
        return default
    return value if isinstance(value, str) else str(value)


def _sum(*values: object) -> object:
    """The sum of the integers among ``values`` (``None`` when there is none: count the rows)."""
    numbers = [value for value in values if isinstance(value, int) and not isinstance(value, bool)]
    return sum(numbers) if numbers else None


def _count(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _seconds(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "–"
    return run_duration(value)


def _file_size(path: Path | None) -> str:
    try:
        size = path.stat().st_size if path else None
    except OSError:
        size = None
    if size is None:
        return ""
    return human_bytes(size)
