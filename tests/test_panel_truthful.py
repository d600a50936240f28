"""A panel tells the truth from the first second (issue 16 points 2-4), through the real
databricks-sdk against the sandbox:

- a run known by its id (started here, by ``%jobs run``, or picked in the strip) is shown
  with its id and "State unknown" while the workspace does not answer for it — never
  "No runs yet", which invites a second run — and the Run button is held;
- a repair is timed from the repair's start (not the run's first start) and offers the
  tasks to run again, the failed ones and their dependents ticked;
- the recent-runs strip never shows a run that ended as still going.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from jobs_widgets._present import AWAITING_LABEL, IDLE_LABEL
from jobs_widgets.widget import JobPanel

from tests.core.conftest import World, virtual_world
from tests.test_widget import send, until

LONG_S = 10**6


@pytest.fixture
def still() -> Iterator[World]:
    with virtual_world(paused=True) as world:
        yield world


def _labels_seen(panel: JobPanel) -> list[str]:
    seen: list[str] = []
    panel.observe(lambda change: seen.append((change["new"] or {}).get("label", IDLE_LABEL)), names="run")
    return seen


def test_a_started_run_under_a_503_storm_shows_its_id_and_holds_run(still: World) -> None:
    etl = still.jobs("etl")
    still.sb.engine.script("etl", duration_s=LONG_S)
    run_id = etl.run_now()
    for endpoint in ("runs/get", "runs/list", "jobs/get"):
        still.sb.faults.add(f"{endpoint}:503")
    panel = JobPanel(etl, run_id=run_id)
    seen = _labels_seen(panel)
    until(lambda: panel.run is not None and panel.run["known"] is False)
    assert panel.run["run_id"] == run_id
    assert panel.run["label"] == AWAITING_LABEL and panel.run["state_message"]
    assert panel.health["status"] == "degraded"
    assert panel.eta is None or not panel.run["ticks"]
    still.driver.resume()  # retries at the policy's backoff, on virtual time
    until(lambda: sum(1 for r in still.sb.requests if r.endpoint == "runs/get") >= 3, timeout=20)
    assert panel.run["run_id"] == run_id and panel.run["known"] is False
    still.sb.faults.clear()
    until(lambda: panel.run["known"] is True and panel.run["label"] == "Running", timeout=20)
    assert panel.run["run_id"] == run_id
    assert IDLE_LABEL not in seen  # never "No runs yet" for a run that is going
    until(lambda: panel.health["status"] == "ok", timeout=20)
    panel.close()


def test_run_from_the_panel_under_a_storm_shows_the_new_run_id(still: World) -> None:
    etl = still.jobs("etl")
    still.sb.engine.script("etl", duration_s=LONG_S)
    panel = JobPanel(etl)
    until(lambda: panel.run is not None and panel.job["name"] is not None)
    before = {r.run_id for r in still.sb.engine.runs_of("etl")}
    still.sb.faults.add("runs/get:503")
    still.sb.faults.add("runs/list:503")
    send(panel, {"kind": "run", "params": {"date": "2024-05-01"}})
    until(lambda: len(still.sb.engine.runs_of("etl")) > len(before))
    (new,) = [r.run_id for r in still.sb.engine.runs_of("etl") if r.run_id not in before]
    until(lambda: panel.run["run_id"] == new and panel.run["known"] is False and panel.pending == "")
    assert panel.error == ""  # a transient error is retried, not reported as a failed Run
    still.sb.faults.clear()
    still.driver.resume()
    until(lambda: panel.run["known"] is True and panel.run["run_id"] == new, timeout=20)
    assert panel.history[0]["run_id"] == new
    panel.close()


def test_a_failing_pick_in_the_strip_shows_that_run_as_unknown_then_the_run(still: World) -> None:
    etl = still.jobs("etl")
    runs = etl.list_runs(3)
    panel = JobPanel(etl, run_id=runs[0].run_id)
    until(lambda: panel.run is not None and panel.run["run_id"] == runs[0].run_id and panel.run["known"])
    still.sb.faults.add("runs/get:503")
    send(panel, {"kind": "select", "run_id": runs[2].run_id})
    until(lambda: panel.run["run_id"] == runs[2].run_id and panel.run["known"] is False)
    still.sb.faults.clear()
    still.driver.resume()
    until(lambda: panel.run["known"] is True and panel.run["run_id"] == runs[2].run_id, timeout=20)
    panel.close()


def test_the_strip_never_shows_an_ended_run_as_going(still: World) -> None:
    """A list read from before the run's end (a cache, a slow replica) must not put the
    ended run back in the strip as still going."""
    from jobs_widgets.core import Jobs

    sb = still.sb
    jobs = Jobs.from_env(
        config=sb.config(),
        client=sb.client(instant_retries=True),
        env=sb.env(),
        hub=still.hub,
        clock=still.clock,
        cache_ttl=3600,  # reads stay cached for the whole test
    )
    report = jobs("report")
    sb.engine.script("report", duration_s=LONG_S)
    run_id = report.run_now()
    panel = JobPanel(report, run_id=run_id)
    until(lambda: panel.run is not None and panel.run["run_id"] == run_id and panel.run["known"])
    panel.wait_idle()
    until(lambda: any(h["run_id"] == run_id and not h["duration_text"] for h in panel.history))
    sb.client().jobs.cancel_run(run_id)  # ended behind the cache's back
    still.driver.resume()
    until(lambda: panel.run["is_terminal"], timeout=20)
    panel.wait_idle()
    entry = next(h for h in panel.history if h["run_id"] == run_id)
    assert entry["label"] == panel.run["label"] == "Canceled"
    panel.close()
    jobs.close()


def _failed_etl(world: World) -> tuple[JobPanel, int]:
    etl = world.jobs("etl")
    world.sb.engine.script("etl", outcome="FAILED", fail_task="transform")
    run_id = etl.run_now({"date": "2024-05-01"})
    world.clock.advance(7200)
    panel = JobPanel(etl, run_id=run_id)
    until(lambda: panel.run is not None and panel.run["run_id"] == run_id and panel.run["is_terminal"])
    return panel, run_id


def test_repair_offers_the_failed_task_and_its_dependents(still: World) -> None:
    panel, _ = _failed_etl(still)
    plan = panel.run["repair"]
    assert plan["tasks"] == ["ingest", "transform", "publish"]
    assert plan["default"] == ["transform", "publish"]
    panel.close()


def test_a_chosen_repair_is_sent_as_chosen_and_timed_from_its_start(still: World) -> None:
    panel, run_id = _failed_etl(still)
    first_start = panel.run["start_time"]
    still.sb.engine.script("etl", duration_s=LONG_S)
    send(panel, {"kind": "repair", "run_id": run_id, "tasks": ["transform"]})
    until(lambda: panel.pending == "" and not panel.run["is_terminal"], timeout=20)
    sent = [dict(r.params) for r in still.sb.requests if r.endpoint == "runs/repair"][-1]
    tasks = sent["rerun_tasks"]
    assert (json.loads(tasks) if isinstance(tasks, str) else tasks) == ["transform"]
    assert str(sent["rerun_dependent_tasks"]).lower() == "true"  # publish, after transform, runs again too
    run = panel.run
    assert run["repairing"] is True and run["since_time"] > first_start
    assert panel.eta is None  # the whole run's usual duration says nothing about a repair
    assert "h" not in run["duration_text"]  # seconds since the repair, not two hours since the start
    assert any(label == "Repaired" for label, _ in run["facts"])
    panel.close()


def test_a_repair_of_an_unknown_task_is_refused_in_one_line_and_nothing_is_sent(still: World) -> None:
    panel, run_id = _failed_etl(still)
    send(panel, {"kind": "repair", "run_id": run_id, "tasks": ["nope"]})
    until(lambda: panel.error != "" and panel.pending == "")
    assert "nope" in panel.error and "ingest" in panel.error and "\n" not in panel.error
    assert not [r for r in still.sb.requests if r.endpoint == "runs/repair"]
    for bad in ("transform", [1], [""], ["x" * 101], {"a": 1}):
        send(panel, {"kind": "repair", "run_id": run_id, "tasks": bad})
        until(lambda: "tasks" in panel.error)
    assert not [r for r in still.sb.requests if r.endpoint == "runs/repair"]
    panel.close()
