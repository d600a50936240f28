"""Demo jobs for the newer Lakeflow run model (issue 15), beside the seven classic ones.

``Sandbox(run_model=True)`` adds them (their ``DATABRICKS_JOB_<KEY>`` come with
:meth:`Sandbox.env`); the default sandbox keeps its seven jobs, whose counts the tour,
the board and their tests know. Ids are fixed (2001...) so the run-job task can name
its child job whatever came before.

========= ==== ==================================================================
key       id   story
========= ==== ==================================================================
fanout    2001 a for-each over 150 shards, 10 at a time (tasks and iterations page)
gate      2002 a condition on the ``mode`` parameter: the branch not taken is EXCLUDED
guarded   2003 run_if: a failure makes UPSTREAM_FAILED and SUCCESS_WITH_FAILURES
refresh   2004 a pipeline task (a Lakeflow declarative pipeline update)
parent    2005 a run-job task that starts a real run of ``refresh``
wide      2006 120 tasks (runs/get pages them at 100)
slow      2007 always hits its 60 s timeout: TIMEDOUT, termination code CANCELED
single    2008 one run at a time: a second run is QUEUED, and says why
========= ==== ==================================================================
"""

from __future__ import annotations

import json

from jobs_widgets.sandbox.specs import Behaviour, JobSpec, TaskSpec

#: Demo-sized phases, as the classic demo jobs have.
_QUICK = {"queue_s": (1.0, 2.0), "setup_s": (3.0, 6.0), "cleanup_s": (1.0, 2.0)}


def _b(median_s: float, fail_rate: float = 0.0) -> Behaviour:
    return Behaviour(median_s=median_s, sigma=0.2, fail_rate=fail_rate, **_QUICK)  # type: ignore[arg-type]


def _nb(key: str, *, depends_on: list[str] | None = None, **extra: object) -> TaskSpec:
    return TaskSpec(key, "notebook", {"notebook_path": f"/Workspace/demo/{key}"}, depends_on or [], **extra)  # type: ignore[arg-type]


def run_model_jobs() -> list[JobSpec]:
    """Fresh specs of the run-model demo jobs (see the module's table)."""
    shards = json.dumps([f"shard-{i:03d}" for i in range(150)])
    score = {"task_key": "score_shard", "notebook_task": {"notebook_path": "/Workspace/demo/score_shard"}}
    condition = {"op": "EQUAL_TO", "left": "{{job.parameters.mode}}", "right": "full"}
    wide = [_nb("t000")] + [_nb(f"t{i:03d}", depends_on=["t000"]) for i in range(1, 120)]
    return [
        JobSpec(
            key="fanout",
            job_id=2001,
            name="score-shards",
            description="Score every shard with a for-each task, ten at a time.",
            tasks=[
                _nb("list_shards", weight=0.2),
                TaskSpec(
                    "score",
                    "for_each",
                    {"inputs": shards, "concurrency": 10, "task": score},
                    ["list_shards"],
                    weight=3.0,
                ),
            ],
            behaviour=_b(60.0, fail_rate=0.2),
            history_runs=4,
        ),
        JobSpec(
            key="gate",
            job_id=2002,
            name="rebuild-or-merge",
            description="A condition on the mode parameter picks a full rebuild or a merge.",
            parameters=[{"name": "mode", "default": "incremental"}],
            tasks=[
                TaskSpec("is_full", "condition", condition, weight=0.01),
                _nb("full_rebuild", depends_on=["is_full"], outcomes={"is_full": "true"}),
                _nb("merge", depends_on=["is_full"], outcomes={"is_full": "false"}),
                _nb("vacuum", depends_on=["merge"], weight=0.3),
            ],
            behaviour=_b(30.0),
            history_runs=4,
        ),
        JobSpec(
            key="guarded",
            job_id=2003,
            name="load-with-fallback",
            description="run_if rules: an alert when the load fails, cleanup whatever happened.",
            tasks=[
                _nb("load"),
                _nb("publish", depends_on=["load"]),
                _nb("alert_on_failure", depends_on=["load"], run_if="AT_LEAST_ONE_FAILED", weight=0.2),
                _nb("cleanup", depends_on=["publish", "alert_on_failure"], run_if="ALL_DONE", weight=0.2),
            ],
            behaviour=_b(30.0, fail_rate=0.3),
            history_runs=6,
        ),
        JobSpec(
            key="refresh",
            job_id=2004,
            name="refresh-pipeline",
            description="Runs an update of a Lakeflow declarative pipeline.",
            tasks=[TaskSpec("update", "pipeline", {"pipeline_id": "6c1f2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"})],
            behaviour=_b(20.0),
            history_runs=4,
        ),
        JobSpec(
            key="parent",
            job_id=2005,
            name="prepare-then-refresh",
            description="Prepares data, then runs the refresh-pipeline job as a child run.",
            tasks=[
                _nb("prepare"),
                TaskSpec("run_refresh", "run_job", {"job_id": 2004}, ["prepare"], starts_child=True),
            ],
            behaviour=_b(20.0),
            history_runs=3,
        ),
        JobSpec(
            key="wide", job_id=2006, name="wide-fanout-dag", tasks=wide, behaviour=_b(30.0), history_runs=2
        ),
        JobSpec(
            key="slow",
            job_id=2007,
            name="slow-export",
            description="Takes longer than its 60-second timeout, every time.",
            tasks=[_nb("export")],
            timeout_seconds=60,
            behaviour=_b(120.0),
            history_runs=3,
        ),
        JobSpec(
            key="single",
            job_id=2008,
            name="one-at-a-time",
            description="One run at a time: a second run waits in the queue.",
            tasks=[_nb("work")],
            max_concurrent_runs=1,
            behaviour=_b(90.0),
            history_runs=3,
        ),
    ]
