"""Variants from one master: CPU seconds and peak RSS per image, against Pillow's own floor.

Run: ``.venv/bin/python bench/variants.py [--runs 3]`` (``make bench`` runs it). For one, three and
six variants of a 3000×3000 transparent master (the largest the API returns), each measurement runs
in its own child process so peak RSS (VmHWM) is that work's alone:

- cutout: ``cutout.variants.render_variant`` for each variant (subject box, layout, resize, edge
  decontamination, compositing, encoding with the ``max_bytes`` search);
- floor: Pillow alone doing the same crop, resize, paste and encode of each variant (the same
  encoder settings), with nothing else (no subject search, no decontamination, no max_bytes search).

Target (issue 12): cutout's CPU <= 1.5x the floor. Prints a table and writes bench/results-variants.json.
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

CHILD = r"""
import json, sys, time
from PIL import Image, ImageDraw, ImageFilter
from cutout.profiles import VariantSpec
from cutout.variants import encode_at, plan_layout, render_variant, subject_box

mode, names = sys.argv[1], sys.argv[2].split(",")

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
specs = [VariantSpec.model_validate({"preset": name}) for name in names]
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


def measure(mode: str, names: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, ",".join(names)], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported")
    args = parser.parse_args()
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
    RESULTS_PATH.write_text(json.dumps({"rows": rows, "target_ratio": TARGET_RATIO}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
