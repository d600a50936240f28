"""How often to ask the Jobs API about a run: :class:`PollPolicy`.

The policy is data; the hub (``jobs_widgets.core.hub``) applies it. Two regimes:

* **Without history** (a job we know nothing about): exponential backoff from
  ``initial`` by ``growth`` up to ``cap``, with ``jitter`` so many watchers do not
  synchronise. This alone already beats fixed cadences on long runs.
* **With history** (the job's recent successful run durations): poll densely when the
  run is likely to end soon and sparsely when it is not. The interval is chosen so that
  the chance the run ends between two polls is about ``end_probability``; it never
  drops below ``min_interval`` and never exceeds ``window_max`` while the run is inside
  its usual duration range, nor ``cap`` ever. See :meth:`interval_for_hazard`.

``cap`` is the hard bound on detection latency for any run: failed and cancelled runs
end at moments no history predicts, and they are noticed within ``cap`` seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["PollPolicy"]


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Polling cadence for watched runs (all durations in seconds)."""

    #: First poll after a watch starts (a run that was just triggered is rarely over).
    initial: float = 2.0
    #: Backoff growth per poll when nothing better is known.
    growth: float = 1.5
    #: Hard maximum interval: the worst-case delay before any run end is noticed.
    cap: float = 30.0
    #: Random spread of each interval, as a fraction (0.1: +-10%).
    jitter: float = 0.1
    #: Never poll one job more often than this.
    min_interval: float = 5.0
    #: Longest interval while the run is within its job's usual duration range.
    window_max: float = 9.0
    #: Target chance that the run ends between two polls (history-based regime).
    end_probability: float = 0.03
    #: Intervals are stretched by this factor while no visible panel shows the run.
    hidden_factor: float = 3.0
    #: Workspace-wide request budget of one process, shared fairly between watched jobs.
    budget_per_minute: float = 12.0
    #: First retry delay after a transient error (then grows by ``growth`` to ``cap``).
    error_initial: float = 2.0

    def __post_init__(self) -> None:
        for name in ("initial", "cap", "min_interval", "window_max", "error_initial", "budget_per_minute"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"PollPolicy.{name} must be positive, got {value!r}")
        if self.growth < 1:
            raise ValueError(f"PollPolicy.growth must be >= 1, got {self.growth!r}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"PollPolicy.jitter must be within [0, 1), got {self.jitter!r}")
        if not 0 < self.end_probability < 1:
            raise ValueError(
                f"PollPolicy.end_probability must be within (0, 1), got {self.end_probability!r}"
            )
        if self.hidden_factor < 1:
            raise ValueError(f"PollPolicy.hidden_factor must be >= 1, got {self.hidden_factor!r}")
        if self.min_interval > self.cap or self.initial > self.cap:
            raise ValueError("PollPolicy.min_interval and initial must not exceed cap")

    def backoff(self, attempt: int, *, start: float | None = None) -> float:
        """Interval number ``attempt`` (0-based) of plain exponential backoff, before jitter."""
        base = self.initial if start is None else start
        return min(self.cap, base * self.growth ** max(0, attempt))

    def error_delay(self, failures: int, retry_after: float | None = None) -> float:
        """Delay before retrying after ``failures`` consecutive transient errors."""
        delay = min(self.cap, self.error_initial * self.growth ** max(0, failures - 1))
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def interval_for_hazard(self, hazard: float, *, in_window: bool) -> float:
        """The interval for a run whose chance of ending per second is ``hazard``.

        Polling every ``p / hazard`` seconds makes the chance of an end between two
        polls about ``p`` (``end_probability``): frequent polls where ends are likely,
        rare ones where they are not. Bounded by ``min_interval`` and by ``window_max``
        inside the usual duration range (``cap`` outside it).
        """
        upper = self.window_max if in_window else self.cap
        if hazard <= 0:
            return upper
        return max(self.min_interval, min(upper, self.end_probability / hazard))

    def jittered(self, interval: float, rng: random.Random) -> float:
        """``interval`` spread by +-``jitter``, never above ``cap``."""
        if self.jitter:
            interval *= 1 + rng.uniform(-self.jitter, self.jitter)
        return min(self.cap, max(0.0, interval))
