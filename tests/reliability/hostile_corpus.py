"""A corpus of hostile and malformed uploads, generated (nothing is checked in), with the outcome
the product rules give each one.

Every entry is ``(key, data, expected)`` where ``expected`` is a DLQ reason code (the input is
refused before any API call), ``PROCESSED`` (a valid image: it is cut out, whatever its key) or
``IGNORED`` (a folder placeholder: no work, no record). The images are small so a run is quick;
the few big ones (megabytes of metadata, an object over the size cap) are what they test.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from cutout.settings import MAX_OBJECT_BYTES_DEFAULT
from tests.fakes import png_chunk, png_declaring
from tests.fakes import tiff_with_an_ifd_loop as looped_tiff

PROCESSED = "processed"
IGNORED = "ignored"
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class HostileInput:
    key: str
    data: bytes
    expected: str  # a DLQ reason code, PROCESSED or IGNORED

    @property
    def refused(self) -> bool:
        return self.expected not in (PROCESSED, IGNORED)


def photo(width: int = 300, height: int = 300, fmt: str = "JPEG", mode: str = "RGB", **save: object) -> bytes:
    """A small product-like picture in the given format and mode."""
    image = Image.new("RGB", (width, height), (235, 235, 235))
    ImageDraw.Draw(image).rectangle(
        (width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill=(150, 20, 30)
    )
    if mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real 300x300 JPEG whose SOF0 frame header is rewritten to declare another size."""
    data = bytearray(photo())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def bmp_declaring(width: int, height: int) -> bytes:
    """A 54-byte BMP header declaring a huge bitmap, with no pixels at all."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + info


def webp_declaring(width: int, height: int) -> bytes:
    """A VP8X WebP header declaring ``width`` x ``height`` (24-bit minus-one fields)."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def jpeg_with_metadata(total_metadata_bytes: int) -> bytes:
    """A valid JPEG carrying ``total_metadata_bytes`` of APP segments (XMP-like) before its frame."""
    data = photo()
    segment_payload = 65000
    segments = bytearray()
    remaining = total_metadata_bytes
    while remaining > 0:
        size = min(segment_payload, remaining)
        segments += (
            b"\xff\xe1"
            + struct.pack(">H", size + 2)
            + b"http://ns.adobe.com/xap/1.0/\x00"[:size].ljust(size, b"x")
        )
        remaining -= size
    return data[:2] + bytes(segments) + data[2:]


def png_with_text(text_bytes: int, text: bytes = b"x") -> bytes:
    """A valid PNG with a big tEXt chunk after IHDR."""
    data = photo(fmt="PNG")
    end_of_ihdr = 8 + 25
    chunk = png_chunk(b"tEXt", b"Comment\x00" + (text * (text_bytes // max(len(text), 1) + 1))[:text_bytes])
    return data[:end_of_ihdr] + chunk + data[end_of_ihdr:]


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (300, 300), color) for color in ((200, 0, 0), (0, 200, 0), (0, 0, 200))]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def sixteen_bit_png() -> bytes:
    image = Image.new("I;16", (300, 300), 40000)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300">'
    b'<script>fetch("http://169.254.169.254/latest/meta-data/")</script>'
    b'<rect width="300" height="300"/></svg>'
)
HTML_PAGE = b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>"
EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 300 300\nnewpath 0 0 moveto 300 300 lineto stroke\n%%EOF\n"
)
POSTSCRIPT = b"%!PS\n/Helvetica findfont 12 scalefont setfont 72 72 moveto (hello) show showpage\n"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x00" * 200
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(100)


def _heif(fmt: str) -> bytes:
    """A 640x480 HEIC (pillow-heif's encoder) or AVIF (Pillow's)."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    return photo(640, 480, fmt, quality=60)


def heic_with_broken_boxes() -> bytes:
    """A real HEIC whose ``iloc`` box (where the image data is) is overwritten with 0xFF."""
    data = bytearray(_heif("HEIF"))
    at = data.find(b"iloc")
    data[at + 8 : at + 40] = b"\xff" * 32
    return bytes(data)


def tiff_with_an_ifd_loop() -> bytes:
    """A real two-page TIFF whose second page directory points back to the first."""
    return looped_tiff()[1]


@lru_cache(maxsize=1)
def gif_with_frames(count: int = 10_000) -> bytes:
    """A 100x100 GIF of ``count`` frames: Pillow encodes three frames, and the third (everything
    from its graphic control extension to the trailer) is repeated. Encoding 10,000 frames with
    Pillow would hold them all in memory (~150 MiB) and take seconds."""
    frames = [Image.new("P", (100, 100), index % 2) for index in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], optimize=False, duration=50)
    data = buffer.getvalue()
    third = data.find(b"\x21\xf9", data.find(b"\x21\xf9", data.find(b"\x21\xf9") + 1) + 1)
    frame, trailer = data[third:-1], data[-1:]
    return data[:third] + frame * (count - 2) + trailer


def jpeg_with_big_exif_and_orientation(orientation: int = 9, exif_bytes: int = 60_000) -> bytes:
    image = Image.new("RGB", (400, 300), (120, 120, 120))
    exif = image.getexif()
    exif[0x0112] = orientation
    exif[0x010E] = "x" * exif_bytes  # ImageDescription
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def jpeg_with_corrupt_icc() -> bytes:
    return photo(icc_profile=b"\x00\x00\x02\x00lcms" + b"\x07" * 500)


def cmyk_jpeg_with_inverted_adobe_marker() -> bytes:
    """A CMYK JPEG with an Adobe APP14 marker saying YCCK (transform 2) over plain CMYK data."""
    data = photo(mode="CMYK")
    return data[:2] + b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x02" + data[2:]


def format_specific_cases() -> list[HostileInput]:
    heic, avif = _heif("HEIF"), _heif("AVIF")
    return [
        HostileInput("heic/truncated.heic", heic[: len(heic) // 2], "truncated_image"),
        HostileInput("heic/broken-boxes.heic", heic_with_broken_boxes(), "corrupt_header"),
        HostileInput("avif/truncated.avif", avif[: len(avif) // 2], "corrupt_header"),
        HostileInput("tiff/ifd-loop.tiff", tiff_with_an_ifd_loop(), "corrupt_header"),
        HostileInput("gif/10000-frames.gif", gif_with_frames(), "animated_image"),
        HostileInput("png/ihdr-2-31-pixels.png", png_declaring(65536, 32768), "image_too_large"),
        HostileInput("png/1kb-inflating-to-100mp.png", png_declaring(10000, 10000), "image_too_large"),
        HostileInput("colour/corrupt-icc.jpg", jpeg_with_corrupt_icc(), "corrupt_color_profile"),
        HostileInput("colour/float-samples.tiff", photo(fmt="TIFF", mode="F"), "unsupported_color_mode"),
        # Valid photos with odd metadata: the bad tag is ignored, the image is cut out upright.
        HostileInput("jpeg/60kb-exif-orientation-9.jpg", jpeg_with_big_exif_and_orientation(), PROCESSED),
        HostileInput("colour/cmyk-inverted-adobe.jpg", cmyk_jpeg_with_inverted_adobe_marker(), PROCESSED),
    ]


def hostile_corpus() -> list[HostileInput]:
    """At least 40 inputs, each with the outcome the rules say (see the module docstring)."""
    jpeg = photo()
    png = photo(fmt="PNG")
    webp = photo(fmt="WEBP")
    bmp = photo(fmt="BMP")
    cases = [
        # -- empty, truncated, corrupt
        HostileInput("empty.jpg", b"", "empty_object"),
        HostileInput("truncated/cut.jpg", jpeg[: len(jpeg) // 2], "truncated_image"),
        HostileInput("truncated/cut.png", png[:-40], "truncated_image"),
        HostileInput("truncated/cut.webp", webp[: len(webp) // 2], "truncated_image"),
        HostileInput("truncated/cut.bmp", bmp[: len(bmp) // 2], "truncated_image"),
        HostileInput(
            "corrupt/header-only.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20, "corrupt_header"
        ),
        HostileInput("corrupt/bad-ihdr.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt_header"),
        # -- sizes: declared and real
        HostileInput("huge/png-50000x50000.png", png_declaring(50000, 50000), "image_too_large"),
        HostileInput("huge/jpeg-65000x65000.jpg", jpeg_declaring(65000, 65000), "image_too_large"),
        HostileInput("huge/bmp-50000x50000.bmp", bmp_declaring(50000, 50000), "image_too_large"),
        HostileInput("huge/webp-16000x16000.webp", webp_declaring(16000, 16000), "image_too_large"),
        HostileInput("huge/png-1x4000000.png", png_declaring(1, 4_000_000), "image_too_small"),
        HostileInput("small/99x99.jpg", photo(99, 99), "image_too_small"),
        HostileInput("small/300x99.png", photo(300, 99, "PNG"), "image_too_small"),
        HostileInput("large/3001x10.jpg", photo(3001, 10), "image_too_small"),
        HostileInput("large/3001x100.png", photo(3001, 100, "PNG"), PROCESSED),
        HostileInput("large/6000x150.jpg", photo(6000, 150), "image_too_small"),
        HostileInput(
            "size-cap/too-big.jpg", jpeg + b"\x00" * (MAX_OBJECT_BYTES_DEFAULT + 1), "object_too_large"
        ),
        # -- not images, or images of a kind the API does not take
        HostileInput("text/notes.jpg", b"just some words, not a picture at all\n" * 4, "not_an_image"),
        HostileInput("text/utf16.png", "not an image".encode("utf-16"), "not_an_image"),
        HostileInput("text/page.jpg", HTML_PAGE, "unsupported_format"),
        HostileInput("svg/script.svg", SVG_WITH_SCRIPT, "unsupported_format"),
        HostileInput("svg/script-named.png", SVG_WITH_SCRIPT, "unsupported_format"),
        HostileInput("docs/file.pdf.jpg", PDF, "unsupported_format"),
        HostileInput("docs/art.eps", EPS, "unsupported_format"),
        HostileInput("docs/page.ps.jpg", POSTSCRIPT, "unsupported_format"),
        HostileInput("binary/elf.jpg", ELF, "not_an_image"),
        HostileInput("binary/archive.png", ZIP, "not_an_image"),
        HostileInput("formats/still.gif", photo(fmt="GIF"), PROCESSED),
        HostileInput("formats/animated.gif", animated("GIF"), "animated_image"),
        HostileInput("formats/animated.webp", animated("WEBP"), "animated_image"),
        HostileInput("formats/animated.png", animated("PNG"), "animated_image"),
        HostileInput("formats/photo.tiff", photo(fmt="TIFF"), PROCESSED),
        HostileInput("formats/tiff-named.jpg", photo(fmt="TIFF"), PROCESSED),
        HostileInput("formats/icon.ico", photo(256, 256, "ICO"), "unsupported_format"),
        HostileInput("colour/cmyk.jpg", photo(mode="CMYK"), PROCESSED),
        # -- format-specific (issue 11): refused before any call, no crash, memory bounded
        *format_specific_cases(),
        # -- polyglots: a JPEG with an archive after its end marker, HTML wrapped around a PNG
        HostileInput("polyglot/jpeg-zip.jpg", jpeg + ZIP, "truncated_image"),
        HostileInput("polyglot/html-png.png", HTML_PAGE + png, "unsupported_format"),
        HostileInput("polyglot/pdf-in-text.jpg", b"junk\n" + PDF, "unsupported_format"),
        # -- metadata: large but legal (processed), or pushing the header past the read budget
        HostileInput("metadata/3mib-xmp.jpg", jpeg_with_metadata(3 * MIB), PROCESSED),
        HostileInput("metadata/5mib-xmp.jpg", jpeg_with_metadata(5 * MIB), "corrupt_header"),
        HostileInput("metadata/1mib-text.png", png_with_text(1 * MIB), PROCESSED),
        HostileInput(
            "metadata/script-text.png", png_with_text(2000, b"<script>alert(1)</script>"), PROCESSED
        ),
        # -- valid images in the modes and formats the API takes
        HostileInput("modes/16-bit.png", sixteen_bit_png(), PROCESSED),
        HostileInput("modes/grey.jpg", photo(mode="L"), PROCESSED),
        HostileInput("modes/rgba.png", photo(fmt="PNG", mode="RGBA"), PROCESSED),
        HostileInput("modes/palette.png", photo(fmt="PNG", mode="P"), PROCESSED),
        HostileInput("modes/progressive.jpg", photo(progressive=True), PROCESSED),
        HostileInput("modes/still.webp", webp, PROCESSED),
        HostileInput("modes/plain.bmp", bmp, PROCESSED),
        HostileInput("sizes/100x3000.jpg", photo(100, 3000), PROCESSED),
        # -- folder placeholders: nothing to do
        HostileInput("folder/", b"", IGNORED),
        HostileInput("nested/folder/", b"", IGNORED),
        # -- hostile keys on valid images: processed, the output key and metadata kept safe
        HostileInput("../../etc/passwd.jpg", jpeg, PROCESSED),
        HostileInput("keys/../escape.jpg", jpeg, PROCESSED),
        HostileInput("keys/./dot//double-slash.jpg", jpeg, PROCESSED),
        HostileInput("keys/ctl\x01\x1f\x7f-chars.jpg", jpeg, PROCESSED),
        HostileInput("keys/new\nline\ttab.jpg", jpeg, PROCESSED),
        HostileInput("keys/header: injection\r\nx-amz-meta-evil: 1.jpg", jpeg, PROCESSED),
        HostileInput("keys/" + "ü" * 300 + ".jpg", jpeg, PROCESSED),
        HostileInput("keys/" + "a" * 1000 + ".jpg", jpeg, PROCESSED),
        # A 1024-byte key (S3's maximum) with no extension: its output key would not fit.
        HostileInput("keys/" + "b" * 1019, jpeg, "output_key_too_long"),
    ]
    return cases
