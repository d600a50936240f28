"""When a job's runs end, every kind of end: :class:`EndModel`, the hub's hazard model.

A run can end two ways the hub cares about: it *succeeds* (at a time the job's past
successes predict well: :class:`~jobs_widgets.core.eta.Eta`), or it *fails, is
cancelled or times out* (at a time past failures predict, less well). The model
mixes both, weighted by how often each happened in the job's history::

    f(t) = (1 - p_bad) f_ok(t) + p_bad f_bad(t)          S(t) likewise
    hazard(t) = f(t) / S(t)                              the chance per second of an end now

``p_bad`` is smoothed (one imagined failure in ten runs), so a job that never failed
still gets a floor of failure hazard. With fewer than three failures their end times
are taken as uniform over the successes' usual range (a failure can come at any
moment); with three or more they get their own lognormal fit.

Multi-task runs: a run can only succeed when its last unfinished task does, so while
two or more tasks are unfinished only the failure part of the hazard applies, and once
one task is left its own history (:class:`Eta` of that task's durations) places the
end: each task boundary sharpens the estimate (see ``cadence.run_hazard``).

Cold start is honest: with fewer than ``MIN_SAMPLES`` successes there is no model
(``EndModel.fit`` returns None) and the hub falls back to plain backoff bounded by its
mode's longest interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from jobs_widgets.core.eta import MIN_SAMPLES, Eta

__all__ = ["EndModel"]

#: Smoothing of the failure share: as if one run in ``_PRIOR_RUNS`` had failed.
_PRIOR_BAD, _PRIOR_RUNS = 1.0, 10.0


@dataclass(frozen=True, slots=True)
class EndModel:
    """A job's end-time distribution over every kind of end (seconds since the run started)."""

    ok: Eta
    bad: Eta | None
    p_bad: float
    horizon: float  # failures without a fit of their own: uniform over [0, horizon]

    @classmethod
    def fit(cls, ok: Iterable[float], bad: Iterable[float] = ()) -> EndModel | None:
        """From successes' durations and the moments failed/cancelled/timed-out runs ended."""
        eta = Eta.from_durations(ok)
        if eta is None:
            return None
        bad_values = [float(b) for b in bad if b > 0 and math.isfinite(b)]
        p_bad = (len(bad_values) + _PRIOR_BAD) / (eta.samples + len(bad_values) + _PRIOR_RUNS)
        bad_eta = Eta.from_durations(bad_values) if len(bad_values) >= MIN_SAMPLES else None
        return cls(ok=eta, bad=bad_eta, p_bad=min(0.9, p_bad), horizon=eta.quantile(0.99))

    def _bad_density(self, t: float) -> tuple[float, float]:
        if self.bad is not None:
            return _density(self.bad, t), self.bad.survival(t)
        if t >= self.horizon:
            return 0.0, 0.0
        return 1.0 / self.horizon, 1.0 - t / self.horizon

    def survival(self, elapsed: float) -> float:
        """Chance a run is still going after ``elapsed`` seconds."""
        _, bad_s = self._bad_density(max(0.0, elapsed))
        return (1 - self.p_bad) * self.ok.survival(elapsed) + self.p_bad * bad_s

    def hazard(self, elapsed: float) -> float:
        """Chance per second that a run still going after ``elapsed`` seconds ends now."""
        t = max(elapsed, 1e-3)
        bad_f, bad_s = self._bad_density(t)
        f = (1 - self.p_bad) * _density(self.ok, t) + self.p_bad * bad_f
        s = (1 - self.p_bad) * self.ok.survival(t) + self.p_bad * bad_s
        return f / s if s > 1e-12 else 0.0

    def failure_hazard(self, elapsed: float) -> float:
        """The part of :meth:`hazard` that failures, cancellations and timeouts make."""
        t = max(elapsed, 1e-3)
        bad_f, bad_s = self._bad_density(t)
        s = (1 - self.p_bad) * self.ok.survival(t) + self.p_bad * bad_s
        return self.p_bad * bad_f / s if s > 1e-12 else 0.0

    def overdue(self, elapsed: float) -> bool:
        """True past nearly every end the history shows (the history no longer predicts this run)."""
        return elapsed > self.ok.quantile(0.999) and (self.bad is None or elapsed > self.bad.quantile(0.999))


def _density(eta: Eta, t: float) -> float:
    if t <= 0:
        return 0.0
    z = (math.log(t) - eta.mu) / eta.sigma
    return math.exp(-0.5 * z * z) / (t * eta.sigma * math.sqrt(2 * math.pi))
