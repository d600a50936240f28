"""The scoped job core: pure Python, no IPython or widgets (see docs/architecture.md).

>>> from jobs_widgets.core import Jobs
>>> with Jobs.from_env() as jobs:        # DATABRICKS_JOB_<KEY>=<id> variables
...     for update in jobs("etl").run_and_wait({"date": "2026-01-31"}):
...         print(update.state)

``__all__`` is the public contract; everything else (the hub, the runtime, ETA and
parameter-mapping helpers) lives in submodules and may change. databricks-sdk is
imported on first use only (``jobs_widgets.core.sdk``).
"""

from __future__ import annotations

from jobs_widgets.core.clock import Clock, ManualClock, ScaledClock, SystemClock
from jobs_widgets.core.config import JobConfig, TaskType
from jobs_widgets.core.errors import (
    JobNotConfiguredError,
    JobsApiError,
    JobsClosedError,
    JobsError,
    ParamsError,
    RunScopeError,
    UnknownJobError,
    WaitTimeoutError,
)
from jobs_widgets.core.handle import JobHandle
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
from jobs_widgets.core.policy import PollPolicy
from jobs_widgets.core.states import RunState
from jobs_widgets.core.waiting import AsyncRunWatch, RunWatch

__all__ = [
    "AsyncRunWatch",
    "Clock",
    "JobConfig",
    "JobHandle",
    "JobInfo",
    "JobNotConfiguredError",
    "JobParameter",
    "Jobs",
    "JobsApiError",
    "JobsClosedError",
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
]
