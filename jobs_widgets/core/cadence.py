"""When to poll next: the hub's decisions as pure functions of the policy and what it knows.

Kept apart from the scheduler so the rules can be read (and tested) without threads:
how long to wait after a poll (:func:`next_interval`), the shortest gap between two
polls of one job when several jobs share the request budget (:func:`job_floor`), and
what a transient error means for the connection (:func:`degraded`).
"""

from __future__ import annotations

import random

from jobs_widgets.core.errors import JobsApiError
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.models import Run
from jobs_widgets.core.policy import PollPolicy
from jobs_widgets.core.states import RunState
from jobs_widgets.core.watched import Health

__all__ = ["CLOCK_SKEW_S", "degraded", "job_floor", "next_interval"]

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


def next_interval(
    policy: PollPolicy,
    run: Run,
    eta: Eta | None,
    *,
    polls: int,
    visible: bool,
    now: float,
    rng: random.Random,
) -> float:
    """Seconds until the next poll of ``run`` (``now``: the clock's epoch time)."""
    elapsed = run.elapsed_s(now)
    # A start "in the future" means the service's clock and ours disagree (a sped-up
    # sandbox watched on a real clock, say): the history cannot be placed in time.
    skewed = run.start_ms is not None and run.start_ms / 1000 > now + CLOCK_SKEW_S
    if run.state is RunState.TERMINATING:
        base = policy.min_interval
    elif run.state in _SLOW_STATES or eta is None or elapsed is None or skewed:
        base = policy.backoff(polls - 1)
    else:
        base = policy.interval_with_history(elapsed, eta)
    if not visible:
        base *= policy.hidden_factor
    return policy.jittered(min(base, policy.cap), rng)


def degraded(exc: JobsApiError, failures: int, delay: float, now: float) -> Health:
    """The connection after ``failures`` transient errors in a row, retrying in ``delay`` s."""
    message = exc.message if len(exc.message) < 200 else exc.message[:197] + "..."
    return Health(status="degraded", message=message, next_retry_at=now + delay, failures=failures)
