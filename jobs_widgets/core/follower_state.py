"""The vocabulary of a run follower: its commands, the pending one, its state, its listener.

Kept apart from :mod:`jobs_widgets.core.follower` (the behaviour) so views and tests can
name these without the machinery.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobs_widgets.core.details import NestedRuns
from jobs_widgets.core.eta import Eta
from jobs_widgets.core.models import JobInfo, Run, RunOutput, RunUpdate
from jobs_widgets.core.watched import Health

if TYPE_CHECKING:
    from jobs_widgets.core.follower import RunFollower

__all__ = ["COMMANDS", "PENDING_LIMIT_S", "SHOWN", "FollowerListener", "FollowerState", "Pending"]

#: What a view may ask (``OutgoingMessage["kind"]`` in js/src/protocol.js).
COMMANDS = frozenset({"run", "cancel", "repair", "refresh", "select", "visibility"})
#: How long a cancel accepted by the workspace may take to end its run before the view says so.
PENDING_LIMIT_S = 60.0
SHOWN: Any = object()  # "the run shown", for commands sent without a run id


@dataclass(frozen=True, slots=True)
class Pending:
    """A command in flight: what, and for which run."""

    kind: str
    run_id: int | None

    def detail(self) -> str:
        target = f" of run {self.run_id}" if self.run_id is not None and self.kind != "run" else ""
        return f"{self.kind}{target}: waiting for the workspace"


@dataclass(frozen=True)
class FollowerState:
    """Everything a view shows, at one moment."""

    info: JobInfo | None
    run: Run | None
    #: The run to show when it is known by id only (``run`` is another or None): the
    #: workspace has not answered for it yet, so its state is unknown.
    awaiting: int | None
    #: What is under the shown run once it ended (child runs, failed iterations), if read.
    nested: NestedRuns | None
    output: RunOutput | None
    history: list[Run]
    eta: Eta | None
    health: Health
    error: str
    params_schema: dict[str, Any] | None
    pending: Pending | None
    now_s: float
    rate: float


class FollowerListener:
    """Forwards hub news to a follower without keeping it alive."""

    def __init__(self, follower: RunFollower, visible: bool, mode: str | None = None) -> None:
        self._follower = weakref.ref(follower)
        self.visible = visible
        self.mode = mode  # a pinned polling mode (None: the hub decides)
        self.deadline: float | None = None

    def on_update(self, update: RunUpdate) -> None:
        if (follower := self._follower()) is not None:
            follower._on_run(update.run)

    def on_health(self, health: Health) -> None:
        if (follower := self._follower()) is not None:
            follower._set_health(health)

    def on_error(self, error: BaseException) -> None:
        if (follower := self._follower()) is not None:
            follower._on_watch_error(self, error)

    def on_timeout(self) -> None:
        return None
