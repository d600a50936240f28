"""Real-shaped runs (tests/fixtures/runs, written from databricks-sdk's dataclasses) through the
run model, the panel snapshot and the %jobs renderers: data the sandbox did not write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk.service import jobs as sdk_jobs
from jobs_widgets._render import RunSummary
from jobs_widgets._snapshot import run_snapshot
from jobs_widgets.core import Run, RunState

FIXTURES = Path(__file__).parent / "fixtures" / "runs"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))

#: What a person must see for each: state, badge label, the tasks shown, and whether a failure box shows.
EXPECTED: dict[str, tuple[RunState, str, list[str], bool]] = {
    "retried_task": (RunState.SUCCEEDED, "Succeeded", ["sync", "load"], False),
    "timed_out": (RunState.TIMED_OUT, "Timed out", ["extract"], True),
    "success_with_failures": (RunState.SUCCEEDED, "Succeeded with failures", ["extract", "notify"], True),
    "condition_excluded": (
        RunState.SUCCEEDED,
        "Succeeded",
        ["is_weekend", "weekend_report", "weekday_report"],
        False,
    ),
    "for_each": (RunState.FAILED, "Failed", ["per_region"], True),
    "queued": (RunState.QUEUED, "Queued", [], False),
    "repaired": (RunState.SUCCEEDED, "Succeeded", ["sync"], False),
    "run_job_parent": (RunState.SUCCEEDED, "Succeeded", ["refresh_report"], False),
}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def _dropped(mine: Any, theirs: Any, path: str = "") -> list[str]:
    if isinstance(mine, dict):
        return [
            hit
            for key, value in mine.items()
            for hit in (
                [f"{path}/{key}"] if key not in theirs else _dropped(value, theirs[key], f"{path}/{key}")
            )
        ]
    if isinstance(mine, list):
        return [
            hit
            for i, (a, b) in enumerate(zip(mine, theirs, strict=True))
            for hit in _dropped(a, b, f"{path}[{i}]")
        ]
    return [] if mine == theirs else [f"{path}: {mine!r} != {theirs!r}"]


def test_every_fixture_has_an_expectation() -> None:
    assert set(NAMES) == set(EXPECTED)


@pytest.mark.parametrize("name", NAMES)
def test_fixtures_use_only_fields_the_sdk_knows(name: str) -> None:
    data = _load(name)
    assert _dropped(data, sdk_jobs.Run.from_dict(data).as_dict()) == []


@pytest.mark.parametrize("name", NAMES)
def test_a_real_shaped_run_is_shown_truthfully(name: str) -> None:
    state, label, tasks, failure = EXPECTED[name]
    run = Run.from_api(sdk_jobs.Run.from_dict(_load(name)).as_dict())  # as the gateway hands it over
    assert run.state is state
    snapshot = run_snapshot(run, now_s=1_767_226_300.0)
    assert snapshot is not None
    json.dumps(snapshot).encode("utf-8")  # what the comm sends
    assert snapshot["label"] == label
    assert [t["task_key"] for t in snapshot["tasks"]] == tasks
    assert (snapshot["failure"] is not None) is failure
    summary = RunSummary("etl", run, now_s=1_767_226_300.0)
    assert label in repr(summary).splitlines()[0]
    assert label in summary._repr_html_()


def test_what_a_state_does_not_say_is_shown() -> None:
    """for-each progress, a condition's outcome and a child job, in the panel and in %jobs status."""
    details = {}
    for name in ("for_each", "condition_excluded", "run_job_parent"):
        run = Run.from_api(_load(name))
        snapshot = run_snapshot(run)
        assert snapshot is not None
        details[name] = [t["detail"] for t in snapshot["tasks"] if t["detail"]]
        for detail in details[name]:
            assert detail in repr(RunSummary("etl", run))
    assert details == {
        "for_each": ["3 of 3 iterations done, 1 failed"],
        "condition_excluded": ["condition was false"],
        "run_job_parent": ["runs job 1003"],
    }
