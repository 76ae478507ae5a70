"""Variants from one master: CPU seconds and peak RSS per image, against Pillow's own floor.

Run: ``.venv/bin/python bench/variants.py [--runs 3]`` (``make bench`` runs it). For one, three and
six variants of a 3000×3000 transparent master (the largest the API returns), each measurement runs
in its own child process so peak RSS (VmHWM) is that work's alone:

- cutout: ``cutout.variants.render_variant`` for each variant (subject box, layout, resize, edge
  decontamination, compositing, encoding with the ``max_bytes`` search);
- floor: Pillow alone doing the same crop, resize, paste and encode of each variant (the same
  encoder settings), with nothing else (no subject search, no decontamination, no max_bytes search).

Target (issue 12): cutout's CPU <= 1.5x the floor. Prints a table and writes bench/results-variants.json.

Shadows (issue 27): each kind (contact, drop, reflection) on ``amazon-main`` (2000×2000 JPEG) and
``web-transparent`` (PNG), per variant, against the same floor plus the plainest Pillow shadow of
that kind (the alpha moved or flipped, one full-size Gaussian blur, the opacity, one composite).

Colour spill (issue 27): masters whose soft edge carries the backdrop's colour (green screen, grey
sweep, yellow and blue paper), composited on white with decontamination off and on. The *lean* of
an edge pixel is how far its colour sits from the clean composite (the product's own colour over
white at that alpha), measured along the direction from the product's colour to the backdrop's,
in levels (0-255): 0 is no spill, positive leans toward the backdrop. No timing: exact figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results-variants.json"
# The default profile's three, then the marketplace presets: one, three and six variants.
VARIANT_SETS = {
    1: ["amazon-main"],
    3: ["web-transparent", "amazon-main", "listing-webp"],
    6: ["web-transparent", "amazon-main", "listing-webp", "walmart", "shopify", "google-shopping"],
}
TARGET_RATIO = 1.5
SHADOW_KINDS = ("contact", "drop", "reflection")
SHADOW_PRESETS = ("amazon-main", "web-transparent")

CHILD = r"""
import json, sys, time
from PIL import Image, ImageDraw, ImageFilter
from cutout.profiles import VariantSpec
from cutout.variants import encode_at, plan_layout, render_variant, subject_box

mode, names = sys.argv[1], sys.argv[2].split(",")
kind = sys.argv[3] if len(sys.argv) > 3 else ""

def master(side=3000):
    alpha = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(alpha)
    draw.rounded_rectangle((side * 0.2, side * 0.1, side * 0.75, side * 0.9), radius=side // 20, fill=255)
    draw.ellipse((side * 0.6, side * 0.3, side * 0.9, side * 0.6), fill=255)
    alpha = alpha.filter(ImageFilter.GaussianBlur(3))
    noise = Image.effect_noise((side, side), 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize((side, side))
    turned = gradient.transpose(Image.Transpose.ROTATE_90)
    colour = Image.merge("RGB", (gradient, noise.getchannel(0), turned))
    colour.putalpha(alpha)
    return colour

image = master()
extra = {"shadow": kind} if kind else {}
specs = [VariantSpec.model_validate({"preset": name, **extra}) for name in names]
start = time.process_time()
sizes = []
if mode == "cutout":
    for spec in specs:
        sizes.append(len(render_variant(image, spec).body))
else:  # Pillow alone: the same crop, resize and encode, nothing else
    box = subject_box(image)
    for spec in specs:
        layout = plan_layout(image.size, box, spec)
        part = image.crop(layout.source.as_tuple()).resize(layout.placed, Image.Resampling.LANCZOS)
        canvas = Image.new("RGBA", layout.canvas, (0, 0, 0, 0))
        if kind:  # the plainest shadow of that kind: move (or flip) the alpha, one blur, opacity, composite
            shadow = spec.shadow
            side = max(layout.placed)
            if kind == "reflection":
                mirror = part.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
                mirror.putalpha(mirror.getchannel("A").point(lambda v: int(v * shadow.opacity)))
                canvas.paste(mirror, (layout.offset[0], layout.offset[1] + layout.placed[1]))
            else:
                mask = Image.new("L", layout.canvas, 0)
                dy = layout.placed[1] if kind == "contact" else round(shadow.distance.pixels(side))
                mask.paste(part.getchannel("A"), (layout.offset[0], layout.offset[1] + dy))
                mask = mask.filter(ImageFilter.GaussianBlur(shadow.softness.pixels(side)))
                canvas.putalpha(mask.point(lambda v: int(v * shadow.opacity)))
        canvas.alpha_composite(part, dest=layout.offset)
        if spec.background_rgb is not None:
            flat = Image.new("RGB", layout.canvas, spec.background_rgb)
            flat.paste(canvas.convert("RGB"), mask=canvas.getchannel("A"))
            canvas = flat
        sizes.append(len(encode_at(canvas, spec.format, spec.quality)))  # the same encoder settings
cpu = time.process_time() - start
hwm_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"cpu_seconds": cpu, "peak_rss_mib": hwm_kib / 1024, "bytes": sizes}))
"""


def measure(mode: str, names: list[str], kind: str = "") -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, ",".join(names), kind], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument(
        "--only", choices=("variants", "shadows", "spill"), help="one part of the bench (default: all three)"
    )
    args = parser.parse_args()
    if args.only == "spill":  # exact figures, no timing: quick
        spill_rows()
        return 0
    if args.only == "shadows":
        shadow_rows(args.runs)
        return 0
    rows: list[dict[str, Any]] = []
    print(f"variants from one 3000x3000 master (median of {args.runs} runs; CPU s per image, peak RSS MiB)")
    header = ("variants", "cutout CPU", "floor CPU", "ratio", "cutout RSS", "floor RSS")
    print(" ".join(f"{name:>11}" for name in header))
    for count, names in VARIANT_SETS.items():
        ours = [measure("cutout", names) for _ in range(args.runs)]
        floor = [measure("floor", names) for _ in range(args.runs)]
        row = {
            "variants": count,
            "names": names,
            "cutout_cpu_seconds": statistics.median(run["cpu_seconds"] for run in ours),
            "floor_cpu_seconds": statistics.median(run["cpu_seconds"] for run in floor),
            "cutout_peak_rss_mib": statistics.median(run["peak_rss_mib"] for run in ours),
            "floor_peak_rss_mib": statistics.median(run["peak_rss_mib"] for run in floor),
            "bytes": ours[0]["bytes"],
        }
        row["ratio"] = row["cutout_cpu_seconds"] / row["floor_cpu_seconds"]
        rows.append(row)
        print(
            f"{count:>11} {row['cutout_cpu_seconds']:>11.3f} {row['floor_cpu_seconds']:>11.3f} "
            f"{row['ratio']:>10.2f}x {row['cutout_peak_rss_mib']:>11.0f} {row['floor_peak_rss_mib']:>11.0f}"
        )
    worst = max(row["ratio"] for row in rows)
    verdict = "met" if worst <= TARGET_RATIO else "NOT met"
    print(f"target: cutout CPU <= {TARGET_RATIO}x the floor: {verdict} (worst {worst:.2f}x)")
    if args.only == "variants":
        return 0
    shadows = shadow_rows(args.runs)
    spill = spill_rows()
    RESULTS_PATH.write_text(
        json.dumps({"rows": rows, "target_ratio": TARGET_RATIO, "shadows": shadows, "spill": spill}, indent=2)
        + "\n"
    )
    return 0


def shadow_rows(runs: int) -> list[dict[str, Any]]:
    """Each shadow kind on one variant: cutout's CPU and the floor's, with and without the shadow."""
    print(f"\nshadows, one variant from the 3000x3000 master (median of {runs} runs; CPU s per variant)")
    header = ("preset", "shadow", "cutout CPU", "floor CPU", "ratio", "vs no shadow")
    print(" ".join(f"{name:>15}" for name in header))
    rows: list[dict[str, Any]] = []
    for preset in SHADOW_PRESETS:
        plain = statistics.median(measure("cutout", [preset])["cpu_seconds"] for _ in range(runs))
        for kind in SHADOW_KINDS:
            ours = statistics.median(measure("cutout", [preset], kind)["cpu_seconds"] for _ in range(runs))
            floor = statistics.median(measure("floor", [preset], kind)["cpu_seconds"] for _ in range(runs))
            row = {
                "preset": preset,
                "shadow": kind,
                "cutout_cpu_seconds": ours,
                "floor_cpu_seconds": floor,
                "ratio": ours / floor,
                "cutout_without_shadow_cpu_seconds": plain,
            }
            rows.append(row)
            print(
                f"{preset:>15} {kind:>15} {ours:>15.3f} {floor:>15.3f} {ours / floor:>14.2f}x "
                f"{ours - plain:>+14.3f}s"
            )
    return rows


BACKDROPS = {"green screen": (0, 177, 64), "grey sweep": (128, 128, 128), "yellow paper": (236, 200, 40)}
BACKDROPS["blue paper"] = (40, 90, 200)
PRODUCTS = {"red": (190, 30, 30), "navy": (30, 40, 90), "cream": (235, 225, 200)}


def spill_rows(side: int = 600) -> list[dict[str, Any]]:
    """Edge lean toward the backdrop on white, in levels, decontamination off then on."""
    from PIL import Image, ImageDraw, ImageFilter

    from cutout.profiles import VariantSpec
    from cutout.variants import compose

    print("\ncolour spill at the edge on white (levels toward the backdrop; max / 99th pct / mean)")
    columns = ("off: max", "p99", "mean", "on: max", "p99", "mean")
    print(f"{'backdrop':>14} {'product':>8} " + " ".join(f"{name:>9}" for name in columns))
    alpha = Image.new("L", (side, side), 0)
    ImageDraw.Draw(alpha).rounded_rectangle((90, 60, side - 90, side - 60), radius=side // 8, fill=255)
    alpha = alpha.filter(ImageFilter.GaussianBlur(4))  # a soft edge ~12 px wide, as hair or fabric
    rows: list[dict[str, Any]] = []
    for backdrop_name, backdrop in BACKDROPS.items():
        for product_name, colour in PRODUCTS.items():
            # What a matting without decontamination returns: each edge pixel mixes product and backdrop.
            master = Image.composite(
                Image.new("RGB", alpha.size, colour), Image.new("RGB", alpha.size, backdrop), alpha
            )
            master.putalpha(alpha)
            leans = {}
            for label, on in (("off", False), ("on", True)):
                spec = VariantSpec.model_validate(
                    {
                        "name": "v",
                        "format": "jpeg",
                        "background": "white",
                        "crop": "none",
                        "decontaminate": on,
                    }
                )
                leans[label] = _lean(compose(master, spec), alpha, colour, backdrop)
            row = {
                "backdrop": backdrop_name,
                "product": product_name,
                **{
                    f"{label}_{stat}": value
                    for label, stats in leans.items()
                    for stat, value in stats.items()
                },
            }
            rows.append(row)
            print(
                f"{backdrop_name:>14} {product_name:>8} "
                + " ".join(
                    f"{row[f'{label}_{stat}']:>9.1f}"
                    for label in ("off", "on")
                    for stat in ("max", "p99", "mean")
                )
            )
    return rows


def _lean(
    composite: Any, alpha: Any, product: tuple[int, int, int], backdrop: tuple[int, int, int]
) -> dict[str, float]:
    """Lean of the edge pixels (0 < alpha < 250) along product → backdrop, against the clean composite."""
    import numpy as np

    a = np.asarray(alpha, dtype=np.float64) / 255.0
    edge = (a > 0) & (a < 250 / 255)
    ideal = a[..., None] * np.array(product, dtype=np.float64) + (1 - a[..., None]) * 255.0
    got = np.asarray(composite.convert("RGB"), dtype=np.float64)
    direction = np.array(backdrop, dtype=np.float64) - np.array(product, dtype=np.float64)
    direction /= np.linalg.norm(direction)
    lean = ((got - ideal) @ direction)[edge]
    return {"max": float(lean.max()), "p99": float(np.percentile(lean, 99)), "mean": float(lean.mean())}


if __name__ == "__main__":
    raise SystemExit(main())
