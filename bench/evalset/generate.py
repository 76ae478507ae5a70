"""Generate (and cache) the evaluation set for the studio background-removal engine.

Objects are *object* emoji from the MIT-licensed npm package ``fluentui-emoji`` (modern style),
rendered with cairosvg at product-photo sizes. The rendered alpha is the exact ground truth. Each
object is composited onto a generated studio background (pure white, off-white, grey seamless paper
with a vertical sweep, vignettes, pastel paper), often over a soft contact shadow (which is background:
ground-truth alpha 0 there), with mild sensor noise, then saved as JPEG at quality 70-92.

Everything is drawn from one seeded generator, so the set is the same on every machine. The npm
package is fetched once with ``npm pack`` into ``bench/.cache/npm`` (gitignored); the images are
cached in ``bench/.cache/evalset/<version>/``.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

# v2: "scissors" was listed twice in OBJECTS (drawn twice as often); the fix changes every draw.
# v3: neutral products and deliberately hard cases added, drawn from their own generators: the colour
# cases are the same images as v2's.
EVALSET_VERSION = "v3"
SEED = 20241123
NPM_PACKAGE = "fluentui-emoji@1.3.0"
BENCH_DIR = Path(__file__).resolve().parent.parent
CACHE_DIR = BENCH_DIR / ".cache"
BACKGROUND_KINDS = ("white", "off_white", "grey_sweep", "vignette", "pastel")
IMAGES_PER_KIND = 12
NEUTRAL_PER_KIND = 8
HARD_PER_SEED = 8
# How the objects are coloured. "colour" is the emoji as drawn; the neutral variants keep its shading
# (luma) and drop its hue: the goods a studio shoots most (electronics, white sneakers, grey knitwear,
# steel, black bags). The hard variants are failures made on purpose (a product the colour of its
# paper): they are reported apart and populate the low-IoU bucket of the score's calibration.
COLOUR_VARIANTS = ("colour",)
NEUTRAL_VARIANTS = ("greyscale", "near_white", "silver", "near_black")
HARD_VARIANTS = ("white_on_white", "paper_coloured")
GROUPS = ("colour", "neutral", "hard")
VARIANT_GROUP = {
    **dict.fromkeys(COLOUR_VARIANTS, "colour"),
    **dict.fromkeys(NEUTRAL_VARIANTS, "neutral"),
    **dict.fromkeys(HARD_VARIANTS, "hard"),
}

# Objects a shop sells, several with holes (handles, rings, frames, straps). "mans-shoe" is left out:
# its toe fades out to transparent, which is not what a product photo looks like.
OBJECTS = (
    "handbag", "purse", "backpack", "shopping-bags", "briefcase", "hot-beverage", "beer-mug",
    "teapot", "teacup-without-handle", "trophy", "basket", "bucket", "glasses", "sunglasses",
    "goggles", "headphone", "key", "old-key", "ring", "scissors", "watch", "stopwatch",
    "alarm-clock", "lotion-bottle", "baby-bottle", "camera", "running-shoe", "high-heeled-shoe",
    "womans-boot", "hiking-boot", "flat-shoe", "ballet-shoes", "roller-skate", "umbrella",
    "guitar", "trumpet", "wrench", "hammer", "light-bulb", "flashlight", "candle",
    "jar", "lipstick", "billed-cap", "womans-hat", "t-shirt", "toolbox", "fire-extinguisher",
    "bellhop-bell", "magnet", "clutch-bag", "crown", "teddy-bear",
)  # fmt: skip
# Objects with a see-through hole (the benchmark reports them as their own row).
OBJECTS_WITH_HOLES = frozenset(
    {"handbag", "shopping-bags", "hot-beverage", "beer-mug", "teapot", "trophy", "basket", "bucket",
     "goggles", "headphone", "key", "old-key", "ring", "scissors", "magnet", "purse", "toolbox"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One image of the set: the encoded photo and its exact alpha."""

    name: str
    kind: str
    object_name: str
    has_shadow: bool
    has_hole: bool
    jpeg_quality: int
    image_path: Path
    alpha_path: Path
    variant: str = "colour"

    @property
    def group(self) -> str:
        """``colour``, ``neutral`` or ``hard`` (the product is the colour of its paper, on purpose)."""
        return VARIANT_GROUP[self.variant]

    def load(self) -> tuple[bytes, np.ndarray]:
        """The encoded photo and the ground-truth alpha (float32 in [0, 1])."""
        alpha = np.asarray(Image.open(self.alpha_path), dtype=np.float32) / 255.0
        return self.image_path.read_bytes(), alpha


def emoji_dir() -> Path:
    """Where the package's modern SVGs are, fetching the package with ``npm pack`` on first use."""
    npm_dir = CACHE_DIR / "npm"
    icons = npm_dir / "package" / "icons" / "modern"
    if icons.is_dir():
        return icons
    npm_dir.mkdir(parents=True, exist_ok=True)
    tarballs = sorted(npm_dir.glob("fluentui-emoji-*.tgz"))
    if not tarballs:
        subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=npm_dir, check=True)
        tarballs = sorted(npm_dir.glob("fluentui-emoji-*.tgz"))
    with tarfile.open(tarballs[-1]) as archive:
        archive.extractall(npm_dir, filter="data")
    return icons


def render_object(svg_path: Path, size: int) -> np.ndarray:
    """Render an SVG to straight-alpha RGBA float32 in [0, 1], cropped to its content."""
    import cairosvg

    png = cairosvg.svg2png(url=str(svg_path), output_width=size, output_height=size)
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float32) / 255.0
    rows = np.flatnonzero(rgba[..., 3].max(axis=1) > 0)
    cols = np.flatnonzero(rgba[..., 3].max(axis=0) > 0)
    return rgba[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return y / (height - 1), x / (width - 1)


def make_background(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A studio background as float32 RGB in [0, 1]."""
    y, x = _grid(height, width)
    if kind == "white":
        base = np.ones(3, np.float32)
        return np.broadcast_to(base, (height, width, 3)).copy()
    if kind == "off_white":
        base = np.array([0.965, 0.955, 0.93], np.float32) + rng.uniform(-0.02, 0.02, 3).astype(np.float32)
        tilt = rng.uniform(-0.025, 0.025) * (x - 0.5) + rng.uniform(-0.025, 0.025) * (y - 0.5)
        return np.clip(base[None, None, :] * (1 + tilt[..., None]), 0, 1)
    if kind == "grey_sweep":
        top, bottom = rng.uniform(0.55, 0.75), rng.uniform(0.8, 0.93)
        curve = y ** rng.uniform(0.6, 1.6)  # a seamless sweep: the light falls off towards the top
        grey = top + (bottom - top) * curve
        tint = np.array([1.0, 1.0, 1.0], np.float32) + rng.uniform(-0.02, 0.02, 3).astype(np.float32)
        return np.clip(grey[..., None] * tint[None, None, :], 0, 1)
    if kind == "vignette":
        base = rng.uniform(0.82, 0.97) * np.ones(3, np.float32)
        base = base + rng.uniform(-0.02, 0.02, 3).astype(np.float32)
        cy, cx = rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6)
        r2 = ((x - cx) ** 2 + (y - cy) ** 2) / 0.5
        falloff = 1 - rng.uniform(0.18, 0.4) * r2 ** rng.uniform(0.8, 1.5)
        return np.clip(base[None, None, :] * falloff[..., None], 0, 1)
    if kind == "pastel":
        import colorsys

        hue, sat, val = rng.uniform(0, 1), rng.uniform(0.12, 0.35), rng.uniform(0.86, 0.97)
        base = np.array(colorsys.hsv_to_rgb(hue, sat, val), np.float32)
        shade = 1 + rng.uniform(-0.08, 0.02) * (1 - y) + rng.uniform(-0.03, 0.03) * (x - 0.5)
        return np.clip(base[None, None, :] * shade[..., None], 0, 1)
    raise ValueError(f"unknown background kind {kind!r}")


def contact_shadow(
    alpha: np.ndarray, *, top: int, left: int, height: int, width: int, rng: np.random.Generator
) -> np.ndarray:
    """How much light a soft shadow removes, in [0, 1]: an ellipse under the object, sometimes a cast."""
    obj_h, obj_w = alpha.shape
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rows = np.flatnonzero(alpha.max(axis=1) > 0.5)
    cols_at_bottom = np.flatnonzero(alpha[rows[-1] - max(2, obj_h // 20) : rows[-1] + 1].max(axis=0) > 0.5)
    foot_y = top + rows[-1]
    foot_cx = left + (cols_at_bottom[0] + cols_at_bottom[-1]) / 2
    half_w = max(obj_w * rng.uniform(0.3, 0.55), (cols_at_bottom[-1] - cols_at_bottom[0]) * 0.6)
    half_h = obj_h * rng.uniform(0.03, 0.07)
    ellipse = (((x - foot_cx) / half_w) ** 2 + ((y - foot_y) / half_h) ** 2 <= 1).astype(np.float32)
    shadow = ndimage.gaussian_filter(ellipse, sigma=max(obj_h, obj_w) * rng.uniform(0.015, 0.04))
    shadow *= rng.uniform(0.35, 0.6) / max(float(shadow.max()), 1e-6)
    if rng.uniform() < 0.35:  # a cast shadow: the silhouette, offset and blurred, fainter
        silhouette = np.zeros((height, width), np.float32)
        dy, dx = int(obj_h * rng.uniform(0.02, 0.05)), int(obj_w * rng.uniform(-0.06, 0.06))
        t, lft = min(max(top + dy, 0), height - obj_h), min(max(left + dx, 0), width - obj_w)
        silhouette[t : t + obj_h, lft : lft + obj_w] = alpha
        cast = ndimage.gaussian_filter(silhouette, sigma=max(obj_h, obj_w) * rng.uniform(0.01, 0.03))
        shadow = np.maximum(shadow, cast * rng.uniform(0.15, 0.35))
    return shadow


def _luma(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb @ np.array([0.299, 0.587, 0.114], np.float32), dtype=np.float32)


def recolour(
    obj: np.ndarray, variant: str, rng: np.random.Generator, paper: np.ndarray | None = None
) -> np.ndarray:
    """The object (straight-alpha RGBA) in a neutral or hard ``variant``: its shading kept, its hue gone.

    * ``greyscale``: the emoji's luma, as a grey product;
    * ``near_white``: luma squeezed into a light range (white sneakers, appliances, porcelain);
    * ``silver``: a mid-to-light grey with the broad, soft reflections of brushed or polished metal;
    * ``near_black``: luma squeezed into a dark range (black bags, cameras, electronics);
    * ``white_on_white``: almost paper-white all over (on purpose: the known failure);
    * ``paper_coloured``: the paper's own colour, lightly shaded (lavender on lavender, on purpose).
    Every variant gets a faint, random tint, as real neutral goods and real white balance have.
    """
    if variant == "colour":
        return obj
    luma = _luma(obj[..., :3])
    inside = luma[obj[..., 3] > 0.5]
    low, high = float(np.percentile(inside, 2)), float(np.percentile(inside, 98))
    shade = np.clip((luma - low) / max(high - low, 1e-3), 0.0, 1.0)  # 0 = darkest part, 1 = lightest
    if variant == "greyscale":
        grey = luma
    elif variant == "near_white":
        bottom, top = rng.uniform(0.62, 0.74), rng.uniform(0.9, 0.96)
        grey = bottom + (top - bottom) * shade
    elif variant == "silver":
        height, width = luma.shape
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(0.3, 0.7) * max(height, width)
        along = x * np.cos(angle) + y * np.sin(angle)
        reflection = 0.5 + 0.5 * np.sin(2 * np.pi * along / period + rng.uniform(0, 2 * np.pi))
        grey = 0.42 + 0.3 * shade + 0.2 * reflection
    elif variant == "near_black":
        bottom, top = rng.uniform(0.03, 0.08), rng.uniform(0.22, 0.32)
        grey = bottom + (top - bottom) * shade
    elif variant == "white_on_white":
        grey = rng.uniform(0.95, 0.97) + 0.03 * shade
    elif variant == "paper_coloured":
        base = paper if paper is not None else np.ones(3, np.float32)
        colour = base[None, None, :] * (0.94 + 0.08 * shade)[..., None]
        return np.dstack([np.clip(colour, 0, 1), obj[..., 3]]).astype(np.float32)
    else:
        raise ValueError(f"unknown variant {variant!r}")
    tint = 1.0 + rng.uniform(-0.015, 0.015, 3).astype(np.float32)
    colour = np.clip(np.asarray(grey, np.float32)[..., None] * tint[None, None, :], 0, 1)
    return np.dstack([colour, obj[..., 3]]).astype(np.float32)


def compose_case(
    svg_path: Path,
    kind: str,
    rng: np.random.Generator,
    variant: str = "colour",
    shadow_probability: float = 0.65,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """One photo (uint8 RGB), its alpha (float32) and whether it has a shadow.

    The draws for ``variant="colour"`` are exactly v2's, so the colour cases are the same images.
    """
    long_side = int(rng.choice([800, 1000, 1200, 1400, 1600]))
    aspect = float(rng.choice([1.0, 4 / 3, 3 / 4]))
    width, height = (
        (long_side, round(long_side / aspect)) if aspect >= 1 else (round(long_side * aspect), long_side)
    )
    obj = render_object(svg_path, int(min(width, height) * rng.uniform(0.6, 0.9)))
    obj_h, obj_w = obj.shape[:2]
    top = int(rng.uniform(0.25, 0.75) * (height - obj_h))
    left = int(rng.uniform(0.2, 0.8) * (width - obj_w))
    background = make_background(kind, height, width, rng)
    if variant != "colour":
        paper = background[min(height - 1, top + obj_h // 2), min(width - 1, left + obj_w // 2)]
        obj = recolour(obj, variant, rng, paper)
    alpha = np.zeros((height, width), np.float32)
    alpha[top : top + obj_h, left : left + obj_w] = obj[..., 3]
    colour = np.zeros((height, width, 3), np.float32)
    colour[top : top + obj_h, left : left + obj_w] = obj[..., :3]

    has_shadow = bool(rng.uniform() < shadow_probability)
    if has_shadow:
        shadow = contact_shadow(obj[..., 3], top=top, left=left, height=height, width=width, rng=rng)
        background = background * (1 - shadow[..., None])
    photo = colour * alpha[..., None] + background * (1 - alpha[..., None])
    photo = photo + rng.normal(0, rng.uniform(0.002, 0.008), photo.shape).astype(np.float32)
    return np.clip(photo * 255 + 0.5, 0, 255).astype(np.uint8), alpha, has_shadow


def load_group(
    group: str,
    seed: int = SEED,
    count: int | None = None,
    kinds: Sequence[str] = BACKGROUND_KINDS,
    cache_dir: Path | None = None,
) -> list[EvalCase]:
    """One group of the set (``colour``, ``neutral`` or ``hard``) for one seed, cached on first use.

    ``count`` is per background kind for colour and neutral, per seed for hard. Each group has its own
    random stream: adding one never changes another (the colour group is v2's set, image for image).
    """
    defaults = {"colour": IMAGES_PER_KIND, "neutral": NEUTRAL_PER_KIND, "hard": HARD_PER_SEED}
    count = defaults[group] if count is None else count
    out_dir = (cache_dir or CACHE_DIR / "evalset") / f"{EVALSET_VERSION}-seed{seed}" / f"{group}-n{count}"
    index_path = out_dir / "index.json"
    if index_path.is_file():
        entries = json.loads(index_path.read_text())
        return [
            EvalCase(
                **{**e, "image_path": out_dir / e["image_path"], "alpha_path": out_dir / e["alpha_path"]}
            )
            for e in entries
        ]
    icons = emoji_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    if group == "colour":  # exactly v2's draws
        rng = np.random.default_rng(seed)
    else:
        rng = np.random.default_rng([seed, 1 if group == "neutral" else 2])
    cases: list[EvalCase] = []
    entries = []

    def add(kind: str, index: int, variant: str, shadow_probability: float) -> None:
        object_name = str(rng.choice(OBJECTS))
        photo, alpha, has_shadow = compose_case(
            icons / f"{object_name}.svg", kind, rng, variant, shadow_probability
        )
        quality = int(rng.integers(70, 93))
        prefix = "" if variant == "colour" else f"{variant}-"
        name = f"{prefix}{kind}-{index:02d}-{object_name}"
        Image.fromarray(photo).save(out_dir / f"{name}.jpg", quality=quality)
        Image.fromarray(np.round(alpha * 255).astype(np.uint8)).save(out_dir / f"{name}.alpha.png")
        entry = {
            "name": name,
            "kind": kind,
            "object_name": object_name,
            "has_shadow": has_shadow,
            "has_hole": object_name in OBJECTS_WITH_HOLES,
            "jpeg_quality": quality,
            "image_path": f"{name}.jpg",
            "alpha_path": f"{name}.alpha.png",
            "variant": variant,
        }
        entries.append(entry)
        paths = {"image_path": out_dir / f"{name}.jpg", "alpha_path": out_dir / f"{name}.alpha.png"}
        cases.append(EvalCase(**{**entry, **paths}))  # type: ignore[arg-type]

    if group == "colour":
        for kind in kinds:
            for index in range(count):
                add(kind, index, "colour", 0.65)
    elif group == "neutral":  # every variant on every backdrop, most with a contact shadow
        for kind_index, kind in enumerate(kinds):
            for index in range(count):
                add(kind, index, NEUTRAL_VARIANTS[(index + kind_index) % len(NEUTRAL_VARIANTS)], 0.85)
    elif group == "hard":  # white on white or off-white; the paper's own colour on pastel or grey
        for index in range(count):
            variant = HARD_VARIANTS[index % len(HARD_VARIANTS)]
            pair = ("white", "off_white") if variant == "white_on_white" else ("pastel", "grey_sweep")
            add(pair[(index // len(HARD_VARIANTS)) % 2], index, variant, 0.65)
    else:
        raise ValueError(f"unknown group {group!r}")
    index_path.write_text(json.dumps(entries, indent=1))
    return cases


def load_or_generate(
    cache_dir: Path | None = None,
    kinds: Sequence[str] = BACKGROUND_KINDS,
    seed: int = SEED,
    images_per_kind: int = IMAGES_PER_KIND,
) -> list[EvalCase]:
    """The colour group of one seed (v2's set): kept for callers of the first API."""
    return load_group("colour", seed, images_per_kind, kinds, cache_dir)
