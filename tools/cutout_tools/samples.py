"""Generate ``samples/``: the demo's product photos, and the inputs that must fail validation.

Run ``make samples`` (``python -m cutout_tools.samples [DIR]``). The result is committed, so the demo
needs neither npm nor cairosvg; this module only regenerates it, identically on every machine (one
seeded generator per file).

The objects are emoji from the MIT-licensed npm package ``fluentui-emoji`` rendered with cairosvg,
composited onto generated studio backgrounds. That compositing is the studio engine's evaluation set's
(``bench/evalset/generate.py``: ``render_object``, ``make_background``, ``contact_shadow``,
``emoji_dir``), loaded from the checkout by path so the samples and the benchmark show the engine
the same kind of photo. What this module adds is the choice of each sample (object, background,
shadow, noise, format, size) so the demo covers every background the engine handles, and the three
broken inputs.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image
from scipy import ndimage

REPO_ROOT = Path(__file__).resolve().parents[2]
EVALSET_GENERATOR = REPO_ROOT / "bench" / "evalset" / "generate.py"
DEFAULT_SAMPLES_DIR = REPO_ROOT / "samples"
SEED = 20251123
BROKEN_SEED_OFFSET = 14  # the broken inputs' generators follow the first fourteen products' (fixed: adding a
# product must not change them)


@dataclass(frozen=True, slots=True)
class ProductSample:
    """A valid sample: which emoji on which background, and how the photo is saved."""

    path: str  # relative to samples/, with "/" (it is the S3 key the demo uploads)
    emoji: str  # the SVG's name in fluentui-emoji's icons/modern/
    background: str  # a kind of bench/evalset's make_background
    width: int
    height: int
    object_scale: float  # the object's longest side, as a share of the photo's shorter side
    shadow: bool  # a soft contact shadow under the object (background: the engine must leave it out)
    noise: float  # standard deviation of the sensor noise, in [0, 1] units
    quality: int  # JPEG or WebP quality; ignored for PNG
    note: str  # what this sample shows (copied to samples/README.md)
    variant: str = "colour"  # bench/evalset's recolour: "colour" (as drawn) or a neutral variant
    surface: str | None = None  # a photo-like tabletop (SURFACES) instead of studio paper
    trusted: bool = True  # the studio engine cuts it out and says so; False: it says to look at it


@dataclass(frozen=True, slots=True)
class BrokenSample:
    """An input that must fail validation, with the reason code the pipeline must give."""

    path: str
    expected_code: str
    note: str


PRODUCTS = (
    ProductSample("kitchen/mug.jpg", "hot-beverage", "white", 1200, 1200, 0.7, True, 0.004, 90,
                  "pure white, contact shadow; the handle is a hole"),
    ProductSample("kitchen/théière.png", "teapot", "off_white", 900, 900, 0.72, True, 0.0, 0,
                  "off-white with a slight tilt; a handle hole; PNG; a unicode key"),
    ProductSample("kitchen/beer-mug.webp", "beer-mug", "grey_sweep", 1000, 1250, 0.6, True, 0.004, 86,
                  "grey seamless paper with a sweep; a handle hole; WebP"),
    ProductSample("bags/tote bag.jpg", "handbag", "grey_sweep", 1600, 1200, 0.75, True, 0.005, 88,
                  "grey seamless paper; the handle is a hole; a key with a space"),
    ProductSample("bags/backpack.webp", "backpack", "pastel", 1200, 1600, 0.7, True, 0.004, 85,
                  "pastel paper; portrait; WebP"),
    ProductSample("bags/shopping-bags.jpg", "shopping-bags", "vignette", 1400, 1050, 0.72, False, 0.005, 88,
                  "vignette; two handle holes"),
    ProductSample("shoes/running-shoe.jpg", "running-shoe", "off_white", 1600, 1200, 0.68, True, 0.004, 90,
                  "off-white, long contact shadow under a flat object"),
    ProductSample("shoes/high-heel.webp", "high-heeled-shoe", "pastel", 1200, 900, 0.7, True, 0.004, 85,
                  "pastel paper; the arch under the heel is background"),
    ProductSample("accessories/sunglasses.jpg", "sunglasses", "white", 1200, 800, 0.75, False, 0.02, 55,
                  "white with heavy sensor noise and strong JPEG artefacts (quality 55)"),
    ProductSample("accessories/watch.png", "watch", "vignette", 800, 800, 0.7, True, 0.0, 0,
                  "vignette; PNG; the smallest valid size here"),
    ProductSample("accessories/old-key.jpg", "old-key", "grey_sweep", 1200, 900, 0.6, False, 0.006, 80,
                  "grey sweep; a thin object with a ring hole"),
    ProductSample("home/trophy.jpg", "trophy", "vignette", 1000, 1333, 0.65, True, 0.005, 88,
                  "vignette with a contact shadow; two handle holes"),
    ProductSample("home/teddy-bear.webp", "teddy-bear", "off_white", 1200, 1200, 0.7, True, 0.004, 85,
                  "off-white; a soft, furry edge"),
    ProductSample("home/basket.jpg", "basket", "pastel", 1400, 1050, 0.7, True, 0.005, 86,
                  "pastel paper; a woven basket with a handle hole"),
    # Neutral products (issue 14): the goods a studio shoots most, which a colour test alone cannot cut out
    ProductSample("neutral/grey-hiking-boot.jpg", "hiking-boot", "white", 1200, 1200, 0.7, True, 0.004, 88,
                  "a grey boot on white: its body is the colour of its own shadow", variant="greyscale"),
    ProductSample("neutral/white-sneaker.jpg", "running-shoe", "off_white", 1400, 1050, 0.7, True, 0.004, 88,
                  "a near-white sneaker on off-white", variant="near_white"),
    ProductSample("neutral/steel-teapot.jpg", "teapot", "grey_sweep", 1000, 1250, 0.65, True, 0.004, 88,
                  "brushed steel on grey seamless paper; a handle hole", variant="silver"),
    ProductSample("neutral/black-handbag.jpg", "handbag", "vignette", 1200, 1200, 0.7, True, 0.004, 88,
                  "a near-black bag on a vignette; the handle is a hole", variant="near_black"),
    # Photo-like scenes: a textured tabletop, a light from one side, a soft cast shadow
    ProductSample("scenes/linen-grey-mug.jpg", "hot-beverage", "linen", 1600, 1200, 0.55, True, 0.006, 85,
                  "a grey mug on linen, lit from the left: a woven texture and a long soft shadow",
                  variant="greyscale", surface="linen", trusted=False),
    ProductSample("scenes/oak-silver-watch.jpg", "watch", "oak", 1600, 1200, 0.5, True, 0.006, 85,
                  "a steel watch on an oak table, lit from the right: wood grain and a soft shadow",
                  variant="silver", surface="oak", trusted=False),
    ProductSample("scenes/concrete-black-camera.jpg", "camera", "concrete", 1600, 1200, 0.55, True, 0.006, 85,
                  "a black camera on pale concrete: a speckled surface and a soft shadow",
                  variant="near_black", surface="concrete"),
)  # fmt: skip
# Top folders the generator writes: regeneration rewrites its own files there and never deletes
# anything (other folders, e.g. samples/uploads/, are someone else's).
GENERATED_FOLDERS = frozenset(sample.path.split("/")[0] for sample in PRODUCTS) | {"broken"}

BROKEN = (
    BrokenSample("broken/too-small.png", "image_too_small",
                 "a real product photo of 80 × 60 pixels: under the API's 100-pixel minimum"),
    BrokenSample("broken/not-an-image.jpg", "not_an_image", "a text file named .jpg"),
    BrokenSample("broken/truncated.jpg", "truncated_image",
                 "a JPEG cut after 60 % of its bytes (no end-of-image marker)"),
)  # fmt: skip


@cache
def evalset_generator() -> ModuleType:
    """``bench/evalset/generate.py``, loaded from the checkout (it is a script folder, not a package)."""
    if not EVALSET_GENERATOR.is_file():
        raise FileNotFoundError(
            f"{EVALSET_GENERATOR} is missing: samples are generated from a checkout of cutout"
        )
    spec = importlib.util.spec_from_file_location("cutout_bench_evalset_generate", EVALSET_GENERATOR)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {EVALSET_GENERATOR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the module executes
    spec.loader.exec_module(module)
    return module


SURFACES = ("linen", "oak", "concrete")


def surface_texture(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A photo-like tabletop as float32 RGB in [0, 1]: its texture, and light falling off across it."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    fine = rng.normal(0.0, 1.0, (height, width)).astype(np.float32)
    if kind == "linen":  # a plain weave: fine threads both ways, slubs, an oatmeal grey
        warp = ndimage.gaussian_filter1d(rng.normal(0, 1, width).astype(np.float32), 0.8)[None, :]
        weft = ndimage.gaussian_filter1d(rng.normal(0, 1, height).astype(np.float32), 0.8)[:, None]
        weave = 0.5 * np.sin(x * 1.9) * np.sin(y * 1.9) + 0.6 * warp + 0.6 * weft
        grey = 0.80 + 0.018 * weave + 0.01 * ndimage.gaussian_filter(fine, 1.0)
        tint = np.array([1.0, 0.985, 0.955], np.float32)
    elif kind == "oak":  # grain along x, warped by slow noise, with darker rings
        warp = ndimage.gaussian_filter(rng.normal(0, 1, (height, width)).astype(np.float32), 40) * 900
        rings = np.sin((y + warp) / rng.uniform(9, 14)) + 0.4 * np.sin((y + 0.5 * warp) / 3.1)
        streaks = ndimage.gaussian_filter(fine, (0.6, 12.0)) * 6
        grey = 0.62 + 0.035 * rings + 0.02 * streaks
        tint = np.array([1.0, 0.80, 0.58], np.float32)
    elif kind == "concrete":  # pale speckle, blotches
        blotch = ndimage.gaussian_filter(rng.normal(0, 1, (height, width)).astype(np.float32), 25) * 18
        speckle = ndimage.gaussian_filter(fine, 0.7)
        grey = 0.78 + 0.02 * blotch + 0.025 * speckle
        tint = np.array([0.99, 0.99, 1.0], np.float32)
    else:
        raise ValueError(f"unknown surface {kind!r}")
    light = 1.0 - 0.12 * (x / width - 0.3) ** 2 - 0.08 * (1 - y / height)  # one window, a table's depth
    return np.asarray(np.clip((grey * light)[..., None] * tint[None, None, :], 0, 1), dtype=np.float32)


def soft_cast_shadow(
    alpha: np.ndarray, *, top: int, left: int, height: int, width: int, rng: np.random.Generator
) -> np.ndarray:
    """Light removed by a soft shadow cast sideways by a window light, sharper near the contact."""
    obj_h, obj_w = alpha.shape
    silhouette = np.zeros((height, width), np.float32)
    silhouette[top : top + obj_h, left : left + obj_w] = alpha
    direction = rng.choice([-1.0, 1.0])
    shear = np.float32(direction * rng.uniform(0.7, 1.1))
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    foot = float(top + np.flatnonzero(alpha.max(axis=1) > 0.5)[-1])
    # project onto the table: squash vertically towards the foot line, lean away from the light
    rise = np.clip(foot - y, 0, None)
    source_y = foot - rise / 0.6
    source_x = x - shear * rise / 0.6
    cast = ndimage.map_coordinates(silhouette, [source_y, source_x], order=1, mode="constant")
    cast[y > foot] = 0.0  # the shadow falls behind the object, onto the table
    near = ndimage.gaussian_filter(cast, max(obj_h, obj_w) * 0.008)
    far = ndimage.gaussian_filter(cast, max(obj_h, obj_w) * 0.05)
    blend = np.clip(rise / (0.3 * obj_h), 0, 1)  # the further from the contact, the softer
    shadow = (1 - blend) * near + blend * far
    base_rows = silhouette[max(0, int(foot) - max(2, obj_h // 25)) : int(foot) + 1]
    footprint = base_rows.max(axis=0)[None, :] > 0.5  # where the object stands, not its handles
    contact = ndimage.gaussian_filter(
        ((np.abs(y - foot) < obj_h * 0.02) & footprint).astype(np.float32), max(obj_h, obj_w) * 0.012
    )
    return np.asarray(np.clip(0.45 * shadow + 0.35 * contact / max(float(contact.max()), 1e-6), 0, 0.7))


def compose(sample: ProductSample, icons: Path, rng: np.random.Generator) -> np.ndarray:
    """The photo of ``sample`` as uint8 RGB: the object, centred low like a studio shot, on its background."""
    generator = evalset_generator()
    size = round(min(sample.width, sample.height) * sample.object_scale)
    obj: np.ndarray = generator.render_object(icons / f"{sample.emoji}.svg", size)
    if sample.variant != "colour":
        obj = generator.recolour(obj, sample.variant, rng)
    obj_h, obj_w = obj.shape[:2]
    top = int((sample.height - obj_h) * rng.uniform(0.45, 0.6))
    left = int((sample.width - obj_w) * rng.uniform(0.4, 0.6))
    alpha = np.zeros((sample.height, sample.width), np.float32)
    alpha[top : top + obj_h, left : left + obj_w] = obj[..., 3]
    colour = np.zeros((sample.height, sample.width, 3), np.float32)
    colour[top : top + obj_h, left : left + obj_w] = obj[..., :3]
    if sample.surface is not None:
        background = surface_texture(sample.surface, sample.height, sample.width, rng)
        if sample.shadow:
            shadow = soft_cast_shadow(
                obj[..., 3], top=top, left=left, height=sample.height, width=sample.width, rng=rng
            )
            background = background * (1 - shadow[..., None])
    else:
        background = generator.make_background(sample.background, sample.height, sample.width, rng)
    if sample.shadow and sample.surface is None:
        shadow = generator.contact_shadow(
            obj[..., 3], top=top, left=left, height=sample.height, width=sample.width, rng=rng
        )
        background = background * (1 - shadow[..., None])
    photo = colour * alpha[..., None] + background * (1 - alpha[..., None])
    if sample.noise:
        photo = photo + rng.normal(0, sample.noise, photo.shape).astype(np.float32)
    return np.clip(photo * 255 + 0.5, 0, 255).astype(np.uint8)


def encode(photo: np.ndarray, path: str, quality: int) -> bytes:
    """The photo in the format its name says."""
    buffer = io.BytesIO()
    image = Image.fromarray(photo)
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        image.save(buffer, format="PNG", optimize=True)
    elif suffix == ".webp":
        image.save(buffer, format="WEBP", quality=quality, method=6)
    else:
        image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def broken_bytes(sample: BrokenSample, icons: Path, rng: np.random.Generator) -> bytes:
    """The bytes of a broken sample."""
    if sample.expected_code == "image_too_small":
        tiny = ProductSample(sample.path, "camera", "white", 80, 60, 0.8, False, 0.0, 0, "")
        return encode(compose(tiny, icons, rng), sample.path, 0)
    if sample.expected_code == "not_an_image":
        return b"Shopping list: mugs, a teapot, a tote bag.\nThis is text, not a photo, whatever its name.\n"
    if sample.expected_code == "truncated_image":
        whole = ProductSample(sample.path, "lotion-bottle", "off_white", 1000, 1000, 0.7, True, 0.004, 90, "")
        data = encode(compose(whole, icons, rng), sample.path, 90)
        return data[: int(len(data) * 0.6)]
    raise ValueError(f"no recipe for {sample.expected_code!r}")


def generate(out_dir: Path) -> list[Path]:
    """Write every sample under ``out_dir``; return the paths written."""
    icons: Path = evalset_generator().emoji_dir()
    written = []
    for index, product in enumerate(PRODUCTS):
        rng = np.random.default_rng([SEED, index])
        written.append(
            _write(
                out_dir / product.path, encode(compose(product, icons, rng), product.path, product.quality)
            )
        )
    for index, broken in enumerate(BROKEN, start=BROKEN_SEED_OFFSET):
        rng = np.random.default_rng([SEED, index])
        written.append(_write(out_dir / broken.path, broken_bytes(broken, icons, rng)))
    return written


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the demo's sample photos (see samples/README.md).")
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_SAMPLES_DIR)
    args = parser.parse_args(argv)
    written = generate(args.out_dir)
    total = sum(path.stat().st_size for path in written)
    for path in written:
        print(f"{path.stat().st_size / 1024:8.0f} KB  {path.relative_to(args.out_dir)}")
    print(f"{len(written)} files, {total / 1024 / 1024:.2f} MB in {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
