"""The Aidge adapter against the emulator over real HTTP on loopback: every answer maps to the
right typed error, retries follow the policy, and nothing is ever paid twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from cutout.engine.aidge import (
    AIDGE_CALL_RETRY,
    AidgeClient,
    AidgeConfig,
    AidgeContentCheckFailedError,
    AidgeContentRiskFilterError,
    AidgeInvalidInputError,
    AidgeModelFailedError,
    AidgeRateLimitedError,
    AidgeSensitiveContentError,
    AidgeSystemError,
    AidgeTimeouts,
    AidgeUnauthorizedError,
    EngineAnswerLostError,
    EngineUnreachableError,
)
from cutout.engine.aidge.answer_times import AnswerTimes
from cutout.engine.errors import EngineError
from cutout.engine.port import Background, CutoutOptions, CutoutReceipt, ImageBytes, ImageSource, ImageUrl
from cutout_tools.emulator import AidgeEmulator, FaultPlan
from tests.functional.aidge_testkit import (
    KEY_NAME,
    KEY_SECRET,
    FakeCutoutEngine,
    StaticFiles,
    open_image,
    product_photo,
)

ClientFor = Callable[..., AidgeClient]


@pytest.fixture
def client_for() -> Iterator[ClientFor]:
    """Build an ``AidgeClient`` aimed at an emulator; it never really sleeps between retries."""
    clients: list[AidgeClient] = []

    def _client(emulator: AidgeEmulator, secret: str = KEY_SECRET, **overrides: object) -> AidgeClient:
        config = AidgeConfig(
            app_key=KEY_NAME,
            app_secret=secret,
            host=emulator.url.removeprefix("http://"),
            scheme="http",
            result_url_allowlist=(emulator.address,),  # its loopback address, not its scheme
            **overrides,  # type: ignore[arg-type]
        )
        client = AidgeClient(
            config,
            sleep=lambda _seconds: None,
            resolver=emulator.result_resolver,
            verify=emulator.client_ssl_context(),
            answer_times=AnswerTimes(),
        )
        clients.append(client)
        return client

    yield _client
    for client in clients:
        client.close()


def emulator_playing(*faults: str, **options: float) -> AidgeEmulator:
    return AidgeEmulator(
        key_name=KEY_NAME,
        key_secret=KEY_SECRET,
        engine=FakeCutoutEngine(),
        faults=FaultPlan.parse(faults),
        seed=11,
        **options,  # type: ignore[arg-type]
    )


TRANSPARENT = CutoutOptions(background=Background.TRANSPARENT)


@pytest.mark.parametrize(
    ("background", "expected"),
    [(Background.TRANSPARENT, ("image/png", "RGBA")), (Background.WHITE, ("image/jpeg", "RGB"))],
)
@pytest.mark.parametrize("mode", ["base64", "url"])
def test_the_client_gets_a_cutout_in_both_modes(
    client_for: ClientFor,
    static_files: StaticFiles,
    mode: str,
    background: Background,
    expected: tuple[str, str],
) -> None:
    content_type, image_mode = expected
    # Given a 500x400 photo, as bytes or behind a presigned-looking URL, and a healthy emulator
    photo = product_photo(500, 400)
    source: ImageSource = (
        ImageBytes(photo) if mode == "base64" else ImageUrl(static_files.add("/uploads/bag.jpg", photo))
    )
    with emulator_playing() as emulator:
        client = client_for(emulator)
        # When the client removes the background
        cutout = client.remove_background(source, CutoutOptions(background=background))
        # Then it gets the verified result, with the API's request id, after one billed call
        assert (cutout.engine, cutout.content_type, cutout.width, cutout.height) == (
            "aidge",
            content_type,
            500,
            400,
        )
        assert cutout.request_id
        assert open_image(cutout.read()).mode == image_mode
        stats = emulator.stats()
        assert (stats["calls"], stats["billed"], stats["result_fetches"]) == (1, 1, 1)


def test_a_receipt_can_be_fetched_again_without_paying(client_for: ClientFor) -> None:
    # Given a paid call's receipt
    with emulator_playing() as emulator:
        client = client_for(emulator)
        receipt = client.submit(ImageBytes(product_photo(300, 300)), TRANSPARENT)
        # When the result is fetched twice (as after a crash between the call and the output)
        first, second = client.fetch(receipt), client.fetch(receipt)
        # Then both fetches give the same image and only the one call was billed
        assert first.read() == second.read()
        assert (emulator.stats()["calls"], emulator.stats()["billed"]) == (1, 1)


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [
        ("500", AidgeSystemError),
        ("501", AidgeRateLimitedError),
        ("801", AidgeModelFailedError),
        ("1001", AidgeContentCheckFailedError),
    ],
)
def test_a_retryable_answer_is_retried_up_to_its_budget(
    client_for: ClientFor, fault: str, error_class: type[EngineError]
) -> None:
    # Given an emulator that always answers this retryable failure
    with emulator_playing(f"{fault}:1") as emulator:
        client = client_for(emulator)
        # When the client calls it
        with pytest.raises(error_class) as raised:
            client.submit(ImageBytes(product_photo()), TRANSPARENT)
        # Then the typed error is retryable, was tried exactly its budget, and nothing was billed
        error = raised.value
        assert error.retryable is True
        budget = AIDGE_CALL_RETRY.max_attempts(error)
        assert budget > 1
        assert (emulator.stats()["calls"], emulator.stats()["billed"]) == (budget, 0)
        if fault.isdigit():
            assert error.api_code == int(fault)
            assert error.request_id


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [
        ("700", AidgeInvalidInputError),
        ("1000", AidgeSensitiveContentError),
        ("1002", AidgeContentRiskFilterError),
    ],
)
def test_a_permanent_answer_is_called_once(
    client_for: ClientFor, fault: str, error_class: type[EngineError]
) -> None:
    # Given an emulator that always answers this permanent failure
    with emulator_playing(f"{fault}:1") as emulator:
        client = client_for(emulator)
        # When the client calls it
        with pytest.raises(error_class) as raised:
            client.submit(ImageBytes(product_photo()), TRANSPARENT)
        # Then the typed error is permanent, carries the API's code and request id, after exactly one call
        assert raised.value.retryable is False
        assert raised.value.api_code == int(fault)
        assert raised.value.request_id
        assert (emulator.stats()["calls"], emulator.stats()["billed"]) == (1, 0)


def test_a_real_invalid_input_names_the_field_and_is_called_once(client_for: ClientFor) -> None:
    # Given a healthy emulator and an image smaller than the API accepts
    with emulator_playing() as emulator:
        client = client_for(emulator)
        # When the client sends it
        with pytest.raises(AidgeInvalidInputError) as raised:
            client.submit(ImageBytes(product_photo(80, 300)), TRANSPARENT)
        # Then the permanent 700 names the field, after one unbilled call
        assert raised.value.code == "aidge_700"
        assert raised.value.api_message is not None
        assert "imageBase64" in raised.value.api_message
        assert (emulator.stats()["calls"], emulator.stats()["billed"]) == (1, 0)


def test_a_wrong_secret_is_unauthorized_and_called_once(client_for: ClientFor) -> None:
    # Given a client holding the wrong secret
    with emulator_playing() as emulator:
        client = client_for(emulator, secret="not-the-real-secret")
        # When it calls the emulator
        with pytest.raises(AidgeUnauthorizedError) as raised:
            client.submit(ImageBytes(product_photo()), TRANSPARENT)
        # Then it is a permanent unauthorized error, never retried, and no secret is in its text
        assert raised.value.retryable is False
        assert emulator.stats()["calls"] == 1
        assert "not-the-real-secret" not in str(raised.value.to_dict())


def test_a_call_whose_answer_times_out_is_not_sent_again(client_for: ClientFor) -> None:
    # Given an emulator that holds every call for a minute, and a client that waits 0.3 s per answer
    with emulator_playing("timeout:1", timeout_seconds=60) as emulator:
        client = client_for(emulator, timeouts=AidgeTimeouts(read=0.3), min_call_seconds=0.0)
        # When the client calls it
        with pytest.raises(EngineAnswerLostError) as raised:
            client.submit(ImageBytes(product_photo()), TRANSPARENT)
        # Then it is retryable later (through the queue) but was sent once, and billed once
        assert raised.value.retryable is True
        assert (emulator.stats()["calls"], emulator.stats()["billed"]) == (1, 1)


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("timeout", {"timeout_seconds": 0.1}),  # dropped without an answer after the work was done
        ("malformed", {}),  # HTTP 200 whose body is cut off: not JSON
    ],
)
def test_a_billed_answer_that_cannot_be_read_is_billed_once(
    client_for: ClientFor, fault: str, options: dict[str, float]
) -> None:
    # Given an emulator that bills each call but loses (or garbles) its answer
    with emulator_playing(f"{fault}:1", **options) as emulator:
        client = client_for(emulator)
        # When the client calls it
        with pytest.raises(EngineAnswerLostError) as raised:
            client.submit(ImageBytes(product_photo()), TRANSPARENT)
        # Then the failure is retryable later (the queue), possibly billed, and was sent exactly once
        assert (raised.value.retryable, raised.value.paid) == (True, None)
        stats = emulator.stats()
        assert (stats["calls"], stats["billed"], stats["undelivered"]) == (1, 1, {fault: 1})


def test_an_unreachable_api_is_a_retryable_failure(client_for: ClientFor) -> None:
    # Given a client aimed at an emulator that has since stopped (nothing listens on its port)
    with emulator_playing("500:0") as emulator:
        client = client_for(emulator)
    # When the client calls it
    with pytest.raises(EngineUnreachableError) as raised:
        client.submit(ImageBytes(product_photo()), TRANSPARENT)
    # Then the failure is retryable (nothing was sent, so nothing can have been billed)
    assert raised.value.retryable is True


def test_a_result_not_yet_visible_is_fetched_again_without_paying_again(client_for: ClientFor) -> None:
    # Given an emulator whose results answer 404 to their first GET
    with emulator_playing("result404:1") as emulator:
        client = client_for(emulator)
        # When the client removes a background
        cutout = client.remove_background(ImageBytes(product_photo(320, 240)), TRANSPARENT)
        # Then it recovered by fetching again, and the call was billed exactly once
        assert (cutout.width, cutout.height) == (320, 240)
        stats = emulator.stats()
        assert (stats["calls"], stats["billed"]) == (1, 1)
        assert (stats["result_fetches"], stats["result_not_found"]) == (2, 1)


def test_the_documented_http_result_url_is_fetched_over_https_first(client_for: ClientFor) -> None:
    # Given an emulator answering result URLs in the sample's shape (plain http, OSS-shaped host,
    # OSS-signed query), served over https too with a certificate the client trusts
    with emulator_playing() as emulator:
        client = client_for(emulator)
        receipt = client.submit(ImageBytes(product_photo(320, 240)), TRANSPARENT)
        assert receipt.result_url.startswith(f"http://{emulator.result_host}:")
        # When the client fetches it under the production policy (upgrade-then-http)
        cutout = client.fetch(receipt)
        # Then it came over https, the signature held, and the call was billed once
        assert (cutout.width, cutout.height) == (320, 240)
        stats = emulator.stats()
        assert stats["result_fetches_by_scheme"] == {"https": 1}
        assert (stats["billed"], stats["result_refused"]) == (1, {})


@pytest.mark.parametrize(
    ("policy", "outcome"), [("upgrade-then-http", "http"), ("upgrade", "result_unavailable")]
)
def test_a_refused_upgrade_falls_back_to_http_only_when_the_policy_says(policy: str, outcome: str) -> None:
    # Given a client that does not trust the emulator's certificate (the TLS handshake fails)
    with emulator_playing() as emulator:
        config = AidgeConfig(
            app_key=KEY_NAME,
            app_secret=KEY_SECRET,
            host=emulator.url.removeprefix("http://"),
            scheme="http",
            result_url_allowlist=(emulator.address,),
            result_url_policy=policy,  # type: ignore[arg-type]
        )
        with AidgeClient(
            config, sleep=lambda _s: None, resolver=emulator.result_resolver, answer_times=AnswerTimes()
        ) as client:
            receipt = client.submit(ImageBytes(product_photo(320, 240)), TRANSPARENT)
            # When it fetches the http result URL
            if outcome == "http":
                cutout = client.fetch(receipt)
                # Then upgrade-then-http fell back to plain http, with every other rule unchanged
                assert (cutout.width, cutout.height) == (320, 240)
                assert emulator.stats()["result_fetches_by_scheme"] == {"http": 1}
            else:
                # Then upgrade never sends it over plain http
                with pytest.raises(EngineError) as raised:
                    client.fetch(receipt)
                assert raised.value.code == outcome
                assert "http" not in emulator.stats()["result_fetches_by_scheme"]
        assert emulator.stats()["billed"] == 1


def test_a_tampered_or_expired_result_url_gets_oss_403(client_for: ClientFor) -> None:
    # Given one result URL whose signature was tampered with, and an emulator signing for -60 s
    with emulator_playing() as emulator:
        client = client_for(emulator)
        receipt = client.submit(ImageBytes(product_photo()), TRANSPARENT)
        tampered = CutoutReceipt.from_dict(
            {**receipt.to_dict(), "result_url": receipt.result_url.replace("Signature=", "Signature=x")}
        )
        # When it is fetched
        with pytest.raises(EngineError) as raised:
            client.fetch(tampered)
        # Then OSS's SignatureDoesNotMatch makes it gone for good (no retry, no second bill)
        assert raised.value.code == "result_gone"
        assert emulator.stats()["result_refused"] == {"SignatureDoesNotMatch": 1}
    with emulator_playing(result_ttl_seconds=-60) as emulator:
        client = client_for(emulator)
        receipt = client.submit(ImageBytes(product_photo()), TRANSPARENT)
        assert receipt.expires_at is not None
        # When a URL already past its Expires is fetched (the check by the receipt skipped)
        expired_unknown = CutoutReceipt.from_dict({**receipt.to_dict(), "expires_at": None})
        with pytest.raises(EngineError) as raised:
            client.fetch(expired_unknown)
        # Then OSS's "Request has expired" 403 is result_expired; with the receipt's expiry known,
        # the client does not even ask
        assert raised.value.code == "result_expired"
        assert emulator.stats()["result_refused"] == {"AccessDenied": 1}
        with pytest.raises(EngineError) as raised:
            client.fetch(receipt)
        assert raised.value.code == "result_expired"
        assert emulator.stats()["result_refused"] == {"AccessDenied": 1}


def test_the_emulator_does_not_follow_a_redirect_of_the_image_url(
    client_for: ClientFor, static_files: StaticFiles
) -> None:
    # Given a presigned-looking image URL that answers 307 (S3's global endpoint for a new bucket)
    target = static_files.add("/real/bag.jpg", product_photo())
    static_files.redirects["/global/bag.jpg"] = target
    url = target.replace("/real/bag.jpg", "/global/bag.jpg")
    with emulator_playing() as emulator:
        client = client_for(emulator)
        # When the client sends it
        with pytest.raises(AidgeInvalidInputError) as raised:
            client.submit(ImageUrl(url), TRANSPARENT)
        # Then the emulator, a strict fetcher, refuses it (as a SigV4-signed fetch would fail), unbilled
        assert "redirect" in (raised.value.api_message or "")
        assert emulator.stats()["billed"] == 0
        assert static_files.hits["/real/bag.jpg"] == 0
