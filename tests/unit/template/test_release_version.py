"""One release number: cutout.__version__, which the template, the package and the CLI carry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cutout
from cutout_tools.cli import main
from cutout_tools.template import StackContext, load_template, resolve, resolved_function_environment

ROOT = Path(__file__).resolve().parents[3]


def test_the_template_releases_the_layers_version() -> None:
    # Given the template with default parameters
    template = load_template()
    context = StackContext.from_template(template, resource_resolver=lambda logical_id, attribute: logical_id)

    # When the layer's description and the function's environment are evaluated
    description = resolve(
        template["Resources"]["CutoutLayer"]["Properties"]["Description"], template, context
    )
    environment = resolved_function_environment(template, context)

    # Then both carry the package's version
    assert f"cutout library {cutout.__version__} " in description
    assert environment["CUTOUT_VERSION"] == cutout.__version__


def test_the_changelog_and_the_package_name_the_same_release() -> None:
    # Given the changelog and the package metadata
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")

    # When the newest release heading is read
    newest = re.search(r"^## \[(\d+\.\d+\.\d+)\]", changelog, flags=re.MULTILINE)

    # Then it is cutout.__version__, which pyproject reads rather than repeats
    assert newest is not None
    assert newest.group(1) == cutout.__version__
    assert 'version = { attr = "cutout.__version__" }' in pyproject


def test_cutout_version_prints_the_release(capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When `cutout --version` runs
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])

    # Then it prints the release and exits 0
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"cutout {cutout.__version__}"


def test_the_license_file_is_the_apache_license_pyproject_names() -> None:
    # Given the LICENSE file and pyproject's license
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")

    # When / Then they agree, and the file is the whole license (its appendix included)
    assert 'license = "Apache-2.0"' in pyproject
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert "APPENDIX: How to apply the Apache License to your work." in text
