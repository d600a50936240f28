"""Repairs as a workspace takes them, through the real databricks-sdk client.

A second repair must name the run's latest repair (``latest_repair_id``), which is in
``repair_history`` only when ``runs/get`` asks ``include_history=true``; and a repair
that does not send the run's job parameters re-runs tasks with the job's defaults.
"""

from __future__ import annotations

import json

from jobs_widgets.core import Jobs
from jobs_widgets.sandbox import Sandbox


def _jobs(sb: Sandbox) -> Jobs:
    return Jobs.from_env(config=sb.config(), client=sb.client(), env=sb.env(), clock=sb.clock)


def _repairs(sb: Sandbox) -> list[dict[str, object]]:
    return [dict(r.params) for r in sb.requests if r.endpoint == "runs/repair"]


def test_a_second_repair_names_the_latest_one(manual_sandbox: Sandbox) -> None:
    sb = manual_sandbox
    with _jobs(sb) as jobs:
        train = jobs("train")
        run_id = train.run_now({"learning_rate": 5})  # fails, and fails again when repaired
        sb.advance(7200)
        assert train.get_run(run_id).state.is_failure
        first = train.repair_run(run_id)
        sb.advance(7200)
        assert train.get_run(run_id).state.is_failure
        second = train.repair_run(run_id)  # refused by a workspace without latest_repair_id
        assert second != first
        sent = _repairs(sb)
        assert "latest_repair_id" not in sent[0] and sent[1]["latest_repair_id"] == first


def test_a_repair_keeps_the_runs_job_parameters(manual_sandbox: Sandbox) -> None:
    sb = manual_sandbox
    with _jobs(sb) as jobs:
        nightly = jobs("nightly")
        sb.engine.script("nightly", outcome="FAILED", fail_task="load")
        run_id = nightly.run_now({"env": "staging", "full_refresh": "true"})
        sb.advance(7200)
        assert nightly.get_run(run_id).state.is_failure
        nightly.repair_run(run_id)
        logged = _repairs(sb)[-1]["job_parameters"]
        sent = json.loads(logged) if isinstance(logged, str) else logged
        assert sent["env"] == "staging" and sent["full_refresh"] == "true"
