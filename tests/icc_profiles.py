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
    return _assemble(tags, b"mntr", b"RGB ", b"XYZ ")


def _assemble(tags: list[tuple[bytes, bytes]], device_class: bytes, space: bytes, pcs: bytes) -> bytes:
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, data = struct.pack(">I", len(tags)), b""
    for signature, tag in tags:
        padded = tag + b"\x00" * (-len(tag) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(padded))
        data += padded
    size = 128 + table_size + len(data)
    header = struct.pack(">I", size) + b"lcms" + b"\x02\x10\x00\x00" + device_class + space + pcs
    header += b"\x00" * 12 + b"acsp" + b"APPL" + b"\x00" * 4 + b"\x00" * 8 + b"\x00" * 8
    header += b"\x00" * 4  # rendering intent
    header += b"".join(_s15(value) for value in _D50) + b"lcms"
    header += b"\x00" * (128 - len(header))
    return header + table + data


# sRGB's primaries adapted to D50: RGB (linear) → XYZ, for the CMYK test profile's corners.
_SRGB_TO_XYZ_D50 = (
    (0.4361, 0.3851, 0.1431),
    (0.2225, 0.7169, 0.0606),
    (0.0139, 0.0971, 0.7141),
)


def cmyk_profile(name: str = "Test CMYK") -> bytes:
    """A v2 output-class CMYK profile (AToB0 ``mft2``, 2-point grid, PCS XYZ) whose 16 corners are
    the naive CMYK → RGB mixes: enough for LittleCMS to convert CMYK → sRGB through a profile."""
    table = bytearray(b"mft2\x00\x00\x00\x00" + bytes([4, 3, 2, 0]))
    for row in ((1, 0, 0), (0, 1, 0), (0, 0, 1)):  # the (unused) matrix: identity
        table += b"".join(_s15(value) for value in row)
    table += struct.pack(">HH", 2, 2)  # input and output table entries
    table += struct.pack(">HH", 0, 65535) * 4  # identity input curves
    for index in range(16):  # CLUT, first input channel varying slowest
        c, m, y, k = ((index >> shift) & 1 for shift in (3, 2, 1, 0))
        rgb = ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
        for row in _SRGB_TO_XYZ_D50:
            xyz = sum(weight * channel for weight, channel in zip(row, rgb, strict=True))
            table += struct.pack(">H", min(65535, round(xyz * 32768)))
    table += struct.pack(">HH", 0, 65535) * 3  # identity output curves
    tags = [
        (b"desc", _text(b"desc", name)),
        (b"cprt", _text(b"text", "No copyright, test data")),
        (b"wtpt", _xyz(_D50)),
        (b"A2B0", bytes(table)),
    ]
    return _assemble(tags, b"prtr", b"CMYK", b"XYZ ")
