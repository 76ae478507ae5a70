"""``write_report``: ``summary.json`` of a local run → a self-contained ``report.html`` next to it.

The page is rendered from ``report.html`` (a Jinja2 template in this package) with autoescaping on:
keys are whatever a user named their files (``<``, ``&``, quotes, unicode), and error messages
quote them, so no string reaches the page unescaped. Images are inlined as data URIs and the CSS is
in the page: the file opens on its own, offline, with no fonts, scripts or styles fetched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from cutout_tools.report.attention import LOW_SCORE
from cutout_tools.report.events import event_counts
from cutout_tools.report.previews import PREVIEW_MAX_SIDE
from cutout_tools.report.rows import SCHEMA, build_header, build_rows

REPORT_NAME = "report.html"
TEMPLATE_NAME = "report.html"


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(TEMPLATE_NAME)


def render_report(out_dir: Path, summary: Mapping[str, Any]) -> str:
    """The report's HTML for ``summary`` (output files are read relative to ``out_dir``)."""
    engine_backend = summary.get("engine_backend")
    rows = build_rows(
        out_dir, summary.get("items"), engine_backend if isinstance(engine_backend, str) else ""
    )
    return _template().render(
        header=build_header(summary, rows),
        rows=rows,
        review_rows=[row for row in rows if row.row_class == "review"],
        failed_rows=[row for row in rows if row.status_class == "failed"],
        other_rows=[row for row in rows if row.status_class == "other"],
        low_score=LOW_SCORE,
        schema=SCHEMA,
        preview_side=PREVIEW_MAX_SIDE,
        events=event_counts(summary),
    )


def write_report(out_dir: Path, summary: dict[str, Any]) -> Path:
    """Write ``out_dir/report.html`` for ``summary`` and return its path.

    Written to a temporary file and renamed, so a browser never opens half a report.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    page = render_report(out_dir, summary)
    target = out_dir / REPORT_NAME
    descriptor, temporary = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=out_dir)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(page)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
