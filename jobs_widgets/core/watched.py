"""The hub's vocabulary: what it watches, who listens, and how the connection is doing.

Kept apart from the scheduler (:mod:`jobs_widgets.core.hub`) so that listeners (waits,
panel followers) depend on these small types only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from jobs_widgets.core.models import Run, RunUpdate
from jobs_widgets.core.policy import PollPolicy

if TYPE_CHECKING:
    from jobs_widgets.core.hub import Hub

__all__ = ["OK", "Health", "HubStats", "Listener", "RunSource", "Subscription"]


@dataclass(frozen=True, slots=True)
class Health:
    """The connection as seen by one subscription.

    ``ok``; ``degraded`` (transient errors, retrying at ``next_retry_at``, epoch
    seconds); or ``stopped`` (the subscription was ended by its owner closing:
    ``message`` says which).
    """

    status: str = "ok"
    message: str = ""
    next_retry_at: float | None = None
    failures: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


OK = Health()


class RunSource(Protocol):
    """What the hub needs to watch runs of one job for one identity (a JobHandle is one)."""

    @property
    def identity(self) -> str: ...
    @property
    def job_id(self) -> int: ...
    @property
    def poll_policy(self) -> PollPolicy | None: ...
    def fetch_run(self, run_id: int) -> Run: ...
    def fetch_active_runs(self) -> list[Run]: ...
    def fetch_history(self) -> list[Run]: ...


class Listener(Protocol):
    """Receives a subscription's news, on the hub's thread (keep callbacks quick).

    ``on_error`` is final: after it, nothing more arrives (the hub has dropped the
    listener). It receives :class:`~jobs_widgets.core.errors.JobsClosedError` when the
    runtime or the registry that owns the wait is closed.
    """

    visible: bool
    deadline: float | None  # hub-clock monotonic time at which to call on_timeout

    def on_update(self, update: RunUpdate) -> None: ...
    def on_health(self, health: Health) -> None: ...
    def on_error(self, error: BaseException) -> None: ...
    def on_timeout(self) -> None: ...


class Subscription:
    """A listener's handle on a watched run: ``close()`` stops listening, ``end(exc)`` ends it with a reason."""

    def __init__(self, hub: Hub, key: tuple[str, int], listener: Listener) -> None:
        self._hub = hub
        self.key = key
        self.listener = listener
        self.closed = False

    @property
    def run_id(self) -> int:
        return self.key[1]

    def set_visible(self, visible: bool) -> None:
        """Report whether the listener is on screen (hidden runs are polled less often)."""
        self.listener.visible = visible
        self._hub._poke()

    def close(self) -> None:
        """Stop listening (idempotent); the run is polled no more once nobody listens."""
        if not self.closed:
            self.closed = True
            self._hub._unsubscribe(self)

    def end(self, error: BaseException) -> None:
        """Stop listening and tell the listener why (its ``on_error``), from this thread."""
        if not self.closed:
            self.closed = True
            self._hub._unsubscribe(self)
            try:
                self.listener.on_error(error)
            except Exception:  # a listener's failure must not stop a close
                return


@dataclass(eq=False)
class WatchedRun:
    """One watched run (shared by every listener of it)."""

    key: tuple[str, int]
    group: WatchedJob
    listeners: list[Listener] = field(default_factory=list)
    last: Run | None = None
    fingerprint: tuple[Any, ...] | None = None
    health: Health = OK
    polls: int = 0
    seq: int = 0
    next_due: float = 0.0
    initial: bool = True
    done: bool = False

    @property
    def run_id(self) -> int:
        return self.key[1]

    @property
    def visible(self) -> bool:
        return any(getattr(listener, "visible", True) for listener in self.listeners)


@dataclass(eq=False)
class WatchedJob:
    """The watched runs of one job for one identity: polled together (one request per tick)."""

    key: tuple[str, int]
    source: RunSource
    subs: dict[int, WatchedRun] = field(default_factory=dict)
    in_flight: bool = False
    last_poll: float = float("-inf")
    failures: int = 0
    retry_at: float = float("-inf")


@dataclass
class HubStats:
    """Counters for tests and benchmarks."""

    requests: int = 0
    runs_get: int = 0
    runs_list: int = 0
    history: int = 0
    errors: int = 0
    degraded_periods: int = 0
    recoveries: int = 0
