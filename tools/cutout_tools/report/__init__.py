"""The run report of ``cutout local run``: one self-contained HTML page per run.

``write_report(out_dir, summary)`` turns the run's ``summary.json`` (schema ``cutout.local-run/1``)
into ``out_dir/report.html``: each input's original beside its cut-out (transparency on a
checkerboard), the metadata that matters, and every failure with its reason code and message.
"""

from cutout_tools.report.previews import PREVIEW_MAX_SIDE, NoPreview, Preview, preview
from cutout_tools.report.rows import SCHEMA
from cutout_tools.report.writer import REPORT_NAME, render_report, write_report

__all__ = [
    "PREVIEW_MAX_SIDE",
    "REPORT_NAME",
    "SCHEMA",
    "NoPreview",
    "Preview",
    "preview",
    "render_report",
    "write_report",
]
