"""Matrix/TRC RGB ICC profiles for tests (Display P3, Adobe RGB), built from their published
primaries: Pillow can embed and convert profiles but not create RGB ones other than sRGB, and no
profile ships with the repo. LittleCMS parses the result in the tests that use it."""

from __future__ import annotations

import struct

# Colorants adapted to D50 (Bradford), as the ICC v2 profiles of these spaces carry them.
DISPLAY_P3 = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))
ADOBE_RGB = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))
_D50 = (0.9642, 1.0, 0.8249)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(_s15(value) for value in xyz)


def _curve(gamma: float) -> bytes:
    return b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256)) + b"\x00\x00"


def _text(kind: bytes, text: str) -> bytes:
    data = text.encode("ascii")
    if kind == b"desc":
        body = b"desc\x00\x00\x00\x00" + struct.pack(">I", len(data) + 1) + data + b"\x00"
        body += b"\x00" * 12 + b"\x00" * 67  # empty Unicode and ScriptCode records
        return body
    return b"text\x00\x00\x00\x00" + data + b"\x00"


def rgb_profile(name: str, colorants: tuple[tuple[float, float, float], ...], gamma: float = 2.2) -> bytes:
    """A v2 display profile (RGB → XYZ) named ``name`` with those colorants and a gamma curve."""
    red, green, blue = colorants
    tags = [
        (b"desc", _text(b"desc", name)),
        (b"cprt", _text(b"text", "No copyright, test data")),
        (b"wtpt", _xyz(_D50)),
        (b"rXYZ", _xyz(red)),
        (b"gXYZ", _xyz(green)),
        (b"bXYZ", _xyz(blue)),
        (b"rTRC", _curve(gamma)),
        (b"gTRC", _curve(gamma)),
        (b"bTRC", _curve(gamma)),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, data = struct.pack(">I", len(tags)), b""
    for signature, tag in tags:
        padded = tag + b"\x00" * (-len(tag) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(padded))
        data += padded
    size = 128 + table_size + len(data)
    header = struct.pack(">I", size) + b"lcms" + b"\x02\x10\x00\x00" + b"mntrRGB XYZ "
    header += b"\x00" * 12 + b"acsp" + b"APPL" + b"\x00" * 4 + b"\x00" * 8 + b"\x00" * 8
    header += b"\x00" * 4  # rendering intent
    header += b"".join(_s15(value) for value in _D50) + b"lcms"
    header += b"\x00" * (128 - len(header))
    return header + table + data
