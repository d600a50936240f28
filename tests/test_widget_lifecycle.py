"""JobPanel never locks itself: every pending command ends, and panels on one run share one subscription."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from jobs_widgets.core.follower import PENDING_LIMIT_S
from jobs_widgets.widget import JobPanel

from tests.core.conftest import World, virtual_world
from tests.test_widget import send, until

LONG_S = 10**6


@pytest.fixture
def still() -> Iterator[World]:
    """Virtual time that moves only when the test says so."""
    with virtual_world(paused=True) as world:
        yield world


def usable(panel: JobPanel) -> None:
    """Refresh goes through (no "wait for ... to finish"), and Run/Repair are not blocked by a pending command."""
    assert panel.pending == ""
    send(panel, {"kind": "refresh"})
    until(lambda: panel.pending == "")
    assert "wait for" not in panel.error


def running_panel(world: World) -> tuple[JobPanel, int, int]:
    """A panel on a running report run, and an older (finished) run of the same job."""
    report = world.jobs("report")
    older = report.last_run()
    assert older is not None
    world.sb.engine.script("report", duration_s=LONG_S)
    run_id = report.run_now()
    world.clock.advance(30)
    panel = JobPanel(report, run_id=run_id)
    until(lambda: panel.run is not None and panel.run["run_id"] == run_id)
    return panel, run_id, older.run_id


def test_cancel_then_another_run_unlocks_the_panel(still: World) -> None:
    """Finding 2: Cancel, then pick another run before the cancel lands: pending stayed "cancel" for good."""
    panel, run_id, older = running_panel(still)
    send(panel, {"kind": "cancel"})
    until(lambda: panel.pending == "cancel" and "run " + str(run_id) in panel.pending_detail)
    send(panel, {"kind": "select", "run_id": older})
    until(lambda: panel.run["run_id"] == older)
    usable(panel)
    send(panel, {"kind": "select", "run_id": run_id})  # and back
    until(lambda: panel.run["run_id"] == run_id)
    usable(panel)
    panel.close()


def test_a_cancel_that_never_lands_ends_after_the_bound(
    still: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel, run_id, _ = running_panel(still)
    # The workspace accepts the cancel but the run goes on (a stuck cluster, say).
    monkeypatch.setattr(panel.handle, "cancel_run", lambda run_id: None)
    send(panel, {"kind": "cancel"})
    until(lambda: panel.pending == "cancel")
    panel.follower.wait_idle()
    still.driver.resume()
    until(lambda: panel.pending == "", timeout=20)
    assert f"Cancel of run {run_id} not confirmed after {PENDING_LIMIT_S:g} s" in panel.error
    assert panel.run["state"] == "RUNNING"
    usable(panel)
    panel.close()


def test_a_failing_command_unlocks_the_panel(still: World) -> None:
    panel, _, _ = running_panel(still)
    other = still.jobs("etl").last_run()
    assert other is not None
    send(panel, {"kind": "cancel", "run_id": other.run_id})  # another job's run: refused
    until(lambda: panel.pending == "" and "not a run of job" in panel.error)
    usable(panel)
    still.sb.faults.add("run-now:403")
    send(panel, {"kind": "run"})
    until(lambda: panel.pending == "" and "403" in panel.error)
    still.sb.faults.clear()
    usable(panel)
    panel.close()


def test_a_watch_error_unlocks_the_panel(still: World) -> None:
    panel, _, _ = running_panel(still)
    send(panel, {"kind": "cancel"})
    until(lambda: panel.pending == "cancel")
    panel.follower.wait_idle()
    still.sb.faults.add("runs/get:403")  # not transient: the watch ends with it
    still.driver.resume()
    until(lambda: panel.pending == "" and panel.error != "", timeout=20)
    still.sb.faults.clear()
    usable(panel)
    panel.close()


def test_a_closed_runtime_shows_stopped_and_leaves_buttons_usable(still: World) -> None:
    panel, _, _ = running_panel(still)
    send(panel, {"kind": "cancel"})
    until(lambda: panel.pending == "cancel")
    still.hub.shutdown()
    until(lambda: panel.health.get("status") == "stopped")
    assert panel.pending == ""
    assert "runtime was closed" in panel.health["message"]
    panel.close()


def test_the_newest_active_run_is_shown(still: World) -> None:
    """Finding 9: "the active run" of a panel was the oldest active one."""
    report = still.jobs("report")
    still.sb.engine.script("report", duration_s=LONG_S)
    first = report.run_now()
    still.sb.engine.script("report", duration_s=LONG_S)
    second = report.run_now()
    still.clock.advance(30)
    assert {r.run_id for r in report.list_runs(5, active_only=True)} >= {first, second}
    panel = JobPanel(report)
    until(lambda: panel.run is not None)
    assert panel.run["run_id"] == max(first, second)
    panel.close()


def _runs_get(world: World, run_id: int) -> int:
    """runs/get of ``run_id`` in the 60 s from the first one (the subscription's request stream)."""
    times = [
        r.at for r in world.sb.requests if r.endpoint == "runs/get" and r.params.get("run_id") == str(run_id)
    ]
    return sum(1 for t in times if t - times[0] < 60) if times else 0


def _watch_for(world: World, viewers: int, with_wait: bool) -> tuple[int, int]:
    report = world.jobs("report")
    world.sb.engine.script("report", duration_s=LONG_S)
    run_id = report.run_now()
    world.sb.clear_requests()
    start = world.clock.monotonic()
    panels = [JobPanel(report, run_id=run_id) for _ in range(viewers)]
    wait: Any = report.watch(run_id) if with_wait else None
    world.driver.resume()
    until(lambda: world.hub.watching == 1 and world.hub.listeners == viewers + int(with_wait))
    listeners = world.hub.listeners
    until(lambda: world.clock.monotonic() - start >= 90)
    world.driver.pause()
    count = _runs_get(world, run_id)
    for panel in panels:
        panel.close()
    if wait is not None:
        wait.close()
    return count, listeners


def test_two_panels_and_a_wait_on_one_run_are_one_subscription() -> None:
    """Finding 4: two panels on one run made two subscriptions and two clients."""
    with virtual_world(paused=True, seed=5) as alone:
        one, _ = _watch_for(alone, 1, with_wait=False)
    with virtual_world(paused=True, seed=5) as shared:
        three, listeners = _watch_for(shared, 2, with_wait=True)
    assert listeners == 3
    assert three == one, (one, three)


def test_panels_by_key_share_the_session_and_the_subscription(still: World) -> None:
    still.sb.engine.script("report", duration_s=LONG_S)
    run_id = still.jobs("report").run_now()
    from jobs_widgets.core import Jobs

    again = Jobs.from_env(config=still.sb.config(), env=still.sb.env(), hub=still.hub)
    first, second = JobPanel(still.jobs("report"), run_id=run_id), JobPanel(again("report"), run_id=run_id)
    assert first.handle.session is second.handle.session  # one client, cache and run memory
    until(lambda: still.hub.watching == 1 and still.hub.listeners == 2)
    first.close()
    second.close()


def test_a_success_clears_the_error_a_failure_left(still: World) -> None:
    """Row: after a 403, restoring access and calling panel.refresh() left the stale 403 message."""
    panel = JobPanel(still.jobs("etl"))
    panel.wait_idle()
    still.sb.faults.add("*:403")
    panel.refresh()
    until(lambda: "403" in panel.error)
    still.sb.faults.clear()
    panel.refresh()
    until(lambda: panel.error == "" and panel.health.get("status") == "ok")
    panel.close()


def test_closed_panels_are_freed(still: World) -> None:
    """Row: 500 panels created and closed all stayed alive (a per-instance callback held by a class-level object)."""
    import gc
    import weakref

    report = still.jobs("report")
    refs = []
    for _ in range(100):
        panel = JobPanel(report)
        panel.wait_idle()
        refs.append(weakref.ref(panel))
        panel.close()
        del panel
    deadline = time.monotonic() + 5
    while any(r() is not None for r in refs) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.02)
    assert sum(r() is not None for r in refs) == 0


def test_any_string_the_api_returns_renders(still: World) -> None:
    """Row: a lone surrogate in a parameter value made the panel's state unserialisable."""
    import json

    job = still.jobs("nightly")
    run_id = job.run_now({"env": "\ud800bad"})
    panel = JobPanel(job, run_id=run_id)
    until(lambda: panel.run is not None)
    text = json.dumps(panel.snapshot(), ensure_ascii=False).encode("utf-8")  # what the comm sends
    assert "\ufffdbad".encode() in text
    panel.close()


def test_a_panel_never_gives_up_on_transient_errors(still: World) -> None:
    """The soak found panels that gave up loading after six transient failures in a row and never followed."""
    still.sb.faults.add("runs/list:503")
    panel = JobPanel(still.jobs("etl"))
    still.driver.resume()
    until(
        lambda: panel.health.get("failures", 0) >= 8 or panel.health.get("status") == "degraded", timeout=20
    )
    until(lambda: sum(1 for r in still.sb.requests if r.endpoint == "runs/list") >= 9, timeout=20)
    assert panel.health["status"] == "degraded"
    still.sb.faults.clear()
    until(lambda: panel.health.get("status") == "ok" and panel.run is not None, timeout=20)
    assert panel.error == ""
    panel.close()


def test_a_panel_can_pin_its_polling_mode(still: World) -> None:
    still.sb.engine.script("report", duration_s=LONG_S)
    run_id = still.jobs("report").run_now()
    panel = JobPanel(still.jobs("report"), run_id=run_id, poll_mode="background")
    until(lambda: still.hub.watching == 1)
    sub = next(iter(still.hub._subs.values()))
    assert still.hub._mode(sub, still.hub.policy) == "background"
    panel.close()
    with pytest.raises(ValueError, match="mode must be"):
        JobPanel(still.jobs("report"), poll_mode="turbo")
