"""Background removal for product photos on studio backgrounds: rules, and a small learned prior.

A studio background is smooth: seamless paper, a sweep from dark to light, a vignette, a soft
contact shadow. The subject is what is *not* that smooth surface. So, at a working resolution:

1. **Background surface.** Fit a low-order polynomial surface (per RGB channel) to the border, robustly
   (outliers trimmed), then refit on everything classified as background so gradients and vignettes
   are followed across the whole frame.
2. **Per-pixel tests** against that surface, with thresholds scaled by the measured noise (JPEG, sensor):
   *strict* background is close in Lab (ΔE); *shadow* is a low-chroma darkening (the pixel is the
   surface colour times k, with k between ``SHADOW_DEPTH_MIN`` and 1).
3. **Flood from the border** through background-or-shadow pixels, stopped by sharp edges. Shadows have
   soft edges and are flooded; a grey product on white is shadow-coloured but has a sharp outline, so the
   flood does not enter it. JPEG's colour bleeding into the shadow right next to the outline is
   forgiven. Faint steps (a light product's side against paper of nearly its grey) are found at the
   working resolution, where averaging has lowered the noise, and kept where they continue a sharp
   outline. Inside an outline (closed, or enclosing a pixel on most sides: ``enclosure``) the flood
   goes only by ways wider than a gap in that outline. Everything not flooded is the rules' subject.
4. **Holes.** Enclosed regions whose colour matches the surface (a bag's handle, a mug's handle) become
   transparent, unless they would be most of the object (then it is more likely a white product) or
   their paper-coloured pixels are not the paper itself (a grey panel whose shading passes through the
   paper's grey; measured by their median ΔE). A paper-coloured core inside a grey body of the shadow's
   colour (a grey ring's hole) is tested alone. A hole lying wholly in a cast shadow shows no plain
   paper: it is told from a grey part by keeping the chroma of the shadow beside the object, being
   smooth and being ringed by the object's outline.
5. **The learned prior** (``prior``, when its weights are there). The rules above tell a product from
   the paper by colour and by its sharp outline; a neutral product (white, grey, steel, black goods)
   has the paper's own colours, darkened as a shadow darkens it, and where its outline fades (a white
   body's side against white paper, a grey body sitting in its grey shadow) only its *shape* says where
   it ends. A small U-Net, trained on studio photos of other objects than the evaluation set's, reads
   the rules' measurements (the surface, the shadow model's gain, the paper test, the sharp outline,
   the rays, the rules' mask) over the whole frame and gives each pixel a probability of being subject.
   Its mask decides what is subject; the rules' pixel is kept near its outline wherever the rules draw
   an outline of their own close by, wherever the prior is unsure, and on paper-coloured pixels the
   rules dropped unless the prior is all but certain (``_fused``): the prior knows the shape, the
   rules the pixel.
6. **Soft edge.** In a thin band around the outline, at full resolution, alpha comes from the pixel's
   position between the local subject colour F and the local background colour B (both estimated from
   nearby sure pixels, so a shadow under the edge is B): ``alpha = (I - B)·(F - B) / |F - B|²``. Where F
   and B are too close to tell apart, the band falls back to the smoothed mask.

Numpy and scipy only at run time (the prior's weights are a 0.3 MB file beside this module; PyTorch
trains them and is not needed here), about 0.5 CPU seconds per megapixel on one core. The score
(``Evidence.confidence``) is a logistic model of what the steps saw, the prior's certainty and its
agreement with the rules among it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from cutout_tools.studio import prior

WORKING_MAX_SIDE = 640
SHADOW_DEPTH_MIN = 0.3  # a shadow keeps at least 30 % of the light
MAX_HOLE_FRACTION = 0.6  # a "hole" larger than this part of its object is rather a light product
HOLE_PLAIN_FRACTION_MIN = 0.25  # a hole shows plain background somewhere, a grey part nowhere
# ... and there it is the paper itself: the median ΔE of its paper-coloured pixels to the surface, over
# the strict threshold, stays below this (measured: holes 0.0-0.45; a light grey part whose shading
# crosses the paper's colour, 0.44-1.0, spread across the whole strict range)
HOLE_PAPER_DELTA_MAX = 0.45
# A small hole (at most this share of its object) is dominated by its rim's JPEG bleeding and by the
# surface's error under the object: measured 0.45-0.6 on true small holes, so it gets more room
SMALL_HOLE_FRACTION, SMALL_HOLE_PAPER_DELTA_MAX = 0.04, 0.7
# A paper-coloured core inside a grey body ends in a step: 3-6 pixels outside it, ΔE is this many strict
# thresholds (a grey ring's body: 1.8-2.0; a light part's shading past the paper's colour: 1.2-1.6)
STEP_RIM_INNER, STEP_RIM_OUTER, STEP_RIM_DELTA_MIN = 3, 6, 1.7
HOLE_RIM_EDGE_MIN = 0.5  # of a plain hole's rim that is sharp outline (the object's)
# A hole lying wholly in a cast shadow shows no plain paper; it is told from a grey part of the product by
# keeping the chroma of the shadow next to the object (median residual within this of that shadow's) ...
SHADOWED_HOLE_CHROMA_MARGIN = 1.0
SHADOWED_HOLE_CHROMA_MAX = 3.0  # ... and never more than this many RGB levels off the darkened paper,
SHADOWED_HOLE_TEXTURE_MAX = 2.5  # by being smooth (90th percentile of |Laplacian| of luma, levels),
SHADOWED_HOLE_OUTLINE_MIN = 0.3  # by being ringed by sharp edges (the object's outline) this much,
SHADOWED_HOLE_FLOOD_CONTACT_MAX = 0.05  # and by not being the flooded shadow's own continuation
SHADOWED_HOLE_GAIN_MARGIN = 0.06  # ... and by darkening the paper as much as the shadow beside it
NEAR_SHADOW_RADIUS = 20  # working-resolution pixels: "the shadow just outside the object"
CHROMATIC_BACKGROUND_MIN = 8.0  # Lab chroma of coloured paper
CLEAN_SHADOW_CHROMA_MIN = 4.5  # RGB levels off the darkened paper colour, at working resolution
FUSE_RADIUS = 3  # working-resolution pixels: the rules' outline this close to the prior's is the one kept
PRIOR_UNSURE = 0.7  # |2p - 1| under this: the rules decide (p between 0.15 and 0.85)
PRIOR_CERTAIN = 0.9  # |2p - 1| at or over this: the prior may keep a paper-coloured pixel the rules dropped
ALPHA_SNAP = 0.04  # alpha this close to 0 or 1 is noise of the colour model
EDGE_SLOPE_MIN = 6.0  # luma levels per full-resolution pixel
EDGE_SHARPNESS_MIN = 1.6  # fine-scale over coarse-scale slope: a step, not a ramp
EDGE_WEAK_SLOPE_MIN = 3.0  # a faint outline continuing a sharp one (hysteresis)
EDGE_WEAK_SHARPNESS_MIN = 1.3
FAINT_SLOPE_MIN = 1.0  # luma levels per working-resolution pixel: a faint step continuing an outline
FAINT_NOISE_FACTOR = 4.0
FAINT_SHARPNESS_MIN = 1.5
FRINGE_RADIUS = 4  # working-resolution pixels of JPEG colour bleeding forgiven next to the outline
LEAK_GAP_RADIUS = 3  # working-resolution pixels: shadow is not entered through gaps narrower than ~2x this
ENCLOSED_DIRECTIONS_MIN = 5  # of 8: rays from inside a body meet its outline on this many sides
NEUTRAL_RESIDUAL_MAX = 8.0  # RGB levels off the darkened paper: a neutral (grey) pixel
NEUTRAL_SHARE_MIN = 0.5  # of what the outline encloses, not paper-coloured: a neutral product
WALLED_DIRECTIONS_MIN = 8  # a paper-coloured pixel walled in on every side is kept for the hole test
# The confidence score's weights (see ``Evidence.confidence``)
SCORE_WEIGHTS = {
    "contrast": 2.37,
    "edge_support": 5.12,
    "shadow_share": -2.29,
    "outline_agreement": 3.53,
    "largest_share": 0.84,
    "paper_inside": -3.65,
    "shadow_inside": -2.04,
    "paper_outline": -0.62,
    "prior_certainty": 0.95,
    "rules_agreement": 2.17,
    "bias": -7.73,
}
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)

FloatArray = np.ndarray


@dataclass(frozen=True, slots=True)
class Segmentation:
    """The result of ``segment``: alpha at the input's size and how sure we are."""

    alpha: FloatArray  # float32, H x W, in [0, 1]
    confidence: float  # in [0, 1]
    evidence: Evidence | None = None  # what the confidence was derived from


def srgb_to_lab(rgb: FloatArray) -> FloatArray:
    """CIE Lab (D65) of sRGB values in [0, 255]; ΔE in Lab is close to what an eye sees."""
    c = rgb.astype(np.float32) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=np.float32
    )
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def _poly_basis(ys: FloatArray, xs: FloatArray, degree: int) -> FloatArray:
    """Monomials x^i y^j (i + j <= degree) of coordinates scaled to [-1, 1]."""
    terms = [xs**i * ys**j for i in range(degree + 1) for j in range(degree + 1 - i)]
    return np.stack(terms, axis=-1).astype(np.float32)


def fit_background_surface(rgb: FloatArray, sample: np.ndarray, degree: int) -> FloatArray:
    """A smooth RGB surface fitted robustly to the pixels where ``sample`` is true."""
    height, width = sample.shape
    ys_all = np.linspace(-1.0, 1.0, height, dtype=np.float32)
    xs_all = np.linspace(-1.0, 1.0, width, dtype=np.float32)
    rows, cols = np.nonzero(sample)
    if rows.size < 50:  # nothing to fit: a flat surface of the median colour
        return np.broadcast_to(np.median(rgb.reshape(-1, 3), axis=0), rgb.shape).astype(np.float32)
    step = max(1, rows.size // 40_000)
    rows, cols = rows[::step], cols[::step]
    basis = _poly_basis(ys_all[rows], xs_all[cols], degree)
    values = rgb[rows, cols]
    keep = np.ones(rows.size, dtype=bool)
    coef = np.zeros((basis.shape[1], 3), dtype=np.float32)
    for _ in range(4):  # trim outliers (the subject where it touches the border, its shadow)
        coef = np.linalg.lstsq(basis[keep], values[keep], rcond=None)[0]
        residual = np.linalg.norm(values - basis @ coef, axis=1)
        scale = 1.4826 * float(np.median(residual[keep])) + 1e-3
        new_keep = residual < max(3.0 * scale, 3.0)
        if new_keep.sum() < basis.shape[1] * 4 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    # evaluated separably: surface_c = Y @ C_c @ X^T, Y[:, j] = y^j, X[:, i] = x^i, C_c[j, i] the coefficient
    powers_y = np.stack([ys_all**j for j in range(degree + 1)], axis=1)
    powers_x = np.stack([xs_all**i for i in range(degree + 1)], axis=1)
    grid_coef = np.zeros((3, degree + 1, degree + 1), dtype=np.float32)
    terms = [(i, j) for i in range(degree + 1) for j in range(degree + 1 - i)]
    for (i, j), weights in zip(terms, coef, strict=True):
        grid_coef[:, j, i] = weights
    surface = np.ascontiguousarray(np.einsum("hj,cji,wi->hwc", powers_y, grid_coef, powers_x, optimize=True))
    return np.clip(surface, 0.0, 255.0, out=surface)


@dataclass(frozen=True, slots=True)
class _PixelTests:
    delta_e: FloatArray  # Lab distance to the surface
    strict: np.ndarray  # close to the surface
    shadow: np.ndarray  # a low-chroma darkening of the surface
    clean_shadow: np.ndarray  # a darkening that keeps the paper's chroma as closely as the paper's noise
    chroma_residual: FloatArray  # RGB levels off the surface colour darkened (or lightened) to the pixel
    paper_residual_median: float  # the same on plain paper: what noise alone gives
    strict_threshold: float
    chromatic: bool  # a coloured background: only a shadow keeps its hue, so the shadow test is telling
    gain: FloatArray  # k of I = k·S: how much of the paper's light the pixel keeps (< 1 in a shadow)


def _pixel_tests(
    rgb: FloatArray, lab: FloatArray, surface: FloatArray, noise_sample: np.ndarray
) -> _PixelTests:
    surface_lab = srgb_to_lab(surface)
    delta_e = np.linalg.norm(lab - surface_lab, axis=-1)
    chroma = np.hypot(surface_lab[..., 1], surface_lab[..., 2])
    chromatic = bool(np.median(chroma) >= CHROMATIC_BACKGROUND_MIN)
    noise = float(np.percentile(delta_e[noise_sample], 90)) if noise_sample.any() else 2.0
    strict_threshold = float(np.clip(2.5 * noise, 4.0, 14.0))
    strict = delta_e < strict_threshold
    # Shadow: I ≈ k·S with k < 1. Project I on S; what is left over is a change of colour, not of light.
    surface_norm2 = np.maximum(np.sum(surface * surface, axis=-1), 1.0)
    k = np.sum(rgb * surface, axis=-1) / surface_norm2
    chroma_residual = np.linalg.norm(rgb - k[..., None] * surface, axis=-1)
    chroma_threshold = max(8.0, 1.5 * strict_threshold)  # JPEG's chroma error does not shrink in shadow
    shadow = (k >= SHADOW_DEPTH_MIN) & (k <= 1.02) & (chroma_residual < chroma_threshold)
    # At working resolution (box-averaged) a shadow away from the subject keeps the paper's chroma within
    # a few levels, while a light product's shading (lavender, cream, cool grey) drifts further: a flood
    # may only cross *clean* shadow; the looser test is for the fringe where JPEG bleeds the subject's
    # colour into its shadow.
    paper_residual = float(np.percentile(chroma_residual[noise_sample], 99)) if noise_sample.any() else 2.0
    clean_threshold = float(np.clip(2.0 * paper_residual, CLEAN_SHADOW_CHROMA_MIN, chroma_threshold))
    clean_shadow = shadow & (chroma_residual < clean_threshold)
    paper_median = float(np.median(chroma_residual[noise_sample])) if noise_sample.any() else 1.0
    return _PixelTests(
        delta_e,
        strict,
        shadow,
        clean_shadow,
        chroma_residual,
        paper_median,
        strict_threshold,
        chromatic,
        k,
    )


def _slope(image: FloatArray) -> FloatArray:
    """Gradient magnitude per pixel (Sobel, normalised so a unit ramp gives 1)."""
    slope = np.hypot(ndimage.sobel(image, axis=0), ndimage.sobel(image, axis=1)) / np.float32(8.0)
    return np.asarray(slope, dtype=np.float32)


def sharp_edges(rgb: np.ndarray, working_shape: tuple[int, int]) -> np.ndarray:
    """Sharp luminance edges, found at full resolution and pooled to the working resolution.

    A product's outline is a step about one pixel wide; a shadow's is tens of pixels wide. At full
    resolution the slope of the first is many times the slope of the second even when the shadow is
    darker, so one threshold separates them. Only luminance: where both sides could be background, a
    colour edge never matters (a coloured pixel is not background-like anyway).
    """
    luma = rgb[..., 0] * np.float32(0.299) + rgb[..., 1] * np.float32(0.587) + rgb[..., 2] * np.float32(0.114)
    luma = luma.astype(np.float32)
    fine = _slope(ndimage.gaussian_filter(luma, sigma=1.0))
    coarse = _slope(ndimage.gaussian_filter(luma, sigma=3.0))
    noise = float(np.median(fine))
    # a step keeps ~3x more slope at the fine scale than at the coarse one; a soft ramp barely any more
    strong = (fine > max(EDGE_SLOPE_MIN, 6.0 * noise)) & (fine > EDGE_SHARPNESS_MIN * coarse)
    # Hysteresis (as in Canny): a faint stretch of outline, where a light product meets white paper, is
    # kept when it continues a sharp one. Noise and JPEG blocks rarely form long faint steps that touch
    # the outline, and a shadow's ramp fails the sharpness test at any slope.
    weak = (fine > max(EDGE_WEAK_SLOPE_MIN, 3.0 * noise)) & (fine > EDGE_WEAK_SHARPNESS_MIN * coarse)
    edges = _touching(weak, strong)
    height, width = working_shape
    pooled = Image.fromarray(edges.astype(np.uint8) * 255).resize((width, height), Image.Resampling.BOX)
    found = np.asarray(pooled) > 40
    if (height, width) != luma.shape:
        # Faint steps, seen at the working resolution where averaging has taken the noise down and a
        # step stays a step: a light product's side against paper of nearly its grey. Kept only where
        # they continue a sharp outline (hysteresis again), never alone.
        small = np.asarray(Image.fromarray(luma).resize((width, height), Image.Resampling.BOX), np.float32)
        fine_small = _slope(ndimage.gaussian_filter(small, sigma=0.7))
        coarse_small = _slope(ndimage.gaussian_filter(small, sigma=2.0))
        small_noise = float(np.median(fine_small))
        faint = (fine_small > max(FAINT_SLOPE_MIN, FAINT_NOISE_FACTOR * small_noise)) & (
            fine_small > FAINT_SHARPNESS_MIN * coarse_small
        )
        found = _touching(faint | found, found)
    return np.asarray(ndimage.binary_dilation(found, structure=_EIGHT_CONNECTED), dtype=bool)


_DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _look(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``out[y, x] = mask[y + dy, x + dx]`` (False beyond the frame)."""
    height, width = mask.shape
    out = np.zeros_like(mask)
    if abs(dy) >= height or abs(dx) >= width:
        return out
    out[max(0, -dy) : height - max(0, dy), max(0, -dx) : width - max(0, dx)] = mask[
        max(0, dy) : height - max(0, -dy), max(0, dx) : width - max(0, -dx)
    ]
    return out


def enclosure(edges: np.ndarray) -> np.ndarray:
    """For each pixel, in how many of 8 directions a straight ray meets a sharp edge (0-8).

    A product's body is bounded by its outline on (nearly) every side even where a stretch of it is
    missing (where the body meets its own shadow in the same grey, or a highlight meets white paper);
    a shadow lies beside or under the product, open to the paper on at least half of its sides. Rays
    are cast by doubling (a ray of length 2L is a ray of length L or the same ray shifted by L), so the
    cost is 8 x log2(side) shifts of the mask.
    """
    count = np.zeros(edges.shape, dtype=np.uint8)
    longest = max(edges.shape)
    for dy, dx in _DIRECTIONS:
        hit = edges.copy()
        span = 1
        while span < longest:
            hit |= _look(hit, dy * span, dx * span)
            span *= 2
        count += hit
    return count


def _border(shape: tuple[int, int], width: int) -> np.ndarray:
    border = np.zeros(shape, dtype=bool)
    border[:width], border[-width:], border[:, :width], border[:, -width:] = True, True, True, True
    return border


def _touching(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The connected components of ``mask`` that contain a seed pixel."""
    labels, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    if count == 0:
        return np.zeros_like(mask)
    hit = np.zeros(count + 1, dtype=bool)
    hit[np.unique(labels[seeds & mask])] = True
    hit[0] = False
    return np.asarray(hit[labels], dtype=bool)


def _holes(
    subject: np.ndarray,
    tests: _PixelTests,
    edges: np.ndarray,
    min_area: int,
    *,
    luma: FloatArray,
    flooded: np.ndarray,
) -> np.ndarray:
    """Enclosed, background-coloured regions of the subject that are see-through.

    A candidate is a region of background-or-shadow pixels inside the subject, cut by sharp edges. It is
    a hole when it is not most of its object (then it is rather a white product on white) and either

    * enough of it is plain background (a handle's hole often holds part of a shadow; a grey part of a
      product is shadow-coloured all over), or
    * it lies wholly in a cast shadow (``_in_shadow_holes``): it keeps the chroma of the shadow next to
      the object, is smooth, and is ringed by the object's sharp outline.
    """
    candidates = (tests.strict | tests.shadow) & subject & ~edges
    labels, count = ndimage.label(candidates)
    if count == 0:
        return np.zeros_like(subject)
    index = np.arange(1, count + 1)
    areas = ndimage.sum_labels(candidates, labels, index)
    strict_areas = ndimage.sum_labels(tests.strict, labels, index)
    filled_labels, _ = ndimage.label(ndimage.binary_fill_holes(subject), structure=_EIGHT_CONNECTED)
    object_areas = np.bincount(filled_labels.ravel())
    object_of_hole = ndimage.maximum(filled_labels, labels, index).astype(int)
    sized = (areas >= min_area) & (areas <= MAX_HOLE_FRACTION * object_areas[object_of_hole])
    small = areas <= SMALL_HOLE_FRACTION * object_areas[object_of_hole]
    # plain: mostly paper-coloured, and ringed by sharp edges or ending in a step (the paper seen
    # through a grey or pastel ring meets its body abruptly even where the luminance edges are weak)
    enough_paper = strict_areas >= HOLE_PLAIN_FRACTION_MIN * areas
    rimmed = _rimmed_by_edges(labels, count, edges)
    plain = enough_paper & (rimmed | _stepped_rims(labels, sized & enough_paper & ~rimmed, tests))
    limits = np.where(small, SMALL_HOLE_PAPER_DELTA_MAX, HOLE_PAPER_DELTA_MAX)
    paper = _paper_like(labels, sized & plain, tests, limits)
    considered = sized & ~plain
    in_shadow = _in_shadow_holes(labels, considered, subject, tests, edges=edges, luma=luma, flooded=flooded)
    accepted = sized & ((plain & paper) | in_shadow)
    holes = np.concatenate([[False], accepted])[labels]
    # A hole whose rim is a grey body of the shadow's colour (a grey ring) merges with that body into one
    # candidate too big to be a hole: its paper-coloured core alone is tested then.
    too_big = np.concatenate([[False], (areas > MAX_HOLE_FRACTION * object_areas[object_of_hole])])[labels]
    cores = tests.strict & too_big
    if cores.any():
        core_labels, core_count = ndimage.label(cores)
        core_index = np.arange(1, core_count + 1)
        core_areas = ndimage.sum_labels(cores, core_labels, core_index)
        core_object = ndimage.maximum(filled_labels, core_labels, core_index).astype(int)
        core_sized = (core_areas >= min_area) & (core_areas <= MAX_HOLE_FRACTION * object_areas[core_object])
        core_ok = _paper_like(core_labels, core_sized, tests, np.full(core_count, HOLE_PAPER_DELTA_MAX))
        core_ok &= _rimmed_by_edges(core_labels, core_count, edges) | _stepped_rims(
            core_labels, core_ok, tests
        )
        holes |= np.concatenate([[False], core_ok])[core_labels]
    # the rim the edge barrier left around a hole is background too, where it looks like it
    return np.asarray(
        ndimage.binary_dilation(holes, iterations=2, mask=tests.strict | tests.shadow), dtype=bool
    )


def _paper_like(
    labels: np.ndarray, considered: np.ndarray, tests: _PixelTests, limit: np.ndarray
) -> np.ndarray:
    """Which considered regions' paper-coloured pixels are the paper itself (median ΔE within ``limit``
    strict thresholds); ``considered[i]`` is label ``i + 1``."""
    index = np.arange(1, considered.size + 1)
    strict_labels = np.where(tests.strict, labels, 0)
    wanted = considered & (ndimage.sum_labels(tests.strict, labels, index) > 0)
    median = np.full(considered.size, np.inf)
    if wanted.any():
        median[wanted] = ndimage.median(tests.delta_e, strict_labels, index[wanted])
    return np.asarray(median <= limit * tests.strict_threshold, dtype=bool)


def _stepped_rims(labels: np.ndarray, considered: np.ndarray, tests: _PixelTests) -> np.ndarray:
    """Which regions end in a step: a few pixels outside, nothing is paper and all is clearly not.

    The paper seen through a ring meets the ring's body abruptly, even where the body's grey makes the
    sharp-edge test fail; a part of a light product matching the paper fades into its shading instead.
    """
    stepped = np.zeros(considered.shape, dtype=bool)
    for offset, region_slice in enumerate(ndimage.find_objects(labels)):
        if region_slice is None or not considered[offset]:
            continue
        grown = tuple(slice(max(0, s.start - STEP_RIM_OUTER), s.stop + STEP_RIM_OUTER) for s in region_slice)
        region = labels[grown] == offset + 1
        rim = ndimage.binary_dilation(region, iterations=STEP_RIM_OUTER) & ~ndimage.binary_dilation(
            region, iterations=STEP_RIM_INNER
        )
        if not rim.any():
            continue
        delta = float(np.median(tests.delta_e[grown][rim])) / tests.strict_threshold
        stepped[offset] = delta >= STEP_RIM_DELTA_MIN and float(tests.strict[grown][rim].mean()) < 0.05
    return stepped


def _rimmed_by_edges(labels: np.ndarray, count: int, edges: np.ndarray) -> np.ndarray:
    """Which regions are ringed by sharp edges (a hole's rim is the object's outline; a part of the
    product that happens to match the paper's colour continues the product's shading instead)."""
    grown = ndimage.grey_dilation(labels, size=(5, 5))
    rim = (labels == 0) & (grown > 0)
    index = np.arange(1, count + 1)
    rim_area = ndimage.sum_labels(rim, grown, index)
    rim_edges = ndimage.sum_labels(rim & edges, grown, index)
    return np.asarray(rim_edges >= HOLE_RIM_EDGE_MIN * np.maximum(rim_area, 1), dtype=bool)


def _in_shadow_holes(
    labels: np.ndarray,
    considered: np.ndarray,
    subject: np.ndarray,
    tests: _PixelTests,
    *,
    edges: np.ndarray,
    luma: FloatArray,
    flooded: np.ndarray,
) -> np.ndarray:
    """Which candidates (``considered[i]`` is label ``i + 1``) are holes lying wholly in a cast shadow.

    Such a hole shows no plain paper, only paper darkened, exactly like a grey part of the product. What
    tells them apart (measured on the evaluation set's failing trumpets and trophies against grey
    handles, cameras and flashlights): the hole keeps the chroma of the *shadow just outside the object*
    (same paper, same light, same JPEG noise) to within a level, where a grey part is off by a few
    levels (its grey is not the paper's hue); the hole is smooth (no shading detail); it is ringed by
    the object's sharp outline; and it does not continue the flooded shadow (a concavity the flood
    did not enter is a different matter, left alone).
    """
    accepted = np.zeros(considered.shape, dtype=bool)
    if not considered.any():
        return accepted
    outside_shadow = flooded & tests.shadow & ~tests.strict
    near_shadow = outside_shadow & ndimage.binary_dilation(subject, iterations=NEAR_SHADOW_RADIUS)
    if near_shadow.sum() <= 20:  # no shadow next to the object: no hole can lie in one
        return accepted
    reference = max(float(np.median(tests.chroma_residual[near_shadow])), tests.paper_residual_median)
    chroma_limit = min(reference + SHADOWED_HOLE_CHROMA_MARGIN, SHADOWED_HOLE_CHROMA_MAX)
    texture = np.abs(ndimage.laplace(ndimage.gaussian_filter(luma, 0.7)))
    touching_flood = ndimage.binary_dilation(flooded)
    for offset, region_slice in enumerate(ndimage.find_objects(labels)):
        if region_slice is None or not considered[offset]:
            continue
        grown = tuple(slice(max(0, s.start - 3), s.stop + 3) for s in region_slice)
        region = labels[grown] == offset + 1
        if float(np.median(tests.chroma_residual[grown][region])) >= chroma_limit:
            continue
        if float(np.percentile(texture[grown][region], 90)) >= SHADOWED_HOLE_TEXTURE_MAX:
            continue
        if float(touching_flood[grown][region].mean()) >= SHADOWED_HOLE_FLOOD_CONTACT_MAX:
            continue
        # the same shadow outside the object, near the hole, darkens the paper as much (a grey part of a
        # neutral product keeps the paper's chroma too, but its darkness is its own)
        around = tuple(
            slice(max(0, s.start - NEAR_SHADOW_RADIUS), s.stop + NEAR_SHADOW_RADIUS) for s in region_slice
        )
        local_shadow = near_shadow[around]
        if local_shadow.sum() < 20:
            continue
        hole_gain = float(np.median(tests.gain[grown][region]))
        if abs(hole_gain - float(np.median(tests.gain[around][local_shadow]))) > SHADOWED_HOLE_GAIN_MARGIN:
            continue
        rim = ndimage.binary_dilation(region, iterations=2) & ~region
        accepted[offset] = float(edges[grown][rim].mean()) > SHADOWED_HOLE_OUTLINE_MIN
    return accepted


def _drop_specks(subject: np.ndarray, core: np.ndarray, min_area: int) -> np.ndarray:
    """Keep components of the subject that are big enough and hold clearly non-background pixels."""
    labels, count = ndimage.label(subject, structure=_EIGHT_CONNECTED)
    if count == 0:
        return subject
    index = np.arange(1, count + 1)
    areas = ndimage.sum_labels(subject, labels, index)
    cores = ndimage.sum_labels(core, labels, index)
    largest = float(areas.max())
    keep = (areas >= max(min_area, 0.002 * largest)) & (cores >= np.minimum(areas * 0.05, 20))
    return np.asarray(np.concatenate([[False], keep])[labels], dtype=bool)


def _flood_without_leaks(passable: np.ndarray, plain: np.ndarray, border: np.ndarray) -> np.ndarray:
    """Background reached from the border: through plain paper anywhere, into shadow only by wide ways.

    A light product's outline can have a gap where a highlight meets white paper; a flood that went
    through it would take the whole shadow-coloured product. A shadow is wide and soft, so it is still
    reached when the passable area is eroded first (which closes gaps a few pixels wide); what the
    eroded flood reached then grows back, but only by the erosion's depth.
    """
    plain_flood = _touching(plain, border)
    eroded = ndimage.binary_erosion(passable, iterations=LEAK_GAP_RADIUS)
    wide_flood = _touching(eroded, border | plain_flood)
    wide_flood = ndimage.binary_dilation(wide_flood, iterations=LEAK_GAP_RADIUS, mask=passable)
    return np.asarray(wide_flood | plain_flood, dtype=bool)


@dataclass(frozen=True, slots=True)
class CoarseMask:
    """What ``coarse_mask`` decided (at the working resolution) and what it measured on the way."""

    subject: np.ndarray  # bool: the subject by the rules above
    surface: FloatArray  # the background surface (RGB)
    tests: _PixelTests
    rays: np.ndarray  # uint8: in how many of 8 directions a ray meets a sharp edge
    outlined: np.ndarray  # bool: inside a (nearly) closed sharp outline


def coarse_mask(rgb: FloatArray, edges: np.ndarray) -> CoarseMask:
    """The subject mask at the given (working) resolution, with the surface and tests it came from.

    Its confidence is ``segment``'s to work out (``_evidence``), once, on the mask it returns.
    """
    height, width = rgb.shape[:2]
    lab = srgb_to_lab(rgb)
    border = _border((height, width), max(2, round(0.03 * min(height, width))))

    surface = fit_background_surface(rgb, border, degree=2)
    tests = _pixel_tests(rgb, lab, surface, border)
    # Refit on every pixel that looks like background (away from the subject) to follow the
    # vignette and the sweep inside the frame, then test again.
    background_like = ndimage.binary_erosion(tests.strict, iterations=3)
    if background_like.sum() > 0.2 * height * width:
        surface = fit_background_surface(rgb, background_like, degree=4)
        tests = _pixel_tests(rgb, lab, surface, border & tests.strict)

    # Shadow-coloured pixels inside a closed sharp outline are a grey product, not a shadow, even where
    # the outline has a small gap (closing seals gaps of a few pixels, e.g. where it meets its shadow).
    outlined = ndimage.binary_fill_holes(ndimage.binary_closing(edges, _EIGHT_CONNECTED, iterations=3))
    rays = enclosure(edges)
    enclosed = rays >= ENCLOSED_DIRECTIONS_MIN
    # Rays matter for a neutral product (grey, white, steel, black: shadow-coloured inside its outline).
    # A coloured product is told from its shadow by colour already, and its concavities (under an
    # umbrella's canopy, between legs) often hold shadow that rays would wrongly enclose.
    inside = enclosed & ~tests.strict
    neutral = inside & (tests.chroma_residual < NEUTRAL_RESIDUAL_MAX)
    if inside.any() and float(neutral.sum()) >= NEUTRAL_SHARE_MIN * float(inside.sum()):
        outlined |= enclosed
    else:
        rays = np.minimum(rays, WALLED_DIRECTIONS_MIN - 1)  # nothing is walled in either
    # paper-coloured pixels are background unless the outline surrounds them on every side (a part of a
    # light product the colour of the paper; a handle's hole too, given back by ``_holes``)
    walled = rays >= WALLED_DIRECTIONS_MIN
    passable = ((tests.strict & ~walled) | (tests.clean_shadow & ~outlined)) & ~edges
    # inside an outline, paper-coloured pixels too are reached only by wide ways (a gap in a light
    # product's outline lets no flood into its body)
    flooded = _flood_without_leaks(passable, tests.strict & ~walled & ~edges & ~outlined, border)
    # win back the band the edge barrier (and JPEG's colour bleeding) took from the background; bounded,
    # so it never slides deep into a light product
    flooded = ndimage.binary_dilation(flooded, iterations=3, mask=tests.strict | tests.shadow)
    # JPEG bleeds a subject's colour a few pixels into the shadow under it, where the flood (clean shadow
    # only) stopped short of the outline: forgive that, but only right next to the object's own sharp
    # outline and never inside a closed one
    next_to_outline = ndimage.binary_dilation(edges, iterations=FRINGE_RADIUS)
    fringe = (tests.strict | tests.shadow) & ~edges & ~outlined & next_to_outline
    flooded = ndimage.binary_dilation(flooded, iterations=FRINGE_RADIUS, mask=flooded | fringe)

    subject = ~flooded
    min_area = max(4, (height * width) // 20_000)
    luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    subject &= ~_holes(subject, tests, edges, min_area, luma=luma, flooded=flooded)
    core = (tests.delta_e > 2.0 * tests.strict_threshold) & (~tests.shadow | outlined)
    core |= (tests.delta_e > tests.strict_threshold) & (rays == len(_DIRECTIONS))  # a light part, walled in
    subject = _drop_specks(subject, core, min_area)
    return CoarseMask(subject, surface, tests, rays, outlined)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the engine saw while deciding, each in [0, 1]: the inputs of its confidence score."""

    contrast: float  # how far the subject's outline is from the paper's colour (1 - exp(-ΔE/2thr))
    edge_support: float  # share of the mask's outline lying on a sharp edge of the photo
    shadow_share: float  # share of the ring just outside the mask that only the shadow model calls background
    outline_agreement: float  # share of what the outline encloses that the mask keeps
    largest_share: float  # share of the mask in its largest piece (1: one piece)
    coverage: float  # share of the frame the mask covers
    touching_border: float  # share of the frame's border the mask covers
    paper_inside: float = 0.0  # share of the mask that is the paper's colour (kept by its outline alone)
    shadow_inside: float = 0.0  # share of the mask that the shadow model would call background
    paper_outline: float = 0.0  # share of the mask's outline that is the paper's colour (a boundary in doubt)
    prior_certainty: float = 1.0  # how sure the learned prior is, in and around the mask (mean |2p - 1|)
    rules_agreement: float = 1.0  # IoU of the rules' own mask with the one returned

    def confidence(self) -> float:
        """How much to trust the cut-out, in [0, 1]: like Aidge's score, low means "look at it"."""
        # A logistic model of "IoU >= 0.95" against "IoU < 0.85" (classes weighted equally, L2 0.3, the bias
        # then set so both buckets are right equally often), fitted by bench/fit_score.py on the
        # evaluation set's tuning seeds (bench/engine_quality.py prints how it calibrates on every seed)
        logit = (
            SCORE_WEIGHTS["contrast"] * self.contrast
            + SCORE_WEIGHTS["edge_support"] * self.edge_support
            + SCORE_WEIGHTS["shadow_share"] * self.shadow_share
            + SCORE_WEIGHTS["outline_agreement"] * self.outline_agreement
            + SCORE_WEIGHTS["largest_share"] * self.largest_share
            + SCORE_WEIGHTS["paper_inside"] * self.paper_inside
            + SCORE_WEIGHTS["shadow_inside"] * self.shadow_inside
            + SCORE_WEIGHTS["paper_outline"] * self.paper_outline
            + SCORE_WEIGHTS["prior_certainty"] * self.prior_certainty
            + SCORE_WEIGHTS["rules_agreement"] * self.rules_agreement
            + SCORE_WEIGHTS["bias"]
        )
        score = self.outside_factor() / (1.0 + float(np.exp(-logit)))
        return float(np.clip(score, 0.0, 1.0))

    def outside_factor(self) -> float:
        """What the score is multiplied by, outside the fitted model: a mask running into the frame, a
        nearly empty one or one covering the frame is doubted whatever else was seen (0 for an empty one)."""
        if self.coverage == 0.0:
            return 0.0
        factor = 1.0 - min(1.0, 3.0 * self.touching_border)
        return factor * (1.0 if 0.005 < self.coverage < 0.9 else 0.5)


def _evidence(
    subject: np.ndarray,
    tests: _PixelTests,
    edges: np.ndarray,
    outlined: np.ndarray,
    *,
    likely: FloatArray | None = None,
    rules: np.ndarray | None = None,
) -> Evidence:
    if not subject.any():
        return Evidence(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    prior_certainty, rules_agreement = 1.0, 1.0
    if likely is not None and rules is not None:
        band = _band(subject, 4)
        certain = np.abs(2.0 * likely - 1.0)
        # the prior's doubt inside the mask and in the band around it (outside it, doubt costs nothing)
        prior_certainty = float(np.mean(certain[band | subject]))
        rules_agreement = float((rules & subject).sum() / max(1, (rules | subject).sum()))
    inner = ndimage.binary_erosion(subject, iterations=2)
    inner = inner if inner.sum() > 20 else subject
    outline = subject ^ ndimage.binary_erosion(subject, iterations=2)
    contrast = float(np.median(tests.delta_e[outline])) / tests.strict_threshold
    near_edges = ndimage.binary_dilation(edges, iterations=2)
    ring = ndimage.binary_dilation(subject, iterations=3) & ~subject
    decided_by_shadow = tests.shadow & ~tests.strict
    labels, count = ndimage.label(subject, structure=_EIGHT_CONNECTED)
    areas = np.bincount(labels.ravel())[1:]
    enclosed = ndimage.binary_erosion(outlined, iterations=2)
    return Evidence(
        contrast=1.0 - float(np.exp(-contrast / 2.0)),
        edge_support=float(near_edges[outline].mean()),
        shadow_share=float(decided_by_shadow[ring].mean()) if ring.any() else 0.0,
        outline_agreement=float(subject[enclosed].mean()) if enclosed.sum() > 20 else 1.0,
        largest_share=float(areas.max() / areas.sum()) if count else 0.0,
        coverage=float(subject.mean()),
        touching_border=float(subject[_border(subject.shape, 1)].mean()),
        paper_inside=float(tests.strict[inner].mean()),
        shadow_inside=float(decided_by_shadow[inner].mean()),
        paper_outline=float(tests.strict[outline].mean()),
        prior_certainty=prior_certainty,
        rules_agreement=rules_agreement,
    )


def _band(mask: np.ndarray, radius: int) -> np.ndarray:
    """The pixels within ``radius`` of the mask's outline, on either side."""
    grown = ndimage.binary_dilation(mask, iterations=radius)
    return np.asarray(grown & ~ndimage.binary_erosion(mask, iterations=radius), dtype=bool)


def _fused(rules: np.ndarray, likely: FloatArray, paper: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The prior's subject, corrected by the rules where the rules know better.

    The prior decides *what* is subject (a grey body, not the grey shadow under it) at half the working
    resolution; the rules find *where* an outline runs to the pixel. So the rules' pixel is kept near the
    prior's outline wherever the rules draw an outline of their own close by (``FUSE_RADIUS``), wherever
    the prior is unsure (``PRIOR_UNSURE``: probability within 0.15 of one half), and on paper-coloured
    pixels the rules called background unless the prior is all but certain (``PRIOR_CERTAIN``: a
    handle's hole the prior's coarser view filled in).

    Last, each region the sharp outline walls off (``edges``' connected gaps) is taken as one thing: where
    the prior calls it background on the whole (mean probability under one half), it is background but
    for the pixels the prior is all but certain of. That is the hole both filled in: the space inside a
    headphone's band or a ring, where the rules saw paper walled in by the product and the prior, at
    half the resolution, saw a light body.
    """
    learned = likely > 0.5
    near_learned = _band(learned, FUSE_RADIUS)
    rules_outline = rules ^ ndimage.binary_erosion(rules)
    near_rules = ndimage.binary_dilation(rules_outline, iterations=FUSE_RADIUS)
    certainty = np.abs(2.0 * likely - 1.0)
    take = (near_learned & near_rules) | (certainty < PRIOR_UNSURE)
    fused = learned.copy()
    fused[take] = rules[take]
    fused &= ~(paper & ~rules & (certainty < PRIOR_CERTAIN))
    regions, count = ndimage.label(~edges)
    if count:
        region_mean = ndimage.mean(likely, regions, index=np.arange(1, count + 1))
        background = np.concatenate(([False], region_mean < 0.5))[regions]
        fused &= ~(background & (2.0 * likely - 1.0 < PRIOR_CERTAIN))
    return fused


def _working_image(rgb: np.ndarray) -> tuple[FloatArray, float]:
    height, width = rgb.shape[:2]
    scale = min(1.0, WORKING_MAX_SIDE / max(height, width))
    if scale >= 1.0:
        return rgb.astype(np.float32), 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32), scale


def _local_colour(rgb: FloatArray, where: np.ndarray, sigma: float) -> tuple[FloatArray, FloatArray]:
    """Average colour of nearby ``where`` pixels (normalised convolution) and how much support it had."""
    weight = ndimage.gaussian_filter(where.astype(np.float32), sigma)
    colour = np.empty_like(rgb)
    for channel in range(3):
        colour[..., channel] = ndimage.gaussian_filter(rgb[..., channel] * where, sigma)
    return colour / np.maximum(weight, 1e-6)[..., None], weight


def segment(rgb: np.ndarray) -> Segmentation:
    """Alpha (float32, input size) for an RGB uint8 image of a product on a studio background."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 RGB array, got shape {rgb.shape}")
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    small, _scale = _working_image(rgb)
    edges = sharp_edges(rgb, small.shape[:2])
    coarse = coarse_mask(small, edges)
    if prior.available():
        likely = prior.probability(small, coarse, edges)
        subject = _fused(coarse.subject, likely, coarse.tests.strict, edges)
        evidence = _evidence(
            subject, coarse.tests, edges, coarse.outlined, likely=likely, rules=coarse.subject
        )
    else:
        subject = coarse.subject
        evidence = _evidence(subject, coarse.tests, edges, coarse.outlined)
    confidence = evidence.confidence()
    small_h, small_w = subject.shape

    # Sure regions and a band around the outline, at working resolution.
    band_small = _band(subject, 2)
    sure_fg = ndimage.binary_erosion(subject, iterations=2)
    sure_bg = ~ndimage.binary_dilation(subject, iterations=2)
    fg_colour, fg_weight = _local_colour(small, sure_fg, sigma=3.0)
    bg_colour, bg_weight = _local_colour(small, sure_bg, sigma=3.0)
    mask_smooth = ndimage.gaussian_filter(subject.astype(np.float32), 0.8)

    # Full resolution: sure pixels straight from the upscaled mask, the band from colours.
    to_full = Image.Resampling.NEAREST
    band = np.asarray(Image.fromarray(band_small).resize((width, height), to_full))
    alpha = np.asarray(Image.fromarray(subject).resize((width, height), to_full), dtype=np.float32)
    rows, cols = np.nonzero(band)
    if rows.size:
        sy = (rows + 0.5) * (small_h / height) - 0.5
        sx = (cols + 0.5) * (small_w / width) - 0.5
        coords = np.stack([sy, sx])

        def sample(image: FloatArray) -> FloatArray:
            sampled = ndimage.map_coordinates(image, coords, order=1, mode="nearest")
            return np.asarray(sampled, dtype=np.float32)

        fg = np.stack([sample(fg_colour[..., c]) for c in range(3)], axis=-1)
        bg = np.stack([sample(bg_colour[..., c]) for c in range(3)], axis=-1)
        support = np.minimum(sample(fg_weight), sample(bg_weight))
        smoothed = sample(mask_smooth)
        pixel = rgb[rows, cols].astype(np.float32)
        difference = fg - bg
        contrast2 = np.sum(difference * difference, axis=-1)
        from_colour = np.clip(np.sum((pixel - bg) * difference, axis=-1) / np.maximum(contrast2, 1.0), 0, 1)
        trust = np.clip((np.sqrt(contrast2) - 12.0) / 24.0, 0.0, 1.0) * (support > 0.02)
        alpha[rows, cols] = trust * from_colour + (1.0 - trust) * smoothed
    # near-0 and near-1 values are noise of the colour model, not partial coverage
    alpha[alpha < ALPHA_SNAP] = 0.0
    alpha[alpha > 1.0 - ALPHA_SNAP] = 1.0
    return Segmentation(alpha=alpha.astype(np.float32), confidence=confidence, evidence=evidence)


def estimate_alpha(rgb: np.ndarray) -> np.ndarray:
    """Alpha in [0, 1] (float32, same height and width) for an RGB uint8 studio photo."""
    alpha: np.ndarray = segment(rgb).alpha
    return alpha
