"""The simulated Jobs service: jobs, runs, tasks as a DAG, queues, retries, outputs.

The engine is a discrete-event simulation driven by an injected clock. Every public
call first processes all events due up to the clock's "now", in time order, so a
run's timeline is exact whatever the clock (real, sped up, or manual) and however
rarely anyone looks. With a :class:`~jobs_widgets.core.clock.ManualClock`, a two-hour
run completes in one ``advance(7200)``.

Outcomes are drawn from ``random.Random(f"{seed}/{job_id}/{number_in_job}")``: a run's
fate depends only on the seed and its position in its job's history, never on the
order or number of API requests, so simulations are reproducible.

The engine speaks in Jobs API JSON shapes (``dict``) and raises :class:`ApiError` with
the real service's status codes and error codes; the HTTP layer only parses and routes.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import math
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jobs_widgets.core.clock import Clock, SystemClock
from jobs_widgets.sandbox import texts
from jobs_widgets.sandbox.specs import TASK_FIELDS, JobSpec, TaskSpec

TERMINAL_LIFE = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
PARAM_FIELDS = (
    "notebook_params",
    "python_params",
    "python_named_params",
    "jar_params",
    "sql_params",
    "dbt_commands",
    "spark_submit_params",
)
OUTCOMES = frozenset({"SUCCESS", "FAILED", "TIMEDOUT", "INTERNAL_ERROR"})


class ApiError(Exception):
    """An error the Jobs service answers with: HTTP status, error code, message."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


@dataclass
class Script:
    """Overrides for the next run(s) of a job; anything left None is drawn at random."""

    outcome: str | None = None
    duration_s: float | None = None
    fail_task: str | None = None
    fail_after_s: float | None = None
    error: str | None = None
    error_trace: str | None = None
    state_message: str | None = None
    queue_s: float | None = None
    setup_s: float | None = None
    cleanup_s: float | None = None
    run_name: str | None = None
    run_page_url: str | None = None
    notebook_result: str | None = None


@dataclass
class _Plan:
    queue_s: float
    setup_s: float
    cleanup_s: float
    durations: dict[str, float]
    outcome: str
    fail_task: str | None
    fail_after_s: float
    error: str
    trace: str | None
    flaky: set[str]
    state_message: str | None
    notebook_result: str | None


@dataclass
class TaskRun:
    """One attempt of one task inside a run."""

    spec: TaskSpec
    run_id: int
    attempt: int
    life: str = "PENDING"
    result: str | None = None
    message: str = ""
    start: float | None = None
    end: float | None = None
    output: dict[str, Any] = field(default_factory=dict)
    generation: int = 0


@dataclass
class RunRecord:
    """A run of a job, with its tasks and timeline (times in epoch seconds)."""

    run_id: int
    job: _Job
    number: int
    created: float
    plan: _Plan
    creator: str
    run_name: str
    token: str | None = None
    life: str = "QUEUED"
    result: str | None = None
    message: str = ""
    queue_reason: str | None = None
    admitted: bool = False
    pending_at: float | None = None
    running_at: float | None = None
    terminating_at: float | None = None
    end: float | None = None
    user_cancelled: bool = False
    stopping: str | None = None  # "CANCELED" | "TIMEDOUT" while terminating early
    tasks: dict[str, TaskRun] = field(default_factory=dict)
    attempts: list[TaskRun] = field(default_factory=list)
    overriding: dict[str, Any] = field(default_factory=dict)
    job_parameters: list[dict[str, str]] = field(default_factory=list)
    generation: int = 0
    repairs: list[dict[str, Any]] = field(default_factory=list)
    run_page_url: str | None = None
    trigger: str = "ONE_TIME"

    @property
    def is_terminal(self) -> bool:
        return self.life in TERMINAL_LIFE


@dataclass
class _Job:
    spec: JobSpec
    job_id: int
    created: float
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    queue: list[RunRecord] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)


class Engine:
    """The simulated workspace's Jobs service.

    Parameters
    ----------
    clock:
        Where time comes from (real, scaled, or manual).
    seed:
        Seeds every random draw; the same seed gives the same workspace.
    base_url:
        Used for ``run_page_url`` links; the HTTP server sets it once it is bound.
    """

    def __init__(
        self, clock: Clock | None = None, *, seed: int = 0, base_url: str = "http://127.0.0.1"
    ) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.seed = seed
        self.base_url = base_url.rstrip("/")
        self._lock = threading.RLock()
        self._events: list[tuple[float, int, int, Callable[[float], None]]] = []
        self._event_seq = itertools.count()
        self._ids = itertools.count(1001)
        self._run_ids = itertools.count(5001)
        self._jobs: dict[int, _Job] = {}
        self._keys: dict[str, int] = {}
        self._runs: dict[int, RunRecord] = {}
        self._task_runs: dict[int, tuple[RunRecord, TaskRun]] = {}
        self._tokens: dict[str, int] = {}
        self._repair_ids = itertools.count(7001)
        self.run_now_count = 0

    # ----------------------------------------------------------------- jobs (Python API)
    def add_job(self, spec: JobSpec) -> int:
        """Create a job (and its invented history); returns its job id."""
        with self._lock:
            self._catch_up()
            job_id = spec.job_id if spec.job_id is not None else next(self._ids)
            if job_id in self._jobs:
                raise ValueError(f"job id {job_id} already exists")
            now = self.clock.time()
            job = _Job(spec=spec, job_id=job_id, created=now - 86_400 * 30)
            self._jobs[job_id] = job
            if spec.key:
                self._keys[spec.key] = job_id
            self._invent_history(job, now)
            return job_id

    def job_id(self, key_or_id: str | int) -> int:
        """Resolve a demo key (``"etl"``) or a job id to a job id."""
        with self._lock:
            if isinstance(key_or_id, int):
                if key_or_id not in self._jobs:
                    raise KeyError(key_or_id)
                return key_or_id
            return self._keys[key_or_id]

    @property
    def job_keys(self) -> dict[str, int]:
        with self._lock:
            return dict(self._keys)

    def script(self, job: str | int, *, times: int = 1, **overrides: Any) -> None:
        """Decide the next ``times`` runs of ``job`` (see :class:`Script` for the fields).

        ``outcome`` is one of SUCCESS, FAILED, TIMEDOUT, INTERNAL_ERROR. Used by tests,
        benchmarks and the demo notebook to make a specific story happen.
        """
        script = Script(**overrides)
        if script.outcome is not None and script.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}")
        with self._lock:
            j = self._jobs[self.job_id(job)]
            if script.fail_task is not None:
                j.spec.task(script.fail_task)
            j.scripts.extend(Script(**overrides) for _ in range(times))

    def clear_scripts(self, job: str | int | None = None) -> None:
        """Forget scripted runs not yet started (of one job, or of all)."""
        with self._lock:
            jobs = [self._jobs[self.job_id(job)]] if job is not None else list(self._jobs.values())
            for j in jobs:
                j.scripts.clear()

    def run(self, run_id: int) -> RunRecord:
        """The engine's own record of a run (the truth, for tests and benchmarks)."""
        with self._lock:
            self._catch_up()
            return self._runs[run_id]

    def runs_of(self, job: str | int) -> list[RunRecord]:
        with self._lock:
            self._catch_up()
            return list(self._jobs[self.job_id(job)].runs)

    def cancel_run_at(self, run_id: int, when: float) -> None:
        """Cancel a run from outside at epoch time ``when`` (as a user in the UI would)."""
        with self._lock:
            run = self._runs[run_id]
            self._at(when, lambda t: self._stop_run(run, t, "CANCELED"))

    def schedule(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action`` inside the simulation at epoch time ``when`` (e.g. an outside cancel)."""
        with self._lock:
            self._at(when, lambda _t: action())

    # ------------------------------------------------------------------------- API ops
    def api_run_now(self, body: dict[str, Any], *, user: str = "demo@example.com") -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            job = self._require_job(body.get("job_id"))
            token = body.get("idempotency_token")
            if token is not None:
                if not isinstance(token, str) or not 0 < len(token) <= 64:
                    raise _invalid("idempotency_token must be a string of at most 64 characters.")
                existing = self._tokens.get(token)
                if existing is not None:
                    run = self._runs[existing]
                    return {"run_id": run.run_id, "number_in_job": run.number}
            overriding, job_parameters = self._check_params(job, body)
            only = body.get("only")
            if only is not None:
                if not isinstance(only, list) or not all(isinstance(k, str) for k in only):
                    raise _invalid("only must be a list of task keys.")
                known = {t.task_key for t in job.spec.tasks}
                for key in only:
                    if key.strip("+") not in known:
                        raise _invalid(f"Task key {key!r} does not exist in job {job.job_id}.")
            rule = _failure_rule(job.spec, overriding, job_parameters)
            if rule is not None:
                job.scripts.insert(0, Script(outcome="FAILED", error=rule))
            run = self._create_run(job, self.clock.time(), user=user, token=token)
            run.overriding = overriding
            run.job_parameters = job_parameters
            self.run_now_count += 1
            return {"run_id": run.run_id, "number_in_job": run.number}

    def api_get_run(self, run_id: int) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            if run_id in self._runs:
                return self._run_json(self._runs[run_id], expand_tasks=True)
            if run_id in self._task_runs:
                parent, task = self._task_runs[run_id]
                return self._task_as_run_json(parent, task)
            raise _invalid(f"Run {run_id} does not exist.")

    def api_list_runs(
        self,
        *,
        job_id: int | None,
        active_only: bool,
        completed_only: bool,
        limit: int,
        offset: int,
        page_token: str | None,
        expand_tasks: bool,
        start_time_from: int | None,
        start_time_to: int | None,
        run_type: str | None,
    ) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            if active_only and completed_only:
                raise _invalid("active_only and completed_only cannot both be true.")
            if not 1 <= limit <= 25:
                raise _invalid(f"limit must be between 1 and 25, got {limit}.")
            if offset < 0:
                raise _invalid("offset must be non-negative.")
            if run_type is not None and run_type not in {"JOB_RUN", "SUBMIT_RUN", "WORKFLOW_RUN"}:
                raise _invalid(f"Invalid run_type: {run_type}.")
            if job_id is not None:
                runs = list(self._require_job(job_id).runs)
            else:
                runs = list(self._runs.values())
            if active_only:
                runs = [r for r in runs if not r.is_terminal]
            if completed_only:
                runs = [r for r in runs if r.is_terminal]
            if run_type is not None and run_type != "JOB_RUN":
                runs = []
            if start_time_from is not None:
                runs = [r for r in runs if (_ms(r.created) or 0) >= start_time_from]
            if start_time_to is not None:
                runs = [r for r in runs if (_ms(r.created) or 0) <= start_time_to]
            runs.sort(key=lambda r: (r.created, r.run_id), reverse=True)
            if page_token is not None:
                offset = _decode_page_token(page_token)
            page = runs[offset : offset + limit]
            out: dict[str, Any] = {"has_more": offset + limit < len(runs)}
            if page:
                out["runs"] = [self._run_json(r, expand_tasks=expand_tasks) for r in page]
            if offset + limit < len(runs):
                out["next_page_token"] = _encode_page_token(offset + limit)
            if offset > 0:
                out["prev_page_token"] = _encode_page_token(max(0, offset - limit))
            return out

    def api_cancel_run(self, run_id: int) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            run = self._runs.get(run_id)
            if run is None:
                raise _invalid(f"Run {run_id} does not exist.")
            self._stop_run(run, self.clock.time(), "CANCELED")
            return {}

    def api_cancel_all(self, *, job_id: int | None, all_queued_runs: bool) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            if job_id is None and not all_queued_runs:
                raise _invalid("Either job_id or all_queued_runs must be set.")
            now = self.clock.time()
            jobs = [self._require_job(job_id)] if job_id is not None else list(self._jobs.values())
            for job in jobs:
                for run in list(job.runs):
                    if run.is_terminal:
                        continue
                    if job_id is not None or run.life == "QUEUED":
                        self._stop_run(run, now, "CANCELED")
            return {}

    def api_get_output(self, run_id: int) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            if run_id in self._runs:
                run = self._runs[run_id]
                if len(run.tasks) > 1:
                    raise _invalid(
                        "Retrieving the output of runs with multiple tasks is not supported. "
                        "Please retrieve the output of each individual task run instead."
                    )
                task = next(iter(run.tasks.values()))
                out = dict(task.output)
                out["metadata"] = self._run_json(run, expand_tasks=True)
                return out
            if run_id in self._task_runs:
                parent, task = self._task_runs[run_id]
                out = dict(task.output)
                out["metadata"] = self._task_as_run_json(parent, task)
                return out
            raise _invalid(f"Run {run_id} does not exist.")

    def api_repair(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            run_id = body.get("run_id")
            if not isinstance(run_id, int) or isinstance(run_id, bool):
                raise _invalid("run_id is required and must be an integer.")
            run = self._runs.get(run_id)
            if run is None:
                raise _invalid(f"Run {run_id} does not exist.")
            if not run.is_terminal:
                raise ApiError(400, "INVALID_STATE", f"Run {run_id} is still active and cannot be repaired.")
            rerun_all = body.get("rerun_all_failed_tasks", False)
            rerun_tasks = body.get("rerun_tasks")
            if not isinstance(rerun_all, bool):
                raise _invalid("rerun_all_failed_tasks must be a boolean.")
            if rerun_tasks is not None and (
                not isinstance(rerun_tasks, list) or not all(isinstance(k, str) for k in rerun_tasks)
            ):
                raise _invalid("rerun_tasks must be a list of task keys.")
            if rerun_all:
                selected = {k for k, t in run.tasks.items() if t.result != "SUCCESS"}
            elif rerun_tasks:
                unknown = [k for k in rerun_tasks if k not in run.tasks]
                if unknown:
                    raise _invalid(f"Task key {unknown[0]!r} does not exist in run {run_id}.")
                selected = set(rerun_tasks)
            else:
                raise _invalid("Either rerun_tasks or rerun_all_failed_tasks must be set.")
            if not selected:
                raise _invalid(f"Run {run_id} has no failed tasks to repair.")
            repair_id = self._repair(run, selected, self.clock.time())
            return {"repair_id": repair_id}

    def api_get_job(self, job_id: int) -> dict[str, Any]:
        with self._lock:
            job = self._require_job(job_id)
            return {
                "job_id": job.job_id,
                "creator_user_name": job.spec.creator,
                "run_as_user_name": job.spec.creator,
                "created_time": _ms(job.created),
                "settings": job.spec.settings_api(),
            }

    def api_list_jobs(
        self, *, limit: int, offset: int, page_token: str | None, name: str | None, expand_tasks: bool
    ) -> dict[str, Any]:
        with self._lock:
            if not 1 <= limit <= 100:
                raise _invalid(f"limit must be between 1 and 100, got {limit}.")
            if offset < 0:
                raise _invalid("offset must be non-negative.")
            jobs = sorted(self._jobs.values(), key=lambda j: j.job_id)
            if name is not None:
                jobs = [j for j in jobs if j.spec.name == name]
            if page_token is not None:
                offset = _decode_page_token(page_token)
            page = jobs[offset : offset + limit]
            out: dict[str, Any] = {"has_more": offset + limit < len(jobs)}
            items = []
            for job in page:
                settings = job.spec.settings_api()
                if not expand_tasks:
                    settings.pop("tasks", None)
                items.append(
                    {
                        "job_id": job.job_id,
                        "creator_user_name": job.spec.creator,
                        "created_time": _ms(job.created),
                        "settings": settings,
                    }
                )
            if items:
                out["jobs"] = items
            if offset + limit < len(jobs):
                out["next_page_token"] = _encode_page_token(offset + limit)
            return out

    # ---------------------------------------------------------------------- validation
    def _require_job(self, job_id: Any) -> _Job:
        if job_id is None:
            raise _invalid("Missing required field: job_id.")
        if not isinstance(job_id, int) or isinstance(job_id, bool):
            raise _invalid(f"Invalid value for job_id: expected an integer, got {type(job_id).__name__}.")
        job = self._jobs.get(job_id)
        if job is None:
            raise _invalid(f"Job {job_id} does not exist.")
        return job

    def _check_params(self, job: _Job, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
        overriding: dict[str, Any] = {}
        for name in PARAM_FIELDS:
            value = body.get(name)
            if value is None:
                continue
            if name in {"notebook_params", "python_named_params", "sql_params"}:
                if not isinstance(value, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items()
                ):
                    raise _invalid(f"{name} must be a map of string to string.")
            elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _invalid(f"{name} must be a list of strings.")
            if value:
                overriding[name] = value
        job_params = body.get("job_parameters")
        defined = {p["name"]: p.get("default", "") for p in job.spec.parameters}
        if job_params is not None:
            if not isinstance(job_params, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in job_params.items()
            ):
                raise _invalid("job_parameters must be a map of string to string.")
            for name in job_params:
                if name not in defined:
                    raise _invalid(f"Job parameter {name!r} is not defined for job {job.job_id}.")
        if defined and overriding:
            raise _invalid(
                "Task parameters are not supported for jobs with job parameters; use job_parameters instead."
            )
        resolved = [
            {"name": n, "default": d, "value": (job_params or {}).get(n, d)} for n, d in defined.items()
        ]
        return overriding, resolved

    # -------------------------------------------------------------------- simulation
    def _catch_up(self) -> None:
        now = self.clock.time()
        while self._events and self._events[0][0] <= now:
            when, _, _, action = heapq.heappop(self._events)
            action(when)

    def _at(self, when: float, action: Callable[[float], None]) -> None:
        heapq.heappush(self._events, (when, next(self._event_seq), 0, action))

    def next_event_time(self) -> float | None:
        """When the simulation next changes on its own (epoch seconds), if ever."""
        with self._lock:
            self._catch_up()
            return self._events[0][0] if self._events else None

    def _rng(self, job: _Job, number: int, suffix: str = "") -> random.Random:
        return random.Random(f"{self.seed}/{job.job_id}/{number}{suffix}")

    def _plan(self, job: _Job, rng: random.Random, script: Script | None) -> _Plan:
        spec, b = job.spec, job.spec.behaviour
        s = script or Script()
        total = s.duration_s if s.duration_s is not None else b.median_s * math.exp(rng.gauss(0.0, b.sigma))
        total = max(total, 0.001)
        durations = _split_durations(spec.tasks, total)
        failing = rng.random() < b.fail_rate
        outcome = s.outcome or ("FAILED" if failing else "SUCCESS")
        task_keys = [t.task_key for t in spec.tasks]
        fail_task = s.fail_task or rng.choice(task_keys)
        fraction = rng.uniform(0.1, 1.0)
        error, _ = rng.choice(b.errors) if b.errors else ("RuntimeError: task failed", "")
        flaky = {t.task_key for t in spec.tasks if t.max_retries and rng.random() < b.flaky_rate}
        fail_after = s.fail_after_s if s.fail_after_s is not None else durations[fail_task] * fraction
        return _Plan(
            queue_s=s.queue_s if s.queue_s is not None else rng.uniform(*b.queue_s),
            setup_s=s.setup_s if s.setup_s is not None else rng.uniform(*b.setup_s),
            cleanup_s=s.cleanup_s if s.cleanup_s is not None else rng.uniform(*b.cleanup_s),
            durations=durations,
            outcome=outcome,
            fail_task=fail_task if outcome in {"FAILED", "INTERNAL_ERROR", "TIMEDOUT"} else None,
            fail_after_s=fail_after,
            error=s.error or error,
            trace=s.error_trace,
            flaky=flaky,
            state_message=s.state_message,
            notebook_result=s.notebook_result,
        )

    def _create_run(self, job: _Job, now: float, *, user: str, token: str | None) -> RunRecord:
        number = next(job.numbers)
        script = job.scripts.pop(0) if job.scripts else None
        plan = self._plan(job, self._rng(job, number), script)
        run = RunRecord(
            run_id=next(self._run_ids),
            job=job,
            number=number,
            created=now,
            plan=plan,
            creator=user,
            run_name=(script.run_name if script and script.run_name is not None else job.spec.name),
            token=token,
        )
        if script and script.run_page_url is not None:
            run.run_page_url = script.run_page_url
        for spec in job.spec.tasks:
            self._new_attempt(run, spec, attempt=0)
        self._runs[run.run_id] = run
        job.runs.append(run)
        if token is not None:
            self._tokens[token] = run.run_id
        active = sum(1 for r in job.runs if r.admitted and not r.is_terminal)
        if active < job.spec.max_concurrent_runs:
            self._admit(run, now)
        elif job.spec.queue_enabled:
            run.queue_reason = (
                f"Queued due to reaching maximum concurrent runs of {job.spec.max_concurrent_runs}."
            )
            run.message = run.queue_reason
            job.queue.append(run)
        else:
            run.life = "SKIPPED"
            run.message = (
                f"Skipping this run because the limit of {job.spec.max_concurrent_runs} "
                "maximum concurrent runs has been reached."
            )
            run.end = now
            for task in run.tasks.values():
                task.life, task.result, task.message = "SKIPPED", None, "Run skipped"
        return run

    def _new_attempt(self, run: RunRecord, spec: TaskSpec, attempt: int) -> TaskRun:
        task = TaskRun(spec=spec, run_id=next(self._run_ids), attempt=attempt)
        run.tasks[spec.task_key] = task
        run.attempts.append(task)
        self._task_runs[task.run_id] = (run, task)
        return task

    def _guard(self, run: RunRecord, action: Callable[[float], None]) -> Callable[[float], None]:
        generation = run.generation

        def guarded(when: float) -> None:
            if run.generation == generation:
                action(when)

        return guarded

    def _admit(self, run: RunRecord, now: float) -> None:
        run.admitted = True
        run.queue_reason = None
        run.message = ""
        self._at(now + run.plan.queue_s, self._guard(run, lambda t: self._to_pending(run, t)))

    def _to_pending(self, run: RunRecord, now: float) -> None:
        run.life = "PENDING"
        run.pending_at = now
        run.message = "Waiting for cluster"
        self._at(now + run.plan.setup_s, self._guard(run, lambda t: self._to_running(run, t)))

    def _to_running(self, run: RunRecord, now: float) -> None:
        run.life = "RUNNING"
        run.running_at = now
        run.message = "In run"
        timeout = run.job.spec.timeout_seconds
        if run.plan.outcome == "TIMEDOUT" and not timeout:
            timeout = int(sum(run.plan.durations.values()) * 0.8) + 1
        if timeout:
            self._at(now + timeout, self._guard(run, lambda t: self._stop_run(run, t, "TIMEDOUT")))
        if run.plan.outcome == "INTERNAL_ERROR":
            when = now + run.plan.fail_after_s
            self._at(when, self._guard(run, lambda t: self._internal_error(run, t)))
        self._start_ready_tasks(run, now)

    def _start_ready_tasks(self, run: RunRecord, now: float) -> None:
        changed = True
        while changed:
            changed = False
            for key, task in run.tasks.items():
                if task.life != "PENDING":
                    continue
                deps = [run.tasks[d] for d in task.spec.depends_on]
                if any(not _task_done(d) for d in deps):
                    continue
                results = [d.result for d in deps]
                if task.spec.run_if == "ALL_SUCCESS" and any(r != "SUCCESS" for r in results):
                    task.life, task.result = "TERMINATED", "UPSTREAM_FAILED"
                    failed = [d.spec.task_key for d in deps if d.result != "SUCCESS"]
                    task.message = f"Upstream task(s) {', '.join(failed)} failed"
                    task.start = task.end = now
                    changed = True
                    continue
                self._start_task(run, key, task, now)
                changed = True
        if all(_task_done(t) for t in run.tasks.values()):
            self._to_terminating(run, now)
        elif (
            run.life == "RUNNING"
            and not any(t.life == "RUNNING" for t in run.tasks.values())
            and any(t.life == "WAITING_FOR_RETRY" for t in run.tasks.values())
        ):
            run.life, run.message = "WAITING_FOR_RETRY", "Waiting for a task to be retried"

    def _start_task(self, run: RunRecord, key: str, task: TaskRun, now: float) -> None:
        task.life = "RUNNING"
        if run.life == "WAITING_FOR_RETRY":
            run.life, run.message = "RUNNING", "In run"
        task.start = now
        task.message = "In run"
        plan = run.plan
        duration = plan.durations[key]
        will_fail = plan.fail_task == key and plan.outcome == "FAILED"
        flaky_first = key in plan.flaky and task.attempt == 0
        if will_fail:
            end, result = now + plan.fail_after_s, "FAILED"
        elif flaky_first:
            end, result = now + duration * 0.3, "FAILED"
        else:
            end, result = now + duration, "SUCCESS"
        if task.spec.timeout_seconds and end - now > task.spec.timeout_seconds:
            end, result = now + task.spec.timeout_seconds, "TIMEDOUT"
        generation = task.generation

        def finish(t: float) -> None:
            if task.generation == generation and task.life == "RUNNING":
                self._finish_task(run, task, t, result, flaky=flaky_first and not will_fail)

        self._at(end, self._guard(run, finish))

    def _finish_task(self, run: RunRecord, task: TaskRun, now: float, result: str, *, flaky: bool) -> None:
        spec = task.spec
        rng = self._rng(run.job, run.number, f"/{task.run_id}")
        task.end = now
        task.life, task.result = "TERMINATED", result
        path = _task_path(spec)
        if result == "SUCCESS":
            task.message = ""
            task.output = texts.success_output(spec.kind, spec.task_key, rng, "wh-0001")
            if spec.kind == "notebook" and run.plan.notebook_result is not None:
                task.output = {"notebook_output": {"result": run.plan.notebook_result, "truncated": False}}
        else:
            if flaky:
                error = "ConnectionResetError: [Errno 104] Connection reset by peer"
            elif result == "TIMEDOUT":
                error = (
                    f"TimeoutException: task {spec.task_key} timed out after {spec.timeout_seconds} seconds"
                )
            else:
                error = run.plan.error
            trace = run.plan.trace if (run.plan.trace is not None and not flaky) else None
            if trace is None:
                trace = texts.error_trace(spec.task_key, spec.kind, error, path)
            task.output = texts.failure_output(spec.kind, spec.task_key, error, trace)
            default_message = f"Task {spec.task_key} failed with message: {error}"
            task.message = run.plan.state_message or default_message
            if task.attempt < spec.max_retries and result in {"FAILED", "TIMEDOUT"}:
                self._schedule_retry(run, task, now)
                return
        self._start_ready_tasks(run, now)

    def _schedule_retry(self, run: RunRecord, task: TaskRun, now: float) -> None:
        waiting = self._new_attempt(run, task.spec, attempt=task.attempt + 1)
        waiting.life = "WAITING_FOR_RETRY"
        waiting.message = f"Waiting for retry after attempt {task.attempt + 1} failed"

        def retry(t: float) -> None:
            if waiting.life != "WAITING_FOR_RETRY":
                return
            if run.life == "WAITING_FOR_RETRY":
                run.life = "RUNNING"
                run.message = "In run"
            waiting.life = "PENDING"
            self._start_ready_tasks(run, t)

        self._at(now + task.spec.min_retry_interval_s, self._guard(run, retry))
        self._start_ready_tasks(run, now)

    def _to_terminating(self, run: RunRecord, now: float) -> None:
        if run.life in TERMINAL_LIFE or run.life == "TERMINATING":
            return
        run.life = "TERMINATING"
        run.terminating_at = now
        run.message = "Terminating"
        self._at(now + run.plan.cleanup_s, self._guard(run, lambda t: self._terminate(run, t)))

    def _terminate(self, run: RunRecord, now: float) -> None:
        results = [t.result for t in run.tasks.values()]
        if run.stopping == "CANCELED":
            result, message = "CANCELED", "Run cancelled."
        elif run.stopping == "TIMEDOUT":
            result, message = "TIMEDOUT", "Run timed out."
        elif all(r == "SUCCESS" for r in results):
            result, message = "SUCCESS", ""
        elif "FAILED" in results or "UPSTREAM_FAILED" in results:
            failed = [t for t in run.tasks.values() if t.result == "FAILED"]
            result = "FAILED"
            message = failed[0].message if failed else "Workload failed, see run output for details"
        elif "TIMEDOUT" in results:
            result, message = "TIMEDOUT", "A task timed out."
        else:
            result, message = "FAILED", "Workload failed, see run output for details"
        if run.plan.state_message is not None and result != "SUCCESS":
            message = run.plan.state_message
        run.life, run.result, run.message, run.end = "TERMINATED", result, message, now
        self._release_slot(run, now)

    def _release_slot(self, run: RunRecord, now: float) -> None:
        job = run.job
        active = sum(1 for r in job.runs if r.admitted and not r.is_terminal)
        while job.queue and active < job.spec.max_concurrent_runs:
            nxt = job.queue.pop(0)
            if nxt.is_terminal:
                continue
            self._admit(nxt, now)
            active += 1

    def _stop_run(self, run: RunRecord, now: float, why: str) -> None:
        """Cancel (``why="CANCELED"``) or time out (``"TIMEDOUT"``) a run that is not done."""
        if run.is_terminal or run.stopping is not None:
            return
        run.generation += 1
        run.stopping = why
        run.user_cancelled = True
        if run in run.job.queue:
            run.job.queue.remove(run)
        task_result = "CANCELED" if why == "CANCELED" else "TIMEDOUT"
        for task in run.tasks.values():
            if _task_done(task):
                continue
            task.generation += 1
            if task.life == "RUNNING":
                task.life = "TERMINATING"
            task.result = task_result
        run.life = "TERMINATING"
        run.terminating_at = now
        run.message = "Cancelling run" if why == "CANCELED" else "Timing out run"

        def finish(t: float) -> None:
            for task in run.tasks.values():
                if (
                    task.life in {"TERMINATING", "PENDING", "WAITING_FOR_RETRY", "BLOCKED"}
                    or task.life == "RUNNING"
                ):
                    task.life = "TERMINATED"
                    task.result = task_result
                    task.end = t
                    task.message = "Run cancelled." if why == "CANCELED" else "Run timed out."
            self._terminate(run, t)

        self._at(now + run.plan.cleanup_s, self._guard(run, finish))

    def _internal_error(self, run: RunRecord, now: float) -> None:
        if run.is_terminal:
            return
        run.generation += 1
        message = (
            run.plan.state_message or "An internal error occurred in the Jobs service. Please retry the run."
        )
        for task in run.tasks.values():
            if not _task_done(task):
                task.life, task.result, task.end = "INTERNAL_ERROR", None, now
                task.message = message
        run.life, run.result, run.message, run.end = "INTERNAL_ERROR", None, message, now
        self._release_slot(run, now)

    def _repair(self, run: RunRecord, selected: set[str], now: float) -> int:
        # Downstream tasks of repaired ones run again too.
        changed = True
        while changed:
            changed = False
            for key, task in run.tasks.items():
                if key not in selected and any(d in selected for d in task.spec.depends_on):
                    selected.add(key)
                    changed = True
        repair_id = next(self._repair_ids)
        run.generation += 1
        run.stopping = None
        run.user_cancelled = False
        run.result = None
        run.end = None
        run.terminating_at = None
        run.pending_at = now
        # A repair re-runs tasks with the run's own parameters: a failure they cause
        # happens again; anything else (a flaky cluster, a bad row) is assumed fixed.
        rule = _failure_rule(run.job.spec, run.overriding, run.job_parameters)
        failed_first = next((t.spec.task_key for t in run.tasks.values() if t.result == "FAILED"), None)
        run.plan.outcome = "FAILED" if rule else "SUCCESS"
        run.plan.fail_task = failed_first if rule else None
        run.plan.error = rule or run.plan.error
        run.plan.flaky = set()
        run.plan.state_message = None
        task_ids = []
        for spec in run.job.spec.tasks:
            if spec.task_key in selected:
                old = run.tasks[spec.task_key]
                task_ids.append(self._new_attempt(run, spec, attempt=old.attempt + 1).run_id)
        run.repairs.append(
            {"id": repair_id, "type": "REPAIR", "start_time": _ms(now), "task_run_ids": task_ids}
        )
        run.life = "PENDING"
        run.message = "Repairing run"
        run.admitted = True
        self._at(now + run.plan.setup_s / 2, self._guard(run, lambda t: self._to_running(run, t)))
        return repair_id

    def _invent_history(self, job: _Job, now: float) -> None:
        """Finished runs in the past, drawn from the job's own behaviour."""
        count = job.spec.history_runs
        if count <= 0:
            return
        gap = max(job.spec.behaviour.median_s * 3, 3600.0)
        start = now - gap * (count + 1)
        for i in range(count):
            created = start + i * gap
            number = next(job.numbers)
            plan = self._plan(job, self._rng(job, number), None)
            run = RunRecord(
                run_id=next(self._run_ids),
                job=job,
                number=number,
                created=created,
                plan=plan,
                creator=job.spec.creator,
                run_name=job.spec.name,
                trigger="PERIODIC",
                admitted=True,
            )
            for spec in job.spec.tasks:
                self._new_attempt(run, spec, attempt=0)
            self._replay_offline(run)
            self._runs[run.run_id] = run
            job.runs.append(run)

    def _replay_offline(self, run: RunRecord) -> None:
        """Play a run to its end at once (used for invented history)."""
        saved_events, self._events = self._events, []
        try:
            self._admit(run, run.created)
            while self._events and not run.is_terminal:
                when, _, _, action = heapq.heappop(self._events)
                action(when)
        finally:
            self._events = saved_events

    # ------------------------------------------------------------------ JSON shapes
    def _run_url(self, run_id: int, job_id: int) -> str:
        return f"{self.base_url}/#job/{job_id}/run/{run_id}"

    def _run_json(self, run: RunRecord, *, expand_tasks: bool) -> dict[str, Any]:
        end = run.end
        body: dict[str, Any] = {
            "job_id": run.job.job_id,
            "run_id": run.run_id,
            "number_in_job": run.number,
            "original_attempt_run_id": run.run_id,
            "creator_user_name": run.creator,
            "run_name": run.run_name,
            "run_type": "JOB_RUN",
            "trigger": run.trigger,
            "attempt_number": 0,
            "state": _state_json(run.life, run.result, run.message, run.user_cancelled, run.queue_reason),
            "status": _status_json(run.life, run.result, run.message, run.queue_reason),
            "start_time": _ms(run.created),
            "end_time": _ms(end) if end is not None else 0,
            "setup_duration": _ms(_span(run.pending_at, run.running_at, end)) or 0,
            "execution_duration": _ms(_span(run.running_at, run.terminating_at, end)) or 0,
            "cleanup_duration": _ms(_span(run.terminating_at, end, None)) or 0,
            "queue_duration": _ms(_span(run.created, run.pending_at, end)) or 0,
            "run_duration": _ms(end - run.created) if end is not None else 0,
            "run_page_url": run.run_page_url or self._run_url(run.run_id, run.job.job_id),
            "format": "MULTI_TASK",
            "has_more": False,
        }
        if run.overriding:
            body["overriding_parameters"] = json.loads(json.dumps(run.overriding))
        if run.job_parameters:
            body["job_parameters"] = [dict(p) for p in run.job_parameters]
        if run.repairs:
            body["repair_history"] = [
                {"type": "ORIGINAL", "start_time": _ms(run.created), "id": run.run_id},
                *[dict(r) for r in run.repairs],
            ]
        if expand_tasks:
            body["tasks"] = [self._task_json(run, t) for t in run.tasks.values()]
        return body

    def _task_json(self, run: RunRecord, task: TaskRun) -> dict[str, Any]:
        spec = task.spec
        body: dict[str, Any] = {
            "task_key": spec.task_key,
            "run_id": task.run_id,
            "attempt_number": task.attempt,
            TASK_FIELDS[spec.kind]: dict(spec.settings),
            "state": _state_json(task.life, task.result, task.message, False, None),
            "status": _status_json(task.life, task.result, task.message, None),
            "start_time": _ms(task.start) or 0,
            "end_time": _ms(task.end) or 0,
            "execution_duration": _ms(_span(task.start, task.end, None)) or 0,
            "run_duration": _ms(_span(task.start, task.end, None)) or 0,
            "run_page_url": (run.run_page_url or self._run_url(task.run_id, run.job.job_id)),
        }
        if spec.depends_on:
            body["depends_on"] = [{"task_key": k} for k in spec.depends_on]
        if spec.run_if != "ALL_SUCCESS":
            body["run_if"] = spec.run_if
        return body

    def _task_as_run_json(self, parent: RunRecord, task: TaskRun) -> dict[str, Any]:
        body = self._task_json(parent, task)
        body.pop("task_key", None)
        body.pop(TASK_FIELDS[task.spec.kind], None)
        body.update(
            {
                "job_id": parent.job.job_id,
                "run_name": task.spec.task_key,
                "run_type": "JOB_RUN",
                "creator_user_name": parent.creator,
            }
        )
        return body


# --------------------------------------------------------------------------- helpers
def _failure_rule(
    spec: JobSpec, overriding: dict[str, Any], job_parameters: list[dict[str, str]]
) -> str | None:
    """The error a run must fail with because of its parameters (``JobSpec.fails_above``)."""
    values: dict[str, str] = {p["name"]: p.get("value", "") for p in job_parameters}
    for name in ("notebook_params", "python_named_params", "sql_params"):
        values.update(overriding.get(name) or {})
    for param, (threshold, error) in spec.fails_above.items():
        try:
            if float(values[param]) > threshold:
                return error
        except (KeyError, ValueError):
            continue
    return None


def _task_done(task: TaskRun) -> bool:
    return task.life in {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}


def _span(start: float | None, end: float | None, fallback: float | None) -> float | None:
    if start is None:
        return None
    stop = end if end is not None else fallback
    if stop is None:
        return None
    return max(0.0, stop - start)


def _task_path(spec: TaskSpec) -> str:
    s = spec.settings
    value = s.get("notebook_path") or s.get("python_file") or s.get("main_class_name")
    return str(value or f"/Workspace/jobs/{spec.task_key}.py")


def _split_durations(tasks: Iterable[TaskSpec], total: float) -> dict[str, float]:
    """Give each task a duration so that the DAG's critical path takes ``total``."""
    tasks = list(tasks)
    by_key = {t.task_key: t for t in tasks}
    longest: dict[str, float] = {}

    def path_weight(key: str) -> float:
        if key not in longest:
            task = by_key[key]
            longest[key] = task.weight + max((path_weight(d) for d in task.depends_on), default=0.0)
        return longest[key]

    critical = max(path_weight(k) for k in by_key)
    return {t.task_key: total * t.weight / critical for t in tasks}


_TERMINATION = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "CANCELED": ("USER_CANCELED", "SUCCESS"),
    "UPSTREAM_FAILED": ("SKIPPED", "CLIENT_ERROR"),
    "UPSTREAM_CANCELED": ("CANCELED", "SUCCESS"),
}
_STATUS_STATE = {"WAITING_FOR_RETRY": "WAITING"}


def _state_json(
    life: str, result: str | None, message: str, user: bool, queue_reason: str | None
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "life_cycle_state": life,
        "state_message": message,
        "user_cancelled_or_timedout": user,
    }
    if result is not None and life in TERMINAL_LIFE:
        state["result_state"] = result
    if queue_reason:
        state["queue_reason"] = queue_reason
    return state


def _status_json(life: str, result: str | None, message: str, queue_reason: str | None) -> dict[str, Any]:
    if life == "SKIPPED":
        details = {"code": "MAX_CONCURRENT_RUNS_EXCEEDED", "type": "CLIENT_ERROR", "message": message}
        return {"state": "TERMINATED", "termination_details": details}
    if life == "INTERNAL_ERROR":
        details = {"code": "INTERNAL_ERROR", "type": "INTERNAL_ERROR", "message": message}
        return {"state": "TERMINATED", "termination_details": details}
    if life == "TERMINATED":
        code, kind = _TERMINATION.get(result or "FAILED", ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
        return {
            "state": "TERMINATED",
            "termination_details": {"code": code, "type": kind, "message": message},
        }
    status: dict[str, Any] = {"state": _STATUS_STATE.get(life, life)}
    if life == "QUEUED" and queue_reason:
        status["queue_details"] = {"code": "MAX_CONCURRENT_RUNS_REACHED", "message": queue_reason}
    return status


def _encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_page_token(token: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        offset = data["o"]
    except (ValueError, KeyError, TypeError, UnicodeError) as exc:
        raise _invalid("Invalid page_token.") from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise _invalid("Invalid page_token.")
    return offset
