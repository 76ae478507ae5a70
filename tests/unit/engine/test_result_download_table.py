"""Downloading a paid result, every row of each table (rule 2: a paid result is never thrown away
for a reason a retry could heal, nor kept when it is unusable).

The result host's statuses from both sides of each row (199/200/299/300, every redirect status and
its neighbours, 403 expired or not, 410, 404, 5xx); every image mode that carries alpha and those
that do not, with and without a transparent background asked for; every accepted format with its
content type; the reported size compared only when both sides are reported; the time cap from
both sides (a chunk arriving at the deadline is taken, one after it is not). ``ResultDownloader``
runs alone over httpx's MockTransport with a fake resolver and a clock the test moves.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Iterator

import httpx
import pytest
from PIL import Image

from cutout.engine.aidge.config import AidgeTimeouts
from cutout.engine.aidge.errors import ResultUnavailableError
from cutout.engine.aidge.result_download import DownloadedImage, ResultDownloader, image_facts, verify_image
from cutout.engine.aidge.url_safety import UrlGuard
from cutout.engine.errors import EngineError
from tests.unit.engine.aidge_doubles import PUBLIC_IP, RESULT_HOST, fake_resolver

URL = f"https://{RESULT_HOST}/data/cut.png?Expires=1"
Handler = Callable[[httpx.Request], httpx.Response]


def png(
    width: int = 40, height: int = 30, mode: str = "RGBA", image_format: str = "PNG", **save: object
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format=image_format, **save)
    return buffer.getvalue()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def downloader(handler: Handler, clock: Clock | None = None, **limits: int) -> ResultDownloader:
    return ResultDownloader(
        httpx.Client(transport=httpx.MockTransport(handler)),
        UrlGuard(resolver=fake_resolver({RESULT_HOST: [PUBLIC_IP]})),
        timeouts=AidgeTimeouts(),
        max_bytes=limits.get("max_bytes", 10**7),
        spool_bytes=limits.get("spool_bytes", 10**6),
        max_redirects=limits.get("max_redirects", 3),
        clock=clock or Clock(),
    )


def fetch(
    handler: Handler,
    *,
    require_alpha: bool = False,
    size: tuple[int | None, int | None] = (40, 30),
    clock: Clock | None = None,
    deadline: float = 10**9,
) -> DownloadedImage:
    return downloader(handler, clock).download(
        URL, expected_width=size[0], expected_height=size[1], require_alpha=require_alpha, deadline=deadline
    )


def answering(status: int, content: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers=headers or {})

    return handle


@pytest.mark.parametrize("status", [200, 201, 203, 299])
def test_every_2xx_answer_is_the_result(status: int) -> None:
    # Given the result host answering the image with a 2xx status
    # When it is fetched, Then the image is taken
    result = fetch(answering(status, png()))
    assert result.content_type == "image/png"


@pytest.mark.parametrize(
    ("status", "body", "code", "retryable"),
    [
        (199, b"", "result_unavailable", True),
        (300, b"", "result_unavailable", True),
        (304, b"", "result_unavailable", True),
        (404, b"", "result_unavailable", True),
        (429, b"", "result_unavailable", True),
        (500, b"", "result_unavailable", True),
        (503, b"", "result_unavailable", True),
        (403, b"<Error><Message>Request has expired</Message></Error>", "result_expired", False),
        (403, b"<Error><Message>Request has EXPIRED</Message></Error>", "result_expired", False),
        (403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>", "result_gone", False),
        (403, b"", "result_gone", False),
        (410, b"", "result_gone", False),
    ],
)
def test_each_answer_of_the_result_host_is_its_row(
    status: int, body: bytes, code: str, retryable: bool
) -> None:
    # Given the result host answering this status (and body)
    # When the result is fetched
    with pytest.raises(EngineError) as failed:
        fetch(answering(status, body))
    # Then the failure is the row's: fetched again later (free), or gone for good; the host is named
    assert (failed.value.code, failed.value.retryable) == (code, retryable)
    assert RESULT_HOST in failed.value.message
    if code == "result_unavailable":
        assert isinstance(failed.value, ResultUnavailableError)
        assert failed.value.status == status
        assert f"HTTP {status}" in failed.value.message


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_followed_on_the_same_host(status: int) -> None:
    # Given a result host that redirects once with this status
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/data/cut.png":
            return httpx.Response(status, headers={"Location": "/data/moved.png"})
        return httpx.Response(200, content=png())

    # When the result is fetched, Then the redirect is followed to the image
    assert fetch(handle).width == 40


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_without_a_location_is_retryable(status: int) -> None:
    # Given a redirect that names no target
    with pytest.raises(EngineError) as failed:
        fetch(answering(status))
    # When fetched, Then it may be fetched again later
    assert (failed.value.code, failed.value.retryable) == ("result_unavailable", True)
    assert "without a Location" in failed.value.message


@pytest.mark.parametrize(
    ("mode", "save", "has_alpha"),
    [
        ("RGBA", {}, True),
        ("LA", {}, True),
        ("RGB", {}, False),
        ("L", {}, False),
        ("P", {}, False),
        ("P", {"transparency": 0}, True),
        ("RGB", {"transparency": (0, 0, 0)}, True),
        ("L", {"transparency": 0}, True),
        ("1", {}, False),
    ],
)
@pytest.mark.parametrize("require_alpha", [True, False])
def test_a_transparent_background_needs_a_result_that_carries_alpha(
    mode: str, save: dict[str, object], has_alpha: bool, require_alpha: bool
) -> None:
    # Given a PNG result of this mode, with or without a transparency entry
    image = png(mode=mode, **save)
    # When it is fetched with or without a transparent background asked for
    # Then it is refused for good only when transparency was asked for and it has none
    if require_alpha and not has_alpha:
        with pytest.raises(EngineError) as failed:
            fetch(answering(200, image), require_alpha=True)
        assert (failed.value.code, failed.value.retryable) == ("result_missing_alpha", False)
    else:
        assert fetch(answering(200, image), require_alpha=require_alpha).content_type == "image/png"


@pytest.mark.parametrize(
    ("image", "content_type"),
    [
        (png(image_format="PNG"), "image/png"),
        (png(mode="RGB", image_format="JPEG"), "image/jpeg"),
        (png(image_format="WEBP"), "image/webp"),
    ],
)
def test_each_accepted_format_keeps_its_real_content_type(image: bytes, content_type: str) -> None:
    # Given a result in one of the accepted formats, When fetched, Then its real type and size are kept
    result = fetch(answering(200, image))
    assert (result.content_type, result.size) == (content_type, len(image))


@pytest.mark.parametrize(
    "image", [png(image_format="GIF", mode="P"), png(image_format="BMP", mode="RGB"), b"", b"not an image"]
)
def test_anything_else_is_not_an_image(image: bytes) -> None:
    # Given a result that is another format, empty, or no image at all
    with pytest.raises(EngineError) as failed:
        fetch(answering(200, image))
    # When fetched, Then it is refused for good (a retry would fetch the same bytes)
    assert (failed.value.code, failed.value.retryable) == ("result_not_an_image", False)


@pytest.mark.parametrize(
    ("reported", "mismatch"),
    [
        ((40, 30), None),
        ((41, 30), (41, 30)),
        ((40, 31), (40, 31)),
        ((30, 40), (30, 40)),
        ((None, 30), None),
        ((40, None), None),
        ((None, None), None),
    ],
)
def test_the_reported_size_is_compared_only_when_both_sides_are_reported(
    reported: tuple[int | None, int | None], mismatch: tuple[int, int] | None
) -> None:
    # Given a 40x30 result and what the API reported (both sides, one, or none)
    result = fetch(answering(200, png(40, 30)), size=reported)
    # When fetched, Then a different reported size is kept for the metadata, an unreported one is not checked
    assert result.reported_size == mismatch
    assert (result.width, result.height) == (40, 30)


def chunked(data: bytes, clock: Clock, step: float) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        def chunks() -> Iterator[bytes]:
            for start in range(0, len(data), 100):
                clock.now += step
                yield data[start : start + 100]

        return httpx.Response(200, content=chunks())

    return handle


@pytest.mark.parametrize(("deadline_offset", "taken"), [(0.0, True), (1.0, True), (-0.5, False)])
def test_the_time_cap_from_both_sides(deadline_offset: float, taken: bool) -> None:
    # Given a result arriving in chunks, the clock moving 0.5 s per chunk, and a deadline at, after
    # or before the moment the last chunk arrives
    image = png(60, 60)
    chunks = -(-len(image) // 100)
    clock = Clock()
    deadline = clock.now + chunks * 0.5 + deadline_offset
    handler = chunked(image, clock, 0.5)
    # When it is fetched
    # Then a chunk arriving at the deadline is still taken; one arriving after it is retryable
    if taken:
        assert fetch(handler, size=(60, 60), clock=clock, deadline=deadline).size == len(image)
    else:
        with pytest.raises(EngineError) as failed:
            fetch(handler, size=(60, 60), clock=clock, deadline=deadline)
        assert (failed.value.code, failed.value.retryable) == ("result_unavailable", True)
        assert "took too long" in failed.value.message


def test_a_result_larger_than_the_spool_is_kept_whole_on_disk() -> None:
    # Given a result larger than the memory spool
    image = png(200, 200)
    result = downloader(answering(200, image), spool_bytes=64).download(
        URL, expected_width=200, expected_height=200, require_alpha=True, deadline=10**9
    )
    # When fetched, Then every byte is there, from the start
    assert result.body.read() == image
    result.body.close()


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (httpx.ConnectTimeout("t"), "timed out"),
        (httpx.ReadTimeout("t"), "timed out"),
        (httpx.ConnectError("tls"), "failed (ConnectError)"),
        (httpx.RemoteProtocolError("cut"), "failed (RemoteProtocolError)"),
        (httpx.DecodingError("gzip"), "failed (DecodingError)"),
    ],
)
def test_every_transport_failure_is_retryable_and_names_only_the_host(error: Exception, words: str) -> None:
    # Given a result host that cannot be reached or read this way
    def handle(request: httpx.Request) -> httpx.Response:
        raise error

    # When the result is fetched
    with pytest.raises(EngineError) as failed:
        fetch(handle)
    # Then it may be fetched again (free), and the message names the host, never the signed URL
    assert (failed.value.code, failed.value.retryable) == ("result_unavailable", True)
    assert words in failed.value.message
    assert RESULT_HOST in failed.value.message
    assert "Expires" not in failed.value.message


@pytest.mark.parametrize(
    ("seconds_left", "expected"),
    [
        (0.5, (0.5, 0.5, 0.5, 0.5)),
        (2.0, (2.0, 2.0, 2.0, 2.0)),
        (10.0, (3.0, 10.0, 10.0, 3.0)),
        (600.0, (3.0, 60.0, 30.0, 3.0)),
    ],
)
def test_each_request_waits_no_longer_than_the_time_left(
    seconds_left: float, expected: tuple[float, float, float, float]
) -> None:
    # Given a deadline some seconds from now (the clock reads 100 s)
    seen: list[dict[str, float]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, content=png())

    # When the result is fetched
    fetch(handle, deadline=100.0 + seconds_left)
    # Then its connect, read, write and pool timeouts are the configured ones, none past the time left
    (timeout,) = seen
    assert (timeout["connect"], timeout["read"], timeout["write"], timeout["pool"]) == expected


@pytest.mark.parametrize(("padding", "code"), [(4089, "result_expired"), (4090, "result_gone")])
def test_an_expiry_is_read_in_the_first_4_kib_of_a_403_from_both_sides(padding: int, code: str) -> None:
    # Given a 403 whose "expired" ends on the 4096th byte, or one byte later
    body = b" " * padding + b"Expired"
    # When the result is fetched, Then only the first 4 KiB are read: expired within them, gone past them
    with pytest.raises(EngineError) as failed:
        fetch(answering(403, body))
    assert failed.value.code == code


@pytest.mark.parametrize("scheme", ["ftp", "file", "data", "gopher", "ws", "wss", "httpx"])
def test_a_scheme_other_than_http_or_https_is_refused_never_upgraded(scheme: str) -> None:
    # Given a result URL with another scheme (sorting before or after "http")
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=png())

    # When it is fetched, Then it is refused for its scheme, and nothing is requested (no https upgrade)
    with pytest.raises(EngineError) as failed:
        downloader(handle).download(
            f"{scheme}://{RESULT_HOST}/cut.png",
            expected_width=None,
            expected_height=None,
            require_alpha=False,
            deadline=10**9,
        )
    assert failed.value.code == "result_url_refused"
    assert f"scheme {scheme!r}" in failed.value.message
    assert requests == []


def test_reading_an_image_s_facts_leaves_the_stream_at_its_start() -> None:
    # Given a result stream read to its middle
    stream = io.BytesIO(png())
    stream.seek(7)
    # When its facts are read, Then they are right and the stream is rewound for whoever reads it next
    assert image_facts(stream) == ("image/png", 40, 30, True)
    assert stream.tell() == 0


def test_the_downloader_and_the_verifier_take_their_options_by_name_only() -> None:
    # Given the downloader's collaborators and options in signature order
    http = httpx.Client(transport=httpx.MockTransport(answering(200, png())))
    guard = UrlGuard(resolver=fake_resolver({RESULT_HOST: [PUBLIC_IP]}))
    # When they are passed by position, Then they are refused (a byte cap taken for a redirect count)
    with pytest.raises(TypeError):
        ResultDownloader(http, guard, AidgeTimeouts(), 10, 10, 3, Clock())  # type: ignore[misc]
    with pytest.raises(TypeError):
        verify_image(io.BytesIO(png()), True)  # type: ignore[misc]
    with pytest.raises(TypeError):  # the sizes, the alpha need and the deadline: four look-alikes
        downloader(answering(200, png())).download(URL, 40, 30, False, 10**9)  # type: ignore[misc]
    with pytest.raises(TypeError):  # a status taken for a fact of the error
        ResultUnavailableError("The result host answered 503.", 503)  # type: ignore[misc]


def test_a_verified_result_cannot_be_altered() -> None:
    # Given a result that was fetched and verified
    result = fetch(answering(200, png()))
    # When its facts are changed afterwards, Then that is refused (what was verified is what is used)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.width = 4000  # type: ignore[misc]
    assert (result.width, result.height, result.content_type) == (40, 30, "image/png")


def test_a_jpeg_holding_several_pictures_is_refused_by_its_own_name() -> None:
    # Given a result that Pillow's JPEG reader opens as a multi-picture (MPO) file
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30)).save(buffer, "MPO", save_all=True, append_images=[Image.new("RGB", (40, 30))])
    # When it is fetched, Then it is refused for good, the message naming what it is
    with pytest.raises(EngineError) as failed:
        fetch(answering(200, buffer.getvalue()))
    assert failed.value.code == "result_not_an_image"
    assert "The result is a MPO image" in failed.value.message


@pytest.mark.parametrize("location", ["//[::1", "https://results.example.com/\x00.png"])
def test_a_redirect_to_an_invalid_url_is_never_followed(location: str) -> None:
    # Given a result host redirecting to something that is not a URL
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(302, headers=[(b"Location", location.encode("latin-1"))])

    # When the result is fetched
    with pytest.raises(EngineError) as failed:
        fetch(handle)
    # Then it is not followed (httpx refuses the Location already): fetched again later, for free
    assert (failed.value.code, failed.value.retryable) == ("result_unavailable", True)
    assert len(requests) == 1


@pytest.mark.parametrize("url", ["https://[::1", "https://results.example.com/\x00", 17])
def test_a_result_url_that_is_not_a_url_is_refused_for_good(url: object) -> None:
    # Given a billed answer whose result URL is not a URL (or not even text)
    # When it is fetched, Then it is refused, without a request
    with pytest.raises(EngineError) as failed:
        downloader(answering(200, png())).download(
            url,  # type: ignore[arg-type]
            expected_width=None,
            expected_height=None,
            require_alpha=False,
            deadline=10**9,
        )
    assert failed.value.code == "result_url_refused"
    assert "not a valid URL" in failed.value.message


@pytest.mark.parametrize(
    "target",
    [
        "https://a.example.com/x.png",
        "https://zz.example.com/x.png",
        "https://results.example.com.evil/x.png",
        "https://RESULTS.example.org/x.png",
    ],
)
def test_a_redirect_to_any_other_host_is_refused_whatever_its_name_sorts_as(target: str) -> None:
    # Given a result host redirecting to another host (named before or after it)
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(302, headers={"Location": target})

    # When the result is fetched, Then the redirect is refused for good, before any request to it
    with pytest.raises(EngineError) as failed:
        fetch(handle)
    assert (failed.value.code, failed.value.retryable) == ("result_url_refused", False)
    assert "redirects to another host" in failed.value.message
    assert len(requests) == 1


def test_a_redirect_to_the_same_host_in_capitals_is_followed() -> None:
    # Given a redirect to the same host written in capitals
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/data/cut.png":
            return httpx.Response(302, headers={"Location": f"https://{RESULT_HOST.upper()}/data/moved.png"})
        return httpx.Response(200, content=png())

    # When the result is fetched, Then it is the same host: followed
    assert fetch(handle).width == 40
