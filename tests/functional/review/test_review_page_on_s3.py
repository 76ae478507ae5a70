"""The review page's app on moto's S3 and EventBridge (in process, Starlette's TestClient): one card
per held upload, newest first, filtered and paged; a decision is `cutout review approve|reject`'s,
announced; a decision on what is no longer held as shown is refused and changes nothing."""

from __future__ import annotations

import io
import json
import re
import time
import warnings
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cutout.announcements import FAILED, PROCESSED, EventBridgePublisher
from cutout.profiles import parse_profiles
from cutout.storage import S3ObjectStore
from cutout_tools.review_decisions import approve_upload
from cutout_tools.review_page.app import TOKEN_HEADER, PageSettings, ReviewTarget, review_app
from cutout_tools.unattended.event_queue import EventQueue
from tests.fakes import RecordingEventPublisher, image_bytes
from tests.functional.review.test_review_decisions_announced import PROFILES, keys, read, world
from tests.unit.pipeline.harness import OUTPUT, build_harness
from tests.unit.pipeline.test_budget_pause_and_events import BlankEngine

with warnings.catch_warnings():  # Starlette 1.x prefers "httpx2"; the pinned httpx is the one we ship
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

__all__ = ["world"]  # the fixture, shared with the review decisions' tests
TOKEN = "session-token"
World = tuple[Any, str, str, EventQueue]


def hold(s3: Any, bucket: str, key: str) -> None:
    """A real conductor holds ``key`` (an empty mask, two variants); its outputs (the master, the held
    variants) are written to moto's S3 as the pipeline wrote them."""
    harness = build_harness(
        BlankEngine(), profiles=parse_profiles(PROFILES), publisher=RecordingEventPublisher()
    )
    harness.process(harness.upload(key, image_bytes(width=300, height=200)))
    store = S3ObjectStore(s3)
    for (where, stored_key), stored in harness.store.objects.items():
        if where == OUTPUT:
            tags = harness.store.tags.get((OUTPUT, stored_key))
            store.put(
                bucket, stored_key, io.BytesIO(stored.data), stored.content_type, stored.metadata, tags=tags
            )


@pytest.fixture
def page(world: World) -> tuple[TestClient, World]:
    _, bucket, bus, _ = world
    signing = boto3.client("s3", config=Config(signature_version="s3v4"))  # as `cutout review serve`'s
    target = ReviewTarget(signing, bucket, EventBridgePublisher(boto3.client("events"), bus), "stack 'test'")
    app = review_app(target, PageSettings(token=TOKEN, undo_seconds=0, page_size=2))
    return TestClient(app, base_url="http://127.0.0.1:4598"), world


def cards(html: str) -> list[dict[str, str]]:
    """Each card's held key, seen ETags, shown key and reasons, in page order."""
    found = re.findall(
        r'<article class="row review card" id="card-\d+" data-key="([^"]*)" data-seen="([^"]*)" '
        r'data-reasons="([^"]*)"[^>]*>\s*<h2>.*?<span class="key">([^<]*)</span>',
        html,
        flags=re.DOTALL,
    )
    unescape = lambda text: text.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")  # noqa: E731
    return [
        {"key": unescape(key), "seen": unescape(seen), "reasons": reasons, "shown": unescape(shown)}
        for key, seen, reasons, shown in found
    ]


def decide(client: TestClient, action: str, *chosen: dict[str, str]) -> list[dict[str, Any]]:
    body = {
        "action": action,
        "uploads": [{"key": card["key"], "seen": json.loads(card["seen"])} for card in chosen],
    }
    answer = client.post(
        "/decisions",
        content=json.dumps(body),
        headers={"Content-Type": "application/json", TOKEN_HEADER: TOKEN},
    )
    assert answer.status_code == 200, answer.text
    results: list[dict[str, Any]] = answer.json()["results"]
    return results


def test_each_held_upload_is_one_card_with_its_master_and_variants_newest_first(
    page: tuple[TestClient, World],
) -> None:
    # Given two uploads held by the gate, one after the other
    client, (s3, bucket, _, _) = page
    hold(s3, bucket, "shoes/red shoe.jpg")
    time.sleep(1.1)  # S3's LastModified has a one-second resolution
    hold(s3, bucket, "bags/tote.jpg")
    # When the page is loaded
    html = client.get("/").text
    # Then there is one card per upload, the newer first, each naming every held output it covers
    shown = cards(html)
    assert [card["shown"] for card in shown] == ["bags/tote.jpg", "shoes/red shoe.jpg"]
    assert sorted(json.loads(shown[1]["seen"])) == [
        "review/site/shoes/red shoe.jpg.png",
        "review/thumb/shoes/red shoe.jpg.webp",
    ]
    assert shown[1]["reasons"] == "empty_mask"
    # And each image is a short-lived presigned URL: the master (checkerboard) and both variants
    assert html.count('data-variant="site"') == 2
    assert html.count("X-Amz-Expires=900") >= 6  # 2 × (master + 2 variants); the originals are not in moto
    assert re.search(r'class="frame checker"><img src="[^"]*masters/shoes/red%20shoe.jpg.png\?', html)
    assert "almost nothing was kept as subject" in html


def test_the_page_filters_by_reason_and_prefix_and_pages(page: tuple[TestClient, World]) -> None:
    # Given three held uploads (page size 2)
    client, (s3, bucket, _, _) = page
    for key in ("shoes/a.jpg", "shoes/b.jpg", "bags/c.jpg"):
        hold(s3, bucket, key)
    # When the page is filtered by prefix, by a reason none has, and paged
    shoes = cards(client.get("/", params={"prefix": "shoes/"}).text)
    by_variant = cards(client.get("/", params={"prefix": "thumb/bags/"}).text)
    low_score = client.get("/", params={"reason": "low_score"}).text
    first, second = (cards(client.get("/", params={"page": n}).text) for n in (1, 2))
    # Then each shows what matches (a published key's prefix finds its upload too)
    assert sorted(card["shown"] for card in shoes) == ["shoes/a.jpg", "shoes/b.jpg"]
    assert [card["shown"] for card in by_variant] == ["bags/c.jpg"]
    assert cards(low_score) == []
    assert "Nothing is held that matches this filter" in low_score
    # And the pages split the three, two then one, none twice
    assert (len(first), len(second)) == (2, 1)
    assert {card["shown"] for card in first + second} == {"shoes/a.jpg", "shoes/b.jpg", "bags/c.jpg"}


def test_approving_from_the_page_publishes_and_announces_processed(page: tuple[TestClient, World]) -> None:
    # Given a held upload shown on the page
    client, (s3, bucket, _, queue) = page
    hold(s3, bucket, "shoes/red shoe.jpg")
    (card,) = cards(client.get("/").text)
    # When it is approved from the page
    (result,) = decide(client, "approve", card)
    (event,) = read(queue, expected=1)
    # Then its variants are published, nothing is left held, the card says so, and Processed is announced
    assert result["outcome"] == "approved"
    assert result["message"] == f"Approved: 2 output(s) published; announced {PROCESSED}."
    published = ["site/shoes/red shoe.jpg.png", "thumb/shoes/red shoe.jpg.webp"]
    assert [key for key in keys(s3, bucket) if not key.startswith("masters/")] == published
    assert event["detail-type"] == PROCESSED
    assert event["detail"]["id"] == result["event_id"]
    # And the page no longer shows it
    assert cards(client.get("/").text) == []


def test_rejecting_a_selection_deletes_them_and_announces_failed_for_each(
    page: tuple[TestClient, World],
) -> None:
    # Given two held uploads
    client, (s3, bucket, _, queue) = page
    hold(s3, bucket, "shoes/a.jpg")
    hold(s3, bucket, "shoes/b.jpg")
    shown = cards(client.get("/").text)
    # When both are rejected in one decision
    results = decide(client, "reject", *shown)
    events = read(queue, expected=2)
    # Then both are deleted (the masters stay: they are not held) and each is announced as Failed
    assert [result["outcome"] for result in results] == ["rejected", "rejected"]
    assert [key for key in keys(s3, bucket) if not key.startswith("masters/")] == []
    assert sorted(event["detail"]["source"]["key"] for event in events) == ["shoes/a.jpg", "shoes/b.jpg"]
    assert {event["detail-type"] for event in events} == {FAILED}


def test_a_decision_made_elsewhere_meanwhile_is_refused_and_changes_nothing(
    page: tuple[TestClient, World],
) -> None:
    # Given a held upload shown on the page, then approved elsewhere (`cutout review approve`)
    client, (s3, bucket, _, queue) = page
    hold(s3, bucket, "shoes/red shoe.jpg")
    (card,) = cards(client.get("/").text)
    approve_upload(s3, bucket, card["key"], None)
    before = keys(s3, bucket)
    # When the page rejects it
    (result,) = decide(client, "reject", card)
    # Then the page's decision is refused with a sentence, and nothing changed or was announced
    assert result["outcome"] == "stale"
    assert result["message"].startswith("Already decided elsewhere")
    assert keys(s3, bucket) == before
    assert queue.read(wait_seconds=0) == []


def test_a_decision_on_a_cut_out_held_anew_since_is_refused(page: tuple[TestClient, World]) -> None:
    # Given a held upload shown on the page, whose held variant is then replaced (held anew)
    client, (s3, bucket, _, queue) = page
    hold(s3, bucket, "shoes/red shoe.jpg")
    (card,) = cards(client.get("/").text)
    held = "review/site/shoes/red shoe.jpg.png"
    head = s3.head_object(Bucket=bucket, Key=held)
    s3.put_object(Bucket=bucket, Key=held, Body=b"another cut-out", Metadata=head["Metadata"])
    # When the page approves what it showed
    (result,) = decide(client, "approve", card)
    # Then it is refused, nothing was published, nothing announced
    assert result["outcome"] == "stale"
    assert result["message"].startswith("Changed since this page was loaded")
    assert "site/shoes/red shoe.jpg.png" not in keys(s3, bucket)
    assert queue.read(wait_seconds=0) == []
