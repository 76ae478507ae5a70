"""The release decision over every engine error class: the units come back only when ``paid`` is False.

Every subclass of ``EngineError`` is found by walking the class tree (after importing every module
that defines one), so a new error class is covered the day it is written.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil

import pytest

import cutout
from cutout.engine.aidge.errors import AidgeBilledWithoutResultError, AidgeQuotaExhaustedError
from cutout.engine.errors import EngineError
from cutout.spending import PipelinePaused, SpendingGuard, was_not_billed
from tests.fakes import InMemoryBudget


def _import_every_cutout_module() -> None:
    for module in pkgutil.walk_packages(cutout.__path__, prefix="cutout."):
        importlib.import_module(module.name)


def _every_engine_error_class() -> list[type[EngineError]]:
    _import_every_cutout_module()
    found: list[type[EngineError]] = []
    pending: list[type[EngineError]] = [EngineError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


ENGINE_ERRORS = _every_engine_error_class()


def test_the_tree_walk_finds_the_whole_tree() -> None:
    # Given the walk over the engine error tree
    names = {cls.__name__ for cls in ENGINE_ERRORS}
    # When it is compared with classes known to exist at every level
    # Then the bases, the Aidge answers and the result download errors are all there
    assert {"EngineError", "RetryableEngineError", "PermanentEngineError"} <= names
    assert {"AidgeBilledWithoutResultError", "EngineAnswerLostError", "ResultGoneError"} <= names
    assert len(ENGINE_ERRORS) >= 28


@pytest.mark.parametrize("error_class", ENGINE_ERRORS, ids=lambda cls: cls.__name__)
def test_each_class_documents_what_its_failure_cost(error_class: type[EngineError]) -> None:
    # Given an engine error class
    # When its documented cost is read
    # Then it is one of the three the table knows: billed, possibly billed, not billed
    from cutout.spending.guard import RELEASE_BY_PAID

    assert error_class.paid in RELEASE_BY_PAID
    assert error_class.paid in (True, None, False)


@pytest.mark.parametrize("error_class", ENGINE_ERRORS, ids=lambda cls: cls.__name__)
def test_the_units_come_back_exactly_when_the_class_says_nothing_was_billed(
    error_class: type[EngineError],
) -> None:
    # Given a reservation for a call that failed with this class of error
    budget = InMemoryBudget(daily=5)
    guard = SpendingGuard(budget)
    reservation = guard.reserve()
    error = error_class("the call failed")
    # When the failure is settled (an exhausted quota also pauses: that is tested elsewhere)
    with contextlib.suppress(PipelinePaused):
        guard.after_failure(reservation, error)
    # Then the units are given back if and only if the class documents the call as not billed
    certainly_free = error_class.paid is False
    assert was_not_billed(error) is certainly_free
    assert budget.used == (0 if certainly_free else 1)


def test_a_billed_success_without_a_result_keeps_its_units() -> None:
    # Given a reservation for a call Aidge billed but answered without data.imageUrl
    budget = InMemoryBudget(daily=5)
    guard = SpendingGuard(budget)
    reservation = guard.reserve()
    error = AidgeBilledWithoutResultError("billed, no result")
    # When the failure is settled
    guard.after_failure(reservation, error)
    # Then the billed unit stays counted
    assert was_not_billed(error) is False
    assert budget.used == 1


def test_an_instance_refining_its_code_keeps_its_class_cost() -> None:
    # Given billed and unbilled errors whose code is refined per instance (aidge_<resCode>)
    billed = AidgeBilledWithoutResultError("billed", code="aidge_billed_without_result_v2")
    free = AidgeQuotaExhaustedError("no resources", code="engine_answer_lost")
    # When the release decision is read
    # Then it follows the class's documented cost, never the code's text
    assert was_not_billed(billed) is False
    assert was_not_billed(free) is True


@pytest.mark.parametrize("error", [RuntimeError("a bug"), ValueError("unforeseen"), KeyboardInterrupt()])
def test_anything_that_is_not_an_engine_error_keeps_its_units(error: BaseException) -> None:
    # Given a reservation and a failure the engine tree does not describe
    budget = InMemoryBudget(daily=5)
    guard = SpendingGuard(budget)
    reservation = guard.reserve()
    # When it is settled
    guard.after_failure(reservation, error)
    # Then the units stay counted: counting a free call is safe, forgetting a billed one is not
    assert was_not_billed(error) is False
    assert budget.used == 1


@pytest.mark.parametrize("error_class", ENGINE_ERRORS, ids=lambda cls: cls.__name__)
def test_only_an_exhausted_aidge_quota_pauses(error_class: type[EngineError]) -> None:
    # Given a reservation for a call that failed with this class of error
    guard = SpendingGuard(InMemoryBudget(daily=5))
    reservation = guard.reserve()
    error = error_class("the call failed")
    # When the failure is settled
    try:
        guard.after_failure(reservation, error)
        paused = False
    except PipelinePaused as pause:
        paused = pause.reason is error
    # Then only "quota exhausted" pauses the pipeline (we wait, not fail); every other error is
    # the upload's own outcome, and the latch stays clear for the next records
    assert paused is (error.code == "aidge_quota_exhausted")
    assert (guard.latch.current() is error) is paused
