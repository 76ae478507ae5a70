"""Training data for the studio engine's learned prior (``cutout_tools.studio.prior``).

Run: ``.venv/bin/python bench/prior_data.py [--images 2800] [--jobs 2]``, then ``bench/train_prior.py``.

Studio photos are composed exactly as the evaluation set's are (``evalset.generate.compose_case``:
the same backdrops, contact and cast shadows, neutral recolouring, noise and JPEG), but of **other**
emoji of the same package than the 53 products the evaluation set is made of, and on seeds the set
never uses. So every figure ``engine_quality.py`` prints is on objects the network never saw. Each
photo goes through the engine's own rules (``segmentation.coarse_mask``) and the network's inputs
are stored as the engine computes them (``prior.features``), with the true alpha, at the network's
resolution, in ``bench/.cache/prior/`` (gitignored), one file per shard.
"""

from __future__ import annotations

# ruff: noqa: E402  (thread limits must be set before numpy is imported)
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse
import io
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cutout_tools.studio import prior, segmentation
from evalset.generate import BACKGROUND_KINDS, CACHE_DIR, OBJECTS, compose_case, emoji_dir

PRIOR_DIR = CACHE_DIR / "prior"
FIRST_SEED = 5_000  # the evaluation set uses seeds 7, 11, 101, 103 and 20241123
SHARD_SIZE = 25
# more of the variants the rules find hard
VARIANT_WEIGHTS = {
    "colour": 0.32,
    "greyscale": 0.13,
    "near_white": 0.2,
    "silver": 0.13,
    "near_black": 0.1,
    "white_on_white": 0.06,
    "paper_coloured": 0.06,
}
_SKIN_TONE = re.compile(r"-(dark|light|medium|medium-dark|medium-light|default)$")


def training_emoji() -> list[Path]:
    """The package's emoji that are not among the evaluation set's products (nor skin-tone repeats)."""
    held = set(OBJECTS)
    return [
        path
        for path in sorted(emoji_dir().glob("*.svg"))
        if path.stem not in held and not _SKIN_TONE.search(path.stem)
    ]


def network_sample(rgb: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The network's input for a photo, as the engine computes it, and the true alpha beside it."""
    small, _scale = segmentation._working_image(rgb)
    edges = segmentation.sharp_edges(rgb, small.shape[:2])
    coarse = segmentation.coarse_mask(small, edges)
    x = prior.network_input(small, coarse, edges)
    if alpha is None:
        return x, None
    height, width = small.shape[:2]
    target = np.asarray(Image.fromarray(alpha).resize((width, height), Image.Resampling.BOX), np.float32)
    y = prior.downscale(prior.pad_to_multiple(target[None]))
    return x, y


def make_shard(shard: int) -> Path:
    path = PRIOR_DIR / f"shard-{shard:04d}.npz"
    if path.is_file():
        return path
    rng = np.random.default_rng([FIRST_SEED, shard])
    emoji = training_emoji()
    variants, weights = zip(*VARIANT_WEIGHTS.items(), strict=True)
    inputs, targets = [], []
    while len(inputs) < SHARD_SIZE:
        svg = emoji[int(rng.integers(len(emoji)))]
        kind = str(rng.choice(BACKGROUND_KINDS))
        variant = str(rng.choice(variants, p=np.array(weights) / sum(weights)))
        if variant == "white_on_white":
            kind = str(rng.choice(["white", "off_white"]))
        try:
            photo, alpha, _shadow = compose_case(svg, kind, rng, variant, 0.8)
        except Exception as error:  # noqa: BLE001  (an SVG cairosvg cannot draw: said, and skipped)
            print(f"skipped {svg.name}: {error}", file=sys.stderr)
            continue
        encoded = io.BytesIO()
        Image.fromarray(photo).save(encoded, "JPEG", quality=int(rng.integers(70, 93)))
        rgb = np.asarray(Image.open(io.BytesIO(encoded.getvalue())).convert("RGB"))
        x, y = network_sample(rgb, alpha)
        inputs.append(x.astype(np.float16))
        targets.append(y.astype(np.float16) if y is not None else None)
    PRIOR_DIR.mkdir(parents=True, exist_ok=True)
    arrays = {f"x{i}": x for i, x in enumerate(inputs)} | {f"y{i}": y for i, y in enumerate(targets)}
    scratch = path.with_suffix(".tmp.npz")
    np.savez_compressed(scratch, **arrays)  # type: ignore[arg-type]
    scratch.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2800)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    shards = range(-(-args.images // SHARD_SIZE))
    with ProcessPoolExecutor(args.jobs) as pool:
        for path in pool.map(make_shard, shards):
            print(path, flush=True)


if __name__ == "__main__":
    main()
