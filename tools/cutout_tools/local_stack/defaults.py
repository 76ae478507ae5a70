"""Defaults of the local stack, in a module light enough for the CLI to import when building --help."""

DEFAULT_PORT = 4599  # beside LocalStack's 4566, not on it
DEFAULT_REGION = "us-east-1"
DEFAULT_STACK_NAME = "cutout-local"
