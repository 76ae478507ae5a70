"""Read a rendered report back (ours, or Chromium's ``--dump-dom``) with the standard HTML parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass(slots=True)
class ReportRow:
    status: str
    classes: list[str]
    anchor: str = ""
    flags: list[str] = field(default_factory=list)
    key: str = ""
    image_sources: list[str] = field(default_factory=list)
    frame_classes: list[list[str]] = field(default_factory=list)
    text: str = ""


@dataclass(slots=True)
class ReportPage:
    rows: list[ReportRow] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    external_references: list[str] = field(default_factory=list)
    text: str = ""


class _ReportParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ReportPage()
        self._row: ReportRow | None = None
        self._in_key = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        classes = attributes.get("class", "").split()
        self.page.tags.append(tag)
        for name in ("src", "href"):
            value = attributes.get(name, "")
            if value and not value.startswith(("data:", "#")):
                self.page.external_references.append(value)
        if tag == "article" and "row" in classes:
            self._row = ReportRow(
                status=attributes.get("data-status", ""),
                classes=classes,
                anchor=attributes.get("id", ""),
                flags=attributes.get("data-flags", "").split(),
            )
            self.page.rows.append(self._row)
        if self._row is None:
            return
        if tag == "span" and "key" in classes:
            self._in_key = True
        if tag == "div" and "frame" in classes:
            self._row.frame_classes.append(classes)
        if tag == "img":
            self._row.image_sources.append(attributes.get("src", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_key = False
        if tag == "article":
            self._row = None

    def handle_data(self, data: str) -> None:
        self.page.text += data
        if self._row is not None:
            self._row.text += data
            if self._in_key:
                self._row.key += data


def parse_report(html: str) -> ReportPage:
    parser = _ReportParser()
    parser.feed(html)
    parser.close()
    return parser.page
