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

The engine is split by job: :mod:`~jobs_widgets.sandbox.plans` decides what a run will
do, :mod:`~jobs_widgets.sandbox.records` holds what happened,
:mod:`~jobs_widgets.sandbox.simulation` moves runs through time, and
:mod:`~jobs_widgets.sandbox.shapes` renders them as JSON. This module is the API on top.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobs_widgets.sandbox import history
from jobs_widgets.sandbox.plans import OUTCOMES, Script, failure_rule
from jobs_widgets.sandbox.records import TERMINAL_LIFE, ApiError, JobRecord, RunRecord, TaskRun, invalid, ms
from jobs_widgets.sandbox.runparams import PARAM_FIELDS, check_params
from jobs_widgets.sandbox.shapes import (
    decode_page_token,
    encode_page_token,
    run_json,
    task_as_run_json,
)
from jobs_widgets.sandbox.simulation import Simulation
from jobs_widgets.sandbox.specs import JobSpec

__all__ = [
    "OUTCOMES",
    "PARAM_FIELDS",
    "TERMINAL_LIFE",
    "ApiError",
    "Engine",
    "RunRecord",
    "Script",
    "TaskRun",
]


class Engine(Simulation):
    """The simulated workspace's Jobs service.

    Parameters
    ----------
    clock:
        Where time comes from (real, scaled, or manual).
    seed:
        Seeds every random draw; the same seed gives the same workspace.
    base_url:
        Used for ``run_page_url`` links (``<base_url>/jobs/<job>/runs/<run>``, answered by
        :mod:`~jobs_widgets.sandbox.pages`); the HTTP server sets it once it is bound.
    """

    # ----------------------------------------------------------------- jobs (Python API)
    def add_job(self, spec: JobSpec) -> int:
        """Create a job (and its invented history); returns its job id."""
        with self._lock:
            self._catch_up()
            job_id = spec.job_id if spec.job_id is not None else next(self._ids)
            if job_id in self._jobs:
                raise ValueError(f"job id {job_id} already exists")
            now = self.clock.time()
            job = JobRecord(spec=spec, job_id=job_id, created=now - 86_400 * 30)
            self._jobs[job_id] = job
            if spec.key:
                self._keys[spec.key] = job_id
            history.invent(self, job, now)
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

    def parent_run_id(self, run_id: int) -> int | None:
        """The run a task run belongs to (None for a run, or an unknown id)."""
        with self._lock:
            found = self._task_runs.get(run_id)
            return found[0].run_id if found is not None else None

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
                    raise invalid("idempotency_token must be a string of at most 64 characters.")
                existing = self._tokens.get(token)
                if existing is not None:
                    run = self._runs[existing]
                    return {"run_id": run.run_id, "number_in_job": run.number}
            overriding, job_parameters = check_params(job, body)
            only = body.get("only")
            if only is not None:
                if not isinstance(only, list) or not all(isinstance(k, str) for k in only):
                    raise invalid("only must be a list of task keys.")
                known = {t.task_key for t in job.spec.tasks}
                for key in only:
                    if key.strip("+") not in known:
                        raise invalid(f"Task key {key!r} does not exist in job {job.job_id}.")
            rule = failure_rule(job.spec, overriding, job_parameters)
            if rule is not None:
                job.scripts.insert(0, Script(outcome="FAILED", error=rule))
            run = self._create_run(job, self.clock.time(), user=user, token=token)
            run.overriding = overriding
            run.job_parameters = job_parameters
            self.run_now_count += 1
            return {"run_id": run.run_id, "number_in_job": run.number}

    def api_get_run(self, run_id: int, *, include_history: bool = False) -> dict[str, Any]:
        """``runs/get``; ``repair_history`` only with ``include_history`` (as a workspace answers)."""
        with self._lock:
            self._catch_up()
            if run_id in self._runs:
                return run_json(self.base_url, self._runs[run_id], expand_tasks=True, history=include_history)
            if run_id in self._task_runs:
                parent, task = self._task_runs[run_id]
                return task_as_run_json(self.base_url, parent, task)
            raise invalid(f"Run {run_id} does not exist.")

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
                raise invalid("active_only and completed_only cannot both be true.")
            if not 1 <= limit <= 25:
                raise invalid(f"limit must be between 1 and 25, got {limit}.")
            if offset < 0:
                raise invalid("offset must be non-negative.")
            if run_type is not None and run_type not in {"JOB_RUN", "SUBMIT_RUN", "WORKFLOW_RUN"}:
                raise invalid(f"Invalid run_type: {run_type}.")
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
                runs = [r for r in runs if (ms(r.created) or 0) >= start_time_from]
            if start_time_to is not None:
                runs = [r for r in runs if (ms(r.created) or 0) <= start_time_to]
            runs.sort(key=lambda r: (r.created, r.run_id), reverse=True)
            if page_token is not None:
                offset = decode_page_token(page_token)
            page = runs[offset : offset + limit]
            out: dict[str, Any] = {"has_more": offset + limit < len(runs)}
            if page:
                out["runs"] = [run_json(self.base_url, r, expand_tasks=expand_tasks) for r in page]
            if offset + limit < len(runs):
                out["next_page_token"] = encode_page_token(offset + limit)
            if offset > 0:
                out["prev_page_token"] = encode_page_token(max(0, offset - limit))
            return out

    def api_cancel_run(self, run_id: int) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            run = self._runs.get(run_id)
            if run is None:
                raise invalid(f"Run {run_id} does not exist.")
            self._stop_run(run, self.clock.time(), "CANCELED")
            return {}

    def api_cancel_all(self, *, job_id: int | None, all_queued_runs: bool) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            if job_id is None and not all_queued_runs:
                raise invalid("Either job_id or all_queued_runs must be set.")
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
                    raise invalid(
                        "Retrieving the output of runs with multiple tasks is not supported. "
                        "Please retrieve the output of each individual task run instead."
                    )
                task = next(iter(run.tasks.values()))
                out = dict(task.output)
                out["metadata"] = run_json(self.base_url, run, expand_tasks=True)
                return out
            if run_id in self._task_runs:
                parent, task = self._task_runs[run_id]
                out = dict(task.output)
                out["metadata"] = task_as_run_json(self.base_url, parent, task)
                return out
            raise invalid(f"Run {run_id} does not exist.")

    def api_repair(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._catch_up()
            run_id = body.get("run_id")
            if not isinstance(run_id, int) or isinstance(run_id, bool):
                raise invalid("run_id is required and must be an integer.")
            run = self._runs.get(run_id)
            if run is None:
                raise invalid(f"Run {run_id} does not exist.")
            if not run.is_terminal:
                raise ApiError(400, "INVALID_STATE", f"Run {run_id} is still active and cannot be repaired.")
            rerun_all = body.get("rerun_all_failed_tasks", False)
            rerun_tasks = body.get("rerun_tasks")
            if not isinstance(rerun_all, bool):
                raise invalid("rerun_all_failed_tasks must be a boolean.")
            if rerun_tasks is not None and (
                not isinstance(rerun_tasks, list) or not all(isinstance(k, str) for k in rerun_tasks)
            ):
                raise invalid("rerun_tasks must be a list of task keys.")
            if rerun_all:
                selected = {k for k, t in run.tasks.items() if t.result != "SUCCESS"}
            elif rerun_tasks:
                unknown = [k for k in rerun_tasks if k not in run.tasks]
                if unknown:
                    raise invalid(f"Task key {unknown[0]!r} does not exist in run {run_id}.")
                selected = set(rerun_tasks)
            else:
                raise invalid("Either rerun_tasks or rerun_all_failed_tasks must be set.")
            if not selected:
                raise invalid(f"Run {run_id} has no failed tasks to repair.")
            latest = run.repairs[-1]["id"] if run.repairs else None
            given = body.get("latest_repair_id")
            if latest is not None and given != latest:
                # A workspace refuses a repair of a repaired run that does not name the latest repair.
                raise invalid(
                    f"latest_repair_id must be {latest} (the latest repair of run {run_id}), got {given!r}."
                )
            repair_id = self._repair(run, selected, self.clock.time())
            return {"repair_id": repair_id}

    def api_get_job(self, job_id: int) -> dict[str, Any]:
        with self._lock:
            job = self._require_job(job_id)
            return {
                "job_id": job.job_id,
                "creator_user_name": job.spec.creator,
                "run_as_user_name": job.spec.creator,
                "created_time": ms(job.created),
                "settings": job.spec.settings_api(),
            }

    def api_list_jobs(
        self, *, limit: int, offset: int, page_token: str | None, name: str | None, expand_tasks: bool
    ) -> dict[str, Any]:
        with self._lock:
            if not 1 <= limit <= 100:
                raise invalid(f"limit must be between 1 and 100, got {limit}.")
            if offset < 0:
                raise invalid("offset must be non-negative.")
            jobs = sorted(self._jobs.values(), key=lambda j: j.job_id)
            if name is not None:
                jobs = [j for j in jobs if j.spec.name == name]
            if page_token is not None:
                offset = decode_page_token(page_token)
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
                        "created_time": ms(job.created),
                        "settings": settings,
                    }
                )
            if items:
                out["jobs"] = items
            if offset + limit < len(jobs):
                out["next_page_token"] = encode_page_token(offset + limit)
            return out

    # ---------------------------------------------------------------------- validation
    def _require_job(self, job_id: Any) -> JobRecord:
        if job_id is None:
            raise invalid("Missing required field: job_id.")
        if not isinstance(job_id, int) or isinstance(job_id, bool):
            raise invalid(f"Invalid value for job_id: expected an integer, got {type(job_id).__name__}.")
        job = self._jobs.get(job_id)
        if job is None:
            raise invalid(f"Job {job_id} does not exist.")
        return job
