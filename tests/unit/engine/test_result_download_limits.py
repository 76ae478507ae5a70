"""The result download's limits from both sides: the byte cap (declared and streamed) and redirects."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from cutout.engine.aidge import AidgeClient
from cutout.engine.errors import EngineError
from tests.unit.engine.aidge_doubles import RESULT_HOST, FakeServers, image_bytes, result_receipt

MakeClient = Callable[..., AidgeClient]
IMAGE = image_bytes()


def _chunks(data: bytes, size: int = 97) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize(("cap_delta", "fits"), [(0, True), (1, True), (-1, False)])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_the_byte_cap_is_inclusive_declared_or_streamed(
    make_client: MakeClient, declared: bool, cap_delta: int, fits: bool
) -> None:
    # Given a result of N bytes, with or without a Content-Length, and a cap of N, N+1 or N-1
    headers = {"Content-Length": str(len(IMAGE))} if declared else {}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=_chunks(IMAGE))

    client = make_client(FakeServers(result_answers=[answer]), result_max_bytes=len(IMAGE) + cap_delta)
    # When it is fetched
    # Then it is taken whole up to the cap, and refused for good one byte over
    if fits:
        cutout = client.fetch(result_receipt())
        assert cutout.read() == IMAGE
        cutout.body.close()
    else:
        with pytest.raises(EngineError) as caught:
            client.fetch(result_receipt())
        assert (caught.value.code, caught.value.retryable) == ("result_too_large", False)


@pytest.mark.parametrize(("hops", "followed"), [(2, True), (3, True), (4, False)])
def test_redirects_are_followed_up_to_the_cap(make_client: MakeClient, hops: int, followed: bool) -> None:
    # Given a result reached after a number of same-host redirects, and a cap of 3
    def answer(request: httpx.Request) -> httpx.Response:
        step = int(request.url.params.get("step", "0"))
        if step < hops:
            return httpx.Response(302, headers={"Location": f"https://{RESULT_HOST}/r.png?step={step + 1}"})
        return httpx.Response(200, content=IMAGE)

    servers = FakeServers(result_answers=[answer])
    client = make_client(servers, result_max_redirects=3)
    # When it is fetched
    # Then up to 3 redirects are followed; a 4th is refused for good
    if followed:
        cutout = client.fetch(result_receipt())
        assert cutout.read() == IMAGE
        cutout.body.close()
        assert len(servers.result_requests) == hops + 1
    else:
        with pytest.raises(EngineError) as caught:
            client.fetch(result_receipt())
        assert caught.value.code == "result_url_refused"
        assert len(servers.result_requests) == 4
