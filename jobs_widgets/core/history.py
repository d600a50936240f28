"""What the hub knows of each job's past runs: durations by run id, and the ETA from them.

Durations are kept by run id, so loading the same history twice (a panel and a wait
both asking) or seeing a run end that the history already holds never counts a run
twice: the estimate is computed from each run once.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable

from jobs_widgets.core.eta import Eta
from jobs_widgets.core.models import Run
from jobs_widgets.core.states import RunState

__all__ = ["HISTORY_SIZE", "JobHistory"]

HISTORY_SIZE = 50
Key = tuple[str, int]  # (identity, job id)


class JobHistory:
    """Per (identity, job): the last ``HISTORY_SIZE`` successful run durations, and their ETA."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._durations: dict[Key, OrderedDict[int, float]] = {}
        self._etas: dict[Key, Eta] = {}
        self._loaded: set[Key] = set()
        self._synthetic = itertools.count(-1, -1)  # ids for durations given without a run

    def eta(self, key: Key) -> Eta | None:
        with self._lock:
            return self._etas.get(key)

    def samples(self, key: Key) -> int:
        with self._lock:
            return len(self._durations.get(key, ()))

    def is_loaded(self, key: Key) -> bool:
        with self._lock:
            return key in self._loaded

    def claim_load(self, key: Key) -> bool:
        """True for the one caller that should load ``key``'s history (then it is marked loaded)."""
        with self._lock:
            if key in self._loaded:
                return False
            self._loaded.add(key)
            return True

    def release_load(self, key: Key) -> None:
        """The load failed: let a later caller try again."""
        with self._lock:
            self._loaded.discard(key)

    def record(self, key: Key, durations: Iterable[float]) -> None:
        """Seed a job's history with durations (seconds) known without asking the API."""
        with self._lock:
            known = self._durations.setdefault(key, OrderedDict())
            for duration in durations:
                known[next(self._synthetic)] = float(duration)
            self._loaded.add(key)
            self._refit(key)

    def store(self, key: Key, runs: Iterable[Run]) -> None:
        """Add the successful runs among ``runs`` (oldest first or not: order by run id)."""
        done = sorted(
            (r for r in runs if r.state is RunState.SUCCEEDED and r.duration_s), key=lambda r: r.run_id
        )
        with self._lock:
            known = self._durations.setdefault(key, OrderedDict())
            for run in done:
                if run.run_id not in known and run.duration_s:
                    known[run.run_id] = run.duration_s
            self._refit(key)

    def _refit(self, key: Key) -> None:
        known = self._durations[key]
        while len(known) > HISTORY_SIZE:
            known.popitem(last=False)
        eta = Eta.from_durations(known.values())
        if eta is not None:
            self._etas[key] = eta
