"""The sandbox sends the newer run model (conditions, run_if, timeouts) as a workspace does.

Through the real databricks-sdk against the sandbox, into the core's models and the
honest labels of ``_present.outcome``: a condition gate's skipped branch is EXCLUDED
(not a failure), ``run_if`` makes UPSTREAM_FAILED and SUCCESS_WITH_FAILURES ordinary
results, a timed-out run ends TIMEDOUT with termination code CANCELED (as
``TerminationCodeCode`` documents a maximum duration being exceeded), and a queued run
says why it waits.
"""

from __future__ import annotations

import json

from jobs_widgets._present import outcome
from jobs_widgets.core import Jobs, details
from jobs_widgets.core.states import RunState
from jobs_widgets.sandbox import Sandbox
from jobs_widgets.sandbox.specs import Behaviour, JobSpec, TaskSpec

CALM = Behaviour(median_s=60.0, fail_rate=0.0)


def _gate_job() -> JobSpec:
    tasks = [
        TaskSpec("check", "condition", {"op": "GREATER_THAN", "left": "5", "right": "3"}, weight=0.01),
        TaskSpec(
            "full", "notebook", {"notebook_path": "/w/full"}, depends_on=["check"], outcomes={"check": "true"}
        ),
        TaskSpec(
            "quick",
            "notebook",
            {"notebook_path": "/w/quick"},
            depends_on=["check"],
            outcomes={"check": "false"},
        ),
        TaskSpec("after_quick", "notebook", {"notebook_path": "/w/aq"}, depends_on=["quick"]),
    ]
    return JobSpec(name="gate", key="gate", tasks=tasks, behaviour=CALM, history_runs=0)


def _run_if_job() -> JobSpec:
    tasks = [
        TaskSpec("load", "notebook", {"notebook_path": "/w/load"}),
        TaskSpec("publish", "notebook", {"notebook_path": "/w/publish"}, depends_on=["load"]),
        TaskSpec(
            "alert",
            "notebook",
            {"notebook_path": "/w/alert"},
            depends_on=["load"],
            run_if="AT_LEAST_ONE_FAILED",
        ),
        TaskSpec(
            "cleanup",
            "notebook",
            {"notebook_path": "/w/cleanup"},
            depends_on=["publish", "alert"],
            run_if="ALL_DONE",
        ),
    ]
    return JobSpec(name="runif", key="runif", tasks=tasks, behaviour=CALM, history_runs=0)


def _jobs(sb: Sandbox, *keys: str) -> Jobs:
    return Jobs.from_env(config={k: {} for k in keys}, client=sb.client(), env=sb.env(), clock=sb.clock)


def test_a_condition_gate_excludes_the_branch_it_did_not_take() -> None:
    with Sandbox(manual=True, jobs=[_gate_job()]) as sb, _jobs(sb, "gate") as jobs:
        gate = jobs("gate")
        run_id = gate.run_now()
        sb.advance(3600)
        run = gate.get_run(run_id)
        tasks = {t.task_key: t for t in run.tasks}
        assert tasks["check"].condition_outcome == "true"
        assert tasks["full"].state is RunState.SUCCEEDED
        for skipped in ("quick", "after_quick"):
            assert tasks[skipped].result_state == "EXCLUDED"
            assert outcome(tasks[skipped]) == ("Excluded", "neutral")
        assert run.result_state == "SUCCESS" and run.state is RunState.SUCCEEDED and not run.failed_tasks


def test_run_if_gives_upstream_failed_and_success_with_failures() -> None:
    with Sandbox(manual=True, jobs=[_run_if_job()]) as sb, _jobs(sb, "runif") as jobs:
        sb.engine.script("runif", outcome="FAILED", fail_task="load")
        job = jobs("runif")
        run_id = job.run_now()
        sb.advance(3600)
        run = job.get_run(run_id)
        tasks = {t.task_key: t for t in run.tasks}
        assert tasks["load"].state is RunState.FAILED
        assert tasks["publish"].result_state == "UPSTREAM_FAILED"
        assert outcome(tasks["publish"]) == ("Upstream failed", "neutral")
        assert tasks["alert"].state is RunState.SUCCEEDED and tasks["cleanup"].state is RunState.SUCCEEDED
        assert run.result_state == "SUCCESS_WITH_FAILURES"
        assert run.termination_code == "SUCCESS_WITH_FAILURES"
        assert outcome(run) == ("Succeeded with failures", "warn")


def test_a_run_that_times_out_is_timed_out_with_code_canceled() -> None:
    spec = JobSpec(
        name="slow",
        key="slow",
        tasks=[TaskSpec("work", "notebook", {"notebook_path": "/w/work"})],
        behaviour=CALM,
        timeout_seconds=30,
        history_runs=0,
    )
    with Sandbox(manual=True, jobs=[spec]) as sb, _jobs(sb, "slow") as jobs:
        sb.engine.script("slow", duration_s=600.0)
        job = jobs("slow")
        run_id = job.run_now()
        sb.advance(3600)
        run = job.get_run(run_id)
        assert run.result_state == "TIMEDOUT" and run.termination_code == "CANCELED"
        assert run.state is RunState.TIMED_OUT
        assert outcome(run)[0] == "Timed out"


def test_a_queued_run_says_why_it_waits() -> None:
    spec = JobSpec(
        name="one",
        key="one",
        tasks=[TaskSpec("work", "notebook", {"notebook_path": "/w/w"})],
        behaviour=CALM,
        history_runs=0,
        max_concurrent_runs=1,
    )
    with Sandbox(manual=True, jobs=[spec]) as sb, _jobs(sb, "one") as jobs:
        job = jobs("one")
        job.run_now()
        second = job.run_now()
        run = job.get_run(second)
        assert run.state is RunState.QUEUED
        assert run.queue_reason == "Queued due to reaching maximum concurrent runs of 1."
        assert run.raw["status"]["queue_details"]["code"] == "MAX_CONCURRENT_RUNS_REACHED"


def _fan_job(count: int = 150) -> JobSpec:
    nested = {"task_key": "score_one", "notebook_task": {"notebook_path": "/w/score"}}
    fan = {"inputs": json.dumps([f"shard-{i}" for i in range(count)]), "concurrency": 10, "task": nested}
    tasks = [
        TaskSpec("list", "notebook", {"notebook_path": "/w/list"}),
        TaskSpec("score", "for_each", fan, depends_on=["list"], weight=3.0),
    ]
    return JobSpec(name="fan", key="fan", tasks=tasks, behaviour=CALM, history_runs=0)


def test_a_for_each_of_150_iterations_comes_back_whole_with_its_stats() -> None:
    with Sandbox(manual=True, jobs=[_fan_job()]) as sb, _jobs(sb, "fan") as jobs:
        sb.engine.script("fan", outcome="FAILED", fail_task="score", duration_s=300.0, fail_after_s=150.0)
        fan = jobs("fan")
        run_id = fan.run_now()
        sb.advance(3600)
        run = fan.get_run(run_id)
        score = run.task("score")
        assert score is not None and score.state is RunState.FAILED
        assert dict(score.iterations) == {
            "active": 0,
            "completed": 150,
            "failed": 1,
            "scheduled": 0,
            "succeeded": 149,
            "total": 150,
        }
        sb.clear_requests()
        its = details.iterations(fan, run_id, "score")
        assert len(its) == 150 and len({i.run_id for i in its}) == 150
        assert [i.task_key for i in its] == ["score_one"] * 150
        assert sum(1 for i in its if i.state is RunState.FAILED) == 1
        pages = [
            r for r in sb.requests if r.endpoint == "runs/get" and r.params.get("run_id") == str(score.run_id)
        ]
        assert [p.params.get("page_token") for p in pages] == [None, "1"]


def test_a_for_each_shows_its_progress_while_it_runs() -> None:
    with Sandbox(manual=True, jobs=[_fan_job(40)]) as sb, _jobs(sb, "fan") as jobs:
        sb.engine.script("fan", duration_s=400.0, queue_s=0.0, setup_s=0.0)
        fan = jobs("fan")
        run_id = fan.run_now()
        sb.advance(100 + 150)  # list takes 100 s; the 4 waves of 10 take 75 s each: 2 done, 1 running
        score = fan.get_run(run_id).task("score")
        assert score is not None and score.state is RunState.RUNNING
        assert score.iterations["completed"] == 20 and score.iterations["active"] == 10
        assert score.iterations["scheduled"] == 10 and score.iterations["total"] == 40


def _parent_and_child() -> list[JobSpec]:
    child = JobSpec(
        name="child",
        key="child",
        tasks=[TaskSpec("refresh", "pipeline", {"pipeline_id": "0a1b2c3d-pipe", "full_refresh": False})],
        behaviour=CALM,
        history_runs=0,
    )
    parent = JobSpec(
        name="parent",
        key="parent",
        tasks=[
            TaskSpec("prepare", "notebook", {"notebook_path": "/w/prepare"}),
            TaskSpec("run_child", "run_job", {"job_id": 1001}, depends_on=["prepare"], starts_child=True),
        ],
        behaviour=CALM,
        history_runs=0,
    )
    return [child, parent]


def test_a_run_job_task_starts_a_real_child_run_and_ends_with_it() -> None:
    with Sandbox(manual=True, jobs=_parent_and_child()) as sb, _jobs(sb, "parent", "child") as jobs:
        assert sb.jobs["child"] == 1001
        parent = jobs("parent")
        run_id = parent.run_now()
        sb.advance(3600)
        run = parent.get_run(run_id)
        task = run.task("run_child")
        assert task is not None and task.child_job_id == 1001 and task.state is RunState.SUCCEEDED
        (link,) = details.child_runs(parent, run_id)
        assert link.job_key == "child" and link.run_id is not None
        child = jobs("child").get_run(link.run_id)
        assert child.trigger == "RUN_JOB_TASK" and child.state is RunState.SUCCEEDED
        assert child.start_ms is not None and task.start_ms is not None and child.start_ms >= task.start_ms
        assert child.end_ms is not None and task.end_ms is not None and task.end_ms >= child.end_ms
        pipeline = child.task("refresh")
        assert pipeline is not None and pipeline.task_type == "pipeline"
        (raw,) = child.raw["tasks"]
        assert raw["pipeline_task"] == {"pipeline_id": "0a1b2c3d-pipe", "full_refresh": False}


def test_a_failed_child_run_fails_the_run_job_task() -> None:
    with Sandbox(manual=True, jobs=_parent_and_child()) as sb, _jobs(sb, "parent", "child") as jobs:
        sb.engine.script("child", outcome="FAILED", fail_task="refresh")
        parent = jobs("parent")
        run_id = parent.run_now()
        sb.advance(3600)
        run = parent.get_run(run_id)
        assert run.state is RunState.FAILED and [t.task_key for t in run.failed_tasks] == ["run_child"]


def test_canceling_the_parent_cancels_its_child_run() -> None:
    with Sandbox(manual=True, jobs=_parent_and_child()) as sb, _jobs(sb, "parent", "child") as jobs:
        sb.engine.script("parent", queue_s=0.0, setup_s=0.0, duration_s=100.0)
        sb.engine.script("child", queue_s=0.0, setup_s=0.0, duration_s=600.0)
        parent = jobs("parent")
        run_id = parent.run_now()
        sb.advance(120)  # prepare took 50 s; the child runs for 600
        (link,) = details.child_runs(parent, run_id)
        assert link.run_id is not None
        assert jobs("child").get_run(link.run_id).state is RunState.RUNNING
        parent.cancel_run(run_id)
        sb.advance(600)
        assert parent.get_run(run_id).state is RunState.CANCELED
        assert jobs("child").get_run(link.run_id).state is RunState.CANCELED
