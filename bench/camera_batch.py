"""The camera batch: normalising what cameras and phones upload, against Pillow's own floor.

Run: ``.venv/bin/python bench/camera_batch.py [--memory-mb 1024] [--count 10]`` (``make bench``
runs it). Generates, at run time (nothing is committed), ten 6000×4000 JPEGs (a 24 MP camera) and
ten 4032×3024 HEICs (an iPhone, pillow-heif's encoder), then measures, each in a fresh child
process so that peak RSS is that run's alone:

- **cutout**: ``cutout.normalisation.normalise`` on each file, ten at once on ten threads (a batch
  of ten SQS records), under the ``PixelBudget`` of a function with ``--memory-mb`` of memory;
- **floor**: Pillow alone on the same files, one after the other: ``draft`` (JPEG DCT reduction),
  ``load``, one Lanczos resize to 3000 px, one JPEG encode at the same quality; nothing else;
- **fast path**: ``inspect_image`` + ``decide_fast_path`` on a 3000×2000 JPEG through a ranged
  reader (bytes read and CPU per image), with this tree's library and, if /work/main or
  ``--main`` exists, with main's, to show the path is unchanged.

Billed GB-s per image = memory × (CPU seconds / Lambda's CPU share), the share being
memory / 1769 MB of one vCPU (a 128 MB function has about 1/14): for CPU-bound work the GB-s are
the same at any size up to 1769 MB, so the memory default is decided by peak RSS and the batch's
wall time, not by the CPU price. See docs/benchmarks.md, "Camera batch".
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FULL_VCPU_MB = 1769
PRICE_PER_GB_SECOND_ARM = 0.0000133334
QUALITY = 92


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- inputs -----------------------------------------------------------------------------------


_BASES: dict[tuple[tuple[int, int], float], Any] = {}


def photo_like(size: tuple[int, int], seed: int, sigma: float = 24.0) -> Any:
    """A product-photo-like picture: a soft gradient and sensor-like noise (made once per size),
    with a few shapes placed by ``seed``."""
    from PIL import Image, ImageDraw, ImageFilter

    width, height = size
    if (size, sigma) not in _BASES:
        base = Image.linear_gradient("L").resize(size).convert("RGB").filter(ImageFilter.BoxBlur(2))
        noise = Image.effect_noise(size, sigma).convert("RGB")
        _BASES[(size, sigma)] = Image.blend(base, noise, 0.3)
    image = _BASES[(size, sigma)].copy()
    draw = ImageDraw.Draw(image)
    for index in range(6):
        x, y = (seed * 977 + index * 1531) % width, (seed * 613 + index * 887) % height
        colour = ((seed * 40 + index * 70) % 255, (index * 90) % 255, (seed * 25) % 255)
        draw.ellipse((x - width // 8, y - height // 8, x + width // 8, y + height // 8), fill=colour)
    return image


def make_inputs(directory: Path, count: int, distinct_heics: int) -> dict[str, list[Path]]:
    """``count`` distinct camera JPEGs; ``count`` HEICs, ``distinct_heics`` of them encoded (x265
    takes 10+ s an image on a busy 2-core machine) and copied to make up the batch."""
    import shutil

    import pillow_heif

    pillow_heif.register_heif_opener()
    files: dict[str, list[Path]] = {"jpeg": [], "heic": []}
    for index in range(count):
        path = directory / f"camera-{index}.jpg"
        photo_like((6000, 4000), index).save(path, "JPEG", quality=95)
        files["jpeg"].append(path)
        path = directory / f"phone-{index}.heic"
        if index < distinct_heics:
            photo_like((4032, 3024), index).save(path, "HEIF", quality=85, enc_params={"preset": "ultrafast"})
        else:
            shutil.copyfile(directory / f"phone-{index % distinct_heics}.heic", path)
        files["heic"].append(path)
    return files


def object_size_cap(directory: Path) -> dict[str, float]:
    """Sizes of 45 MP (8256×5504) files: a camera's finest JPEG, a high-ISO one, and a HEIC."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    sizes: dict[str, float] = {}
    for name, sigma, fmt, quality in (
        ("jpeg_q95_typical", 10.0, "JPEG", 95),
        ("jpeg_q98_high_iso", 40.0, "JPEG", 98),
        ("heic_q90_high_iso", 40.0, "HEIF", 90),
    ):
        buffer = io.BytesIO()
        extra = {"enc_params": {"preset": "ultrafast"}} if fmt == "HEIF" else {}
        photo_like((8256, 5504), 3, sigma).save(buffer, fmt, quality=quality, **extra)
        sizes[name] = round(len(buffer.getvalue()) / 2**20, 1)
    return sizes


# -- child runs -----------------------------------------------------------------------------------


def child_cutout(paths: list[str], memory_mb: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "layers" / "cutout"))
    from cutout.normalisation import normalise
    from cutout.pixels import PixelBudget

    budget = PixelBudget.for_memory(memory_mb)
    datas = [Path(path).read_bytes() for path in paths]
    import PIL.Image  # noqa: F401  (imports out of the measurement)

    before = rss_mib()
    started_cpu, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(datas)) as pool:
        results = list(pool.map(lambda data: normalise(data, budget), datas))
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    usage = budget.usage()
    return {
        "cpu_s_per_image": cpu / len(datas),
        "wall_s": wall,
        "peak_rss_mib": peak_rss_mib(),
        "rss_before_mib": before,
        "input_mib": sum(map(len, datas)) / 2**20,
        "budget_mib": usage.capacity_bytes / 2**20,
        "peak_reserved_mib": usage.peak_reserved_bytes / 2**20,
        "waited": usage.waited,
        "oversized": usage.oversized,
        "largest_estimate_mib": max(result.report.reserved_bytes for result in results) / 2**20,
        "output": f"{results[0].report.width}x{results[0].report.height}",
    }


def child_floor(paths: list[str]) -> dict[str, Any]:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    datas = [Path(path).read_bytes() for path in paths]
    started_cpu = time.process_time()
    for data in datas:
        image = Image.open(io.BytesIO(data))
        if image.format == "JPEG":
            scale = 1
            while max(image.size) // (scale * 2) >= 3000 and scale < 8:
                scale *= 2
            image.draft("RGB", (image.width // scale, image.height // scale))
        image.load()
        factor = 3000 / max(image.size)
        if factor < 1:
            image = image.resize((round(image.width * factor), round(image.height * factor)), Image.LANCZOS)
        image.save(io.BytesIO(), "JPEG", quality=QUALITY, subsampling=0)
    cpu = time.process_time() - started_cpu
    return {"cpu_s_per_image": cpu / len(datas), "peak_rss_mib": peak_rss_mib()}


def child_fast_path(library: str, path: str, repeats: int) -> dict[str, Any]:
    sys.path.insert(0, library)
    from cutout.validation import ImageLimits, inspect_image

    data = Path(path).read_bytes()
    served = [0]

    def read_range(start: int, end: int | None) -> bytes:
        chunk = data[start:] if start < 0 else data[start : None if end is None else end + 1]
        served[0] += len(chunk)
        return chunk

    limits = ImageLimits()
    inspect_image(read_range, len(data), limits)  # warm up
    served[0] = 0
    started = time.process_time()
    for _ in range(repeats):
        facts = inspect_image(read_range, len(data), limits)
    cpu = (time.process_time() - started) / repeats
    decision = "n/a"
    try:
        from cutout.normalisation import decide_fast_path

        decision = "fast path" if decide_fast_path(facts, limits).taken else "normalised"
    except ImportError:
        decision = "fast path (main has no decision: every valid input went as is)"
    return {"cpu_us_per_image": cpu * 1e6, "bytes_read_per_image": served[0] / repeats, "decision": decision}


def run_child(*arguments: str) -> dict[str, Any]:
    environment = {**os.environ, "MALLOC_ARENA_MAX": "2"}
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *arguments],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    answer: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return answer


# -- report ---------------------------------------------------------------------------------------


def billed(cpu_s: float, memory_mb: int) -> float:
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    return memory_mb / 1024 * cpu_s / share


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memory-mb", type=int, default=1024, help="the template's memory default")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--distinct-heics", type=int, default=2, help="HEICs actually encoded (slow)")
    parser.add_argument("--main", type=Path, default=Path("/work/main/layers/cutout"))
    parser.add_argument("--child", nargs=argparse.REMAINDER)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results-camera.json")
    arguments = parser.parse_args()
    if arguments.child:
        kind, *rest = arguments.child
        if kind == "cutout":
            print(json.dumps(child_cutout(rest[1:], int(rest[0]))))
        elif kind == "floor":
            print(json.dumps(child_floor(rest)))
        else:
            print(json.dumps(child_fast_path(rest[0], rest[1], int(rest[2]))))
        return

    results: dict[str, Any] = {"memory_mb": arguments.memory_mb, "batches": {}}
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        print(f"generating {arguments.count} 6000x4000 JPEGs and {arguments.count} 4032x3024 HEICs ...")
        files = make_inputs(directory, arguments.count, arguments.distinct_heics)
        for kind, paths in files.items():
            names = [str(path) for path in paths]
            cutout = run_child("cutout", str(arguments.memory_mb), *names)
            floor = run_child("floor", *names)
            results["batches"][kind] = {"cutout": cutout, "floor": floor}
        from PIL import Image

        fast = directory / "ready.jpg"
        photo_like((3000, 2000), 1).save(fast, "JPEG", quality=90)
        Image.open(fast).close()
        results["fast_path"] = {
            "this tree": run_child("fast-path", str(REPO / "layers" / "cutout"), str(fast), "200")
        }
        if (arguments.main / "cutout").is_dir():
            results["fast_path"]["main"] = run_child("fast-path", str(arguments.main), str(fast), "200")
        results["object_size_cap_mib"] = object_size_cap(directory)

    memory = arguments.memory_mb
    print(f"\ncamera batch, {arguments.count} images a batch, all at once, budget of a {memory} MB function")
    print(
        f"{'batch':6} {'CPU s/img':>10} {'floor':>7} {'ratio':>6} {'peak RSS':>9} {'budget':>7} "
        f"{'waited':>6} {'GB-s/img 128':>13} {f'@{memory}':>8}"
    )
    for kind, batch in results["batches"].items():
        cutout, floor = batch["cutout"], batch["floor"]
        ratio = cutout["cpu_s_per_image"] / floor["cpu_s_per_image"]
        batch["ratio"] = ratio
        batch["gb_s_per_image"] = {
            "128": billed(cutout["cpu_s_per_image"], 128),
            str(arguments.memory_mb): billed(cutout["cpu_s_per_image"], arguments.memory_mb),
        }
        print(
            f"{kind:6} {cutout['cpu_s_per_image']:>10.3f} {floor['cpu_s_per_image']:>7.3f} {ratio:>6.2f} "
            f"{cutout['peak_rss_mib']:>7.0f}Mi {cutout['budget_mib']:>5.0f}Mi {cutout['waited']:>6} "
            f"{batch['gb_s_per_image']['128']:>13.3f} {batch['gb_s_per_image'][str(memory)]:>8.3f}"
        )
        print(
            f"       (input {cutout['input_mib']:.0f} MiB, output {cutout['output']}, largest estimate "
            f"{cutout['largest_estimate_mib']:.0f} MiB, peak reserved {cutout['peak_reserved_mib']:.0f} MiB, "
            f"floor peak RSS {floor['peak_rss_mib']:.0f} MiB)"
        )
    for name, fast_path in results["fast_path"].items():
        print(
            f"fast path ({name}): {fast_path['cpu_us_per_image']:.0f} µs CPU and "
            f"{fast_path['bytes_read_per_image']:,.0f} bytes read per 3000x2000 JPEG; {fast_path['decision']}"
        )
    print(f"45 MP files (MiB): {results['object_size_cap_mib']}")
    arguments.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {arguments.output.relative_to(REPO)}")


if __name__ == "__main__":
    main()
