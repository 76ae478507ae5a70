"""A paid result is never thrown away: moto over HTTP, the emulator's documented-shape answers,
the production result-URL policy, the DLQ record of a paid call, and ``cutout dlq replay``."""

from __future__ import annotations

from collections.abc import Callable

from cutout.engine.aidge.seams import AidgeSeams
from cutout.settings import Settings
from cutout.wiring import aws_pipeline
from cutout_tools.operations.dead_letters import peek_dead_letters, replay_dead_letters
from tests.functional.aidge_testkit import product_photo
from tests.functional.pipeline.world import World


def _without_tls_trust(world: World) -> None:
    """The function as misconfigured: the emulator's https is not trusted (RESULT_URL_POLICY=upgrade)."""
    world.pipeline = aws_pipeline(
        Settings.from_env(world.environment), aidge_seams=AidgeSeams(resolver=world.emulator.result_resolver)
    )


def _fixed(world: World) -> None:
    seams = AidgeSeams(resolver=world.emulator.result_resolver, verify=world.emulator.client_ssl_context())
    world.pipeline = aws_pipeline(Settings.from_env(world.environment), aidge_seams=seams)


def test_a_paid_result_whose_download_failed_is_replayed_without_a_second_bill(
    make_world: Callable[..., World],
) -> None:
    # Given a function that can call the API but not fetch its result (https only, CA not trusted)
    world = make_world(RESULT_URL_POLICY="upgrade")
    _without_tls_trust(world)
    world.upload("paid/lost.jpg", product_photo(400, 300))
    world.drain(timeout_seconds=120)
    # Then the upload is on the DLQ, saying the call was paid, with the receipt's reference only
    (letter,) = peek_dead_letters(world.sqs, world.dlq_url)
    assert letter.record is not None
    assert (letter.reason, letter.record.paid) == ("result_unavailable", True)
    assert letter.record.receipt is not None
    assert letter.record.receipt.request_id
    assert letter.record.receipt.expires_at is not None
    assert "Signature=" not in letter.body  # the signed URL is a bearer credential: never in a record
    assert "OSSAccessKeyId" not in letter.body
    assert world.emulator.stats()["billed"] == 1

    # When the cause is fixed and the DLQ is replayed
    _fixed(world)
    summary = replay_dead_letters(world.sqs, world.dlq_url, world.work_queue_url)
    world.drain(timeout_seconds=120)

    # Then the stored receipt was fetched (over https): the output exists, and it was billed once
    assert (summary.replayed, summary.repaid) == (1, 0)
    assert list(world.outputs()) == ["paid/lost.jpg.png"]
    stats = world.emulator.stats()
    assert stats["billed"] == 1
    assert stats["result_fetches_by_scheme"].get("https", 0) >= 1
    assert world.dlq_records() == []


def test_a_paid_result_that_is_gone_pays_again_only_with_repay(make_world: Callable[..., World]) -> None:
    # Given a paid upload on the DLQ whose result then disappeared from the result host
    world = make_world(RESULT_URL_POLICY="upgrade")
    _without_tls_trust(world)
    world.upload("paid/gone.jpg", product_photo(300, 300))
    world.drain(timeout_seconds=120)
    world.emulator.reset()  # the results (and the counters) are gone
    _fixed(world)

    # When it is replayed as it is
    replay_dead_letters(world.sqs, world.dlq_url, world.work_queue_url)
    world.drain(timeout_seconds=120)
    # Then it fails for good with a reason of its own, paid, without calling the API again
    (letter,) = peek_dead_letters(world.sqs, world.dlq_url)
    assert letter.record is not None
    assert (letter.reason, letter.record.paid) == ("result_gone", True)
    assert world.emulator.stats()["calls"] == 0

    # When it is replayed with --repay
    summary = replay_dead_letters(world.sqs, world.dlq_url, world.work_queue_url, repay=True)
    world.drain(timeout_seconds=120)
    # Then it was paid for exactly once more, and the output exists
    assert summary.repaid == 1
    assert world.emulator.stats()["billed"] == 1
    assert list(world.outputs()) == ["paid/gone.jpg.png"]
    assert world.dlq_records() == []
