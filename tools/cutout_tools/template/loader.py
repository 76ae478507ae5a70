"""Reading ``template.yaml``: YAML with CloudFormation's short-form tags (``!Ref``, ``!GetAtt``, ``!Sub``...).

PyYAML rejects unknown tags, so the tags are turned into their long form (``{"Fn::Sub": ...}``) by
aws-sam-translator's own constructor, the one SAM uses. It is registered on a private ``SafeLoader``
subclass rather than through ``samtranslator.yaml_helper.yaml_parse``, which registers it on PyYAML's
global ``SafeLoader`` and so would change every other ``yaml.safe_load`` in the process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from samtranslator.yaml_helper import intrinsics_multi_constructor

from cutout_tools.template.errors import TemplateError

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_TEMPLATE_PATH = REPO_ROOT / "template.yaml"

Template = dict[str, Any]


class _CloudFormationLoader(yaml.SafeLoader):
    """A ``SafeLoader`` that also reads CloudFormation's ``!Tag`` short forms."""


_CloudFormationLoader.add_multi_constructor("!", intrinsics_multi_constructor)


def parse_template(text: str) -> Template:
    """Parse a CloudFormation/SAM template written in YAML (or JSON, a subset of YAML)."""
    try:
        document = yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise TemplateError(f"template is not valid YAML: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError("a template is a mapping with a 'Resources' mapping")
    return document


def load_template(path: Path | str = DEFAULT_TEMPLATE_PATH) -> Template:
    """Read and parse the template at ``path`` (the repository's ``template.yaml`` by default)."""
    return parse_template(Path(path).read_text(encoding="utf-8"))
