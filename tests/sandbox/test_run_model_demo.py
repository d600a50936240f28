"""The run-model demo jobs (``Sandbox(run_model=True)``) tell their stories through the real SDK.

Each story of :mod:`jobs_widgets.sandbox.demo_runmodel` is driven as a notebook user
would (configured from ``Sandbox.env()`` and ``Sandbox.config()``, run, watched) and read
back through the core's models and honest labels.
"""

from __future__ import annotations

import pytest
from jobs_widgets._present import outcome
from jobs_widgets.core import Jobs, details
from jobs_widgets.core.states import RunState
from jobs_widgets.sandbox import Sandbox
from jobs_widgets.sandbox.specs import JobSpec, TaskSpec

RUN_MODEL = {
    "fanout": 2001,
    "gate": 2002,
    "guarded": 2003,
    "refresh": 2004,
    "parent": 2005,
    "wide": 2006,
    "slow": 2007,
    "single": 2008,
}


def _jobs(sb: Sandbox) -> Jobs:
    return Jobs.from_env(config=sb.config(), client=sb.client(), env=sb.env(), clock=sb.clock)


def test_the_run_model_jobs_come_beside_the_seven_demo_jobs() -> None:
    with Sandbox(manual=True) as plain:
        assert len(plain.jobs) == 7  # the default sandbox keeps its seven jobs
    with Sandbox(manual=True, run_model=True) as sb, _jobs(sb) as jobs:
        env = sb.env()
        for key, job_id in RUN_MODEL.items():
            assert env[f"DATABRICKS_JOB_{key.upper()}"] == str(job_id)
            assert jobs(key).job_id == job_id
        assert set(sb.config()) == set(sb.jobs) and len(sb.jobs) == 15
        for key in RUN_MODEL:  # every invented history run reads back with a known state
            for run in jobs(key).list_runs(limit=5):
                assert run.state is not RunState.UNKNOWN and run.state.is_terminal, (key, run)


def test_each_run_model_story_as_a_user_sees_it() -> None:
    with Sandbox(manual=True, run_model=True) as sb, _jobs(sb) as jobs:
        sb.engine.script("guarded", outcome="FAILED", fail_task="load")
        sb.engine.script("fanout", outcome="SUCCESS")
        started = {
            key: jobs(key).run_now() for key in ("fanout", "gate", "guarded", "parent", "wide", "slow")
        }
        full = jobs("gate").run_now({"mode": "full"})
        first, second = jobs("single").run_now(), jobs("single").run_now()
        queued = jobs("single").get_run(second)
        assert queued.state is RunState.QUEUED
        assert queued.queue_reason == "Queued due to reaching maximum concurrent runs of 1."
        sb.advance(3600)
        runs = {key: jobs(key).get_run(run_id) for key, run_id in started.items()}

        fan = runs["fanout"].task("score")
        assert fan is not None and fan.iterations["total"] == fan.iterations["succeeded"] == 150
        assert len(details.iterations(jobs("fanout"), started["fanout"], "score")) == 150

        gate = {t.task_key: t.result_state for t in runs["gate"].tasks}
        assert gate == {
            "is_full": "SUCCESS",
            "full_rebuild": "EXCLUDED",
            "merge": "SUCCESS",
            "vacuum": "SUCCESS",
        }
        gate_full = {t.task_key: t.result_state for t in jobs("gate").get_run(full).tasks}
        assert (
            gate_full["full_rebuild"] == "SUCCESS" and gate_full["merge"] == gate_full["vacuum"] == "EXCLUDED"
        )

        guarded = {t.task_key: t.result_state for t in runs["guarded"].tasks}
        assert guarded == {
            "load": "FAILED",
            "publish": "UPSTREAM_FAILED",
            "alert_on_failure": "SUCCESS",
            "cleanup": "SUCCESS",
        }
        assert outcome(runs["guarded"]) == ("Succeeded with failures", "warn")

        (child,) = details.child_runs(jobs("parent"), started["parent"])
        assert child.job_key == "refresh" and child.run_id is not None
        refresh = jobs("refresh").get_run(child.run_id)
        assert refresh.trigger == "RUN_JOB_TASK" and refresh.state is RunState.SUCCEEDED
        assert [t.task_type for t in refresh.tasks] == ["pipeline"]

        assert len(runs["wide"].tasks) == 120 and runs["wide"].state is RunState.SUCCEEDED
        slow = runs["slow"]
        assert slow.state is RunState.TIMED_OUT and slow.termination_code == "CANCELED"
        assert outcome(slow)[0] == "Timed out"
        assert jobs("single").get_run(first).state is RunState.SUCCEEDED
        assert jobs("single").get_run(second).state is RunState.SUCCEEDED


def test_bad_for_each_and_condition_settings_fail_when_the_job_is_made() -> None:
    def job(task: TaskSpec) -> JobSpec:
        return JobSpec(name="bad", tasks=[task])

    nested = {"task_key": "one", "notebook_task": {"notebook_path": "/w"}}
    with pytest.raises(ValueError, match="inputs must be a JSON array"):
        job(TaskSpec("fan", "for_each", {"inputs": "not json", "task": nested}))
    with pytest.raises(ValueError, match="exactly one task type"):
        job(TaskSpec("fan", "for_each", {"inputs": "[1]", "task": {"task_key": "one"}}))
    with pytest.raises(ValueError, match="needs op"):
        job(TaskSpec("gate", "condition", {"op": "LIKE", "left": "a", "right": "b"}))
    with pytest.raises(ValueError, match="unknown run_if"):
        TaskSpec("t", "notebook", run_if="SOMETIMES")
    with pytest.raises(ValueError, match="must be 'true' or 'false'"):
        TaskSpec("t", "notebook", depends_on=["gate"], outcomes={"gate": "yes"})
