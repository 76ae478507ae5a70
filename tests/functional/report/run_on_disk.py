"""A small local run on disk (inputs, outputs, summary) to render reports from.

Real images, small so the tests stay fast: an object in a strong blue that the browser test looks
for in its screenshot, a transparent PNG cut-out, a cut-out on white as JPEG, an input that is not an
image, and the rows a report must survive (a key with markup in it, a missing output, a status the
report does not know). ``make_review_run`` adds the two cut-outs a person must be shown first: an
empty one (a white mug on white, fully transparent, score 0.0000) and one with a low score.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

OBJECT_BLUE = (30, 80, 220)
EMPTY_KEY = "kitchen/white mug on white.jpg"
LOW_SCORE_KEY = "bags/grey bag.jpg"
REVIEW_KEYS = (EMPTY_KEY, LOW_SCORE_KEY)
HOSTILE_KEY = "odd/<script>alert(\"x\")</script> & 'quotes' ünïcødé.jpg"


@dataclass(frozen=True, slots=True)
class RunOnDisk:
    out_dir: Path
    summary: dict[str, Any]

    @property
    def keys(self) -> list[str]:
        return [item["key"] for item in self.summary["items"]]

    @property
    def keys_in_report_order(self) -> list[str]:
        """Rows to review first, then failures, then done, then anything else (each in summary order)."""
        items = self.summary["items"]
        review = [item["key"] for item in items if item["key"] in REVIEW_KEYS]
        failed = [item["key"] for item in items if item["status"] == "failed"]
        done = [item["key"] for item in items if item["status"] == "done" and item["key"] not in REVIEW_KEYS]
        return review + failed + done


def product_photo(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A blue mug-like ring (with a hole) on a white studio background."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse((width * 0.3, height * 0.2, width * 0.7, height * 0.8), fill=OBJECT_BLUE)
    draw.ellipse((width * 0.42, height * 0.38, width * 0.58, height * 0.62), fill="white")
    return image


def transparent_cutout(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """The photo's cut-out: the blue ring on transparent pixels (white becomes transparent)."""
    photo = product_photo(size)
    white = photo.convert("L").point(lambda value: 0 if value == 255 else 255)
    photo.putalpha(white)
    return photo


def _metadata(width: int, height: int, background: str) -> dict[str, str]:
    return {
        "score": "0.9312",
        "width": str(width),
        "height": str(height),
        "engine": "aidge",
        "background": background,
        "request-id": "0b1c2d3e4f",
        "processed-at": "2025-11-23T20:00:00+00:00",
        "source-key": "ignored",
    }


def _done(key: str, input_file: Path, output_key: str, background: str) -> dict[str, Any]:
    return {
        "key": key,
        "input_file": str(input_file),
        "status": "done",
        "output_key": output_key,
        "output_file": output_key,
        "metadata": _metadata(640, 480, background),
        "dlq_record": None,
    }


def _failed(key: str, input_file: Path, code: str, message: str) -> dict[str, Any]:
    return {
        "key": key,
        "input_file": str(input_file),
        "status": "failed",
        "output_key": None,
        "output_file": None,
        "metadata": None,
        "dlq_record": {
            "schema": "cutout.failure/1",
            "source": {"bucket": "cutout-input", "key": key},
            "error": {"code": code, "message": message, "retryable": False},
            "attempts": 1,
            "failed_at": "2025-11-23T20:00:01+00:00",
        },
    }


def make_run(root: Path) -> RunOnDisk:
    """Inputs under ``root/in``, outputs and nothing else under ``root/out``; the summary to report."""
    inputs, out_dir = root / "in", root / "out"
    for folder in ("kitchen", "bags", "broken", "odd"):
        (inputs / folder).mkdir(parents=True, exist_ok=True)
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    product_photo().save(inputs / "kitchen" / "mug.jpg", quality=90)
    transparent_cutout().save(out_dir / "kitchen" / "mug.png")
    product_photo().save(inputs / "bags" / "tote bag.png")
    product_photo().save(out_dir / "bags" / "tote bag.jpg", quality=90)
    (inputs / "broken" / "notes.jpg").write_text("not a photo\n")
    product_photo().save(inputs / "odd" / "script.jpg", quality=90)
    transparent_cutout().save(out_dir / "odd" / "script.png")
    items = [
        _done("kitchen/mug.jpg", inputs / "kitchen" / "mug.jpg", "kitchen/mug.png", "TRANSPARENT"),
        _done("bags/tote bag.png", inputs / "bags" / "tote bag.png", "bags/tote bag.jpg", "WHITE_BACKGROUND"),
        _failed(
            "broken/notes.jpg",
            inputs / "broken" / "notes.jpg",
            "not_an_image",
            "The file is not an image: its first bytes match no image format.",
        ),
        _done(HOSTILE_KEY, inputs / "odd" / "script.jpg", "odd/script.png", "TRANSPARENT"),
        _failed(
            "broken/gone.jpg",
            inputs / "broken" / "gone.jpg",
            "truncated_image",
            "The JPEG file is incomplete <EOI> & cut off.",
        ),
    ]
    summary = {
        "schema": "cutout.local-run/1",
        "generated_at": "2025-11-23T20:00:02+00:00",
        "input_dir": str(inputs),
        "background": "TRANSPARENT",
        "wall_seconds": 12.3,
        "totals": {"inputs": len(items), "done": 3, "failed": 2},
        "emulator": {"calls": 3, "billed": 3},
        "items": items,
    }
    return RunOnDisk(out_dir=out_dir, summary=summary)


def make_review_run(root: Path) -> RunOnDisk:
    """``make_run`` plus an empty cut-out (score 0.0000) and a low-score one (0.46), listed last."""
    run = make_run(root)
    inputs, out_dir = root / "in", run.out_dir
    product_photo().save(inputs / "kitchen" / "white mug on white.jpg", quality=90)
    Image.new("RGBA", (640, 480), (255, 255, 255, 0)).save(out_dir / "kitchen" / "white mug on white.png")
    product_photo().save(inputs / "bags" / "grey bag.jpg", quality=90)
    transparent_cutout().save(out_dir / "bags" / "grey bag.png")
    empty = _done(
        EMPTY_KEY,
        inputs / "kitchen" / "white mug on white.jpg",
        "kitchen/white mug on white.png",
        "TRANSPARENT",
    )
    empty["metadata"]["score"] = "0.0000"
    low = _done(LOW_SCORE_KEY, inputs / "bags" / "grey bag.jpg", "bags/grey bag.png", "TRANSPARENT")
    low["metadata"]["score"] = "0.4600"
    run.summary["items"] += [empty, low]
    run.summary["totals"] = {"inputs": 7, "done": 5, "failed": 2}
    run.summary["emulator"] = {"calls": 5, "billed": 5}
    return run


# The default profile's three variants, as `cutout local run` lists them for an upload.
DELIVERABLES_KEY = "kitchen/mug.jpg"
VARIANTS = (
    ("web-transparent", "png", (250, 300)),
    ("amazon-main", "jpeg", (400, 400)),
    ("listing-webp", "webp", (200, 200)),
)


def make_deliverables_run(root: Path) -> RunOnDisk:
    """A run with the default profiles: two inputs, each with its master and three variants on disk."""
    inputs, out_dir = root / "in", root / "out"
    items = []
    for key in (DELIVERABLES_KEY, "bags/tote bag.png"):
        (inputs / key).parent.mkdir(parents=True, exist_ok=True)
        product_photo().save(inputs / key, format="JPEG" if key.endswith(".jpg") else "PNG")
        master = f"masters/{key}.png"
        (out_dir / master).parent.mkdir(parents=True, exist_ok=True)
        transparent_cutout().save(out_dir / master)
        outputs = []
        for name, fmt, size in VARIANTS:
            extension = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}[fmt]
            variant_key = f"{name}/{key}{extension}"
            (out_dir / variant_key).parent.mkdir(parents=True, exist_ok=True)
            picture = transparent_cutout(size)
            if fmt == "png":
                picture.save(out_dir / variant_key)
            else:
                flat = Image.new("RGB", size, "white")
                flat.paste(picture, mask=picture.getchannel("A"))
                flat.save(out_dir / variant_key, format=fmt.upper())
            outputs.append(
                {
                    "variant": name,
                    "key": variant_key,
                    "file": variant_key,
                    "format": fmt,
                    "width": size[0],
                    "height": size[1],
                    "bytes": (out_dir / variant_key).stat().st_size,
                }
            )
        item = _done(key, inputs / key, outputs[0]["key"], "TRANSPARENT")
        item.update(profile="standard", master_key=master, master_file=master, outputs=outputs)
        items.append(item)
    summary = {
        "schema": "cutout.local-run/1",
        "generated_at": "2025-11-23T20:00:02+00:00",
        "input_dir": str(inputs),
        "background": None,
        "mode": "deliverables",
        "wall_seconds": 8.1,
        "totals": {"inputs": 2, "done": 2, "failed": 0, "variants": 6},
        "emulator": {"calls": 2, "billed": 2},
        "items": items,
    }
    return RunOnDisk(out_dir=out_dir, summary=summary)
