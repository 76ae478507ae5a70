"""The local stack's execution environments: one pipeline per concurrent invocation, as on Lambda."""

from __future__ import annotations

import threading
from typing import Any

from cutout_tools.local_stack.environments import ExecutionEnvironments


def _in_threads(count: int, environments: ExecutionEnvironments) -> list[Any]:
    got: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def work(number: int) -> None:
        barrier.wait()
        got[number] = environments.pipeline()

    threads = [threading.Thread(target=work, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return got


def test_each_concurrent_invocation_gets_its_own_pipeline_and_keeps_it() -> None:
    # Given environments whose first pipeline was built at start
    built: list[dict[str, str]] = []

    def build(variables: dict[str, str]) -> object:
        built.append(variables)
        return object()

    first = object()
    environments = ExecutionEnvironments(build, {"DAILY_BUDGET": "0"}, first=first)
    # When three invocations run at once
    pipelines = _in_threads(3, environments)
    # Then each has its own pipeline, the one built at start serving one of them
    assert len({id(pipeline) for pipeline in pipelines}) == 3
    assert first in pipelines
    assert len(built) == 2
    # And a thread asking again keeps its own
    assert environments.pipeline() is environments.pipeline()


def test_a_configuration_change_starts_new_environments_with_the_new_values() -> None:
    # Given a function whose DAILY_BUDGET is raised after the first invocation
    configured = {"DAILY_BUDGET": "5"}
    seen: list[tuple[dict[str, str], list[str]]] = []
    environments = ExecutionEnvironments(
        dict,
        {"DAILY_BUDGET": "5", "OTHER": "x"},
        configured=lambda: dict(configured),
        watched=("DAILY_BUDGET",),
        on_change=lambda updated, names: seen.append((updated, names)),
    )
    before = environments.pipeline()
    configured["DAILY_BUDGET"] = "50"
    # When the next invocation comes
    after = environments.pipeline()
    # Then it runs in a new environment built with the new value, and the change is told once
    assert before == {"DAILY_BUDGET": "5", "OTHER": "x"}
    assert after == {"DAILY_BUDGET": "50", "OTHER": "x"}
    assert seen == [({"DAILY_BUDGET": "50", "OTHER": "x"}, ["DAILY_BUDGET"])]
    assert environments.pipeline() is after
