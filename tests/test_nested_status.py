"""%jobs status names a run's nested runs: failed for-each iterations and child runs, each
with a way to open it (issue 15), through the real SDK against the run-model sandbox."""

from __future__ import annotations

import re

from jobs_widgets._magic_commands import _nested
from jobs_widgets._render import RunSummary
from jobs_widgets.core import Jobs
from jobs_widgets.sandbox import Sandbox

from tests.core.test_sandbox_run_model import _fan_job, _parent_and_child


def _jobs(sb: Sandbox, *keys: str) -> Jobs:
    return Jobs.from_env(config={k: {} for k in keys}, client=sb.client(), env=sb.env(), clock=sb.clock)


def test_failed_iterations_are_listed_with_their_pages() -> None:
    with Sandbox(manual=True, jobs=[_fan_job()]) as sb, _jobs(sb, "fan") as jobs:
        sb.engine.script("fan", outcome="FAILED", fail_task="score", duration_s=300.0, fail_after_s=150.0)
        fan = jobs("fan")
        run_id = fan.run_now()
        sb.advance(3600)
        run = fan.get_run(run_id)
        summary = RunSummary("fan", run, nested=_nested(fan, run))
        text = repr(summary)
        assert "  score: 1 of 150 iterations failed" in text
        (line,) = [ln for ln in text.splitlines() if ln.startswith("    iteration ")]
        assert re.fullmatch(
            r"    iteration \d+ \(run \d+\): http://127\.0\.0\.1:\d+/jobs/\d+/runs/\d+", line
        ), line
        assert "iterations failed" in summary._repr_html_() and "<a href=" in summary._repr_html_()


def test_a_child_run_of_a_configured_job_is_followed_by_its_magic() -> None:
    with Sandbox(manual=True, jobs=_parent_and_child()) as sb, _jobs(sb, "parent", "child") as jobs:
        parent = jobs("parent")
        run_id = parent.run_now()
        sb.advance(3600)
        run = parent.get_run(run_id)
        text = repr(RunSummary("parent", run, nested=_nested(parent, run)))
        (line,) = [ln for ln in text.splitlines() if "run_child started" in ln]
        child_id = int(re.search(r"child run (\d+)", line).group(1))  # type: ignore[union-attr]
        assert line == f"  run_child started child run {child_id}: %jobs status child {child_id}"
        assert jobs("child").get_run(child_id).trigger == "RUN_JOB_TASK"


def test_a_child_run_of_an_unconfigured_job_is_shown_but_not_touchable() -> None:
    with Sandbox(manual=True, jobs=_parent_and_child()) as sb:
        env = {k: v for k, v in sb.env().items() if k != "DATABRICKS_JOB_CHILD"}
        jobs = Jobs.from_env(config={"parent": {}}, client=sb.client(), env=env, clock=sb.clock)
        assert "child" not in jobs
        parent = jobs("parent")
        run_id = parent.run_now()
        sb.advance(3600)
        run = parent.get_run(run_id)
        text = repr(RunSummary("parent", run, nested=_nested(parent, run)))
        (line,) = [ln for ln in text.splitlines() if "run_child started" in ln]
        assert "of job 1001 (not configured here): http://127.0.0.1:" in line
        assert "%jobs" not in line
        jobs.close()


def test_a_run_without_nested_tasks_costs_no_request() -> None:
    with Sandbox(manual=True) as sb, _jobs(sb, "etl") as jobs:
        etl = jobs("etl")
        run_id = etl.run_now()
        sb.advance(3600)
        run = etl.get_run(run_id)
        sb.clear_requests()
        assert _nested(etl, run) is None
        assert sb.requests == []


def test_the_panel_lists_failed_iterations_and_child_runs_under_their_tasks() -> None:
    """The same facts in JobPanel: under the for-each task its failed iterations with their
    pages; under the run-job task the child run, with the magic that opens its panel."""
    from jobs_widgets.widget import JobPanel

    from tests.test_widget import until

    with Sandbox(manual=True, jobs=[_fan_job()]) as sb, _jobs(sb, "fan") as jobs:
        sb.engine.script("fan", outcome="FAILED", fail_task="score", duration_s=300.0, fail_after_s=150.0)
        fan = jobs("fan")
        run_id = fan.run_now()
        sb.advance(3600)
        panel = JobPanel(fan, run_id=run_id)
        until(lambda: bool(panel.run and panel.run["nested"].get("score")))
        (entry,) = panel.run["nested"]["score"]
        assert entry["text"] == "1 of 150 iterations failed"
        (item,) = entry["items"]
        assert re.fullmatch(r"iteration \d+ \(run \d+\)", item["text"]) and item["url"].startswith(
            "http://127.0.0.1:"
        )
        panel.close()

    with Sandbox(manual=True, jobs=_parent_and_child()) as sb, _jobs(sb, "parent", "child") as jobs:
        parent = jobs("parent")
        run_id = parent.run_now()
        sb.advance(3600)
        panel = JobPanel(parent, run_id=run_id)
        until(lambda: bool(panel.run and panel.run["nested"].get("run_child")))
        (child,) = panel.run["nested"]["run_child"]
        child_id = int(re.search(r"child run (\d+)", child["text"]).group(1))  # type: ignore[union-attr]
        assert child["magic"] == f"%jobs panel child {child_id}"
        assert child["url"].endswith(f"/runs/{child_id}")
        panel.close()
