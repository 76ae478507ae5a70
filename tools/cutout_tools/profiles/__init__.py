"""``cutout profiles``: check a profiles file and preview its variants offline."""
