"""How often to ask the Jobs API about a run: :class:`PollPolicy`.

The policy is data; the hub (``jobs_widgets.core.hub``) applies it. Two regimes:

* **Without history** (a job we know nothing about): exponential backoff from
  ``initial`` by ``growth`` up to ``cap``, with ``jitter`` so many watchers do not
  synchronise. This alone already beats fixed cadences on long runs.
* **With history** (the job's recent successful run durations, see :class:`Eta`):
  a steady, short interval inside the job's *usual range* (between the
  ``window_start`` and ``window_end`` quantiles of its run time), and the hazard
  rule elsewhere: poll when the chance that the run ended since the last poll
  reaches ``end_probability``, which before the usual range means rarely.

Why a steady interval inside the range, rather than one that follows the hazard all
the way: for a bound on the delay of (nearly) every run's end -- what a p95 promises
-- the cheapest schedule is "short where ends happen, long elsewhere" (the
trade-off between requests and delay is linear in 1/interval, so the optimum is
bang-bang). The short interval scales with the job's spread (``window_factor`` x
sigma x median): steady jobs are watched closely, erratic ones within
``window_max``.

Modes (what :mod:`jobs_widgets.core.cadence` applies; the window rule above stays as
a method for callers that want it): with a hazard model of the job (every kind of end,
see :class:`~jobs_widgets.core.hazard.EndModel`) the interval is
``scale / sqrt(hazard)`` -- polls dense in proportion to the square root of the chance
of an end, the schedule that minimises the mean delay for a given number of requests
-- bounded by the mode's shortest and longest interval:

* **foreground** (a visible panel or a blocking wait, few runs): ``foreground_scale``,
  between ``min_interval`` and ``foreground_max`` -- every end, failures included, is
  seen within ``foreground_max`` seconds;
* **background** (hidden panels, many runs): ``background_scale``, between
  ``background_min`` and ``cap``. Runs of one job polled together (one ``runs/list``)
  add their hazards, so a batch of many runs about to end is polled as densely as the
  sum asks, for one request per tick.

``mode="auto"`` picks foreground while a visible listener watches the run and the hub
watches at most ``foreground_runs`` runs; a listener or a job source can pin either.

``cap`` bounds the gap between two polls of a run, unless the workspace asked for
longer with ``Retry-After`` (then the next try is at the time it asked, and the
connection's health says when).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobs_widgets.core.eta import Eta

__all__ = ["MODES", "PollPolicy", "default_policy", "set_default_policy"]

MODES = ("auto", "foreground", "background")


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
    jitter: float = 0.05
    #: Never poll one job more often than this.
    min_interval: float = 4.0
    #: Interval inside the job's usual range: this fraction of its spread (sigma x median)...
    window_factor: float = 0.04
    #: ...but never longer than this.
    window_max: float = 9.0
    #: Outside the usual range: poll when the run has this chance of having ended.
    end_probability: float = 0.02
    #: The usual range, as quantiles of the job's run-time distribution: dense polling
    #: starts where 3% of runs have ended and stops where 99.9% have. Early polls are
    #: the expensive ones (every run is still alive then), late ones are cheap.
    window_start: float = 0.02
    window_end: float = 0.999
    #: Intervals are stretched by this factor while no visible panel shows the run.
    hidden_factor: float = 3.0
    #: Requests per minute one process aims to spend when it watches several jobs
    #: (shared fairly between them; see ``Hub``).
    budget_per_minute: float = 10.0
    #: First retry delay after a transient error (then grows by ``growth`` to ``cap``).
    error_initial: float = 2.0
    #: "auto", "foreground" or "background" (see the module docstring).
    mode: str = "auto"
    #: Foreground: interval = foreground_scale / sqrt(hazard), at most foreground_max.
    foreground_scale: float = 0.25
    foreground_max: float = 6.0
    #: Background: interval = background_scale / sqrt(hazard), within [background_min, background_max]
    #: (and never above cap).
    background_scale: float = 0.45
    background_min: float = 20.0
    background_max: float = 24.0
    #: Background, several runs of one job polled together (one request): at least this.
    batch_min: float = 9.0
    #: Multi-task runs: place the end by the last unfinished task's own history.
    task_aware: bool = True
    #: Auto mode is foreground only while the hub watches at most this many runs.
    foreground_runs: int = 3

    def __post_init__(self) -> None:
        for name in (
            "initial",
            "cap",
            "min_interval",
            "window_max",
            "error_initial",
            "budget_per_minute",
            "foreground_scale",
            "foreground_max",
            "background_scale",
            "background_min",
            "background_max",
            "batch_min",
        ):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"PollPolicy.{name} must be positive, got {value!r}")
        if self.growth < 1:
            raise ValueError(f"PollPolicy.growth must be >= 1, got {self.growth!r}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"PollPolicy.jitter must be within [0, 1), got {self.jitter!r}")
        if not 0 < self.window_start < self.window_end < 1:
            raise ValueError("PollPolicy.window_start and window_end must satisfy 0 < start < end < 1")
        if not 0 < self.end_probability < 1:
            raise ValueError(
                f"PollPolicy.end_probability must be within (0, 1), got {self.end_probability!r}"
            )
        if self.hidden_factor < 1:
            raise ValueError(f"PollPolicy.hidden_factor must be >= 1, got {self.hidden_factor!r}")
        if self.mode not in MODES:
            raise ValueError(f"PollPolicy.mode must be one of {', '.join(MODES)}, got {self.mode!r}")
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

    def window_limit(self, spread: float) -> float:
        """The longest interval inside the usual range, for a job whose spread is ``spread`` s."""
        return min(self.window_max, max(self.min_interval, self.window_factor * spread))

    def interval_for_hazard(self, hazard: float, *, in_window: bool, spread: float | None = None) -> float:
        """The interval for a run whose chance of ending per second is ``hazard``.

        Inside the usual range (``in_window``): the steady interval for a job of spread
        ``spread`` seconds (see :meth:`window_limit`). Outside it: ``p / hazard``
        seconds, which makes the chance of an end between two polls about ``p``
        (``end_probability``), bounded by ``min_interval`` and ``cap``.
        """
        if in_window:
            return self.window_max if spread is None else self.window_limit(spread)
        if hazard <= 0:
            return self.cap
        return max(self.min_interval, min(self.cap, self.end_probability / hazard))

    def interval_with_history(self, elapsed: float, eta: Eta) -> float:
        """The interval for a run ``elapsed`` seconds old, given its job's history.

        Before the usual range: the hazard rule (mostly ``cap``). Inside it: the steady
        short interval. Past it (an unusually long run): ``cap``, since the history no
        longer predicts when it ends and hammering an overdue run helps nobody.
        """
        if elapsed > eta.quantile(self.window_end):
            return self.cap
        in_window = elapsed >= eta.quantile(self.window_start)
        return self.interval_for_hazard(eta.hazard(elapsed), in_window=in_window, spread=eta.sigma * eta.p50)

    def mode_bounds(self, mode: str) -> tuple[float, float, float]:
        """``(scale, shortest, longest)`` interval of ``mode`` ("foreground"/"background")."""
        if mode == "foreground":
            longest = min(self.cap, max(self.min_interval, self.foreground_max))
            return self.foreground_scale, self.min_interval, longest
        longest = min(self.cap, self.background_max)
        shortest = min(longest, max(self.min_interval, self.background_min))
        return self.background_scale, shortest, longest

    def jittered(self, interval: float, rng: random.Random) -> float:
        """``interval`` spread by +-``jitter``, never above ``cap``."""
        if self.jitter:
            interval *= 1 + rng.uniform(-self.jitter, self.jitter)
        return min(self.cap, max(0.0, interval))


_default = PollPolicy()


def default_policy() -> PollPolicy:
    """The policy of every hub that was not given one (``%config JobsMagics.poll_*`` sets it)."""
    return _default


def set_default_policy(policy: PollPolicy) -> None:
    """Make ``policy`` the process default: every hub without its own policy follows it at once."""
    global _default
    if not isinstance(policy, PollPolicy):
        raise TypeError(f"expected a PollPolicy, got {type(policy).__name__}")
    _default = policy


def check_mode(mode: str | None) -> str | None:
    """A polling mode to pin: "foreground", "background", or None/"auto" (the hub decides)."""
    if mode is None or mode == "auto":
        return None
    if mode not in ("foreground", "background"):
        from jobs_widgets.core.errors import ParamsError

        raise ParamsError(f'mode must be "foreground", "background" or "auto", got {mode!r}', key="mode")
    return mode
