"""The demo workspace: seven jobs covering every task type the Jobs API runs.

Durations are demo-sized (tens of seconds at ``speed=1``) so a notebook tour shows
whole runs; benchmarks add their own jobs with realistic durations instead.

======== ============== =========================================================
key      task type      story
======== ============== =========================================================
etl      notebook       3-task DAG ingest -> transform -> publish; fails ~8%
train    python_wheel   one wheel task; fails ~25%, and always with learning_rate > 1
report   sql            one SQL query task, quick and reliable
nightly  job            job-level parameters; notebook + script + run_job tasks
flaky    python_script  retries: attempts fail half the time, then succeed
jar      spark_jar      one JAR task
dbt      dbt            one dbt task (takes no parameters)
======== ============== =========================================================
"""

from __future__ import annotations

from jobs_widgets.sandbox.specs import Behaviour, JobSpec, TaskSpec

WAREHOUSE = "a1b2c3d4e5f60708"


def demo_jobs() -> list[JobSpec]:
    """Fresh specs of the demo jobs (keys: etl, train, report, nightly, flaky, jar, dbt)."""
    quick = {"queue_s": (1.0, 2.0), "setup_s": (3.0, 6.0), "cleanup_s": (1.0, 2.0)}
    return [
        JobSpec(
            key="etl",
            name="orders-etl",
            description="Ingest, clean and publish the orders table.",
            tasks=[
                TaskSpec(
                    "ingest",
                    "notebook",
                    {
                        "notebook_path": "/Workspace/etl/ingest",
                        "base_parameters": {"env": "dev"},
                        "source": "WORKSPACE",
                    },
                    weight=1.0,
                ),
                TaskSpec(
                    "transform",
                    "notebook",
                    {"notebook_path": "/Workspace/etl/transform", "source": "WORKSPACE"},
                    depends_on=["ingest"],
                    weight=2.0,
                ),
                TaskSpec(
                    "publish",
                    "notebook",
                    {"notebook_path": "/Workspace/etl/publish", "source": "WORKSPACE"},
                    depends_on=["transform"],
                    weight=0.5,
                ),
            ],
            tags={"team": "data"},
            max_concurrent_runs=2,
            behaviour=Behaviour(median_s=40.0, sigma=0.25, fail_rate=0.08, **quick),  # type: ignore[arg-type]
        ),
        JobSpec(
            key="train",
            name="churn-model-training",
            fails_above={
                "learning_rate": (
                    1.0,
                    "ConvergenceError: loss diverged to inf at epoch 2 (learning_rate too high)",
                )
            },
            tasks=[
                TaskSpec(
                    "train_model",
                    "python_wheel",
                    {
                        "package_name": "churn_model",
                        "entry_point": "train",
                        "named_parameters": {"epochs": "10"},
                    },
                )
            ],
            behaviour=Behaviour(
                median_s=60.0,
                sigma=0.4,
                fail_rate=0.25,
                errors=(
                    ("ConvergenceError: loss did not improve for 5 epochs (last 0.6931)", "ConvergenceError"),
                ),
                **quick,  # type: ignore[arg-type]
            ),
        ),
        JobSpec(
            key="report",
            name="weekly-revenue-report",
            tasks=[
                TaskSpec(
                    "revenue_query",
                    "sql",
                    {
                        "warehouse_id": WAREHOUSE,
                        "query": {"query_id": "q-revenue"},
                        "parameters": {"region": "emea"},
                    },
                )
            ],
            behaviour=Behaviour(median_s=15.0, sigma=0.2, fail_rate=0.02, **quick),  # type: ignore[arg-type]
        ),
        JobSpec(
            key="nightly",
            name="nightly-refresh",
            parameters=[
                {"name": "run_date", "default": "{{job.start_time.iso_date}}"},
                {"name": "env", "default": "prod"},
                {"name": "full_refresh", "default": "false"},
            ],
            tasks=[
                TaskSpec(
                    "extract",
                    "notebook",
                    {"notebook_path": "/Workspace/nightly/extract", "source": "WORKSPACE"},
                ),
                TaskSpec(
                    "load",
                    "python_script",
                    {"python_file": "/Workspace/nightly/load.py", "parameters": ["--mode", "merge"]},
                    depends_on=["extract"],
                ),
                TaskSpec("refresh_report", "run_job", {"job_id": 1003}, depends_on=["load"], weight=0.3),
            ],
            behaviour=Behaviour(median_s=45.0, sigma=0.3, fail_rate=0.05, **quick),  # type: ignore[arg-type]
        ),
        JobSpec(
            key="flaky",
            name="flaky-api-sync",
            tasks=[
                TaskSpec(
                    "sync",
                    "python_script",
                    {"python_file": "/Workspace/sync/api_sync.py", "parameters": []},
                    max_retries=2,
                    min_retry_interval_s=5.0,
                )
            ],
            behaviour=Behaviour(median_s=20.0, sigma=0.3, fail_rate=0.05, flaky_rate=0.5, **quick),  # type: ignore[arg-type]
        ),
        JobSpec(
            key="jar",
            name="spark-aggregation",
            tasks=[
                TaskSpec(
                    "aggregate",
                    "spark_jar",
                    {"main_class_name": "com.example.Aggregate", "parameters": ["--day", "today"]},
                )
            ],
            behaviour=Behaviour(median_s=30.0, sigma=0.3, fail_rate=0.05, **quick),  # type: ignore[arg-type]
        ),
        JobSpec(
            key="dbt",
            name="dbt-models",
            tasks=[
                TaskSpec(
                    "dbt_run",
                    "dbt",
                    {
                        "commands": ["dbt deps", "dbt run"],
                        "warehouse_id": WAREHOUSE,
                        "schema": "analytics",
                        "source": "GIT",
                    },
                )
            ],
            behaviour=Behaviour(median_s=25.0, sigma=0.25, fail_rate=0.05, **quick),  # type: ignore[arg-type]
        ),
    ]
