"""``cutout profiles check FILE`` and ``cutout profiles preview FILE IMAGE --out DIR``.

``check`` validates a profiles file exactly as the function does at start and prints each
profile's variants. ``preview`` cuts IMAGE out with the local studio engine (offline, no Aidge
call) and renders every variant of the profile the image's key would get. Exit codes: 0 done,
1 the file is invalid or the image cannot be read, 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

    from cutout.normalisation.rights import Rights
    from cutout.profiles import Profile, ProfileSet, VariantSpec


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "profiles", help="check a profiles file; preview its variants offline", description=__doc__
    )
    actions = parser.add_subparsers(dest="profiles_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a profiles file as the function does at start")
    check.add_argument(
        "file", type=Path, help="the profiles file (e.g. functions/process_upload/profiles.toml)"
    )
    check.set_defaults(handler=run_check)
    preview = actions.add_parser(
        "preview", help="render every variant of one image with the local studio engine (offline)"
    )
    preview.add_argument("file", type=Path, help="the profiles file")
    preview.add_argument("image", type=Path, help="a product photo")
    preview.add_argument("--out", type=Path, required=True, help="folder for the variants (created)")
    preview.add_argument("--profile", help="the profile to use (default: chosen by --key, as for an upload)")
    preview.add_argument("--key", help="the upload key to choose the profile by (default: the image's name)")
    preview.set_defaults(handler=run_preview)


def _load(path: Path) -> ProfileSet | None:
    from cutout.profiles import ProfilesError, load_profiles

    try:
        return load_profiles(path)
    except ProfilesError as error:
        print(str(error), file=sys.stderr)
        return None


def _describe(profile: Profile) -> list[str]:
    from cutout.profiles import RULES

    rights = "kept" if profile.keep_rights else "dropped (keep_rights = false)"
    lines = [f"{profile.name}: prefixes {', '.join(profile.prefixes) or '(none)'}; source's rights {rights}"]
    for variant in profile.variants:
        canvas = variant.canvas
        size = f"{canvas.width}x{canvas.height}" if canvas.kind == "fixed" else canvas.kind
        fill = f", fill {variant.fill:.0%}" if variant.fill else ""
        extras = [_shadow(variant)] if variant.shadow else []
        if variant.clear_margins:
            extras.append("clear margins")
        if not variant.decontaminate:
            extras.append("no edge decontamination")
        lines.append(
            f"  {variant.name}: {variant.format.value} q{variant.quality}, background {variant.background}, "
            f"crop {variant.crop}, canvas {size}{fill}" + "".join(f", {extra}" for extra in extras)
        )
        rule = RULES.get(variant.name)
        if rule is not None:
            secondary = " (secondary source)" if rule.secondary else ""
            lines.append(f"    rule: {rule.source}, read {rule.read_on.isoformat()}{secondary}")
            if rule.change:
                lines.append(f"    change: {rule.change}")
    return lines


def _shadow(variant: VariantSpec) -> str:
    shadow = variant.shadow
    if shadow is None:
        return ""
    parts = [f"{shadow.mode} shadow", f"opacity {shadow.opacity:g}"]
    if shadow.mode == "drop":
        parts[1:1] = [f"toward {shadow.direction:g}°", f"{shadow.distance} away"]
    if shadow.mode != "reflection":
        parts.append(f"softness {shadow.softness}")
    else:
        parts.append(f"fading over {shadow.fade}")
    return " ".join(parts[:1]) + " (" + ", ".join(parts[1:]) + ")"


def _pipeline_warnings(data: bytes, profile: Profile) -> list[str]:
    """What the pipeline would say of this image before paying (it would refuse it), if anything."""
    from cutout.failures import FailureReason
    from cutout.validation import validate_bytes
    from cutout.variants.enlargement import refuse_if_too_small

    try:
        facts = validate_bytes(data)
        refuse_if_too_small(facts.width, facts.height, profile)
    except FailureReason as refused:
        return [
            f"the pipeline would refuse this image before paying ({refused.code}: {refused.message}); "
            "the variants below are a preview of what it would never make"
        ]
    return []


def _gate_reasons(master: Image.Image, score: float | None, profile: Profile) -> tuple[str, ...]:
    """The quality gate's reasons to hold this cut-out, as the function would judge it."""
    from cutout.quality_gate import alpha_stats, judge
    from cutout.variants.enlargement import enlargements

    return judge(alpha_stats(master), score, profile.quality, enlargements(master, profile)).reasons


def run_check(args: argparse.Namespace) -> int:
    profiles = _load(args.file)
    if profiles is None:
        return 1
    print(f"{args.file}: valid; default profile {profiles.default!r}")
    for profile in profiles.profiles.values():
        print("\n".join(_describe(profile)))
    return 0


def run_preview(args: argparse.Namespace) -> int:
    from PIL import Image, UnidentifiedImageError

    from cutout.engine.port import Background, CutoutOptions, ImageBytes
    from cutout.failures import FailureReason
    from cutout.normalisation.rights import RIGHTS_HEAD_BYTES, Rights, read_rights
    from cutout.variants import render_variant
    from cutout_tools.studio.engine import StudioEngine

    profiles = _load(args.file)
    if profiles is None:
        return 1
    if args.out.exists() and not args.out.is_dir():
        print(f"--out {args.out} is a file, not a folder", file=sys.stderr)
        return 2
    try:
        data = args.image.read_bytes()
    except OSError as error:
        print(f"{args.image}: cannot be read ({error.strerror})", file=sys.stderr)
        return 1
    try:
        profile = (
            profiles.profiles[args.profile] if args.profile else profiles.choose(args.key or args.image.name)
        )
    except KeyError:
        print(f"no profile {args.profile!r} in {args.file} (known: {profiles.known})", file=sys.stderr)
        return 2
    refusals = _pipeline_warnings(data, profile)
    for warning in refusals:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        cutout = StudioEngine().remove_background(
            ImageBytes(data), CutoutOptions(background=Background.TRANSPARENT)
        )
        with Image.open(cutout.body) as opened:
            master = opened.convert("RGBA")
    except (FailureReason, UnidentifiedImageError, OSError) as error:
        print(f"{args.image}: cannot be cut out ({error})", file=sys.stderr)
        return 1
    print(f"{args.image.name}: profile {profile.name!r}, master {master.width}x{master.height}")
    # As the deliver step does: the photo's rights fields, written into every variant as XMP.
    rights = read_rights(data[:RIGHTS_HEAD_BYTES]) if profile.keep_rights else Rights()
    print(f"  rights: {_rights(rights) if profile.keep_rights else 'dropped (keep_rights = false)'}")
    held = () if refusals else _gate_reasons(master, cutout.score, profile)
    if held:
        print(
            f"warning: the quality gate would hold this cut-out for review ({', '.join(held)}): "
            "its outputs would go under review/, not be published",
            file=sys.stderr,
        )
    for variant in profile.variants:
        try:
            rendered = render_variant(master, variant, xmp=None if rights.empty else rights.xmp())
        except FailureReason as error:
            print(f"  {variant.name}: FAILED [{error.code}] {error.message}")
            continue
        target = args.out / variant.name / f"{args.image.name}{rendered.extension}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rendered.body)
        print(
            f"  {variant.name}: {rendered.width}x{rendered.height}, {len(rendered.body):,} bytes -> {target}"
        )
    return 0


def _rights(rights: Rights) -> str:
    if rights.empty:
        return "none in the photo"
    fields = [
        ("creator", "; ".join(rights.creators)),
        ("copyright", rights.copyright),
        ("credit", rights.credit_line),
        ("usage terms", rights.usage_terms),
        ("digital source type", rights.digital_source_type.rsplit("/", 1)[-1]),
    ]
    return "kept: " + ", ".join(f"{name} {value!r}" for name, value in fields if value)
