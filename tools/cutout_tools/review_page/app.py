"""The review page's web app (Starlette): one page of cards, one endpoint that decides.

Safety rules, each enforced here and tested:

- **No decision by a crafted link.** ``GET`` never changes anything; a decision is a ``POST`` of
  JSON to ``/decisions`` carrying the session's token (made when the server starts, written in the
  page) in the ``X-Cutout-Token`` header. A cross-site page can neither read the token nor send
  that header or that content type without a CORS preflight this app never answers; an ``Origin``
  other than the page's own is refused too.
- **Only the names it serves.** The ``Host`` header must be one the server was started for (loopback
  names by default), so a DNS-rebinding page cannot read the token through another name.
- **Nothing secret on the page.** Images are presigned S3 GETs that expire; only the metadata a
  person judges by is shown; the page is never cached and sends no referrer.
- **Errors as sentences.** An AWS error (no credentials, access denied, endpoint down) shows as the
  sentence ``cutout dlq``/``cutout review`` print in a terminal, never as a traceback.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from cutout.announcements import EventPublisher
from cutout_tools.review_page.cards import PRESIGN_SECONDS, CardMaker
from cutout_tools.review_page.held import HeldQueue

TOKEN_HEADER = "X-Cutout-Token"  # noqa: S105 - a header name, not a secret
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_PAGE_SIZE = 20
DEFAULT_UNDO_SECONDS = 5.0
MAX_UPLOADS_PER_DECISION = 500
_HERE = Path(__file__).parent
_REPORT = _HERE.parent / "report"
_STATIC = {
    "cutout.css": (_REPORT / "cutout.css", "text/css; charset=utf-8"),
    "review.js": (_HERE / "static" / "review.js", "text/javascript; charset=utf-8"),
}
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# The page's own script and style only; images from anywhere (presigned URLs name S3's host).
_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src * data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class ReviewTarget:
    """What the page reviews: the stack's output bucket, and how decisions are announced."""

    s3: Any  # a boto3 S3 client; it signs the image URLs too: give it signature_version "s3v4"
    output_bucket: str
    publisher: EventPublisher | None  # None: the stack publishes no events
    label: str  # how the page names the stack: "stack 'shop-prod' (eu-west-1)"


@dataclass(frozen=True, slots=True)
class PageSettings:
    page_size: int = DEFAULT_PAGE_SIZE
    undo_seconds: float = DEFAULT_UNDO_SECONDS  # a decision waits this long for an undo; 0: none
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS  # Host header names served ("*": any)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))


def explain(error: Exception) -> str | None:
    """The sentence for an error an operator can meet (AWS's, ours); ``None`` for a bug."""
    from cutout.announcements.publisher import EventsNotPublished
    from cutout_tools.operations.command import _explain

    if isinstance(error, EventsNotPublished):
        return (
            "EventBridge did not take the event, so the held outputs were kept (an approval may "
            "already have copied them to their published keys): decide again to finish."
        )
    explained = _explain(error)
    return None if explained is None else explained[1]


def _unexpected(error: Exception) -> str:
    traceback.print_exception(error, file=sys.stderr)
    return (
        f"cutout review serve met an unexpected error ({type(error).__name__}); its details are in "
        "the terminal that runs it."
    )


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([_HERE, _REPORT]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def review_app(target: ReviewTarget, settings: PageSettings | None = None) -> Starlette:
    """The review page's app for ``target``."""
    settings = settings or PageSettings()
    queue = HeldQueue(target.s3, target.output_bucket)
    cards = CardMaker(target.s3, target.output_bucket)

    def page(request: Request) -> Response:
        reason = request.query_params.get("reason", "")
        prefix = request.query_params.get("prefix", "")
        number = _page_number(request.query_params.get("page", "1"))
        error = ""
        try:
            listing = queue.listing(reason=reason, prefix=prefix)
            pages = max(1, math.ceil(len(listing.groups) / settings.page_size))
            number = min(number, pages)
            start = (number - 1) * settings.page_size
            shown = cards.cards(listing.groups[start : start + settings.page_size], first_index=start)
        except Exception as failure:  # noqa: BLE001 - every error becomes a sentence on the page
            error = explain(failure) or _unexpected(failure)
            listing, pages, start, shown = None, 1, 0, []
        html = (
            _templates()
            .get_template("review.html")
            .render(
                target=target.label,
                bucket=target.output_bucket,
                token=settings.token,
                undo_seconds=settings.undo_seconds,
                announces=target.publisher is not None,
                error=error,
                cards=shown,
                matching=len(listing.groups) if listing else 0,
                total=listing.total if listing else 0,
                reason_counts=listing.reason_counts if listing else (),
                reason=reason,
                prefix=prefix,
                page=number,
                pages=pages,
                first=start + 1,
                presign_minutes=PRESIGN_SECONDS // 60,
                link=lambda **changes: _link(reason, prefix, number, **changes),
            )
        )
        return HTMLResponse(html, status_code=502 if error else 200, headers=_page_headers())

    def decide_all(action: str, uploads: list[tuple[str, dict[str, str]]]) -> list[dict[str, Any]]:
        return [_decide(target, queue, action, key, seen) for key, seen in uploads]

    async def decisions(request: Request) -> Response:
        refused = _refusal(request, settings)
        if refused is not None:
            return refused
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _refuse(400, "The request is not JSON.")
        action, uploads = _decision_request(body)
        if action is None or uploads is None:
            return _refuse(
                400,
                'Expected {"action": "approve" or "reject", "uploads": [{"key": ..., "seen": {key: etag}}]} '
                f"with 1 to {MAX_UPLOADS_PER_DECISION} uploads.",
            )
        results = await run_in_threadpool(decide_all, action, uploads)  # boto3 blocks
        return JSONResponse({"results": results}, headers=_SECURITY_HEADERS)

    def static(request: Request) -> Response:
        found = _STATIC.get(request.path_params["name"])
        if found is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        path, media_type = found
        return Response(path.read_bytes(), media_type=media_type, headers={"Cache-Control": "no-cache"})

    hosts = list(_host_names(settings.allowed_hosts))
    app = Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/decisions", decisions, methods=["POST"]),
            Route("/static/{name:str}", static, methods=["GET"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
    )
    app.state.queue = queue  # `cutout review serve` warms it up while the browser opens
    return app


def _host_names(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """TrustedHostMiddleware compares the Host header without its port; IPv6 names are bracketed."""
    names = []
    for host in hosts:
        names.append(host)
        if ":" in host and not host.startswith("["):
            names.append(f"[{host}]")
    return tuple(names)


def _page_headers() -> dict[str, str]:
    return {**_SECURITY_HEADERS, "Content-Security-Policy": _CONTENT_SECURITY_POLICY}


def _page_number(text: str) -> int:
    try:
        return max(1, int(text))
    except ValueError:
        return 1


def _link(current_reason: str, current_prefix: str, current_page: int, **changes: Any) -> str:
    """The page's address with ``changes`` (reason, prefix, page) applied; defaults left out."""
    from urllib.parse import urlencode

    query = {"reason": current_reason, "prefix": current_prefix, "page": current_page, **changes}
    kept = {name: value for name, value in query.items() if value not in ("", None, 1)}
    return "/?" + urlencode(kept) if kept else "/"


def _refuse(status: int, sentence: str) -> JSONResponse:
    return JSONResponse({"error": sentence}, status_code=status, headers=_SECURITY_HEADERS)


def _refusal(request: Request, settings: PageSettings) -> JSONResponse | None:
    """Why this POST is not a decision from the page (``None``: it is)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _refuse(415, "A decision is JSON sent by the review page (Content-Type: application/json).")
    given = request.headers.get(TOKEN_HEADER, "")
    if not given or not hmac.compare_digest(given.encode(), settings.token.encode()):
        return _refuse(
            403,
            "This decision does not carry this session's token: decide from the page that "
            "`cutout review serve` serves now (reload it if the server was restarted).",
        )
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin != own:
        return _refuse(403, f"A decision from another site ({origin}) is refused.")
    return None


def _decision_request(body: object) -> tuple[str | None, list[tuple[str, dict[str, str]]] | None]:
    """``(action, [(key, seen)])`` from a decision's JSON, or ``(None, None)`` if it is not one."""
    try:
        return _parsed_decision(body)
    except (TypeError, ValueError):
        return None, None


def _parsed_decision(body: object) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    if not isinstance(body, Mapping):
        raise TypeError("not an object")
    action, uploads = body.get("action"), body.get("uploads")
    if action not in ("approve", "reject") or not isinstance(uploads, list):
        raise ValueError("no action or no uploads")
    if not 1 <= len(uploads) <= MAX_UPLOADS_PER_DECISION:
        raise ValueError("too few or too many uploads")
    parsed = []
    for upload in uploads:
        if not isinstance(upload, Mapping):
            raise TypeError("an upload is not an object")
        key, seen = upload.get("key"), upload.get("seen")
        if not isinstance(key, str) or not key or not isinstance(seen, Mapping) or not seen:
            raise ValueError("an upload without its key or what was seen")
        if not all(isinstance(name, str) and isinstance(etag, str) for name, etag in seen.items()):
            raise TypeError("seen is not key → ETag")
        parsed.append((key, dict(seen)))
    return str(action), parsed


def _decide(
    target: ReviewTarget, queue: HeldQueue, action: str, key: str, seen: dict[str, str]
) -> dict[str, Any]:
    """One upload's decision, through the code path of ``cutout review approve|reject``."""
    from cutout_tools.review_decisions import StaleDecision, approve_upload, reject_upload

    decide = approve_upload if action == "approve" else reject_upload
    try:
        decision = decide(target.s3, target.output_bucket, key, target.publisher, seen=seen)
    except StaleDecision as stale:
        queue.forget(seen)
        return {"key": key, "outcome": "stale", "message": str(stale)}
    except Exception as error:  # noqa: BLE001 - the card says what went wrong, as a sentence
        queue.forget(seen)
        return {"key": key, "outcome": "error", "message": explain(error) or _unexpected(error)}
    queue.forget(seen)
    detail_type = decision.announcement.detail_type
    count = len(decision.keys)
    if action == "approve":
        message = f"Approved: {count} output(s) published"
    else:
        message = f"Rejected: {count} held output(s) deleted"
    message += (
        f"; announced {detail_type}." if decision.announced else "; no event (the stack publishes none)."
    )
    return {
        "key": key,
        "outcome": "approved" if action == "approve" else "rejected",
        "message": message,
        "keys": list(decision.keys),
        "event": detail_type if decision.announced else None,
        "event_id": decision.announcement.detail.get("id") if decision.announced else None,
    }
