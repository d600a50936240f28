"""The hazard model (every kind of end, per task), the two modes and Retry-After past the cap (pure)."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from jobs_widgets.core import PollPolicy, Run
from jobs_widgets.core.cadence import degraded, next_interval, run_hazard
from jobs_widgets.core.errors import JobsApiError
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.hazard import EndModel
from jobs_widgets.core.history import JobHistory
from jobs_widgets.core.outcomes import Outcomes

NOW = 1_800_000_000.0
KEY = ("me", 1)


def _durations(median: float, sigma: float, n: int, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [median * math.exp(rng.gauss(0, sigma)) for _ in range(n)]


def _run(run_id: int, state: str, elapsed: float, *, tasks: list[dict[str, Any]] | None = None) -> Run:
    start = NOW - elapsed
    raw: dict[str, Any] = {
        "run_id": run_id,
        "job_id": 1,
        "start_time": int(start * 1000),
        "status": {"state": state},
        "tasks": tasks or [],
    }
    if state == "TERMINATED":
        raw["status"] = {"state": "TERMINATED", "termination_details": {"code": "SUCCESS"}}
        raw["end_time"] = int(NOW * 1000)
    return Run.from_api(raw)


def test_cold_start_is_honest_and_failures_count() -> None:
    assert EndModel.fit([400, 500]) is None  # two runs say nothing: plain backoff
    ok = _durations(480, 0.25, 40)
    never_failed = EndModel.fit(ok)
    assert never_failed is not None and 0 < never_failed.p_bad < 0.05  # a floor, not zero
    failing = EndModel.fit(ok, [30, 90, 200, 260, 330, 400])
    assert failing is not None and failing.bad is not None and failing.p_bad > never_failed.p_bad
    # Early in a run only failures can end it: the failure-aware model sees them coming.
    assert failing.hazard(60) > 3 * never_failed.hazard(60)
    assert failing.failure_hazard(60) == pytest.approx(failing.hazard(60), rel=0.05)
    # Near the usual end, successes dominate; the survival falls from 1 towards 0.
    assert failing.hazard(480) > 5 * failing.hazard(60)
    assert failing.survival(0) == pytest.approx(1) and failing.survival(5000) < 1e-3
    assert failing.overdue(5000) and not failing.overdue(480)


def test_history_keeps_every_kind_of_end_once_and_follows_a_job_that_changed() -> None:
    history = JobHistory()
    history.record(KEY, _durations(480, 0.25, 30))
    model = history.model(KEY)
    assert model is not None and model.bad is None
    failed = [
        Run.from_api(
            {
                "run_id": 100 + i,
                "job_id": 1,
                "start_time": 1_000_000,
                "end_time": 1_000_000 + 1000 * (60 + 50 * i),
                "status": {"state": "TERMINATED", "termination_details": {"code": "RUN_EXECUTION_ERROR"}},
            }
        )
        for i in range(4)
    ]
    history.store(KEY, failed)
    history.store(KEY, failed)  # twice: counted once
    model = history.model(KEY)
    assert model is not None and model.bad is not None and model.bad.samples == 4
    eta = history.eta(KEY)
    assert eta is not None and 400 < eta.p50 < 560
    history.record(KEY, [960.0] * 5)  # the job got twice as slow
    changed = history.eta(KEY)
    assert changed is not None and changed.p50 == pytest.approx(960)


def test_an_erratic_job_is_not_mistaken_for_a_changed_one() -> None:
    history = JobHistory()
    durations = _durations(480, 0.6, 60, seed=5)
    for i in range(0, 60, 5):
        history.record(KEY, durations[i : i + 5])
    eta = history.eta(KEY)
    assert eta is not None and eta.samples == 50


def test_the_last_unfinished_task_places_the_end() -> None:
    model = EndModel.fit(_durations(600, 0.3, 30))
    tasks = {f"t{i}": Eta.from_durations(_durations(200, 0.3, 30, seed=i)) for i in range(3)}
    known = {k: v for k, v in tasks.items() if v is not None}

    def chain(done: int, last_elapsed: float) -> list[dict[str, Any]]:
        out = []
        for i in range(3):
            state = "TERMINATED" if i < done else ("RUNNING" if i == done else "PENDING")
            status: dict[str, Any] = {"state": state}
            if state == "TERMINATED":
                status["termination_details"] = {"code": "SUCCESS"}
            task: dict[str, Any] = {"task_key": f"t{i}", "run_id": 10 + i, "status": status}
            if i == done:
                task["start_time"] = int((NOW - last_elapsed) * 1000)
            out.append(task)
        return out

    early = _run(1, "RUNNING", 450, tasks=chain(1, 50))  # two tasks left: only a failure can end it now
    late = _run(1, "RUNNING", 450, tasks=chain(2, 190))  # the last task is near its usual end
    assert model is not None
    assert run_hazard(model, early, NOW, known) == pytest.approx(model.failure_hazard(450))
    assert run_hazard(model, late, NOW, known) > run_hazard(model, late, NOW)  # type: ignore[operator]
    assert run_hazard(None, late, NOW, known) is None  # cold start
    skewed = _run(1, "RUNNING", -3600)
    assert run_hazard(model, skewed, NOW) is None  # a start in the future: no place in time


def test_modes_bound_the_interval() -> None:
    policy = PollPolicy()
    rng = random.Random(0)
    run = _run(1, "RUNNING", 100)

    def interval(hazard: float | None, mode: str, runs: int = 1) -> float:
        return next_interval(policy, run, hazard, polls=1, mode=mode, rng=rng, runs=runs)

    top = 1 + policy.jitter
    assert interval(None, "foreground") == pytest.approx(policy.initial, rel=policy.jitter)  # cold: backoff
    assert interval(None, "background") == pytest.approx(policy.initial, rel=policy.jitter)
    for hazard in (0.0, 1e-9, 1e-4, 1e-2, 10.0):
        assert policy.min_interval / top <= interval(hazard, "foreground") <= policy.foreground_max * top
        assert policy.background_min / top <= interval(hazard, "background") <= policy.cap
    assert interval(1e-6, "foreground") > interval(1e-2, "foreground")  # denser where ends are likely
    assert interval(1e-2, "background", runs=10) < interval(1e-2, "background")  # a batch may go faster
    assert interval(1e-2, "background", runs=10) >= policy.batch_min / top
    with pytest.raises(ValueError, match="mode"):
        PollPolicy(mode="sometimes")


def test_a_starting_run_in_the_foreground_is_polled_at_least_every_min_interval() -> None:
    """Issue 16: the panel said "Pending" for 30 s after the workspace said RUNNING."""
    policy, rng = PollPolicy(), random.Random(0)
    starting = _run(1, "PENDING", 0)
    gaps = [next_interval(policy, starting, None, polls=n, mode="foreground", rng=rng) for n in range(1, 40)]
    assert max(gaps) <= policy.min_interval * (1 + policy.jitter)
    assert gaps[0] == pytest.approx(policy.initial, rel=policy.jitter)  # still starts with the backoff
    background = [next_interval(policy, starting, None, polls=n, mode="background", rng=rng) for n in (1, 9)]
    assert background[1] > policy.min_interval * 2  # nobody looking: plain backoff


class _Hub(Outcomes):
    watching = 1


class _Listener:
    def __init__(self, visible: bool = True, mode: str | None = None) -> None:
        self.visible = visible
        if mode is not None:
            self.mode = mode


def test_the_mode_is_chosen_automatically_and_can_be_pinned() -> None:
    from jobs_widgets.core.watched import WatchedJob, WatchedRun

    class Source:
        poll_mode: str | None = None

    source = Source()
    group = WatchedJob(key=KEY, source=source)  # type: ignore[arg-type]
    sub = WatchedRun(key=("me", 5), group=group)
    hub, auto = _Hub(), PollPolicy()
    sub.listeners = [_Listener()]  # type: ignore[list-item]
    assert hub._mode(sub, auto) == "foreground"  # a visible panel or a blocking wait
    sub.listeners = [_Listener(visible=False)]  # type: ignore[list-item]
    assert hub._mode(sub, auto) == "background"  # nobody looking
    source.poll_mode = "foreground"  # pinned on the handle
    assert hub._mode(sub, auto) == "foreground"
    sub.listeners = [_Listener(mode="background")]  # type: ignore[list-item]
    assert hub._mode(sub, auto) == "background"  # pinned on the listener wins
    source.poll_mode = None
    sub.listeners = [_Listener()]  # type: ignore[list-item]
    assert hub._mode(sub, PollPolicy(mode="background")) == "background"  # %config / JobConfig.poll
    busy = _Hub()
    busy.watching = 50
    assert busy._mode(sub, auto) == "background"  # many runs


def test_a_retry_after_longer_than_the_cap_is_said() -> None:
    exc = JobsApiError("rate limited", status_code=429, retry_after=120)
    health = degraded(exc, 1, 120, NOW, cap=30)
    assert health.next_retry_at == NOW + 120
    assert "asked to wait 120 s, longer than the usual 30 s" in health.message
    assert "asked" not in degraded(exc, 1, 10, NOW, cap=30).message
