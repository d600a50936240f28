"""How long a job's runs usually take, from its own history: :class:`Eta`.

Run times of a job are close to lognormal (most runs near the median, a long tail of
slow ones). From recent successful durations we keep the empirical p10/p50/p90 for
display ("usually takes 4–6 min") and a lognormal fit for the hub's polling: the
*hazard* (the chance per second that a still-running run ends now) is what tells the
hub when to poll densely. Dask rejected ETAs because task times vary too much; a job's
whole-run duration is far steadier, and we only ever promise a range.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Eta"]

_Z90 = 1.2815515655446004  # standard normal quantile of 0.9
MIN_SAMPLES = 3


def _usable(value: object) -> bool:
    return isinstance(value, int | float) and value > 0 and math.isfinite(value)


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _norm_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _quantile(sorted_values: list[float], q: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Eta:
    """A job's run-time distribution (seconds), from its recent successful runs."""

    samples: int
    p10: float
    p50: float
    p90: float
    mu: float
    sigma: float

    @classmethod
    def from_durations(cls, durations: Iterable[float]) -> Eta | None:
        """Fit from durations in seconds; None with fewer than three usable samples."""
        values = sorted(float(d) for d in durations if _usable(d))
        if len(values) < MIN_SAMPLES:
            return None
        logs = [math.log(v) for v in values]
        mu = statistics.median(logs)
        # Spread from the inter-decile range: robust to one odd run, unlike a stdev.
        spread = (_quantile(logs, 0.9) - _quantile(logs, 0.1)) / (2 * _Z90)
        sigma = min(2.0, max(0.05, spread))
        return cls(
            samples=len(values),
            p10=_quantile(values, 0.1),
            p50=_quantile(values, 0.5),
            p90=_quantile(values, 0.9),
            mu=mu,
            sigma=sigma,
        )

    def quantile(self, q: float) -> float:
        """The fitted duration below which a fraction ``q`` of runs finish."""
        q = min(max(q, 1e-9), 1 - 1e-9)
        # Inverse normal CDF by bisection: exact enough, and dependency-free.
        lo, hi = -10.0, 10.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if _norm_cdf(mid) < q:
                lo = mid
            else:
                hi = mid
        return math.exp(self.mu + self.sigma * (lo + hi) / 2)

    def survival(self, elapsed: float) -> float:
        """Chance a run is still going after ``elapsed`` seconds."""
        if elapsed <= 0:
            return 1.0
        return 1.0 - _norm_cdf((math.log(elapsed) - self.mu) / self.sigma)

    def hazard(self, elapsed: float) -> float:
        """Chance per second that a run still going after ``elapsed`` seconds ends now."""
        if elapsed <= 0:
            return 0.0
        z = (math.log(elapsed) - self.mu) / self.sigma
        density = _norm_pdf(z) / (elapsed * self.sigma)
        survival = max(1.0 - _norm_cdf(z), 1e-12)
        return density / survival

    def in_window(self, elapsed: float, start: float = 0.005, end: float = 0.995) -> bool:
        """True while ``elapsed`` lies between the ``start`` and ``end`` quantiles of run time."""
        return self.quantile(start) <= elapsed <= self.quantile(end)

    def progress(self, elapsed: float) -> float:
        """A progress fraction for a bar: elapsed over the median, capped below 1."""
        return min(0.99, max(0.0, elapsed / self.p50)) if self.p50 > 0 else 0.0

    def describe(self) -> str:
        """``"usually takes 4–6 min"`` (p10–p90)."""
        return f"usually takes {_span(self.p10, self.p90)}"


def _span(lo: float, hi: float) -> str:
    if hi < 90:
        return f"{round(lo)}–{round(hi)} s"
    if hi < 90 * 60:
        return f"{max(1, round(lo / 60))}–{max(1, round(hi / 60))} min"
    return f"{lo / 3600:.1f}–{hi / 3600:.1f} h"
