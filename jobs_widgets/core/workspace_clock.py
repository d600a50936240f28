"""The workspace's clock, learned from the ``Date`` headers of its answers.

Kept apart from the transport that feeds it (``transport.DeadlineAdapter`` notes each
answer's header) so the rule is read in one place: run times are stamped by the
workspace, so elapsed time is measured on its clock, not the kernel's.
"""

from __future__ import annotations

import email.utils
import statistics
import threading
import time
from typing import Any

__all__ = ["WorkspaceClock", "workspace_offset"]


class WorkspaceClock:
    """How far the workspace's clock is from ours, from the ``Date`` headers it sends.

    A run's times are stamped by the workspace; measuring "running for" against our own
    clock shows a 3-second-old run as "24h" when the workspace's clock is a day behind.
    Each answer's ``Date`` (whole seconds) gives one sample of the offset; the median of
    the latest ones is used (within a second of the truth).
    """

    SAMPLES = 9

    def __init__(self) -> None:
        self._samples: list[float] = []
        self._lock = threading.Lock()

    def note(self, header: str | None) -> None:
        if not header:
            return
        try:
            stamped = email.utils.parsedate_to_datetime(header).timestamp() + 0.5  # mid-second
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        with self._lock:
            self._samples.append(stamped - time.time())
            del self._samples[: -self.SAMPLES]

    def offset(self) -> float | None:
        """Seconds to add to our epoch time to get the workspace's (None: no answer seen yet)."""
        with self._lock:
            return statistics.median(self._samples) if self._samples else None


def workspace_offset(client: Any) -> float | None:
    """The clock offset a client's deadline adapter has seen (None: unknown)."""
    base = getattr(getattr(client, "api_client", None), "_api_client", None)
    session = getattr(base, "_session", None)
    adapters = getattr(session, "adapters", None) or {}
    for adapter in adapters.values():
        samples = getattr(adapter, "clock_samples", None)
        if isinstance(samples, WorkspaceClock):
            return samples.offset()
    return None
