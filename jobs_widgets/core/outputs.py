"""What runs produced: :class:`TaskOutput` per task and :class:`RunOutput` per run.

Mapped from ``runs/get-output`` answers (the SDK's ``RunOutput.as_dict()`` or raw
JSON); kept apart from the run model so each module reads on one screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from jobs_widgets.core.apivalues import EMPTY as _EMPTY
from jobs_widgets.core.apivalues import as_str as _str
from jobs_widgets.core.states import RunState

__all__ = ["RunOutput", "TaskOutput"]


@dataclass(frozen=True, slots=True)
class TaskOutput:
    """The output of one task run (``runs/get-output`` of its task run id)."""

    task_key: str
    run_id: int | None
    state: RunState
    notebook_result: str | None = None
    notebook_truncated: bool = False
    error: str | None = None
    error_trace: str | None = None
    logs: str | None = None
    logs_truncated: bool = False
    info: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)

    @classmethod
    def from_api(
        cls, output: Mapping[str, Any], *, task_key: str, run_id: int | None, state: RunState
    ) -> TaskOutput:
        notebook = output.get("notebook_output") or {}
        extra = {
            k: output[k]
            for k in ("sql_output", "dbt_output", "run_job_output", "dashboard_output")
            if output.get(k) is not None
        }
        return cls(
            task_key=task_key,
            run_id=run_id,
            state=state,
            notebook_result=_str(notebook.get("result")),
            notebook_truncated=bool(notebook.get("truncated")),
            error=_str(output.get("error")),
            error_trace=_str(output.get("error_trace")),
            logs=_str(output.get("logs")),
            logs_truncated=bool(output.get("logs_truncated")),
            info=_str(output.get("info")),
            extra=MappingProxyType(extra),
        )


@dataclass(frozen=True, slots=True)
class RunOutput:
    """The outputs of a run: one :class:`TaskOutput` per task (multi-task runs too)."""

    run_id: int
    state: RunState
    tasks: tuple[TaskOutput, ...]

    def task(self, key: str) -> TaskOutput | None:
        return next((t for t in self.tasks if t.task_key == key), None)

    @property
    def error(self) -> str | None:
        """The first error among the tasks, in DAG order."""
        return next((t.error for t in self.tasks if t.error), None)

    @property
    def error_trace(self) -> str | None:
        return next((t.error_trace for t in self.tasks if t.error_trace), None)

    @property
    def notebook_result(self) -> str | None:
        """The notebook result of a single-task run (or the last task that returned one)."""
        results = [t.notebook_result for t in self.tasks if t.notebook_result is not None]
        return results[-1] if results else None

    @property
    def logs(self) -> str | None:
        logs = [t.logs for t in self.tasks if t.logs]
        return "\n".join(logs) if logs else None
