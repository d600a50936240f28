"""Fault injection for the sandbox HTTP server: errors, throttling, slow or broken connections.

Each :class:`FaultRule` matches an endpoint (``"runs/get"``, ``"run-now"``, or ``"*"``)
and fires with a probability. Decisions come from a seeded random source per
endpoint, so the n-th request to an endpoint always meets the same fault, however
concurrent clients interleave their requests to different endpoints. The
host-metadata endpoint is never faulted: the SDK would stall client construction for
its whole retry budget.

Kinds:

``403`` / ``404``
    Permission denied / resource gone: errors that are not worth retrying.
``500`` / ``502`` / ``503`` / ``504``
    Answer with that status and a Databricks-shaped error (never containing the
    substring the SDK treats as retryable, so 500s stay non-retryable as in real life).
``429``
    Too many requests, with ``Retry-After: <retry_after>`` seconds.
``latency``
    Process the request, then wait ``seconds`` (real time) before answering; longer
    than the client's timeout, this is a read timeout after the work was done.
``drop``
    Process the request, then close the connection without answering: the client
    cannot know whether its POST took effect (idempotency tokens exist for this).
``reset``
    Process the request, then reset the connection (``SO_LINGER`` 0, so an RST, not a
    FIN): the client sees ``ECONNRESET``, which databricks-sdk retries for any method.
``hang``
    Process the request, then never answer; the connection stays open until the client
    gives up (a read timeout) and closes it, or the sandbox stops.
``drip``
    Process the request, then send the whole answer (status line, headers, body) one
    byte every ``seconds`` (default 1): a client timeout per socket read never fires.

The connection kinds (``latency`` to ``drip``) never delay :meth:`Sandbox.stop`: their
waits end as soon as it is called.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

#: Kinds answered with that HTTP status and a Databricks-shaped error.
STATUS_KINDS = frozenset({"403", "404", "500", "502", "503", "504", "429"})
#: Kinds that process the request, then act on the connection instead of answering normally.
CONNECTION_KINDS = frozenset({"latency", "drop", "reset", "hang", "drip"})
KINDS = STATUS_KINDS | CONNECTION_KINDS


@dataclass(frozen=True)
class FaultRule:
    """Fire ``kind`` on ``endpoint`` with ``probability``."""

    endpoint: str
    kind: str
    probability: float = 1.0
    retry_after: int = 1
    seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {self.probability}")
        if self.retry_after < 0 or self.seconds < 0:
            raise ValueError("retry_after and seconds must be non-negative")

    def matches(self, endpoint: str) -> bool:
        return self.endpoint in {"*", endpoint}

    def spec(self) -> str:
        """The rule as :meth:`parse` reads it (``runs/get:503:0.1``, ``*:429:0.05:2``)."""
        text = f"{self.endpoint}:{self.kind}:{self.probability:g}"
        if self.kind == "429":
            return f"{text}:{self.retry_after}"
        if self.kind in {"latency", "drip"}:
            return f"{text}:{self.seconds:g}"
        return text

    @classmethod
    def parse(cls, text: str) -> FaultRule:
        """Parse ``ENDPOINT:KIND[:PROBABILITY[:ARG]]``.

        ARG: Retry-After seconds (429), the delay (latency) or the seconds per byte (drip).
        Examples: ``runs/get:503:0.1``, ``*:429:0.05:2``, ``run-now:latency:0.01:1.5``,
        ``runs/get:hang:0.1``, ``runs/get:drip:1``, ``*:reset:0.05``.
        """
        parts = text.strip().split(":")
        if len(parts) < 2 or len(parts) > 4 or not parts[0] or not parts[1]:
            raise ValueError(f"bad fault {text!r}; expected ENDPOINT:KIND[:PROBABILITY[:ARG]]")
        endpoint, kind = parts[0], parts[1]
        try:
            probability = float(parts[2]) if len(parts) > 2 else 1.0
            arg = float(parts[3]) if len(parts) > 3 else None
        except ValueError as exc:
            raise ValueError(f"bad fault {text!r}: {exc}") from exc
        if kind == "429":
            return cls(endpoint, kind, probability, retry_after=int(arg if arg is not None else 1))
        if kind in {"latency", "drip"}:
            return cls(endpoint, kind, probability, seconds=arg if arg is not None else 1.0)
        return cls(endpoint, kind, probability)


class FaultInjector:
    """Decides, per request, which fault (if any) to inject. Thread-safe."""

    def __init__(self, rules: list[FaultRule] | None = None, *, seed: int = 0) -> None:
        self._rules: list[FaultRule] = list(rules or [])
        self._seed = seed
        self._streams: dict[str, random.Random] = {}
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def add(self, rule: FaultRule | str) -> FaultRule:
        parsed = FaultRule.parse(rule) if isinstance(rule, str) else rule
        with self._lock:
            self._rules.append(parsed)
        return parsed

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def retry_after(self, endpoint: str) -> int:
        """The ``Retry-After`` seconds of the first 429 rule for ``endpoint`` (default 1)."""
        for rule in self.rules:
            if rule.kind == "429" and rule.matches(endpoint):
                return rule.retry_after
        return 1

    def decide(self, endpoint: str) -> FaultRule | None:
        """The fault for one request to ``endpoint``: the first matching rule that fires."""
        with self._lock:
            stream = self._streams.get(endpoint)
            if stream is None:
                stream = self._streams[endpoint] = random.Random(f"faults/{self._seed}/{endpoint}")
            for rule in self._rules:
                if rule.matches(endpoint) and stream.random() < rule.probability:
                    self.injected[rule.kind] = self.injected.get(rule.kind, 0) + 1
                    return rule
            return None
