"""A small read cache: per identity and job, short-lived, emptied by writes.

Reads (``get_job``, ``list_runs``, ``get_run``...) may be answered from here for a few
seconds so that a panel, a magic and a notebook loop asking the same thing do not
each hit the API; two asking at the same moment share one request. Unlike AppKit's 60-second cache, a write (run now, cancel, repair)
empties that job's entries at once, so nobody sees a stale "no runs yet" right after
starting one. A load that was already in flight when the write emptied the job's
entries is returned to its caller but not stored: it may predate the write.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from jobs_widgets.core.clock import Clock

__all__ = ["ReadCache"]

T = TypeVar("T")
Scope = tuple[str, int]  # (identity, job id)


class _Flight:
    """One read under way, whose answer (or error) every caller asking the same thing shares."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def land(self, value: Any, error: BaseException | None) -> None:
        self._value, self._error = value, error
        self._done.set()

    def result(self) -> Any:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class ReadCache:
    """TTL cache keyed by ``(scope, key)``; ``invalidate(scope)`` drops a job's entries."""

    def __init__(self, clock: Clock, *, ttl: float = 5.0, max_entries: int = 2048) -> None:
        self._clock = clock
        self.ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[tuple[Scope, Hashable], tuple[float, Any]] = OrderedDict()
        # Bumped by invalidate(): a load that started under an older generation is not stored.
        self._generations: dict[Scope, int] = {}
        # Reads under way: a second caller asking the same thing waits for the first's answer.
        self._flights: dict[tuple[Scope, Hashable], _Flight] = {}
        self._lock = threading.Lock()

    def get_or_load(
        self, scope: Scope, key: Hashable, load: Callable[[], T], *, ttl: float | None = None
    ) -> T:
        """The cached value for ``key`` if fresh, else ``load()``.

        The loaded value is stored only if ``load()`` succeeded and nothing invalidated
        the job meanwhile (a write while the read was in flight makes the read stale).
        """
        lifetime = self.ttl if ttl is None else ttl
        now = self._clock.monotonic()
        with self._lock:
            hit = self._entries.get((scope, key))
            if hit is not None and hit[0] > now:
                self._entries.move_to_end((scope, key))
                return hit[1]  # type: ignore[no-any-return]
            generation = self._generations.get(scope, 0)
            flight = self._flights.get((scope, key)) if lifetime > 0 else None
            leader = flight is None or flight.generation != generation
            if leader and lifetime > 0:
                flight = self._flights[(scope, key)] = _Flight(generation)
        if not leader:
            assert flight is not None
            shared: T = flight.result()  # the same read already under way: share its answer
            return shared
        try:
            value = load()
        except BaseException as exc:
            if flight is not None:
                self._land(scope, key, flight, error=exc)
            raise
        if lifetime > 0:
            self._store(scope, key, value, now + lifetime, generation)
        if flight is not None:
            self._land(scope, key, flight, value=value)
        return value

    def _land(
        self,
        scope: Scope,
        key: Hashable,
        flight: _Flight,
        *,
        value: Any = None,
        error: BaseException | None = None,
    ) -> None:
        with self._lock:
            if self._flights.get((scope, key)) is flight:
                del self._flights[(scope, key)]
        flight.land(value, error)

    def _store(self, scope: Scope, key: Hashable, value: Any, expires: float, generation: int) -> None:
        with self._lock:
            if self._generations.get(scope, 0) != generation:
                return
            self._entries[(scope, key)] = (expires, value)
            self._entries.move_to_end((scope, key))
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def invalidate(self, scope: Scope) -> None:
        """Forget everything cached for one job of one identity, and any load in flight."""
        with self._lock:
            self._generations[scope] = self._generations.get(scope, 0) + 1
            for entry in [k for k in self._entries if k[0] == scope]:
                del self._entries[entry]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
