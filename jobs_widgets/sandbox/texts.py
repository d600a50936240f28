"""Realistic text for simulated runs: notebook results, logs, errors and tracebacks."""

from __future__ import annotations

import json
import random
from typing import Any


def task_path(settings: dict[str, Any], task_key: str) -> str:
    """The file a task runs (for tracebacks): its notebook, script or main class."""
    value = settings.get("notebook_path") or settings.get("python_file") or settings.get("main_class_name")
    return str(value or f"/Workspace/jobs/{task_key}.py")


def error_trace(task_key: str, kind: str, error: str, path: str) -> str:
    """A Databricks-looking traceback ending in ``error``."""
    exc_name = error.split(":", 1)[0]
    if kind == "spark_jar":
        return (
            f"{error}\n"
            f"\tat com.example.{task_key.title().replace('_', '')}.run(Main.scala:88)\n"
            "\tat scala.collection.immutable.List.foreach(List.scala:431)\n"
            "\tat org.apache.spark.sql.Dataset.foreach(Dataset.scala:3351)\n"
            "\tat com.databricks.backend.daemon.driver.DriverLocal.run(DriverLocal.scala:213)\n"
        )
    return (
        "---------------------------------------------------------------------------\n"
        f"{exc_name:<42}Traceback (most recent call last)\n"
        f"File {path}:41, in main()\n"
        "     39 def main():\n"
        "     40     df = spark.read.table(source_table)\n"
        "---> 41     cleaned = clean(df)\n"
        "     42     cleaned.write.mode('overwrite').saveAsTable(target_table)\n"
        "\n"
        f"File {path}:17, in clean(df)\n"
        "     15 def clean(df):\n"
        "---> 17     return df.withColumn('qty', parse_qty(df['qty']))\n"
        "\n"
        f"{error}\n"
    )


#: Task kinds whose runs/get-output has no output field of their own (RunOutput names none).
_NO_OUTPUT = frozenset({"pipeline", "condition", "for_each"})


def success_output(kind: str, task_key: str, rng: random.Random, warehouse: str) -> dict[str, Any]:
    """The ``runs/get-output`` body fields of a task that succeeded."""
    if kind in _NO_OUTPUT:
        return {}
    rows = rng.randint(1_000, 5_000_000)
    if kind == "notebook":
        result = json.dumps({"task": task_key, "rows": rows, "status": "ok"})
        return {"notebook_output": {"result": result, "truncated": False}}
    if kind == "sql":
        return {
            "sql_output": {
                "query_output": {
                    "warehouse_id": warehouse,
                    "query_text": "SELECT count(*) FROM " + task_key,  # noqa: S608 - display text, never run
                    "output_link": None,
                }
            }
        }
    if kind == "dbt":
        return {"dbt_output": {"artifacts_headers": {}, "artifacts_link": None}}
    if kind == "run_job":
        return {"run_job_output": {"run_id": rng.randint(10_000_000, 99_999_999)}}
    logs = f"Starting {task_key}\nRead {rows} rows\nWrote {rows} rows\nDone.\n"
    return {"logs": logs, "logs_truncated": False}


def failure_output(kind: str, task_key: str, error: str, trace: str) -> dict[str, Any]:
    """The ``runs/get-output`` body fields of a task that failed."""
    out: dict[str, Any] = {"error": error, "error_trace": trace}
    if kind not in {"notebook", "sql", "dbt", *_NO_OUTPUT}:
        out["logs"] = f"Starting {task_key}\n{error}\n"
        out["logs_truncated"] = False
    return out


def queued(limit: int) -> str:
    """Why a run waits in the queue (``status.queue_details.message``, ``state.queue_reason``)."""
    return f"Queued due to reaching maximum concurrent runs of {limit}."


def skipped(limit: int) -> str:
    """Why a run of a job without a queue was skipped."""
    return f"Skipping this run because the limit of {limit} maximum concurrent runs has been reached."
