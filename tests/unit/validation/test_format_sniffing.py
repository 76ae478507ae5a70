"""sniff_format: the type from the first bytes, whatever the file is called."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from cutout.validation import sniff_format


def _saved(image_format: str, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (120, 120)).save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(_saved("JPEG"), "JPEG", id="jpeg"),
        pytest.param(_saved("PNG"), "PNG", id="png"),
        pytest.param(_saved("WEBP"), "WEBP", id="webp"),
        pytest.param(_saved("BMP"), "BMP", id="bmp"),
        pytest.param(_saved("GIF", "P"), "GIF", id="gif"),
        pytest.param(_saved("TIFF"), "TIFF", id="tiff-little-endian"),
        pytest.param(b"MM\x00*\x00\x00\x00\x08", "TIFF", id="tiff-big-endian"),
        pytest.param(_saved("PDF"), "PDF", id="pdf"),
        pytest.param(b"\r\n%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF", id="pdf-after-junk"),
        pytest.param(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 120 120\n", "EPS", id="eps"),
        pytest.param(b"\xc5\xd0\xd3\xc6\x1e\x00\x00\x00", "EPS", id="eps-dos-binary"),
        pytest.param(b"%!PS-Adobe-3.0\n%%Pages: 1\n", "PostScript", id="postscript"),
        pytest.param(
            b'\xef\xbb\xbf<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
            "SVG",
            id="svg-bom",
        ),
        pytest.param(b'  <svg width="120" height="120"></svg>', "SVG", id="svg-bare"),
        pytest.param(b"<!DOCTYPE html>\n<html><body>Access Denied</body></html>", "HTML", id="html"),
        pytest.param(b"<HTML><HEAD><TITLE>404</TITLE></HEAD></HTML>", "HTML", id="html-upper"),
        pytest.param(b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', "XML", id="xml"),
        pytest.param(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC", id="heic"),
        pytest.param(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF", id="avif"),
        pytest.param(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", "AVIF", id="avif-compatible"),
        pytest.param(
            b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "ISO media (MP4/MOV)", id="mp4"
        ),
        pytest.param(b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00", "PSD", id="psd"),
        pytest.param(_saved("ICO"), "ICO", id="ico"),
        pytest.param(b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 ", "JPEG 2000", id="jp2"),
        pytest.param(b"\xff\x4f\xff\x51\x00\x2f", "JPEG 2000", id="j2k"),
        pytest.param(b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL", id="jxl"),
    ],
)
def test_formats_are_named_by_their_magic_bytes(head: bytes, expected: str) -> None:
    # Given the first bytes of a file
    # When it is sniffed
    detected = sniff_format(head)

    # Then the format is named
    assert detected == expected


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xd8", id="two-bytes-of-jpeg"),
        pytest.param(b"sku,name,price\n1,mug,9.90\n", id="csv"),
        pytest.param(b'{"error": "not found"}', id="json"),
        pytest.param(b"BMW parts list\n" + b" " * 64, id="text-starting-with-BM"),
        pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt ", id="wav"),
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00", id="zip"),
        pytest.param(b"\x00" * 4096, id="zeros"),
        pytest.param(random.Random(7).randbytes(4096), id="random"),
        pytest.param(b"<p>just a fragment</p>", id="html-fragment-without-html-tag"),
    ],
)
def test_anything_else_is_no_image(head: bytes) -> None:
    # Given bytes that are no image format
    # When they are sniffed
    detected = sniff_format(head)

    # Then there is no format
    assert detected is None
