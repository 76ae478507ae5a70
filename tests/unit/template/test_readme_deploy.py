"""The README's deploy section: its example samconfig.toml lists every parameter of template.yaml at
its default, its links lead to files that exist, and it stays short (issue 26: a screen or three)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from cutout_tools.template import load_template

REPO = Path(__file__).resolve().parents[3]
README = REPO / "README.md"


def samconfig() -> dict[str, object]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<summary>samconfig.toml</summary>", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    parsed: dict[str, object] = tomllib.loads(block)
    return parsed


def overrides() -> dict[str, str]:
    deploy = samconfig()["default"]["deploy"]["parameters"]  # type: ignore[index]
    return dict(entry.split("=", 1) for entry in deploy["parameter_overrides"])


def test_the_example_samconfig_lists_every_parameter_at_its_default() -> None:
    # Given template.yaml's parameters and the README's example samconfig.toml
    parameters = load_template()["Parameters"]
    listed = overrides()
    # Then it names each parameter once, in the template's order, at its default ('""' when empty)
    assert list(listed) == list(parameters)
    for name, spec in parameters.items():
        default = str(spec.get("Default", ""))
        assert listed[name] == (default or '""'), name


def test_every_parameter_has_a_comment() -> None:
    # Given the example's lines
    text = README.read_text(encoding="utf-8")
    # Then each parameter's line says what it is
    for name in load_template()["Parameters"]:
        [line] = [line for line in text.splitlines() if line.strip().startswith(f"'{name}=")]
        assert re.search(r"#\s+\S", line), name


def test_the_readme_links_lead_to_files_that_exist() -> None:
    # Given the README's relative links
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))
    local = [link for link in links if not link.startswith(("http://", "https://", "mailto:"))]
    # Then each one is a file or folder of the repository
    assert local
    assert [link for link in local if not (REPO / link).exists()] == []


def test_the_readme_fits_a_screen_or_three_and_deploys_early() -> None:
    # Given the README
    lines = README.read_text(encoding="utf-8").splitlines()
    deploy = next(number for number, line in enumerate(lines, 1) if line.startswith("## Deploy"))
    # Then it is short, and deploying starts in its first screens (it was line 423 of 1,114)
    assert len(lines) <= 200
    assert deploy <= 50
    steps = [int(match.group(1)) for line in lines if (match := re.match(r"^(\d)\. ", line))]
    assert steps == [1, 2, 3, 4, 5, 1, 2, 3]  # deploy's five steps, then the profiles' three, in order


def test_the_quick_starts_output_keys_are_the_ones_the_pipeline_writes() -> None:
    # Given the keys the README's quick start shows for the demo's kitchen/mug.jpg
    from cutout.profiles import load_profiles
    from cutout.variants import master_key, variant_key

    text = " ".join(README.read_text(encoding="utf-8").split())
    standard = load_profiles(REPO / "functions" / "process_upload" / "profiles.toml").profiles["standard"]
    # Then each is the key the pipeline writes for that upload (under out/)
    assert f"(`out/{master_key('<key>')}`)" in text
    for spec in standard.variants:
        assert f"`out/{variant_key('kitchen/mug.jpg', spec.name, spec.format.extension)}`" in text
