"""Job configs for the demo workspace: how each demo job takes parameters.

``etl`` gets a pydantic params model (so magics coerce ``-p`` strings and the panel
shows a typed form); ``nightly`` sends job-level parameters; the others map plain
parameters by their task type; ``dbt`` takes none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from jobs_widgets.core.config import JobConfig, TaskType


def _today_as_default(schema: dict[str, Any]) -> None:
    """Show the default ``default_factory`` gives (JSON schema leaves it out): today's date."""
    schema["default"] = dt.date.today().isoformat()  # noqa: DTZ011 - the date the model would use


class EtlParams(BaseModel):
    """Parameters of the demo ``etl`` job (sent as notebook parameters)."""

    date: dt.date = Field(
        default_factory=dt.date.today,
        description="Business date to load",
        json_schema_extra=_today_as_default,
    )
    env: Literal["dev", "staging", "prod"] = Field("dev", description="Target environment")
    full_refresh: bool = Field(False, description="Rebuild the table from scratch")
    max_rows: int | None = Field(None, ge=1, description="Stop after this many rows (for testing)")


_RUN_MODEL_AUTO = ("fanout", "guarded", "refresh", "parent", "wide", "slow", "single")


def demo_configs() -> dict[str, JobConfig]:
    """The demo jobs' configs, keyed by job key."""
    return {
        "etl": JobConfig(task_type=TaskType.NOTEBOOK, params=EtlParams),
        "train": JobConfig(task_type=TaskType.PYTHON_WHEEL),
        "report": JobConfig(task_type=TaskType.SQL),
        "nightly": JobConfig(task_type=TaskType.JOB),
        "flaky": JobConfig(task_type=TaskType.PYTHON_SCRIPT),
        "jar": JobConfig(task_type=TaskType.SPARK_JAR),
        "dbt": JobConfig(task_type=TaskType.DBT),
        # the run-model jobs (Sandbox(run_model=True)): job parameters where they have them
        "gate": JobConfig(task_type=TaskType.JOB),
        **{key: JobConfig(task_type=TaskType.AUTO) for key in _RUN_MODEL_AUTO},
    }
