"""The jobs board's feed: one runs/list per job per tick, nothing while hidden, ended by whoever owns it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from jobs_widgets.core import Jobs, JobsClosedError, RunState, UnknownJobError
from jobs_widgets.core.jobfeed import JobFeed, schedule_of, summarize
from jobs_widgets.core.models import Run
from jobs_widgets.core.runtime import Runtime
from jobs_widgets.sandbox import Sandbox

DEADLINE_S = 10.0


@pytest.fixture
def live() -> Iterator[Sandbox]:
    with Sandbox(seed=5) as sb:
        yield sb


@pytest.fixture
def jobs(live: Sandbox) -> Iterator[Jobs]:
    runtime = Runtime()
    registry = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    yield registry
    registry.close()
    runtime.close()


class Changes:
    """Counts on_change calls; waits (against the real sandbox, with a deadline) for the next ones."""

    def __init__(self) -> None:
        self.count = 0
        self._cond = threading.Condition()

    def __call__(self) -> None:
        with self._cond:
            self.count += 1
            self._cond.notify_all()

    def wait_for(self, count: int) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.count >= count, DEADLINE_S)


def _run(state: RunState, duration_s: float | None, run_id: int = 1) -> Run:
    return Run(run_id=run_id, job_id=7, state=state, duration_s=duration_s)


def test_summarize_counts_finished_runs_and_uses_successes_for_durations() -> None:
    runs = [
        _run(RunState.RUNNING, None),
        _run(RunState.SUCCEEDED, 60),
        _run(RunState.SUCCEEDED, 120),
        _run(RunState.FAILED, 5),
        _run(RunState.SUCCEEDED, 90),
    ]
    stats = summarize(runs)
    assert (stats.finished, stats.succeeded) == (4, 3)
    assert stats.success_rate == pytest.approx(0.75)
    assert stats.median_s == 90
    assert stats.eta is not None and stats.eta.p50 == pytest.approx(90)
    empty = summarize([_run(RunState.RUNNING, None)])
    assert empty.success_rate is None and empty.median_s is None and empty.eta is None


def test_schedule_is_read_as_the_workspace_says_it() -> None:
    settings = {
        "schedule": {
            "quartz_cron_expression": "0 0 2 * * ?",
            "timezone_id": "Europe/Paris",
            "pause_status": "PAUSED",
        }
    }
    assert schedule_of(settings) == {"cron": "0 0 2 * * ?", "timezone": "Europe/Paris", "paused": True}
    assert schedule_of({}) is None
    assert schedule_of({"schedule": {"quartz_cron_expression": 5}}) is None


def test_one_request_per_job_per_tick_and_none_while_hidden(live: Sandbox, jobs: Jobs) -> None:
    changes = Changes()
    keys = jobs.keys()
    feed = JobFeed(jobs, keys, on_change=changes, interval=0.2)
    feed.start()
    assert changes.wait_for(3)
    views = {v.key: v for v in feed.views()}
    assert set(views) == set(keys)
    assert all(v.loaded and v.name and v.runs for v in views.values())  # the demo jobs have histories
    feed.set_visible(False)
    time.sleep(0.3)  # a tick in flight finishes
    live.clear_requests()
    ticks = feed.ticks
    time.sleep(1.0)  # five intervals, hidden
    assert live.requests == [] and feed.ticks == ticks
    feed.set_visible(True)
    assert changes.wait_for(changes.count + 2)
    feed.close()
    done = feed.ticks - ticks
    endpoints = {r.endpoint for r in live.requests}
    lists = [r for r in live.requests if "runs/list" in r.endpoint]
    assert done >= 2 and endpoints == {lists[0].endpoint}  # settings were read once, before
    assert done * len(keys) <= len(lists) <= (done + 1) * len(keys)  # one per job per tick


def test_retry_after_pauses_every_job(live: Sandbox, jobs: Jobs) -> None:
    """A 429 with Retry-After: 30 stops the look at that job, and no job is asked again for 30 s."""
    changes = Changes()
    feed = JobFeed(jobs, jobs.keys(), on_change=changes, interval=0.2)
    feed.start()
    assert changes.wait_for(1)
    live.faults.add("runs/list:429:1:30")
    live.clear_requests()
    feed.refresh()
    deadline = time.monotonic() + DEADLINE_S
    while not feed.views()[0].error and time.monotonic() < deadline:
        time.sleep(0.01)
    feed.refresh()  # a Refresh (or a Run) while held sends nothing either
    time.sleep(1.0)  # five intervals
    assert [r.status for r in live.requests] == [429]
    assert feed.views()[0].error and all(not v.error for v in feed.views()[1:])
    feed.close()


def test_a_run_shows_up_after_refresh(jobs: Jobs) -> None:
    changes = Changes()
    feed = JobFeed(jobs, ["etl"], on_change=changes, interval=3600)
    feed.start()
    assert changes.wait_for(1)
    run_id = jobs("etl").run_now()
    feed.refresh()
    assert changes.wait_for(2)
    latest = feed.views()[0].runs[0]
    assert latest.run_id == run_id and latest.state.is_active
    feed.close()


def test_unknown_key_and_bad_interval_are_refused_in_one_line(jobs: Jobs) -> None:
    with pytest.raises(UnknownJobError):
        JobFeed(jobs, ["nope"], on_change=lambda: None)
    with pytest.raises(ValueError, match="interval must be a positive"):
        JobFeed(jobs, ["etl"], on_change=lambda: None, interval=0)
    with pytest.raises(ValueError, match=r"window must be 1-25 runs \(one runs/list page per job\), got 26"):
        JobFeed(jobs, ["etl"], on_change=lambda: None, window=26)
    assert JobFeed(jobs, ["etl", "ETL", "report"], on_change=lambda: None).keys == ["etl", "report"]


@pytest.mark.parametrize("owner", ["feed", "registry", "runtime"])
def test_the_feed_ends_with_its_owner_and_leaves_no_thread(live: Sandbox, owner: str) -> None:
    baseline = {t.ident for t in threading.enumerate()}
    runtime = Runtime()
    registry = Jobs.from_env(config=live.config(), env=live.env(), runtime=runtime)
    changes = Changes()
    feed = JobFeed(registry, ["etl", "report"], on_change=changes, interval=3600)
    feed.start()
    assert changes.wait_for(1)
    {"feed": feed.close, "registry": registry.close, "runtime": runtime.close}[owner]()
    assert feed.closed
    assert isinstance(feed._ended, JobsClosedError)
    runtime.close()
    live.clear_requests()
    feed.refresh()
    feed.set_visible(True)
    deadline = time.monotonic() + DEADLINE_S
    while (
        left := [
            t
            for t in threading.enumerate()
            if t.ident not in baseline and t.is_alive() and not t.name.startswith("jobs-widgets-sandbox")
        ]
    ) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert left == []
    assert live.requests == []
