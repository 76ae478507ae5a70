"""The emulator speaks the Aidge background-removal contract over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from cutout.engine.port import Background
from cutout_tools.emulator import AidgeEmulator
from tests.functional.aidge_testkit import (
    KEY_NAME,
    KEY_SECRET,
    FakeCutoutEngine,
    StaticFiles,
    b64,
    independent_sign,
    open_image,
    product_photo,
    signed_params,
)

CallCutout = Callable[..., httpx.Response]
ENVELOPE_KEYS = {"data", "requestId", "success", "resCode", "resMessage", "code", "request_id", "_trace_id_"}
DATA_KEYS = {"score", "imageUrl", "usage", "width", "height", "class"}


def test_independent_signer_matches_the_reference_vector() -> None:
    # Given the worked example of the protocol notes
    secret, timestamp = "S4etzZ73nF08vOXVhk3wZjIaLSHw0123", "1719383457000"
    # When the test's own signer signs it
    signature = independent_sign(secret, timestamp)
    # Then it is the documented signature
    assert signature == "A1F9D033A3739AA414B7FE0FFC44805488A986F81C223F4B264F941DE85C42A8"


@pytest.mark.parametrize(
    ("background", "expected"),
    [
        (Background.TRANSPARENT, ("image/png", ".png", "RGBA")),
        (Background.WHITE, ("image/jpeg", ".jpg", "RGB")),
    ],
)
def test_signed_call_succeeds_with_the_documented_envelope(
    call_cutout: CallCutout,
    aidge_emulator: AidgeEmulator,
    http: httpx.Client,
    background: Background,
    expected: tuple[str, str, str],
) -> None:
    content_type, extension, mode = expected
    # Given a 400x300 product photo sent as base64 with a correct v2 signature
    body = {"imageBase64": b64(product_photo(400, 300)), "backGroundType": background.value}
    # When it is sent
    response = call_cutout(body)
    # Then the answer is the documented success envelope
    assert response.status_code == 200
    envelope = response.json()
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["success"] is True
    assert envelope["resCode"] == 200
    assert envelope["resMessage"] == "success"
    assert envelope["code"] == "0"
    assert envelope["requestId"] == envelope["_trace_id_"] != envelope["request_id"]
    data = envelope["data"]
    assert set(data) == DATA_KEYS
    assert data["class"] == "com.aidc.service.api.client.image.dto.ImageGenResponse"
    assert (data["width"], data["height"], data["usage"]) == (400, 300, 1)
    assert isinstance(data["score"], float)
    # And the result URL has the sample's shape: plain http on an OSS-shaped host, the object key
    # as one percent-encoded segment, and an OSS signature in the query
    url = httpx.URL(data["imageUrl"])
    assert (url.scheme, url.host) == ("http", "cutout-emulator-results.oss-ap-southeast-1.aliyuncs.com")
    assert url.raw_path.startswith(b"/data%2Fgeneral_matting_online%2FAIDC_AIB_SERVICE%2F")
    assert url.path.endswith(extension)
    assert list(url.params) == ["OSSAccessKeyId", "Expires", "Signature"]
    assert int(url.params["Expires"]) > time.time() + 10**8  # like the sample: signed for decades
    result = http.get(data["imageUrl"])
    assert result.status_code == 200
    assert result.headers["content-type"] == content_type
    image = open_image(result.content)
    assert (image.size, image.mode) == ((400, 300), mode)
    # And exactly one call was billed
    stats = aidge_emulator.stats()
    assert (stats["calls"], stats["billed"], stats["result_fetches"]) == (1, 1, 1)


def test_target_size_is_passed_to_the_engine(
    call_cutout: CallCutout, fake_cutout_engine: FakeCutoutEngine, http: httpx.Client
) -> None:
    # Given a call asking for an 800x1000 result, sizes sent as strings like the Java SDK does
    body = {
        "imageBase64": b64(product_photo()),
        "backGroundType": "TRANSPARENT",
        "targetWidth": "800",
        "targetHeight": 1000,
    }
    # When it is sent
    data = call_cutout(body).json()["data"]
    # Then the engine got the target size and the result has it
    (_, options) = fake_cutout_engine.calls[0]
    assert (options.target_width, options.target_height) == (800, 1000)
    assert (data["width"], data["height"]) == (800, 1000)
    assert open_image(http.get(data["imageUrl"]).content).size == (800, 1000)


def _with(**changes: str | None) -> Callable[[], dict[str, str]]:
    """A query signed when the test runs (a signature made at collection could expire first), changed."""

    def build() -> dict[str, str]:
        params: dict[str, Any] = signed_params()
        params.update(changes)
        return {name: value for name, value in params.items() if value is not None}

    return build


def _minutes_off(minutes: int) -> Callable[[], dict[str, str]]:
    return lambda: signed_params(timestamp_ms=int(time.time() * 1000) + minutes * 60 * 1000)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(_with(sign="0" * 64), "invalid signature", id="wrong-signature"),
        pytest.param(_with(sign=None), "invalid signature", id="missing-signature"),
        pytest.param(
            lambda: signed_params(KEY_NAME, "not-the-secret"),
            "invalid signature",
            id="signed-with-another-secret",
        ),
        pytest.param(lambda: signed_params("999999", KEY_SECRET), "invalid app_key", id="unknown-app-key"),
        pytest.param(_with(app_key=None), "invalid app_key", id="missing-app-key"),
        pytest.param(_minutes_off(-16), "timestamp expired", id="16-minutes-old"),
        pytest.param(_minutes_off(16), "timestamp expired", id="16-minutes-ahead"),
        pytest.param(_with(timestamp="yesterday"), "invalid timestamp", id="non-numeric-timestamp"),
        pytest.param(_with(sign_ver="v1"), "unsupported sign_ver", id="sign-ver-v1"),
        pytest.param(_with(sign_method="md5"), "unsupported sign_method", id="sign-method-md5"),
        pytest.param(dict, "invalid partner_id", id="no-query-at-all"),
    ],
)
def test_unauthenticated_calls_are_refused_with_401(
    call_cutout: CallCutout,
    aidge_emulator: AidgeEmulator,
    fake_cutout_engine: FakeCutoutEngine,
    params: Callable[[], dict[str, str]],
    message: str,
) -> None:
    # Given a valid body and a query that does not authenticate, made now
    body = {"imageBase64": b64(product_photo()), "backGroundType": "TRANSPARENT"}
    query = params()
    # When it is sent
    response = call_cutout(body, params=query or {"x": "y"})
    # Then it is refused with HTTP 401 / resCode 401, nothing runs and nothing is billed
    assert response.status_code == 401
    envelope = response.json()
    assert (envelope["success"], envelope["resCode"], envelope["resMessage"]) == (False, 401, message)
    assert envelope["requestId"]
    assert KEY_SECRET not in response.text
    assert fake_cutout_engine.calls == []
    assert aidge_emulator.stats()["billed"] == 0


def test_a_timestamp_ten_minutes_old_is_still_accepted(call_cutout: CallCutout) -> None:
    # Given a signature made ten minutes ago (inside the 15-minute window)
    params = signed_params(timestamp_ms=int(time.time() * 1000) - 10 * 60 * 1000)
    # When the call is sent
    response = call_cutout(
        {"imageBase64": b64(product_photo()), "backGroundType": "WHITE_BACKGROUND"}, params
    )
    # Then it succeeds
    assert response.json()["resCode"] == 200


PHOTO = b64(product_photo())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"imageBase64": PHOTO}, "backGroundType", id="background-missing"),
        pytest.param({"imageBase64": PHOTO, "backGroundType": "BLUE"}, "backGroundType", id="background-bad"),
        pytest.param({"imageBase64": PHOTO, "backGroundType": 1}, "backGroundType", id="background-not-text"),
        pytest.param(
            {"imageBase64": PHOTO, "backGroundType": "TRANSPARENT", "targetWidth": 99},
            "targetWidth",
            id="w-99",
        ),
        pytest.param(
            {"imageBase64": PHOTO, "backGroundType": "TRANSPARENT", "targetWidth": 3001},
            "targetWidth",
            id="w-3001",
        ),
        pytest.param(
            {"imageBase64": PHOTO, "backGroundType": "TRANSPARENT", "targetWidth": 12.5},
            "targetWidth",
            id="w-float",
        ),
        pytest.param(
            {"imageBase64": PHOTO, "backGroundType": "TRANSPARENT", "targetHeight": "tall"},
            "targetHeight",
            id="h-text",
        ),
        pytest.param(
            {"imageBase64": PHOTO, "backGroundType": "TRANSPARENT", "targetHeight": True},
            "targetHeight",
            id="h-bool",
        ),
        pytest.param({"backGroundType": "TRANSPARENT"}, "imageUrl or imageBase64", id="no-image"),
        pytest.param(
            {"backGroundType": "TRANSPARENT", "imageBase64": "", "imageUrl": ""},
            "imageUrl or imageBase64",
            id="both-empty",
        ),
        pytest.param(
            {"backGroundType": "TRANSPARENT", "imageBase64": "not base64 at all!"},
            "imageBase64",
            id="bad-base64",
        ),
        pytest.param(
            {"backGroundType": "TRANSPARENT", "imageBase64": b64(b"hello, not an image")},
            "imageBase64",
            id="undecodable",
        ),
        pytest.param(
            {"backGroundType": "TRANSPARENT", "imageBase64": b64(product_photo(99, 200))},
            "imageBase64",
            id="99px-wide",
        ),
        pytest.param(
            {"backGroundType": "TRANSPARENT", "imageBase64": b64(product_photo(200, 3001, "PNG"))},
            "imageBase64",
            id="3001px-tall",
        ),
        pytest.param(
            {"backGroundType": "TRANSPARENT", "imageBase64": b64(product_photo()[:300])},
            "imageBase64",
            id="truncated-jpeg",
        ),
        pytest.param(
            {"backGroundType": "TRANSPARENT", "imageUrl": "ftp://example.test/a.jpg"},
            "imageUrl",
            id="ftp-url",
        ),
        pytest.param(
            {"backGroundType": "TRANSPARENT", "imageUrl": "http://127.0.0.1:9/closed.jpg"},
            "imageUrl",
            id="url-refused",
        ),
    ],
)
def test_invalid_input_is_700_naming_the_field(
    call_cutout: CallCutout,
    aidge_emulator: AidgeEmulator,
    fake_cutout_engine: FakeCutoutEngine,
    body: dict[str, Any],
    field: str,
) -> None:
    # Given a correctly signed call with one bad parameter
    # When it is sent
    response = call_cutout(body)
    # Then it is a 700 "invalid input" naming the field, not billed, and the engine never ran
    assert response.status_code == 200
    envelope = response.json()
    assert (envelope["success"], envelope["resCode"]) == (False, 700)
    assert envelope["resMessage"].startswith("invalid input")
    assert field in envelope["resMessage"]
    assert "data" not in envelope
    assert fake_cutout_engine.calls == []
    assert aidge_emulator.stats()["billed"] == 0


def test_an_image_url_that_answers_404_is_700_on_image_url(
    call_cutout: CallCutout, static_files: StaticFiles, aidge_emulator: AidgeEmulator
) -> None:
    # Given a presigned-looking URL to an object that does not exist
    url = f"{static_files.base_url}/uploads/missing.jpg?X-Amz-Signature=abc"
    # When it is sent
    envelope = call_cutout({"imageUrl": url, "backGroundType": "TRANSPARENT"}).json()
    # Then the call is a 700 on imageUrl, after one download attempt, accounted to the object
    assert envelope["resCode"] == 700
    assert "imageUrl" in envelope["resMessage"]
    assert "404" in envelope["resMessage"]
    assert static_files.hits["/uploads/missing.jpg"] == 1
    assert aidge_emulator.stats()["by_object"] == {
        f"{static_files.base_url}/uploads/missing.jpg": {"calls": 1, "billed": 0}
    }


def test_a_body_that_is_not_json_is_700(aidge_emulator: AidgeEmulator, http: httpx.Client) -> None:
    # Given a JSON content type with a body that is not JSON
    # When it is sent
    response = http.post(
        aidge_emulator.api_url,
        params=signed_params(),
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    # Then it is a 700 naming the body
    assert (response.json()["resCode"], response.json()["resMessage"]) == (
        700,
        "invalid input: body is not valid JSON",
    )


def test_image_url_is_fetched_from_a_local_server(
    call_cutout: CallCutout, static_files: StaticFiles, aidge_emulator: AidgeEmulator, http: httpx.Client
) -> None:
    # Given a photo served by a local HTTP server behind a presigned-looking URL
    url = static_files.add("/uploads/shoe.jpg", product_photo(640, 480))
    # When its URL is sent
    envelope = call_cutout({"imageUrl": url, "backGroundType": "TRANSPARENT"}).json()
    # Then the emulator downloaded it once and cut it out at its size
    assert envelope["resCode"] == 200
    assert static_files.hits["/uploads/shoe.jpg"] == 1
    assert (envelope["data"]["width"], envelope["data"]["height"]) == (640, 480)
    assert open_image(http.get(envelope["data"]["imageUrl"]).content).size == (640, 480)
    # And the call is accounted to the URL without its query string
    assert aidge_emulator.stats()["by_object"] == {
        f"{static_files.base_url}/uploads/shoe.jpg": {"calls": 1, "billed": 1}
    }


def test_base64_wins_over_image_url(
    call_cutout: CallCutout, static_files: StaticFiles, aidge_emulator: AidgeEmulator
) -> None:
    # Given both an imageUrl (640x480) and an imageBase64 (300x200)
    url = static_files.add("/uploads/other.jpg", product_photo(640, 480))
    photo = product_photo(300, 200)
    # When both are sent
    envelope = call_cutout(
        {"imageUrl": url, "imageBase64": b64(photo), "backGroundType": "TRANSPARENT"}
    ).json()
    # Then the base64 image was cut out, the URL never fetched, and the call accounted to the bytes
    assert (envelope["data"]["width"], envelope["data"]["height"]) == (300, 200)
    assert static_files.hits["/uploads/other.jpg"] == 0
    object_id = f"sha256:{hashlib.sha256(photo).hexdigest()}"
    assert aidge_emulator.stats()["by_object"] == {object_id: {"calls": 1, "billed": 1}}


def test_form_encoded_parameters_are_accepted(aidge_emulator: AidgeEmulator, http: httpx.Client) -> None:
    # Given the parameters form-encoded, as some SDKs send them
    form = {"imageBase64": b64(product_photo()), "backGroundType": "WHITE_BACKGROUND", "targetWidth": "500"}
    # When they are sent
    envelope = http.post(aidge_emulator.api_url, params=signed_params(), data=form).json()
    # Then the call succeeds with them
    assert (envelope["resCode"], envelope["data"]["width"]) == (200, 500)


def test_stats_count_calls_and_billing_per_object(
    call_cutout: CallCutout, static_files: StaticFiles, aidge_emulator: AidgeEmulator, http: httpx.Client
) -> None:
    # Given one S3-like object called twice with different presigned queries, and one base64 image
    url = static_files.add("/bucket/a.jpg", product_photo())
    photo = product_photo(200, 200)
    # When they are called, plus one rejected call for the base64 image
    call_cutout({"imageUrl": url, "backGroundType": "TRANSPARENT"})
    call_cutout({"imageUrl": url.replace("0123456789abcdef", "fedcba"), "backGroundType": "TRANSPARENT"})
    call_cutout({"imageBase64": b64(photo), "backGroundType": "TRANSPARENT"})
    call_cutout({"imageBase64": b64(photo), "backGroundType": "PINK"})
    # Then the stats (in-process and over HTTP) count calls and billing per object
    stats = http.get(f"{aidge_emulator.url}/_emulator/stats").json()
    assert stats == {**aidge_emulator.stats(), "result_fetches": 0}
    assert (stats["calls"], stats["billed"]) == (4, 3)
    assert stats["by_object"] == {
        f"{static_files.base_url}/bucket/a.jpg": {"calls": 2, "billed": 2},
        f"sha256:{hashlib.sha256(photo).hexdigest()}": {"calls": 2, "billed": 1},
    }
    assert stats["responses"] == {"200": 3, "700": 1}


def test_unknown_and_evicted_results_answer_404(
    fake_cutout_engine: FakeCutoutEngine, http: httpx.Client
) -> None:
    # Given an emulator that keeps two results
    with AidgeEmulator(
        key_name=KEY_NAME, key_secret=KEY_SECRET, engine=fake_cutout_engine, max_results=2
    ) as emu:
        body = {"imageBase64": b64(product_photo()), "backGroundType": "TRANSPARENT"}
        urls = [
            http.post(emu.api_url, params=signed_params(), json=body).json()["data"]["imageUrl"]
            for _ in range(3)
        ]
        # When the three results and an unknown one are fetched
        statuses = [http.get(url).status_code for url in urls]
        unknown = http.get(
            urls[0].replace(urls[0].split("AIDC_AIB_SERVICE%2F")[1][:32], "0" * 32)
        ).status_code
        # Then the oldest was evicted, the two newest are served; an unknown key under the URL's
        # signature is refused (the signature covers the key), like OSS
        assert statuses == [404, 200, 200]
        assert unknown == 403
        assert emu.stats()["result_not_found"] == 1


def test_public_url_is_used_in_result_urls(fake_cutout_engine: FakeCutoutEngine, http: httpx.Client) -> None:
    # Given an emulator told its public base URL (e.g. as seen from a container)
    with AidgeEmulator(
        key_name=KEY_NAME,
        key_secret=KEY_SECRET,
        engine=fake_cutout_engine,
        public_url="http://emulator.test:9000/",
    ) as emu:
        # When a call succeeds
        body = {"imageBase64": b64(product_photo()), "backGroundType": "TRANSPARENT"}
        image_url = http.post(emu.api_url, params=signed_params(), json=body).json()["data"]["imageUrl"]
        # Then the result URL is on that base, and the path is served by the emulator
        assert image_url.startswith("http://emulator.test:9000/data%2F")
        path = image_url.removeprefix("http://emulator.test:9000")
        assert http.get(emu.url + path).status_code == 200


def test_calls_are_served_concurrently(http: httpx.Client) -> None:
    # Given an engine that only returns once four calls are inside it at the same time
    engine = FakeCutoutEngine(barrier=threading.Barrier(4, timeout=20))
    with AidgeEmulator(key_name=KEY_NAME, key_secret=KEY_SECRET, engine=engine, engine_concurrency=4) as emu:
        body = {"imageBase64": b64(product_photo()), "backGroundType": "TRANSPARENT"}
        # When four calls are sent in parallel
        with ThreadPoolExecutor(max_workers=4) as pool:
            codes = list(
                pool.map(
                    lambda _: httpx.post(emu.api_url, params=signed_params(), json=body, timeout=30).json()[
                        "resCode"
                    ],
                    range(4),
                )
            )
        # Then all four succeed (a serial server would break the barrier and answer 801)
        assert codes == [200, 200, 200, 200]
        assert emu.stats()["billed"] == 4


def test_an_engine_failure_is_801_and_not_billed(http: httpx.Client) -> None:
    # Given an engine that raises
    engine = FakeCutoutEngine(fail_with=RuntimeError("out of memory"))
    with AidgeEmulator(key_name=KEY_NAME, key_secret=KEY_SECRET, engine=engine) as emu:
        # When a valid call is sent
        body = {"imageBase64": b64(product_photo()), "backGroundType": "TRANSPARENT"}
        envelope = http.post(emu.api_url, params=signed_params(), json=body).json()
        # Then the answer is 801 "model failed", not billed
        assert (envelope["success"], envelope["resCode"], envelope["resMessage"]) == (
            False,
            801,
            "model failed",
        )
        assert emu.stats()["billed"] == 0


def test_reset_clears_stats_and_results(
    call_cutout: CallCutout, aidge_emulator: AidgeEmulator, http: httpx.Client
) -> None:
    # Given one billed call whose result is stored
    image_url = call_cutout({"imageBase64": b64(product_photo()), "backGroundType": "TRANSPARENT"}).json()[
        "data"
    ]["imageUrl"]
    # When the emulator is reset over HTTP
    response = http.post(f"{aidge_emulator.url}/_emulator/reset")
    # Then the counters are zero and the result is gone
    assert response.status_code == 200
    stats = aidge_emulator.stats()
    assert (stats["calls"], stats["billed"], stats["by_object"], stats["results_stored"]) == (0, 0, {}, 0)
    assert http.get(image_url).status_code == 404


def test_the_secret_never_reaches_the_log(
    call_cutout: CallCutout, caplog: pytest.LogCaptureFixture, aidge_emulator: AidgeEmulator
) -> None:
    # Given every log record of the emulator captured
    caplog.set_level("DEBUG", logger="cutout_tools.emulator")
    # When good, bad and unauthenticated calls are made
    call_cutout({"imageBase64": b64(product_photo()), "backGroundType": "TRANSPARENT"})
    call_cutout({"imageBase64": "!!", "backGroundType": "TRANSPARENT"})
    call_cutout({"backGroundType": "TRANSPARENT"}, params=signed_params(secret="wrong"))
    # Then the records mention the calls but never the secret nor a signature
    assert caplog.records
    assert KEY_SECRET not in caplog.text
    assert "sign=" not in caplog.text
    assert KEY_SECRET not in repr(aidge_emulator)
