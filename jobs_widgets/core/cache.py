"""A small read cache: per identity and job, short-lived, emptied by writes.

Reads (``get_job``, ``list_runs``, ``get_run``...) may be answered from here for a few
seconds so that a panel, a magic and a notebook loop asking the same thing do not
each hit the API. Unlike AppKit's 60-second cache, a write (run now, cancel, repair)
empties that job's entries at once, so nobody sees a stale "no runs yet" right after
starting one.
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


class ReadCache:
    """TTL cache keyed by ``(scope, key)``; ``invalidate(scope)`` drops a job's entries."""

    def __init__(self, clock: Clock, *, ttl: float = 5.0, max_entries: int = 2048) -> None:
        self._clock = clock
        self.ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[tuple[Scope, Hashable], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(
        self, scope: Scope, key: Hashable, load: Callable[[], T], *, ttl: float | None = None
    ) -> T:
        """The cached value for ``key`` if fresh, else ``load()`` (stored on success only)."""
        lifetime = self.ttl if ttl is None else ttl
        now = self._clock.monotonic()
        with self._lock:
            hit = self._entries.get((scope, key))
            if hit is not None and hit[0] > now:
                self._entries.move_to_end((scope, key))
                return hit[1]  # type: ignore[no-any-return]
        value = load()
        if lifetime > 0:
            self._store(scope, key, value, now + lifetime)
        return value

    def put(self, scope: Scope, key: Hashable, value: Any, *, ttl: float | None = None) -> None:
        lifetime = self.ttl if ttl is None else ttl
        self._store(scope, key, value, self._clock.monotonic() + lifetime)

    def _store(self, scope: Scope, key: Hashable, value: Any, expires: float) -> None:
        with self._lock:
            self._entries[(scope, key)] = (expires, value)
            self._entries.move_to_end((scope, key))
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def invalidate(self, scope: Scope) -> None:
        """Forget everything cached for one job of one identity."""
        with self._lock:
            for entry in [k for k in self._entries if k[0] == scope]:
                del self._entries[entry]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
