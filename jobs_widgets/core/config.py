"""Job configuration and discovery from ``DATABRICKS_JOB_<KEY>`` variables.

The rules are the AppKit jobs plugin's (see docs/architecture.md, section 2), with its known gaps
fixed:

* a job id must be a positive integer written in digits; ``"42abc"``, ``"0"``, ``"-5"``
  or ``"1e3"`` make that job unusable with a message naming the variable and value
  (AppKit silently keeps ``parseInt`` garbage and treats 0 as unset);
* keys are matched case-insensitively (``ETL`` and ``etl`` are one job);
* a job's id is read from the variable that defined it (``DATABRICKS_JOB_DEFAULT`` and
  lower-case names work), and ``JobConfig.job_id`` can give it explicitly.

A bad variable does not break discovery of the others: the key stays listed with its
problem, and asking for that job raises :class:`JobNotConfiguredError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from jobs_widgets.core.errors import JobNotConfiguredError
from jobs_widgets.core.policy import PollPolicy

__all__ = ["ENV_PREFIX", "JobConfig", "JobEntry", "TaskType", "discover_jobs", "parse_job_id"]

ENV_PREFIX = "DATABRICKS_JOB_"
SINGLE_JOB_VAR = "DATABRICKS_JOB_ID"
MAX_JOB_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]+")


class TaskType(StrEnum):
    """How run parameters are sent (AppKit's six, plus ``job`` and ``auto``).

    ``job`` sends job-level ``job_parameters`` (the current Jobs API); ``auto`` decides
    once per handle from the job's settings: job parameters -> ``job``, else the type of
    its tasks when they all share one.
    """

    NOTEBOOK = "notebook"
    PYTHON_WHEEL = "python_wheel"
    PYTHON_SCRIPT = "python_script"
    SPARK_JAR = "spark_jar"
    SQL = "sql"
    DBT = "dbt"
    JOB = "job"
    AUTO = "auto"


class JobConfig(BaseModel):
    """Per-job configuration.

    Attributes
    ----------
    job_id:
        The job's id; when None it comes from ``DATABRICKS_JOB_<KEY>``.
    task_type:
        How parameters are mapped onto the run-now request (see :class:`TaskType`).
    params:
        A pydantic model class validating (and coercing) parameters before a run.
    wait_timeout:
        Default seconds to watch a run before giving up watching (None: until it ends).
    poll:
        Polling cadence for this job's runs (None: the hub's default).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    job_id: int | None = None
    task_type: TaskType | None = None
    params: type[BaseModel] | None = None
    wait_timeout: float | None = None
    poll: PollPolicy | None = None

    @field_validator("job_id", mode="before")
    @classmethod
    def _check_job_id(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool):
            raise ValueError("job_id must be a positive integer, not a boolean")
        if isinstance(value, str):
            job_id, problem = parse_job_id(value, "job_id")
            if problem:
                raise ValueError(problem)
            return job_id
        if isinstance(value, int):
            if not 0 < value <= MAX_JOB_ID:
                raise ValueError(f"job_id must be a positive integer, got {value}")
            return value
        raise ValueError(f"job_id must be a positive integer, got {type(value).__name__}")

    @field_validator("params", mode="before")
    @classmethod
    def _check_params(cls, value: Any) -> Any:
        if value is not None and not (isinstance(value, type) and issubclass(value, BaseModel)):
            raise ValueError("params must be a pydantic model class (a subclass of pydantic.BaseModel)")
        return value

    @field_validator("wait_timeout")
    @classmethod
    def _check_timeout(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError("wait_timeout must be positive (or None to watch until the run ends)")
        return value


def parse_job_id(value: str, variable: str) -> tuple[int | None, str | None]:
    """Parse a job id written in an environment variable: ``(id, None)`` or ``(None, problem)``."""
    # plain digits (no sign, spaces, decimals or junk), and few enough to convert: a
    # 5,000-digit value must not hit Python's int-conversion limit and break every job.
    if len(value) <= len(str(MAX_JOB_ID)) and _DIGITS.fullmatch(value):
        number = int(value)
        if 0 < number <= MAX_JOB_ID:
            return number, None
    shown = value if len(value) <= 40 else value[:37] + "..."
    return None, (
        f"{variable}={shown!r} is not a valid job id: expected a positive integer written in digits, "
        f"like {variable}=123456789"
    )


@dataclass(frozen=True)
class JobEntry:
    """A discovered job key: its config and resolved id, or why it has none."""

    key: str
    config: JobConfig
    job_id: int | None
    variable: str | None
    problem: str | None = None

    def require_id(self) -> int:
        if self.job_id is None:
            raise JobNotConfiguredError(
                self.key, self.problem or f'Job "{self.key}" has no job id', variable=self.variable
            )
        return self.job_id


def _as_config(value: JobConfig | Mapping[str, Any] | None) -> JobConfig:
    if value is None:
        return JobConfig()
    if isinstance(value, JobConfig):
        return value
    if isinstance(value, Mapping):
        return JobConfig(**dict(value))
    raise TypeError(f"job config must be a JobConfig or a mapping, got {type(value).__name__}")


def _var_for(key: str, env: Mapping[str, str]) -> str | None:
    """The variable holding an explicit key's id, matched case-insensitively."""
    wanted = [f"{ENV_PREFIX}{key.upper()}"]
    if key.lower() == "default":
        wanted.append(SINGLE_JOB_VAR)
    for name in wanted:
        if env.get(name, "").strip():
            return name
    lowered = {n.upper(): n for n in env if n.upper().startswith(ENV_PREFIX)}
    for name in wanted:
        actual = lowered.get(name.upper())
        if actual is not None and env[actual].strip():
            return actual
    return None


def _entry(key: str, config: JobConfig, variable: str | None, env: Mapping[str, str]) -> JobEntry:
    if config.job_id is not None:
        return JobEntry(key, config, config.job_id, variable=None)
    if variable is None:
        hint = SINGLE_JOB_VAR if key.lower() == "default" else f"{ENV_PREFIX}{key.upper()}"
        missing = f'Job "{key}" has no configured job ID. Set {hint}=<job id> or JobConfig(job_id=...).'
        return JobEntry(key, config, None, variable=hint, problem=missing)
    job_id, problem = parse_job_id(env[variable], variable)
    return JobEntry(key, config, job_id, variable=variable, problem=problem)


def discover_jobs(
    env: Mapping[str, str], config: Mapping[str, JobConfig | Mapping[str, Any] | None] | None = None
) -> dict[str, JobEntry]:
    """Every configured job, keyed by lower-cased key, in discovery order.

    Env-discovered keys come first (in environment order), then explicit keys.
    Explicit configuration wins over env for the same key.
    """
    explicit = {str(k): _as_config(v) for k, v in (config or {}).items()}
    found: dict[str, JobEntry] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == SINGLE_JOB_VAR:
            continue
        suffix = name[len(ENV_PREFIX) :]
        if not suffix or value == "":  # an empty value is unset (as in AppKit); blanks are a mistake
            continue
        key = suffix.lower()
        if key in found:
            continue
        # An explicit entry for the same key replaces this one below (and moves it last).
        found[key] = _entry(key, JobConfig(), name, env)
    if not explicit and not found and env.get(SINGLE_JOB_VAR, "").strip():
        found["default"] = _entry("default", JobConfig(), SINGLE_JOB_VAR, env)
    # AppKit's order: env-discovered keys (env order), then explicit keys.
    for key in explicit:
        found.pop(key.lower(), None)
    for key, cfg in explicit.items():
        found[key.lower()] = _entry(key, cfg, _var_for(key, env), env)
    return found
