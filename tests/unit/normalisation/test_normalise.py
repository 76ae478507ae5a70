"""normalise: each kind of input becomes an API-ready image, or gets its own reason."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms, ImageDraw

from cutout.normalisation import normalise
from cutout.pixels import PixelBudget
from cutout.validation import ImageLimits, ImageRejected
from tests.icc_profiles import ADOBE_RGB, DISPLAY_P3, cmyk_profile, rgb_profile

BUDGET = PixelBudget.for_memory(1024)


def _encoded(image: Image.Image, image_format: str, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save)
    return buffer.getvalue()


def _marked(size: tuple[int, int]) -> Image.Image:
    """Grey with a red block in the top-left corner: where "up" is, after any rotation."""
    image = Image.new("RGB", size, (128, 128, 128))
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(220, 20, 20))
    return image


def _output(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_camera_jpeg_is_reduced_by_the_decoder_then_fits_3000() -> None:
    # Given a 6000x4000 JPEG
    data = _encoded(_marked((6000, 4000)), "JPEG", quality=85)
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then libjpeg decoded it at 1/2 (never full size) straight to 3000x2000, a high-quality JPEG
    report = result.report
    assert (report.decoder_reduction, report.width, report.height) == (2, 3000, 2000)
    assert (report.source_format, report.source_width, report.source_height) == ("JPEG", 6000, 4000)
    assert report.scale_factor == 0.5
    assert result.content_type == "image/jpeg"
    assert _output(result.data).size == (3000, 2000)


def test_a_jpeg_tagged_sideways_comes_out_upright() -> None:
    # Given a landscape picture stored rotated (as phones do) with orientation 6 ("rotate 90 CW")
    upright = _marked((400, 300))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the sensor wrote
    exif = stored.getexif()
    exif[0x0112] = 6
    data = _encoded(stored, "JPEG", exif=exif, quality=95)
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then it is upright: landscape again, the red block back in the top-left corner
    output = _output(result.data)
    assert output.size == (400, 300)
    red, green, _ = output.getpixel((20, 20))  # type: ignore[misc]
    assert red > 180
    assert green < 80
    assert result.report.orientation_applied == 6


def test_nothing_of_the_metadata_reaches_the_vendor() -> None:
    # Given a JPEG with EXIF (GPS, camera), XMP and an ICC profile
    image = _marked((3200, 2400))
    exif = image.getexif()
    exif[0x010F] = "Camera maker"
    exif.get_ifd(0x8825)[1] = "N"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>51,30N</exif:GPSLatitude></x:xmpmeta>'
    data = _encoded(image, "JPEG", exif=exif, xmp=xmp, icc_profile=rgb_profile("Adobe RGB", ADOBE_RGB))
    # When it is normalised
    output = _output(normalise(data, BUDGET).data)
    # Then the output carries no EXIF, XMP or profile at all
    assert not output.getexif()
    assert not {"exif", "xmp", "icc_profile"} & set(output.info)


@pytest.mark.parametrize(
    ("profile", "name"),
    [
        (rgb_profile("Display P3", DISPLAY_P3), "Display P3"),
        (rgb_profile("Adobe RGB", ADOBE_RGB), "Adobe RGB"),
    ],
)
def test_wide_gamut_colours_are_converted_to_srgb_through_the_profile(profile: bytes, name: str) -> None:
    # Given an orange in a wide-gamut space
    data = _encoded(Image.new("RGB", (300, 300), (200, 120, 60)), "PNG", icc_profile=profile)
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then LittleCMS mapped it into sRGB (the same numbers mean a more saturated colour there)
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), (200, 120, 60)), io.BytesIO(profile), ImageCms.createProfile("sRGB")
    )
    assert expected is not None
    got = _output(result.data).getpixel((150, 150))
    assert got != (200, 120, 60)
    assert all(abs(a - b) <= 3 for a, b in zip(got, expected.getpixel((0, 0)), strict=True))  # type: ignore[arg-type]
    assert result.report.colour_conversion == f"{name} -> sRGB"


def test_a_cmyk_jpeg_without_a_profile_becomes_rgb() -> None:
    # Given a CMYK catalogue JPEG with no profile (pure cyan)
    data = _encoded(Image.new("CMYK", (400, 300), (255, 0, 0, 0)), "JPEG", quality=95)
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then it is an RGB JPEG, cyan still cyan, and the report says the conversion was naive
    red, green, blue = _output(result.data).getpixel((200, 150))  # type: ignore[misc]
    assert red < 40
    assert min(green, blue) > 200
    assert "naive" in result.report.colour_conversion


def test_a_cmyk_jpeg_with_a_profile_is_converted_through_it() -> None:
    # Given a CMYK JPEG (pure magenta) with an embedded CMYK profile
    data = _encoded(
        Image.new("CMYK", (400, 300), (0, 255, 0, 0)), "JPEG", quality=95, icc_profile=cmyk_profile()
    )
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then LittleCMS converted it with that profile, to magenta in sRGB
    red, green, blue = _output(result.data).getpixel((200, 150))  # type: ignore[misc]
    assert result.report.colour_conversion == "Test CMYK CMYK -> sRGB"
    assert red > 230
    assert green < 30
    assert blue > 230


def test_grey_stays_grey() -> None:
    # Given a greyscale JPEG
    data = _encoded(Image.linear_gradient("L").resize((400, 300)), "JPEG")
    # When it is normalised (sent as is if it were not... here forced through the normaliser)
    output = _output(normalise(data, BUDGET).data)
    # Then it is still one channel
    assert output.mode == "L"


def test_16_bit_grey_is_scaled_to_8_bits_never_clipped() -> None:
    # Given a 16-bit grey PNG at mid-grey (32768 of 65535)
    data = _encoded(Image.new("I;16", (300, 300), 32768), "PNG")
    # When it is normalised
    output = _output(normalise(data, BUDGET).data)
    # Then it is mid-grey in 8 bits (a plain convert would clip it to white)
    assert output.mode == "L"
    assert abs(output.getpixel((150, 150)) - 127) <= 2  # type: ignore[operator]


@pytest.mark.parametrize(
    ("image", "image_format", "content_type", "mode"),
    [
        pytest.param(Image.new("P", (300, 300), 3), "PNG", "image/jpeg", "RGB", id="palette"),
        pytest.param(Image.new("LA", (300, 300), (90, 200)), "PNG", "image/png", "RGBA", id="grey-alpha"),
        pytest.param(Image.new("RGB", (300, 300), (1, 2, 3)), "BMP", "image/jpeg", "RGB", id="bmp"),
        pytest.param(Image.new("P", (300, 300), 7), "GIF", "image/jpeg", "RGB", id="static-gif"),
        pytest.param(Image.new("RGB", (300, 300), (9, 8, 7)), "AVIF", "image/jpeg", "RGB", id="avif"),
        pytest.param(
            Image.new("RGBA", (300, 300), (9, 8, 7, 255)), "PNG", "image/jpeg", "RGB", id="opaque-rgba"
        ),
    ],
)
def test_other_modes_and_formats_become_rgb_or_rgba(
    image: Image.Image, image_format: str, content_type: str, mode: str
) -> None:
    # Given an image in another mode or format
    data = _encoded(image, image_format, **({"compression": "tiff_lzw"} if image_format == "TIFF" else {}))
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then it is RGB (JPEG) or, with real transparency, RGBA (PNG)
    assert result.content_type == content_type
    assert _output(result.data).mode == mode


def test_a_multi_page_tiff_gives_its_first_page() -> None:
    # Given a two-page LZW TIFF scan
    pages = [Image.new("RGB", (400, 300), (250, 10, 10)), Image.new("RGB", (400, 300), (10, 10, 250))]
    data = _encoded(pages[0], "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    # When it is normalised
    output = _output(normalise(data, BUDGET).data)
    # Then the first page is what goes on
    assert output.getpixel((10, 10))[0] > 200  # type: ignore[index]


def test_a_heic_photo_is_decoded_by_pillow_heif() -> None:
    # Given an iPhone-sized HEIC (pillow-heif's encoder)
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    data = _encoded(_marked((4032, 3024)), "HEIF", quality=80)
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then it is a 3000x2250 JPEG, and the report names HEIC
    assert (result.report.source_format, result.report.width, result.report.height) == ("HEIC", 3000, 2250)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(
            _encoded(
                Image.new("RGB", (300, 300)), "JPEG", icc_profile=b"\x00\x00\x02\x00lcms" + b"\x07" * 500
            ),
            "corrupt_color_profile",
            id="corrupt-icc",
        ),
        pytest.param(
            _encoded(
                Image.new("RGB", (300, 300), "red"),
                "GIF",
                save_all=True,
                append_images=[Image.new("RGB", (300, 300), "blue")],
            ),
            "animated_image",
            id="animated-gif",
        ),
        pytest.param(
            _encoded(Image.new("RGB", (3000, 2000)), "TIFF")[:20000], "truncated_image", id="cut-tiff"
        ),
    ],
)
def test_bad_inputs_get_their_own_reason(data: bytes, code: str) -> None:
    # Given an input that cannot be normalised
    # When it is normalised
    with pytest.raises(ImageRejected) as raised:
        normalise(data, BUDGET)
    # Then the reason is specific and the sentence ends properly
    assert raised.value.code == code
    assert raised.value.message.endswith(".")


def test_the_pixel_ceiling_is_checked_from_the_header_before_decoding() -> None:
    # Given a 4000x3000 image and a 10 MP ceiling
    data = _encoded(Image.new("RGB", (4000, 3000)), "PNG")
    budget = PixelBudget(64 * 1024 * 1024)
    # When it is normalised
    with pytest.raises(ImageRejected) as raised:
        normalise(data, budget, ImageLimits(max_source_pixels=10_000_000))
    # Then it is refused as too large and no pixel job ever ran
    assert raised.value.code == "image_too_large"
    assert "12.0 megapixels" in raised.value.message
    assert budget.usage().jobs == 0
