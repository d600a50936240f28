"""Helpers for the sandbox tests."""

from __future__ import annotations

import itertools

from jobs_widgets.sandbox import FaultRule, Sandbox
from jobs_widgets.sandbox.faults import FaultInjector


def clear_faults_after(sb: Sandbox, endpoint: str, count: int = 1) -> None:
    """Let ``count`` requests to ``endpoint`` meet the faults, then clear every rule (an outage ends).

    Replaces any earlier such wrapper (it wraps the injector's own ``decide``).
    """
    faults = sb.faults
    seen = itertools.count()

    def decide_then_clear(name: str) -> FaultRule | None:
        if name == endpoint and next(seen) >= count:
            faults.clear()
        return FaultInjector.decide(faults, name)

    faults.decide = decide_then_clear  # type: ignore[method-assign]
