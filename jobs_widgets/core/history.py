"""What the hub knows of each job's past runs: ends by run id, the ETA and the end model.

Durations are kept by run id, so loading the same history twice (a panel and a wait
both asking) or seeing a run end that the history already holds never counts a run
twice: the estimate is computed from each run once. Successes give the ETA; every
terminal run (successes, and when failed, cancelled or timed-out runs ended) gives the
hub's hazard model (:class:`~jobs_widgets.core.hazard.EndModel`).

A job that changed (its last few successes all far from what the history says: it got
twice as slow, say) is refitted on its recent runs only, so the model follows within a
handful of runs instead of fifty.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable

from jobs_widgets.core.eta import MIN_SAMPLES, Eta
from jobs_widgets.core.hazard import EndModel
from jobs_widgets.core.models import Run
from jobs_widgets.core.states import RunState

__all__ = ["HISTORY_SIZE", "JobHistory"]

HISTORY_SIZE = 50
#: The last this many successes decide whether the job changed...
RECENT = 5
#: ...when their median is this factor away from the history's median (and further
#: than three standard errors of such a median, so an erratic job is not "changed"
#: by chance).
DRIFT = 1.5
Key = tuple[str, int]  # (identity, job id)


class JobHistory:
    """Per (identity, job): the last ``HISTORY_SIZE`` successful run durations, and their ETA."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._durations: dict[Key, OrderedDict[int, float]] = {}
        self._bad: dict[Key, OrderedDict[int, float]] = {}
        self._etas: dict[Key, Eta] = {}
        self._models: dict[Key, EndModel] = {}
        self._tasks: dict[Key, dict[str, OrderedDict[int, float]]] = {}
        self._task_etas: dict[Key, dict[str, Eta]] = {}
        self._loaded: set[Key] = set()
        self._synthetic = itertools.count(-1, -1)  # ids for durations given without a run

    def eta(self, key: Key) -> Eta | None:
        with self._lock:
            return self._etas.get(key)

    def model(self, key: Key) -> EndModel | None:
        """The job's end model (every kind of end), or None while its history is too thin."""
        with self._lock:
            return self._models.get(key)

    def task_etas(self, key: Key) -> dict[str, Eta]:
        """Per task key, the durations of that task's successful runs (multi-task jobs)."""
        with self._lock:
            return dict(self._task_etas.get(key, {}))

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

    def record(self, key: Key, durations: Iterable[float], bad: Iterable[float] = ()) -> None:
        """Seed a job's history with successes' durations and failures' end times (seconds)."""
        with self._lock:
            known = self._durations.setdefault(key, OrderedDict())
            for duration in durations:
                known[next(self._synthetic)] = float(duration)
            failed = self._bad.setdefault(key, OrderedDict())
            for ended in bad:
                failed[next(self._synthetic)] = float(ended)
            self._loaded.add(key)
            self._refit(key)

    def store(self, key: Key, runs: Iterable[Run]) -> None:
        """Add the terminal runs among ``runs`` (oldest first or not: order by run id)."""
        ended = sorted((r for r in runs if r.is_terminal and r.duration_s), key=lambda r: r.run_id)
        with self._lock:
            known = self._durations.setdefault(key, OrderedDict())
            failed = self._bad.setdefault(key, OrderedDict())
            for run in ended:
                target = known if run.state is RunState.SUCCEEDED else failed
                if run.state is RunState.SKIPPED or run.run_id in target or not run.duration_s:
                    continue
                target[run.run_id] = run.duration_s
                if len(run.tasks) > 1:
                    self._store_tasks(key, run)
            self._refit(key)

    def _store_tasks(self, key: Key, run: Run) -> None:
        by_task = self._tasks.setdefault(key, {})
        etas = self._task_etas.setdefault(key, {})
        for task in run.tasks:
            if task.state is not RunState.SUCCEEDED or not task.duration_s or task.run_id is None:
                continue
            known = by_task.setdefault(task.task_key, OrderedDict())
            known[task.run_id] = task.duration_s
            while len(known) > HISTORY_SIZE:
                known.popitem(last=False)
            eta = Eta.from_durations(known.values())
            if eta is not None:
                etas[task.task_key] = eta

    def _refit(self, key: Key) -> None:
        known = self._durations[key]
        failed = self._bad.setdefault(key, OrderedDict())
        for table in (known, failed):
            while len(table) > HISTORY_SIZE:
                table.popitem(last=False)
        durations = list(known.values())
        eta = Eta.from_durations(durations)
        if eta is not None and len(durations) > RECENT + MIN_SAMPLES:
            recent = Eta.from_durations(durations[-RECENT:])
            limit = max(math.log(DRIFT), 3 * eta.sigma / math.sqrt(RECENT))
            if recent is not None and abs(recent.mu - eta.mu) > limit:
                # The job changed: trust only what happened since (and forget what was before).
                for run_id in list(known)[:-RECENT]:
                    del known[run_id]
                failed.clear()
                durations = durations[-RECENT:]
                eta = recent
        if eta is not None:
            self._etas[key] = eta
            model = EndModel.fit(durations, failed.values())
            if model is not None:
                self._models[key] = model
