"""Run parameters: which fields a run-now takes, and how a workspace checks them."""

from __future__ import annotations

from typing import Any

from jobs_widgets.sandbox.records import JobRecord, invalid

PARAM_FIELDS = (
    "notebook_params",
    "python_params",
    "python_named_params",
    "jar_params",
    "sql_params",
    "dbt_commands",
    "spark_submit_params",
)


def check_params(job: JobRecord, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """A run's ``overriding_parameters`` and resolved ``job_parameters`` from a run-now body.

    Checked as a workspace checks them (types, defined names, task parameters refused on a
    job with job parameters): a bad one is an ``INVALID_PARAMETER_VALUE`` error.
    """
    overriding: dict[str, Any] = {}
    for name in PARAM_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if name in {"notebook_params", "python_named_params", "sql_params"}:
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise invalid(f"{name} must be a map of string to string.")
        elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(f"{name} must be a list of strings.")
        if value:
            overriding[name] = value
    job_params = body.get("job_parameters")
    defined = {p["name"]: p.get("default", "") for p in job.spec.parameters}
    if job_params is not None:
        if not isinstance(job_params, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in job_params.items()
        ):
            raise invalid("job_parameters must be a map of string to string.")
        for name in job_params:
            if name not in defined:
                raise invalid(f"Job parameter {name!r} is not defined for job {job.job_id}.")
    if defined and overriding:
        raise invalid(
            "Task parameters are not supported for jobs with job parameters; use job_parameters instead."
        )
    resolved = [{"name": n, "default": d, "value": (job_params or {}).get(n, d)} for n, d in defined.items()]
    return overriding, resolved
