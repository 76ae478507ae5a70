"""cutout: background removal for e-commerce images, as an AWS serverless pipeline.

The package follows the data's path:

- ``cutout.engine``: the background-removal port (``BackgroundRemover``), its value types and its
  error tree, and the Aidge adapter (``cutout.engine.aidge``).

The Lambda layer ships exactly this package and its runtime requirements.
"""

__version__ = "0.1.0"
