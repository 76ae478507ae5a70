"""cutout: background removal for e-commerce images, as an AWS serverless pipeline.

The package follows the data's path:

- ``cutout.engine``: the background-removal port (``BackgroundRemover``), its value types and its
  error tree, and the Aidge adapter (``cutout.engine.aidge``).

The Lambda layer ships exactly this package and its runtime requirements.
"""

# The release: the one place it is written. pyproject.toml reads it (setuptools attr), `cutout
# --version` prints it, outputs carry it (pipeline-version); template.yaml's Mappings.Release repeats
# it for CloudFormation, which cannot read Python (tests/unit/template checks they agree).
__version__ = "0.3.0"
