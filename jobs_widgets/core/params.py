"""Run parameters: validate them with the job's model, then map them onto run-now fields.

The mapping is the AppKit plugin's table (reference section 3.3) plus ``job`` for
job-level ``job_parameters``, made strict where AppKit silently sends garbage:

* values in flat mappings must be strings, numbers or booleans: objects and arrays are
  rejected (AppKit would send ``"[object Object]"``), and so is ``None`` (AppKit sends
  the string ``"null"``);
* booleans become ``"true"``/``"false"`` (as in AppKit and JSON), numbers their decimal
  text, dates ISO-8601;
* ``python_script``/``spark_jar`` take one list, ``args``; other keys are rejected
  rather than dropped.

Two entry points differ in how much they trust their caller, as AppKit's do:
:func:`prepare_run_fields` is the Python API (no model, no task type: the mapping is
passed through as run-now fields), :func:`check_user_params` adds the rules for
user-typed input from magics and the panel (a plain mapping, at most 50 keys without
a model, and "this job does not accept parameters" when nothing says how to send them).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from jobs_widgets.core.config import JobConfig, TaskType
from jobs_widgets.core.errors import ParamsError, quote
from jobs_widgets.core.models import JobInfo, Run

__all__ = [
    "MAX_UNVALIDATED_PARAM_KEYS",
    "RUN_NOW_FIELDS",
    "check_user_params",
    "infer_task_type",
    "map_params",
    "params_schema",
    "prepare_run_fields",
    "run_job_parameters",
    "validate_params",
]

MAX_UNVALIDATED_PARAM_KEYS = 50

#: Fields a pass-through mapping may set on the run-now request (``job_id`` is ours).
RUN_NOW_FIELDS = frozenset(
    {
        "job_parameters",
        "notebook_params",
        "python_params",
        "python_named_params",
        "jar_params",
        "sql_params",
        "dbt_commands",
        "spark_submit_params",
        "pipeline_params",
        "queue",
        "only",
        "performance_target",
        "duration_target",
        "idempotency_token",
    }
)
_FLAT_FIELD = {
    TaskType.NOTEBOOK: "notebook_params",
    TaskType.PYTHON_WHEEL: "python_named_params",
    TaskType.SQL: "sql_params",
    TaskType.JOB: "job_parameters",
}
_ARGS_FIELD = {TaskType.PYTHON_SCRIPT: "python_params", TaskType.SPARK_JAR: "jar_params"}
_TASK_TYPES = {
    "notebook": TaskType.NOTEBOOK,
    "python_wheel": TaskType.PYTHON_WHEEL,
    "python_script": TaskType.PYTHON_SCRIPT,
    "spark_jar": TaskType.SPARK_JAR,
    "sql": TaskType.SQL,
    "dbt": TaskType.DBT,
}


def _text(key: str, value: Any) -> str:
    """One parameter value as the string the Jobs API expects."""
    if value is None:
        raise ParamsError(f"Parameter {quote(key)} is None; omit it or give it a value", key=key)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParamsError(f"Parameter {quote(key)} must be a finite number, got {value}", key=key)
        return repr(value)
    if isinstance(value, enum.Enum):
        return _text(key, value.value)
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        raise ParamsError(f"Parameter {quote(key)} must be a primitive value, got object", key=key)
    if isinstance(value, Sequence | set | frozenset):
        raise ParamsError(f"Parameter {quote(key)} must be a primitive value, got array", key=key)
    raise ParamsError(f"Parameter {quote(key)} has unsupported type {type(value).__name__}", key=key)


def _keys_are_names(params: Mapping[Any, Any]) -> None:
    for key in params:
        if not isinstance(key, str) or not key:
            raise ParamsError(f"Parameter names must be non-empty strings, got {quote(key)}", key=str(key))


def map_params(task_type: TaskType, params: Mapping[str, Any]) -> dict[str, Any]:
    """Map validated parameters onto run-now fields for ``task_type`` (not ``auto``)."""
    _keys_are_names(params)
    if task_type in _FLAT_FIELD:
        return {_FLAT_FIELD[task_type]: {k: _text(k, v) for k, v in params.items()}}
    if task_type in _ARGS_FIELD:
        extra = [k for k in params if k != "args"]
        if extra:
            raise ParamsError(
                f'{task_type.value} jobs take their parameters as "args": [...]; '
                f"unexpected parameter {quote(extra[0])}",
                key=extra[0],
            )
        args = params.get("args", [])
        if isinstance(args, str | bytes) or not isinstance(args, Sequence):
            raise ParamsError(f'Parameter "args" must be an array, got {type(args).__name__}', key="args")
        return {_ARGS_FIELD[task_type]: [_text(f"args[{i}]", v) for i, v in enumerate(args)]}
    if task_type is TaskType.DBT:
        if params:
            raise ParamsError("dbt tasks do not accept parameters", key=next(iter(params)))
        return {}
    raise ParamsError(f"Unknown task type: {task_type}")


def validate_params(model: type[BaseModel], params: Any, *, job_key: str) -> dict[str, Any]:
    """Validate (and coerce) ``params`` with ``model``; JSON-safe values, unset optionals dropped."""
    if params is not None and not isinstance(params, Mapping | BaseModel):
        raise ParamsError("params must be a plain object (a mapping of names to values)")
    try:
        if isinstance(params, model):
            instance = params
        elif isinstance(params, BaseModel):
            instance = model.model_validate(params.model_dump())
        else:
            instance = model.model_validate(dict(params or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or None
        where = f" {quote(loc)}" if loc else ""
        count = exc.error_count()
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise ParamsError(
            f"Parameter validation failed for job {quote(job_key)}:{where} {first.get('msg', 'invalid')}{more}",
            key=loc,
        ) from None
    return instance.model_dump(mode="json", exclude_none=True, by_alias=True)


def infer_task_type(job: JobInfo) -> TaskType | None:
    """``auto``: job parameters -> ``job``; else the task type all tasks share; else None."""
    if job.parameters:
        return TaskType.JOB
    types = {t.task_type for t in job.tasks}
    if len(types) == 1:
        only = types.pop()
        return _TASK_TYPES.get(only) if only is not None else None
    return None


def prepare_run_fields(
    config: JobConfig, params: Any, *, job_key: str, task_type: TaskType | None
) -> dict[str, Any]:
    """The run-now fields (without ``job_id``) for ``params`` under ``config``.

    ``task_type`` is the effective one (``auto`` already resolved; None: pass-through).
    """
    if params is not None and not isinstance(params, Mapping | BaseModel):
        raise ParamsError("params must be a plain object (a mapping of names to values)")
    if config.params is not None:
        values = validate_params(config.params, params, job_key=job_key)
    elif isinstance(params, BaseModel):
        values = params.model_dump(mode="json", exclude_none=True)
    else:
        values = dict(params or {})
    if task_type is not None:
        return map_params(task_type, values) if values else {}
    # No task type: a mapping of run-now fields, passed through (AppKit parity).
    fields = {k: v for k, v in values.items() if k != "job_id"}
    unknown = sorted(str(k) for k in fields if k not in RUN_NOW_FIELDS)
    if unknown:
        raise ParamsError(
            f"{quote(unknown[0])} is not a run-now field. Without a task type, params are sent as run-now fields "
            f"({', '.join(sorted(RUN_NOW_FIELDS))}); set JobConfig(task_type=...) to map plain parameters.",
            key=unknown[0],
        )
    return fields


def check_user_params(params: Any, config: JobConfig, *, job_key: str) -> dict[str, Any] | None:
    """Rules for parameters a person typed (magics, panel), before :func:`prepare_run_fields`."""
    if params is None:
        return None
    if not isinstance(params, Mapping):
        raise ParamsError("params must be a plain object (a mapping of names to values)")
    if not params:
        return None
    _keys_are_names(params)
    if config.params is not None:
        return dict(params)
    if config.task_type is None:
        raise ParamsError(
            f"This job does not accept parameters: job {quote(job_key)} has no params model and no task type "
            "(set JobConfig(task_type=...) or %config JobsMagics.default_task_type = 'auto')."
        )
    if len(params) > MAX_UNVALIDATED_PARAM_KEYS:
        raise ParamsError(
            f"Too many parameters ({len(params)}). Define a params model to accept more than "
            f"{MAX_UNVALIDATED_PARAM_KEYS}."
        )
    return dict(params)


def run_job_parameters(run: Run) -> dict[str, str]:
    """The job-level parameter values a run used (``job_parameters``: name, value or default)."""
    values: dict[str, str] = {}
    for item in run.raw.get("job_parameters") or []:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            value = item.get("value", item.get("default"))
            if value is not None:
                values[item["name"]] = str(value)
    return values


def params_schema(config: JobConfig, key: str, get_job: Callable[[], JobInfo]) -> dict[str, Any] | None:
    """A JSON Schema of a job's parameters, for forms (None: it takes none we can describe)."""
    if config.params is not None:
        return config.params.model_json_schema()
    if config.task_type not in (TaskType.JOB, TaskType.AUTO):
        return None
    job = get_job()
    if not job.parameters:
        return None
    return {
        "title": f"{job.name or key} parameters",
        "type": "object",
        "properties": {
            p.name: {"type": "string", "title": p.name, "default": p.default} for p in job.parameters
        },
    }
