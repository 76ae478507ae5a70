"""The review page (`cutout review serve`) on the local stack: how soon it is usable, and how long
it takes with many held uploads. Prints figures; asserts nothing.

    .venv/bin/python bench/review_page.py                 # 1,000 held uploads (the issue's figure)
    .venv/bin/python bench/review_page.py --held 200      # fewer, quicker

One blank studio shot is processed by the local stack (the studio engine; the gate holds its empty
mask): its held variants, master and metadata are the template. They are copied to N uploads as
the pipeline would have written them (an original in the input bucket, the master, three held
variants with the same metadata naming that original's version), so the page reads exactly what a
stack with N held uploads holds. Then, for a stack with a handful held and for N held:

- `cutout review serve` as a subprocess: the time until it prints its address, and until the first
  page is served (the first page HEADs every held object: the cold figure);
- the page again (warm: the HEADs are kept by ETag), filtered by reason, the last page;
- headless Chromium (Debian's, via Playwright): the time until the page and its images are loaded.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cutout_tools.local_stack import LocalStack  # noqa: E402
from cutout_tools.local_stack.function_output import function_output_to  # noqa: E402
from cutout_tools.review_page.screenshot import BROWSER_ARGS, chromium  # noqa: E402


def blank_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (246, 246, 244)).save(buffer, "JPEG")
    return buffer.getvalue()


def objects(s3: Any, bucket: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


ORIGINALS = "cutout-bench-originals"  # not the input bucket: an upload there would be processed


def make_held(stack: LocalStack, count: int, start: int) -> None:
    """Copy the one held upload (bench/template.jpg) to ``count`` more, as the pipeline writes them;
    their originals go to a versioned bucket of their own, which the function does not watch."""
    facts = stack.describe()
    s3 = stack.client("s3")
    inputs, outputs = ORIGINALS, facts["output_bucket"]
    if ORIGINALS not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=ORIGINALS)
        s3.put_bucket_versioning(Bucket=ORIGINALS, VersioningConfiguration={"Status": "Enabled"})
    template = "bench/template.jpg"
    held = [key for key in objects(s3, outputs) if template in key]
    parts = {key: s3.get_object(Bucket=outputs, Key=key) for key in held}
    bodies = {
        key: (part["Body"].read(), part["Metadata"], part["ContentType"]) for key, part in parts.items()
    }
    original = blank_photo()

    def one(number: int) -> None:
        source = f"bench/item-{number:05d}.jpg"
        put = s3.put_object(Bucket=inputs, Key=source, Body=original, ContentType="image/jpeg")
        for key, (body, metadata, content_type) in bodies.items():
            copied = {
                **metadata,
                "source-bucket": ORIGINALS,
                "source-key": source.replace(" ", "%20"),
                "source-version-id": put.get("VersionId", ""),
                "source-etag": put["ETag"].strip('"'),
            }
            s3.put_object(
                Bucket=outputs,
                Key=key.replace(template, source),
                Body=body,
                Metadata=copied,
                ContentType=content_type,
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(start, start + count)))


def serve(stack: LocalStack) -> tuple[subprocess.Popen[bytes], str, float, float]:
    """`cutout review serve` started: (process, address, seconds to the address, to the first page)."""
    command = [str(Path(sys.executable).with_name("cutout")), "review", "serve", "--port", "0"]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    started = time.monotonic()
    process = subprocess.Popen(
        [*command, "--endpoint-url", stack.endpoint_url], stdout=subprocess.PIPE, env=environment
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    found = re.search(r"is at (http://\S+/)", line)
    if not found:
        process.kill()
        raise SystemExit(f"no address printed: {line!r}")
    printed = time.monotonic() - started
    answer = httpx.get(found.group(1), timeout=600)
    answer.raise_for_status()
    return process, found.group(1), printed, time.monotonic() - started


def timed_get(url: str, **params: str) -> tuple[float, int]:
    started = time.monotonic()
    answer = httpx.get(url, params=params, timeout=600)
    answer.raise_for_status()
    return time.monotonic() - started, answer.text.count('class="row review card"')


def browser_load(url: str) -> tuple[float, int]:
    """Seconds for Chromium to load the page and every image on it; the number of images loaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium()), args=list(BROWSER_ARGS))
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        started = time.monotonic()
        page.goto(url, wait_until="load", timeout=600_000)
        seconds = time.monotonic() - started
        loaded = page.evaluate(
            "Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length"
        )
        browser.close()
    return seconds, int(loaded)


def measure(stack: LocalStack, held: int, out: IO[str]) -> None:
    process, url, printed, first = serve(stack)
    try:
        warm, cards = timed_get(url)
        filtered, _ = timed_get(url, reason="empty_mask")
        pages = max(1, -(-held // 20))
        last, last_cards = timed_get(url, page=str(pages))
        chromium_seconds, images = browser_load(url)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    print(f"{held} held uploads ({held * 3} held objects; load average {os.getloadavg()[0]:.1f}):", file=out)
    print(f"  `cutout review serve` to its address printed      {printed:6.2f} s", file=out)
    print(
        f"  `cutout review serve` to the first page served    {first:6.2f} s   (cold: every object HEADed)",
        file=out,
    )
    print(f"  the page again                                    {warm:6.2f} s   ({cards} cards)", file=out)
    print(f"  filtered by reason (empty_mask)                   {filtered:6.2f} s", file=out)
    print(
        f"  the last page (page {pages})                          {last:6.2f} s   ({last_cards} cards)",
        file=out,
    )
    print(
        f"  Chromium: the page and its images loaded          {chromium_seconds:6.2f} s   ({images} images)",
        file=out,
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--held", type=int, default=1000, help="held uploads for the second figure (default 1000)"
    )
    parser.add_argument("--few", type=int, default=5, help="held uploads for the first figure (default 5)")
    args = parser.parse_args()
    out = sys.stdout  # the function's output is redirected below, this stream is not
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; the local stack (moto + "
        "the emulator) runs in this process",
        flush=True,
    )
    with (
        open(os.devnull, "w") as quiet,
        function_output_to(quiet),
        LocalStack(port=0, retry_delay_seconds=1, log=lambda _: None) as stack,
    ):
        facts = stack.describe()
        stack.client("s3").put_object(
            Bucket=facts["input_bucket"], Key="bench/template.jpg", Body=blank_photo()
        )
        stack.wait_until_idle(timeout=300)
        make_held(stack, args.few - 1, 0)
        measure(stack, args.few, out)
        started = time.monotonic()
        make_held(stack, args.held - args.few, args.few)
        print(
            f"(wrote {args.held - args.few} more held uploads in {time.monotonic() - started:.0f} s)",
            file=out,
            flush=True,
        )
        measure(stack, args.held, out)


if __name__ == "__main__":
    main()
