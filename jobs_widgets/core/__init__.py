"""The scoped job core: pure Python, no IPython or widgets (see DESIGN.md section 3).

>>> from jobs_widgets.core import Jobs
>>> jobs = Jobs.from_env()            # DATABRICKS_JOB_<KEY>=<id> variables
>>> etl = jobs("etl")
>>> for update in etl.run_and_wait({"date": "2026-01-31"}):
...     print(update.state)

databricks-sdk is imported on first use only (``jobs_widgets.core.sdk``).
"""

from __future__ import annotations

from jobs_widgets.core.clock import Clock, ManualClock, ScaledClock, SystemClock
from jobs_widgets.core.config import JobConfig, TaskType
from jobs_widgets.core.errors import (
    JobNotConfiguredError,
    JobsApiError,
    JobsError,
    ParamsError,
    RunScopeError,
    UnknownJobError,
    WaitTimeoutError,
)
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.handle import JobHandle
from jobs_widgets.core.hub import Health, Hub, get_hub, shutdown_hub
from jobs_widgets.core.jobs import Jobs
from jobs_widgets.core.models import (
    JobInfo,
    JobParameter,
    Run,
    RunOutput,
    RunUpdate,
    TaskInfo,
    TaskOutput,
    TaskRun,
)
from jobs_widgets.core.params import map_params
from jobs_widgets.core.policy import PollPolicy
from jobs_widgets.core.states import RunState
from jobs_widgets.core.waiting import AsyncRunWatch, RunWatch

__all__ = [
    "AsyncRunWatch",
    "Clock",
    "Eta",
    "Health",
    "Hub",
    "JobConfig",
    "JobHandle",
    "JobInfo",
    "JobNotConfiguredError",
    "JobParameter",
    "Jobs",
    "JobsApiError",
    "JobsError",
    "ManualClock",
    "ParamsError",
    "PollPolicy",
    "Run",
    "RunOutput",
    "RunScopeError",
    "RunState",
    "RunUpdate",
    "RunWatch",
    "ScaledClock",
    "SystemClock",
    "TaskInfo",
    "TaskOutput",
    "TaskRun",
    "TaskType",
    "UnknownJobError",
    "WaitTimeoutError",
    "get_hub",
    "map_params",
    "shutdown_hub",
]
