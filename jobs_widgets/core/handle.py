"""One configured job: :class:`JobHandle`, the scoped way to touch it.

A handle is bound to one job id. It can start runs of that job and read, watch,
cancel or repair *its* runs only: a run id of another job is refused with
:class:`RunScopeError` before any write or output call is sent, and a ``job_id``
in the parameters never overrides the configured one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jobs_widgets.core.config import JobConfig, TaskType
from jobs_widgets.core.errors import JobsApiError, ParamsError, RunScopeError
from jobs_widgets.core.ids import check_limit, check_run_id, check_task_keys, check_timeout
from jobs_widgets.core.models import JobInfo, Run, RunOutput, TaskOutput
from jobs_widgets.core.params import (
    check_user_params,
    infer_task_type,
    params_schema,
    prepare_run_fields,
)
from jobs_widgets.core.policy import PollPolicy, check_mode
from jobs_widgets.core.repairs import repair_request
from jobs_widgets.core.waiting import AsyncRunWatch, RunWatch, check_abort_mode

if TYPE_CHECKING:
    from jobs_widgets.core.cache import ReadCache
    from jobs_widgets.core.jobs import Jobs
    from jobs_widgets.core.sdk import Gateway
    from jobs_widgets.core.session import Session

__all__ = ["JobHandle"]

log = logging.getLogger("jobs_widgets")
JOB_TTL = 60.0
RUN_NOW_ATTEMPTS = 4


_check_run_id = check_run_id


class JobHandle:
    """The scoped API for one configured job. Get one with ``jobs("etl")``."""

    def __init__(
        self, jobs: Jobs, key: str, job_id: int, config: JobConfig, session: Session | None = None
    ) -> None:
        self._jobs = jobs
        self._key = key
        self._job_id = job_id
        self._config = config
        self._session = session
        self._poll_mode: str | None = None
        self._resolved_type: TaskType | None = None
        self._type_lock = threading.Lock()

    # ------------------------------------------------------------------ identity
    @property
    def key(self) -> str:
        return self._key

    @property
    def job_id(self) -> int:
        return self._job_id

    @property
    def config(self) -> JobConfig:
        return self._config

    @property
    def session(self) -> Session:
        """The session of this handle's identity (client, cache, run memory; shared)."""
        return self._session if self._session is not None else self._jobs.session

    @property
    def gateway(self) -> Gateway:
        return self.session.gateway

    @property
    def identity(self) -> str:
        return self.session.identity

    @property
    def _cache(self) -> ReadCache:
        return self.session.cache

    @property
    def poll_policy(self) -> PollPolicy | None:
        return self._config.poll

    @property
    def poll_mode(self) -> str | None:
        """``"foreground"`` or ``"background"`` pins how this handle's runs are polled
        (None: the hub decides; see :mod:`jobs_widgets.core.policy`)."""
        return self._poll_mode

    @poll_mode.setter
    def poll_mode(self, mode: str | None) -> None:
        self._poll_mode = check_mode(mode)

    @property
    def _scope(self) -> tuple[str, int]:
        return (self.identity, self._job_id)

    @property
    def registry(self) -> Jobs:
        """The :class:`Jobs` this handle belongs to (its hub, clock and cache)."""
        return self._jobs

    def workspace_time(self) -> float:
        """The workspace's clock now (epoch seconds): see :meth:`Session.workspace_time`."""
        return self.session.workspace_time(self._jobs.clock)

    def forget_cached(self) -> None:
        """Drop this job's cached reads (the next read asks the API)."""
        self._cache.invalidate(self._scope)

    def as_user(self, client: Any) -> JobHandle:
        """The same job, acting as another identity (on-behalf-of a user): same scope, other client."""
        return JobHandle(self._jobs, self._key, self._job_id, self._config, self._jobs.session_for(client))

    def __repr__(self) -> str:
        return f"<JobHandle {self._key!r} job_id={self._job_id}>"

    # ------------------------------------------------------------------ reads
    def get_job(self) -> JobInfo:
        """The job's settings: name, tasks (key and type), job-level parameters."""
        return self._cache.get_or_load(
            self._scope,
            "job",
            lambda: JobInfo.from_api(self._with_job_hint(lambda: self.gateway.get_job(self._job_id))),
            ttl=JOB_TTL,
        )

    def list_runs(self, limit: int = 20, *, active_only: bool = False) -> list[Run]:
        """Up to ``limit`` runs of this job, newest first (fetched in pages of at most 25)."""
        limit = check_limit(limit)
        runs = self._cache.get_or_load(
            self._scope,
            ("runs", limit, active_only),
            lambda: [
                Run.from_api(r)
                for r in self._with_job_hint(
                    lambda: self.gateway.list_runs(
                        self._job_id, limit=limit, active_only=active_only, expand_tasks=True
                    )
                )
            ],
            ttl=self._jobs.cache_ttl,
        )
        for run in runs:
            self.session.remember_run_job(run.run_id, run.job_id)
        return list(runs)

    def last_run(self) -> Run | None:
        """This job's most recent run, or None if it never ran."""
        runs = self.list_runs(1)
        return runs[0] if runs else None

    def get_run(self, run_id: int) -> Run:
        """One of this job's runs; :class:`RunScopeError` if it belongs to another job.

        Read with its repair history (the same one request), so a repaired run says when
        its repair began and how often it was repaired.
        """
        run_id = _check_run_id(run_id)
        run = self._cache.get_or_load(
            self._scope,
            ("run", run_id),
            lambda: Run.from_api(self.gateway.get_run(run_id, include_history=True)),
            ttl=self._jobs.cache_ttl,
        )
        self.session.remember_run_job(run_id, run.job_id)
        if run.job_id != self._job_id:
            raise RunScopeError(self._key, run_id)
        return run

    def get_run_output(self, run_id: int) -> RunOutput:
        """The outputs of one of this job's runs: one per task, fetched by task run id."""
        run = self._fresh_run(run_id)
        if not run.latest_tasks:
            output = self.gateway.get_run_output(run.run_id)
            task = TaskOutput.from_api(output, task_key="", run_id=run.run_id, state=run.state)
            return RunOutput(run_id=run.run_id, state=run.state, tasks=(task,))
        outputs = []
        for task_run in run.latest_tasks:
            if task_run.run_id is None:
                continue
            task_run_id = task_run.run_id

            def load(task_run_id: int = task_run_id) -> dict[str, Any]:
                return self.gateway.get_run_output(task_run_id)

            # Outputs of finished tasks never change: cache them for long.
            ttl = 3600.0 if task_run.is_terminal else 0.0
            raw = self._cache.get_or_load(self._scope, ("output", task_run_id), load, ttl=ttl)
            outputs.append(
                TaskOutput.from_api(raw, task_key=task_run.task_key, run_id=task_run_id, state=task_run.state)
            )
        return RunOutput(run_id=run.run_id, state=run.state, tasks=tuple(outputs))

    def params_schema(self) -> dict[str, Any] | None:
        """A JSON Schema of this job's parameters, for forms (None: it takes none we can describe).

        From the params model when there is one; else, for jobs that send job-level
        parameters (``job``, or ``auto`` on a job that has them), from the job's
        parameter definitions with their defaults.
        """
        return params_schema(self._config, self._key, self.get_job)

    # ------------------------------------------------------------------ writes
    def run_now(self, params: Any = None, *, idempotency_token: str | None = None) -> int:
        """Start a run; returns its run id. Always sends an idempotency token.

        The token makes the SDK's own retry of the POST (after a timeout or a dropped
        connection) return the same run instead of starting a second one; we retry
        transient failures with the same token too.
        """
        fields = self._prepare(params)
        token = (
            idempotency_token or fields.pop("idempotency_token", None) or f"jobs-widgets-{uuid.uuid4().hex}"
        )
        fields.pop("idempotency_token", None)
        if not isinstance(token, str) or not 0 < len(token) <= 64:
            raise ParamsError(
                "idempotency_token must be a string of 1 to 64 characters", key="idempotency_token"
            )
        attempt = 0
        run_id: int
        while True:
            attempt += 1
            try:
                run_id = self._with_job_hint(
                    lambda: self.gateway.run_now(self._job_id, fields, idempotency_token=token)
                )
                break
            except JobsApiError as exc:
                if not exc.transient or attempt >= RUN_NOW_ATTEMPTS:
                    raise
                # The same token again: a run the lost answer started is returned, not repeated.
                self._jobs.clock.sleep(self._policy.error_delay(attempt, exc.retry_after))
        self._cache.invalidate(self._scope)
        self.session.remember_run_job(run_id, self._job_id)
        return run_id

    def run_user_params(self, params: Any, *, idempotency_token: str | None = None) -> int:
        """``run_now`` for parameters a person typed (magics, panel): AppKit's HTTP rules apply."""
        checked = check_user_params(params, self._config, job_key=self._key)
        return self.run_now(checked, idempotency_token=idempotency_token)

    def cancel_run(self, run_id: int) -> None:
        """Cancel one of this job's runs (scope-checked before the cancel is sent)."""
        run_id = _check_run_id(run_id)
        self._fresh_run(run_id)  # what the workspace says now, not what we remember
        self.gateway.cancel_run(run_id)
        self._cache.invalidate(self._scope)

    def repair_run(
        self,
        run_id: int,
        *,
        rerun_all_failed_tasks: bool = True,
        rerun_tasks: list[str] | None = None,
        job_parameters: Mapping[str, Any] | None = None,
    ) -> int:
        """Re-run the failed tasks (or ``rerun_tasks`` and what depends on them) of one of this
        job's runs; returns the repair id. A task key the run does not have is refused
        (:class:`ParamsError`) before anything is sent.

        The repair keeps the run's job parameters unless ``job_parameters`` says otherwise
        (a repair that drops them re-runs tasks with the job's defaults: Airflow #64828),
        and names the run's latest repair, which a workspace requires of a second repair.
        """
        rerun_tasks = check_task_keys(rerun_tasks)
        run = self._fresh_run(run_id, include_history=True)
        request = repair_request(run, rerun_tasks, rerun_all_failed_tasks, job_parameters)
        repair_id = self.gateway.repair_run(run.run_id, **request)
        self._cache.invalidate(self._scope)
        return repair_id

    # ------------------------------------------------------------------ waiting
    def watch(
        self,
        run_id: int,
        *,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
        mode: str | None = None,
    ) -> RunWatch:
        """Follow an existing run of this job: one update per state change, until it ends.

        ``mode`` ("foreground"/"background") pins how this wait is polled (None: the hub decides).
        """
        run_id = _check_run_id(run_id)
        mode = check_mode(mode)
        self._jobs.check_open()
        self._require_scope(run_id)
        return RunWatch(self, run_id, timeout=self._timeout(timeout), cancel=cancel, mode=mode)

    def run_and_wait(
        self,
        params: Any = None,
        *,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
        on_abort: str = "detach",
        mode: str | None = None,
    ) -> RunWatch:
        """Start a run and follow it: ``for update in handle.run_and_wait(...)``.

        The run starts when this is called (``watch.run_id`` is known at once).
        ``on_abort="cancel"`` cancels the remote run if the wait is abandoned (cancel
        event, timeout, Ctrl-C, ``close()``, leaving the loop early); ``"detach"`` leaves
        it running.
        """
        abort = check_abort_mode(on_abort)
        poll_mode = check_mode(mode)
        timeout = self._timeout(timeout)
        self._jobs.check_open()
        run_id = self.run_now(params)
        return RunWatch(self, run_id, timeout=timeout, cancel=cancel, on_abort=abort, mode=poll_mode)

    def awatch(
        self, run_id: int, *, timeout: float | None = None, cancel: asyncio.Event | None = None
    ) -> AsyncRunWatch:
        """``async for update in handle.awatch(run_id)``: :meth:`watch` for top-level await."""
        run_id = _check_run_id(run_id)
        timeout = self._timeout(timeout)
        self._jobs.check_open()

        def start() -> int:
            self._require_scope(run_id)
            return run_id

        return AsyncRunWatch(self, start, timeout=timeout, cancel=cancel)

    def arun_and_wait(
        self,
        params: Any = None,
        *,
        timeout: float | None = None,
        cancel: asyncio.Event | None = None,
        on_abort: str = "detach",
    ) -> AsyncRunWatch:
        """``async for update in handle.arun_and_wait(...)``: starts the run on first iteration."""
        mode = check_abort_mode(on_abort)
        timeout = self._timeout(timeout)
        self._jobs.check_open()
        if self._config.params is not None or self._config.task_type not in (None, TaskType.AUTO):
            self._prepare(params)  # fail fast on bad parameters, before anything is awaited
        return AsyncRunWatch(
            self, lambda: self.run_now(params), timeout=timeout, cancel=cancel, on_abort=mode
        )

    # ------------------------------------------------------------------ RunSource (for the hub)
    def fetch_run(self, run_id: int) -> Run:
        """The run as the workspace has it now; RunScopeError if the workspace says it is another job's."""
        run = Run.from_api(self.gateway.get_run(run_id))
        self.session.remember_run_job(run_id, run.job_id)
        if run.job_id is not None and run.job_id != self._job_id:
            raise RunScopeError(self._key, run_id)
        return run

    def fetch_active_runs(self) -> list[Run]:
        raw = self.gateway.list_runs(self._job_id, limit=200, active_only=True, expand_tasks=True)
        runs = [Run.from_api(r) for r in raw]
        # Only this job's runs: a watched run missing here is confirmed (and scope-checked) by fetch_run.
        return [r for r in runs if r.job_id in (None, self._job_id)]

    @property
    def _policy(self) -> PollPolicy:
        return self._config.poll or self._jobs.hub.policy

    def fetch_history(self) -> list[Run]:
        # with tasks: the hub learns each task's usual duration from the first poll on
        raw = self.gateway.list_runs(self._job_id, limit=25, completed_only=True, expand_tasks=True)
        return [Run.from_api(r) for r in raw]

    # ------------------------------------------------------------------ internals
    def _timeout(self, timeout: float | None) -> float | None:
        return check_timeout(self._config.wait_timeout if timeout is None else timeout)

    def _effective_task_type(self) -> TaskType | None:
        task_type = self._config.task_type
        if task_type is not TaskType.AUTO:
            return task_type
        with self._type_lock:
            if self._resolved_type is None:
                job = self.get_job()
                inferred = infer_task_type(job)
                if inferred is None:
                    kinds = ", ".join(sorted({t.task_type or "unknown" for t in job.tasks})) or "none"
                    raise ParamsError(
                        f'This job does not accept parameters: cannot tell how to send them to job "{self._key}" '
                        f"(its tasks are of types: {kinds}); set JobConfig(task_type=...)."
                    )
                self._resolved_type = inferred
            return self._resolved_type

    def _prepare(self, params: Any) -> dict[str, Any]:
        has_params = params is not None and (not isinstance(params, Mapping) or bool(params))
        if self._config.task_type is TaskType.AUTO and not has_params and self._config.params is None:
            return {}
        task_type = self._effective_task_type()
        return prepare_run_fields(self._config, params, job_key=self._key, task_type=task_type)

    def _fresh_run(self, run_id: int, *, include_history: bool = False) -> Run:
        """The run as it is now (no cache), after checking it is this job's."""
        run_id = _check_run_id(run_id)
        run = Run.from_api(self.gateway.get_run(run_id, include_history=include_history))
        self.session.remember_run_job(run_id, run.job_id)
        if run.job_id != self._job_id:
            raise RunScopeError(self._key, run_id)
        return run

    def _require_scope(self, run_id: int) -> None:
        known = self.session.run_job(run_id)
        if known is None:
            known = self.fetch_run(run_id).job_id
        if known != self._job_id:
            raise RunScopeError(self._key, run_id)

    def _cancel_quietly(self, run_id: int) -> None:
        try:
            self.cancel_run(run_id)
        except Exception as exc:  # the wait is already over; report, do not mask the original error
            log.warning("could not cancel run %s: %s", run_id, exc)

    def _with_job_hint(self, call: Any) -> Any:
        try:
            return call()
        except JobsApiError as exc:
            if "does not exist" in exc.message and f"Job {self._job_id}" in exc.message:
                variable = self._jobs.variable_for(self._key)
                where = f"check {variable}" if variable else "check the job id in JobConfig"
                raise JobsApiError(
                    exc.message,
                    status_code=exc.status_code,
                    error_code=exc.error_code,
                    hint=f'job "{self._key}" (id {self._job_id}) was not found: {where}',
                    operation=exc.operation,
                ) from None
            raise
