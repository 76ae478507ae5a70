"""The Aidge adapter: signed calls to ``/ai/image/cut/out`` and a safe download of the result."""
