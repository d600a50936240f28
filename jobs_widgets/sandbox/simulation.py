"""The discrete-event simulation under the engine: runs move through their life cycle.

Events (a run leaving the queue, a task finishing, a retry, a timeout) sit in a heap
keyed by simulated time; :meth:`Simulation._catch_up` plays every event due by the
clock's "now" in time order, so a run's timeline is exact however rarely anyone
looks. Every scheduled action is guarded by its run's generation, so a cancel or a
repair silently voids what was planned before it. The API on top lives in
:class:`~jobs_widgets.sandbox.engine.Engine`.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from collections.abc import Callable

from jobs_widgets.core.clock import Clock, SystemClock
from jobs_widgets.sandbox import childruns, foreach, runif, texts
from jobs_widgets.sandbox.plans import draw_plan, failure_rule
from jobs_widgets.sandbox.records import TERMINAL_LIFE, JobRecord, RunRecord, TaskRun, ms, task_done
from jobs_widgets.sandbox.specs import TaskSpec


class Simulation:
    """The engine's state and the event loop that moves its runs; see :class:`Engine`."""

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
        self._jobs: dict[int, JobRecord] = {}
        self._keys: dict[str, int] = {}
        self._runs: dict[int, RunRecord] = {}
        self._task_runs: dict[int, tuple[RunRecord, TaskRun]] = {}
        self._tokens: dict[str, int] = {}
        self._repair_ids = itertools.count(7001)
        self._history_seconds: set[int] = set()
        self.run_now_count = 0

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

    def _rng(self, job: JobRecord, number: int, suffix: str = "") -> random.Random:
        return random.Random(f"{self.seed}/{job.job_id}/{number}{suffix}")

    def _create_run(self, job: JobRecord, now: float, *, user: str, token: str | None) -> RunRecord:
        number = next(job.numbers)
        script = job.scripts.pop(0) if job.scripts else None
        plan = draw_plan(job.spec, self._rng(job, number), script)
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
            run.queue_reason = texts.queued(job.spec.max_concurrent_runs)
            run.message = run.queue_reason
            job.queue.append(run)
        else:
            run.life = "SKIPPED"
            run.message = texts.skipped(job.spec.max_concurrent_runs)
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
                deps = {d: run.tasks[d] for d in task.spec.depends_on}
                if any(not task_done(d) for d in deps.values()):
                    continue
                changed = True
                if runif.excluded(task, deps):
                    task.life, task.result, task.message = "TERMINATED", "EXCLUDED", "Excluded by a condition"
                    task.start = task.end = now
                    continue
                if not runif.runs(task.spec.run_if, [d.result for d in deps.values()]):
                    task.life, task.result = "TERMINATED", "UPSTREAM_FAILED"
                    failed = [k for k, d in deps.items() if d.result != "SUCCESS"]
                    task.message = f"Upstream task(s) {', '.join(failed)} failed"
                    task.start = task.end = now
                    continue
                self._start_task(run, key, task, now)
        if all(task_done(t) for t in run.tasks.values()):
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
        if task.spec.kind == "condition":  # a condition is evaluated at once and never fails
            task.outcome = runif.condition_outcome(task.spec.settings, run.job_parameters)
            self._finish_task(run, task, now, "SUCCESS", flaky=False)
            return
        if task.spec.kind == "for_each" or task.spec.starts_child:
            nested = foreach.start if task.spec.kind == "for_each" else childruns.start
            nested(self, run, task, now, lambda t, r: self._finish_task(run, task, t, r, flaky=False))
            return
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
        path = texts.task_path(spec.settings, spec.task_key)
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
        elif (fine := runif.run_result(run.tasks.values())) is not None:
            result, message = fine, ""
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
        for hook in run.on_end:
            hook(now)
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
            if task_done(task):
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
                if task.life in {"TERMINATING", "PENDING", "WAITING_FOR_RETRY", "BLOCKED", "RUNNING"}:
                    task.life = "TERMINATED"
                    task.result = task_result
                    task.end = t
                    task.message = "Run cancelled." if why == "CANCELED" else "Run timed out."
                foreach.stop(task, task_result, t)
                childruns.stop(self, task, t)
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
            if not task_done(task):
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
        rule = failure_rule(run.job.spec, run.overriding, run.job_parameters)
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
            {"id": repair_id, "type": "REPAIR", "start_time": ms(now), "task_run_ids": task_ids}
        )
        run.life = "PENDING"
        run.message = "Repairing run"
        run.admitted = True
        self._at(now + run.plan.setup_s / 2, self._guard(run, lambda t: self._to_running(run, t)))
        return repair_id

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
