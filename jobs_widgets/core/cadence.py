"""When to poll next: the hub's decisions as pure functions of the policy and what it knows.

Kept apart from the scheduler so the rules can be read (and tested) without threads:
the chance that a run ends now (:func:`run_hazard`), how long to wait after a poll
(:func:`next_interval`, by mode: see :mod:`jobs_widgets.core.policy`), the shortest gap between two
polls of one job when several jobs share the request budget (:func:`job_floor`), and
what a transient error means for the connection (:func:`degraded`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

from jobs_widgets.core.errors import JobsApiError
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.hazard import EndModel
from jobs_widgets.core.models import Run
from jobs_widgets.core.policy import PollPolicy
from jobs_widgets.core.states import RunState
from jobs_widgets.core.watched import Health

__all__ = ["CLOCK_SKEW_S", "degraded", "job_floor", "next_interval", "run_hazard"]

CLOCK_SKEW_S = 5.0
_SLOW_STATES = frozenset({RunState.QUEUED, RunState.BLOCKED})


def job_floor(policy: PollPolicy, watched_jobs: int, budget_per_minute: float) -> float:
    """The shortest gap between two polls of one job, given how many jobs are watched.

    One watched job is polled as often as its policy allows; each further job adds
    ``60 / budget_per_minute`` seconds to every job's gap, so a process spends about
    ``budget_per_minute`` requests a minute however many jobs it watches.
    """
    jobs = max(1, watched_jobs)
    return min(policy.cap, max(policy.min_interval, (jobs - 1) * 60.0 / budget_per_minute))


def run_hazard(
    model: EndModel | None, run: Run, now: float, tasks: Mapping[str, Eta] | None = None
) -> float | None:
    """The chance per second that ``run`` ends now (``now``: epoch s), or None when unknown.

    ``tasks``: the job's per-task durations (task key -> :class:`Eta`). With them, a
    multi-task run's success hazard is that of its last unfinished task (zero while two
    or more are unfinished: the run cannot succeed before both end); the failure part
    stays the run-level one.

    Unknown: no model (a thin history), a run not started or still queued, or a start
    "in the future" (the service's clock and ours disagree, so the history cannot be
    placed in time: a sped-up sandbox watched on a real clock, say).
    """
    elapsed = run.elapsed_s(now)
    if model is None or elapsed is None or run.state in _SLOW_STATES:
        return None
    if run.start_ms is not None and run.start_ms / 1000 > now + CLOCK_SKEW_S:
        return None
    if tasks and len(run.tasks) > 1:
        unfinished = [t for t in run.tasks if not t.is_terminal]
        failing = model.failure_hazard(elapsed)
        if len(unfinished) >= 2:
            return failing
        if len(unfinished) == 1:
            last = unfinished[0]
            eta = tasks.get(last.task_key)
            if last.start_ms is None or last.state in _SLOW_STATES or last.state is RunState.PENDING:
                return failing
            if eta is not None:
                return failing + eta.hazard(max(0.0, now - last.start_ms / 1000))
    return model.hazard(elapsed)


def next_interval(
    policy: PollPolicy,
    run: Run,
    hazard: float | None,
    *,
    polls: int,
    mode: str,
    rng: random.Random,
    runs: int = 1,
) -> float:
    """Seconds until the next poll of ``run``.

    ``hazard``: the chance per second that one of the runs polled with it ends now (the
    sum over the ``runs`` runs of its job polled together; None: unknown, so plain
    backoff up to the mode's longest interval). ``mode``: "foreground" or "background".
    """
    scale, shortest, longest = policy.mode_bounds(mode)
    if runs > 1 and mode != "foreground":
        # One request covers them all: a batch may be polled more often than one run.
        shortest = min(shortest, max(policy.min_interval, policy.batch_min))
    if run.state is RunState.TERMINATING:
        base = policy.min_interval
    elif mode == "foreground" and run.state is RunState.PENDING:
        # A person is looking and the cluster is starting: "Running" must show within
        # about min_interval of the workspace saying so (setup lasts minutes, not hours).
        base = min(longest, policy.min_interval, policy.backoff(polls - 1))
    elif hazard is None:
        base = min(longest, policy.backoff(polls - 1))
    elif hazard <= 0:
        base = longest
    else:
        base = min(longest, max(shortest, scale / math.sqrt(hazard)))
    return policy.jittered(base, rng)


def degraded(exc: JobsApiError, failures: int, delay: float, now: float, cap: float | None = None) -> Health:
    """The connection after ``failures`` transient errors in a row, retrying in ``delay`` s.

    A wait longer than ``cap`` (the workspace's ``Retry-After``) is said as such, with
    the time of the next try: the usual bound between polls does not hold then.
    """
    message = exc.message if len(exc.message) < 200 else exc.message[:197] + "..."
    if cap is not None and delay > cap:
        message += f" (the workspace asked to wait {delay:.0f} s, longer than the usual {cap:g} s)"
    return Health(status="degraded", message=message, next_retry_at=now + delay, failures=failures)
