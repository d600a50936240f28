"""Every state databricks-sdk enumerates has an honest label and a tone (walked from the installed SDK).

A new SDK enum value fails here instead of showing raw (or as UNKNOWN) in a panel.
"""

from __future__ import annotations

import pytest
from databricks.sdk.service import jobs as sdk_jobs
from jobs_widgets._present import TONES, outcome
from jobs_widgets._snapshot import run_snapshot
from jobs_widgets.core import Run, RunState

ALLOWED_TONES = {"success", "error", "warn", "active", "waiting", "neutral"}


def _run(state: dict[str, str] | None = None, status: dict[str, object] | None = None) -> Run:
    return Run.from_api({"job_id": 1, "run_id": 2, "state": state or {}, "status": status or {}})


def _check(run: Run, raw: str) -> None:
    label, tone = outcome(run)
    assert run.state is not RunState.UNKNOWN, raw
    assert label and label != raw and "_" not in label and not label.isupper(), (
        raw,
        label,
    )  # a label, not the enum
    assert tone in ALLOWED_TONES
    shown = run_snapshot(run)
    assert shown is not None and shown["label"] == label and shown["tone"] == tone


@pytest.mark.parametrize("value", [e.value for e in sdk_jobs.RunLifeCycleState])
def test_every_life_cycle_state(value: str) -> None:
    _check(
        _run({"life_cycle_state": value, "result_state": "SUCCESS" if value == "TERMINATED" else ""}), value
    )


@pytest.mark.parametrize("value", [e.value for e in sdk_jobs.RunResultState])
def test_every_result_state(value: str) -> None:
    _check(_run({"life_cycle_state": "TERMINATED", "result_state": value}), value)


@pytest.mark.parametrize("value", [e.value for e in sdk_jobs.RunLifecycleStateV2State])
def test_every_v2_state(value: str) -> None:
    status = {"state": value, "termination_details": {"code": "SUCCESS", "type": "SUCCESS"}}
    _check(_run(status=status), value)


@pytest.mark.parametrize("value", [e.value for e in sdk_jobs.TerminationCodeCode])
def test_every_termination_code(value: str) -> None:
    status = {"state": "TERMINATED", "termination_details": {"code": value, "type": "CLIENT_ERROR"}}
    _check(_run({"life_cycle_state": "TERMINATED"}, status), value)


def test_honest_labels_for_the_outcomes_a_state_alone_hides() -> None:
    with_failures = _run({"life_cycle_state": "TERMINATED", "result_state": "SUCCESS_WITH_FAILURES"})
    assert outcome(with_failures) == ("Succeeded with failures", "warn")  # not plain success
    excluded = _run({"life_cycle_state": "TERMINATED", "result_state": "EXCLUDED"})
    assert outcome(excluded)[0] == "Excluded" and not excluded.state.is_failure  # not a failure
    assert set(TONES) == set(RunState)
