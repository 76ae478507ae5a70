"""`cutout review serve` on the local stack, driven in headless Chromium (Debian's, through
Playwright): the held uploads' cards render with their images loaded; approving publishes and
announces `Cutout Image Processed`; rejecting deletes and announces `Cutout Image Failed`; the
keyboard path (next, approve, undo, reject) works; a decision made elsewhere meanwhile is refused."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from cutout.announcements import FAILED, NEEDS_REVIEW, PROCESSED
from cutout_tools.cli import main as cutout
from cutout_tools.local_stack import LocalStack
from cutout_tools.review_page.screenshot import BROWSER_ARGS  # the flags the demo's screenshot uses
from cutout_tools.unattended.event_queue import EventQueue, local_queue_url
from tests.e2e.support import cutout_command, wait_for
from tests.functional.report.chromium import chromium_or_skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
    pytest.mark.filterwarnings("ignore:Tried to parse AWS::"),
]

# Each test decides its own upload; all are held by the gate (empty studio shots: an empty mask).
HELD = ("shoes/approve.jpg", "shoes/keyboard.jpg", "bags/stale.jpg", "bags/look.jpg")
VARIANTS = ("amazon-main", "listing-webp", "web-transparent")  # the template's default profile
UNDO_SECONDS = 2


def blank_photo(shade: int) -> bytes:
    """An empty studio shot: nothing to cut out (the quality gate holds its empty mask)."""
    buffer = io.BytesIO()
    Image.new("RGB", (480, 360), (shade, shade, shade - 2)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """The local stack with every upload of HELD held for review."""
    with LocalStack(port=0, retry_delay_seconds=1, log=lambda _: None) as running:
        facts = running.describe()
        s3 = running.client("s3")
        for shade, key in enumerate(HELD):
            s3.put_object(Bucket=facts["input_bucket"], Key=key, Body=blank_photo(240 + shade))
        running.wait_until_idle(timeout=300)
        held = {item["Key"] for item in s3.list_objects_v2(Bucket=facts["output_bucket"]).get("Contents", [])}
        assert {f"review/{variant}/{key}" for key in HELD for variant in VARIANTS} <= {
            re.sub(r"\.(jpg|png|webp)$", "", name) for name in held
        }
        yield running


@pytest.fixture(scope="module")
def review_page(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`cutout review serve --endpoint-url … --port 0` in a subprocess; yields the address it printed."""
    folder = tmp_path_factory.mktemp("review-serve")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    with (folder / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(
            cutout_command(
                "review",
                "serve",
                "--endpoint-url",
                stack.endpoint_url,
                "--port",
                "0",
                "--undo-seconds",
                str(UNDO_SECONDS),
            ),
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=environment,
        )
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        found = re.search(r"is at (http://127\.0\.0\.1:\d+/)", line)
        assert found, f"no address in {line!r}: {(folder / 'stderr.txt').read_text()[-2000:]}"
        try:
            yield found.group(1)
        finally:
            process.send_signal(signal.SIGINT)
            returncode = process.wait(timeout=60)
    # Then, after Ctrl-C, it stopped cleanly and said so
    assert returncode == 0, (folder / "stderr.txt").read_text()[-2000:]
    assert "cutout review serve: stopped" in (folder / "stderr.txt").read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=list(BROWSER_ARGS))
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, review_page: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    opened = context.new_page()
    opened.goto(review_page)
    yield opened
    context.close()


@pytest.fixture(scope="module")
def events(stack: LocalStack) -> EventQueue:
    sqs = stack.client("sqs")
    return EventQueue(sqs, local_queue_url(sqs, stack.describe()["events_queue_url"]))


class Announced:
    """Every event read from the stack's events queue so far (each is read once)."""

    def __init__(self, queue: EventQueue) -> None:
        self.queue = queue
        self.seen: list[dict[str, Any]] = []

    def of(self, key: str) -> list[str]:
        self.seen += self.queue.read(wait_seconds=1)
        return [event["detail-type"] for event in self.seen if event["detail"]["source"]["key"] == key]


@pytest.fixture(scope="module")
def announced(events: EventQueue) -> Announced:
    return Announced(events)


def card_of(page: Any, key: str) -> Any:
    return page.locator(
        "article.card", has=page.locator("span.key", has_text=re.compile(f"^{re.escape(key)}$"))
    )


def output_keys(stack: LocalStack) -> set[str]:
    answer = stack.client("s3").list_objects_v2(Bucket=stack.describe()["output_bucket"])
    return {item["Key"] for item in answer.get("Contents", [])}


def test_every_held_upload_is_a_card_with_its_images_loaded(page: Any, tmp_path: Path) -> None:
    # Given the review page of the local stack with the held uploads
    # When Chromium has loaded it
    page.wait_for_load_state("networkidle")
    # Then there is one card per held upload, each with its reasons and score
    keys = page.locator("article.card span.key").all_inner_texts()
    assert sorted(keys) == sorted(HELD)
    assert page.locator("article.card[data-reasons~=empty_mask]").count() == len(HELD)
    # And each card's original, master and three variants were loaded by the browser from S3
    images = page.evaluate(
        """Array.from(document.querySelectorAll('article.card')).map(card => ({
             key: card.querySelector('span.key').textContent,
             loaded: Array.from(card.querySelectorAll('img'))
               .map(i => [i.alt, i.complete && i.naturalWidth > 0]),
           }))"""
    )
    for card in images:
        assert [alt.split(" of ")[0] for alt, _ in card["loaded"]] == ["original", "master", *VARIANTS]
        assert all(loaded for _, loaded in card["loaded"]), card
    page.screenshot(path=str(tmp_path / "review-page.png"))


def test_approving_a_card_publishes_its_variants_and_announces_processed(
    page: Any, stack: LocalStack, announced: Announced
) -> None:
    # Given the card of a held upload
    card = card_of(page, "shoes/approve.jpg")
    # When its Approve button is clicked (and the undo window passes)
    card.locator("button[data-action=approve]").click()
    # Then the card says what happened
    outcome = card.locator(".outcome[data-outcome=approved]")
    outcome.wait_for(timeout=60_000)
    assert outcome.inner_text() == f"Approved: 3 output(s) published; announced {PROCESSED}."
    # And every variant is at its published key, none is held, and Processed was announced
    keys = output_keys(stack)
    assert {key for key in keys if "shoes/approve.jpg" in key and key.startswith("review/")} == set()
    assert {f"{variant}/shoes/approve.jpg" for variant in VARIANTS} <= {
        re.sub(r"\.\w+$", "", k) for k in keys
    }
    assert wait_for(lambda: PROCESSED in announced.of("shoes/approve.jpg"), what="Processed")


def test_the_keyboard_moves_approves_undoes_and_rejects(
    page: Any, stack: LocalStack, announced: Announced
) -> None:
    # Given the page, its first card current, and the held upload to decide somewhere on it
    keys = page.locator("article.card span.key").all_inner_texts()
    target = keys.index("shoes/keyboard.jpg")
    card = card_of(page, "shoes/keyboard.jpg")
    # When j moves down to it, a approves, u undoes that at once, then r rejects
    for _ in range(target):
        page.keyboard.press("j")
    assert "current" in (card.get_attribute("class") or "")
    page.keyboard.press("a")
    page.keyboard.press("u")
    assert card.locator(".outcome").inner_text() == "Undone: still held."
    card.focus()
    page.keyboard.press("r")
    # Then the card is rejected (not approved: the undone approval was never sent)
    outcome = card.locator(".outcome[data-outcome=rejected]")
    outcome.wait_for(timeout=60_000)
    assert outcome.inner_text() == f"Rejected: 3 held output(s) deleted; announced {FAILED}."
    # And nothing of it is held or published, and only Failed was announced for it
    assert not {
        key for key in output_keys(stack) if "shoes/keyboard.jpg" in key and not key.startswith("masters/")
    }
    assert wait_for(lambda: FAILED in announced.of("shoes/keyboard.jpg"), what="Failed")
    assert [kind for kind in announced.of("shoes/keyboard.jpg") if kind != NEEDS_REVIEW] == [FAILED]


def test_a_decision_made_elsewhere_meanwhile_is_refused_with_a_clear_message(
    page: Any, stack: LocalStack, announced: Announced
) -> None:
    # Given the card of a held upload on the page, then approved in a terminal meanwhile
    card = card_of(page, "bags/stale.jpg")
    held_key = card.get_attribute("data-key")
    assert cutout(["review", "approve", held_key, "--endpoint-url", stack.endpoint_url]) == 0
    published = {key for key in output_keys(stack) if "bags/stale.jpg" in key}
    # When the page rejects it
    card.locator("button[data-action=reject]").click()
    # Then the card says it was decided elsewhere, and nothing was deleted or announced as Failed
    outcome = card.locator(".outcome[data-outcome=stale]")
    outcome.wait_for(timeout=60_000)
    assert outcome.inner_text().startswith("Already decided elsewhere")
    assert {key for key in output_keys(stack) if "bags/stale.jpg" in key} == published
    assert wait_for(lambda: PROCESSED in announced.of("bags/stale.jpg"), what="the terminal's Processed")
    assert FAILED not in announced.of("bags/stale.jpg")
