"""Camera and phone uploads through the local stack with the AWS CLI: a DSLR-size JPEG, an iPhone
HEIC and a JPEG stored sideways come out as upright, sRGB cut-outs of the right shape (issue 11)."""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageDraw

from tests.e2e.support import AWS_CLI, DUMMY_CREDENTIALS, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(AWS_CLI is None, reason="the AWS CLI is not installed")]


def _product(size: tuple[int, int]) -> Image.Image:
    """A dark product, wider than tall, on a light studio background."""
    width, height = size
    image = Image.new("RGB", size, (246, 246, 244))
    ImageDraw.Draw(image).rectangle(
        (width // 5, height // 3, 4 * width // 5, 2 * height // 3), fill=(150, 30, 40)
    )
    return image


def _files(folder: Path) -> dict[str, tuple[Path, tuple[int, int]]]:
    """name → (file, the cut-out's expected size)."""
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    dslr = folder / "DSC_0042.JPG"
    _product((6000, 4000)).save(dslr, "JPEG", quality=90)
    phone = folder / "IMG_0042.HEIC"
    _product((4032, 3024)).save(phone, "HEIF", quality=80)
    sideways = folder / "sideways.jpg"
    stored = _product((1200, 900)).transpose(Image.Transpose.ROTATE_90)  # 900x1200 on disk
    exif = stored.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    stored.save(sideways, "JPEG", exif=exif, quality=92)
    return {"dslr": (dslr, (3000, 2000)), "heic": (phone, (3000, 2250)), "sideways": (sideways, (1200, 900))}


def _head(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        answer: dict[str, Any] = s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return None
    return answer


def test_camera_and_phone_uploads_come_out_upright_srgb_and_sized(
    local_up: dict[str, Any], aws_client: Callable[[str], Any], tmp_path: Path
) -> None:
    # Given a DSLR JPEG, an iPhone HEIC and a sideways-tagged JPEG on disk
    files = _files(tmp_path)
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
        **DUMMY_CREDENTIALS,
        "AWS_DEFAULT_REGION": local_up["region"],
    }
    # When `aws s3 cp` uploads each
    for path, _ in files.values():
        subprocess.run(
            [str(AWS_CLI), "--endpoint-url", local_up["endpoint_url"], "s3", "cp", str(path),
             f"s3://{local_up['input_bucket']}/camera/{path.name}"],
            check=True, env=environment, capture_output=True, timeout=120,
        )  # fmt: skip
    # Then each master is a PNG of the normalised size, landscape (upright), without a non-sRGB
    # profile, and its metadata says what normalisation did
    s3 = aws_client("s3")
    for name, (path, size) in files.items():
        key = f"masters/camera/{path.name}.png"  # the master: the cut-out at the normalised size
        head = wait_for(lambda key=key: _head(s3, local_up["output_bucket"], key), timeout=300, what=name)
        body = s3.get_object(Bucket=local_up["output_bucket"], Key=key)["Body"].read()
        cutout = Image.open(io.BytesIO(body))
        assert cutout.format == "PNG", name
        assert cutout.size == size, name
        assert "icc_profile" not in cutout.info, name
        metadata = head["Metadata"]
        assert metadata["fast-path"] == "false", name
        assert metadata["source-format"] == ("HEIC" if name == "heic" else "JPEG"), name
        if name == "sideways":
            assert metadata["orientation-applied"] == "6"
            # the product (dark, wider than tall) is wider than tall in the cut-out too
            alpha_box = cutout.getchannel("A").getbbox()
            assert alpha_box is not None
            assert alpha_box[2] - alpha_box[0] > alpha_box[3] - alpha_box[1]
