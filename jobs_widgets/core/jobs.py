"""The configured jobs: :class:`Jobs`, from ``DATABRICKS_JOB_<KEY>`` variables and config.

``Jobs.from_env()`` discovers the job keys (see :mod:`jobs_widgets.core.config`);
``jobs("etl")`` (or ``jobs["etl"]``) gives the scoped :class:`JobHandle`. The
``WorkspaceClient`` is created on first use, so building a ``Jobs`` costs nothing and
never touches the network.
"""

from __future__ import annotations

import os
import random
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from jobs_widgets.core.cache import ReadCache
from jobs_widgets.core.clock import Clock, SystemClock, as_clock
from jobs_widgets.core.config import JobConfig, JobEntry, discover_jobs
from jobs_widgets.core.errors import UnknownJobError
from jobs_widgets.core.handle import JobHandle

if TYPE_CHECKING:
    from jobs_widgets.core.hub import Hub
    from jobs_widgets.core.sdk import Gateway

__all__ = ["Jobs", "default_jobs", "set_default_jobs"]

_RUN_JOB_MEMORY = 10_000


class Jobs:
    """The jobs this process may touch, by key.

    Parameters
    ----------
    entries:
        Discovered jobs (see :func:`~jobs_widgets.core.config.discover_jobs`).
    client:
        A ``WorkspaceClient``; None creates one from databricks-sdk's unified auth on
        first use (env variables, a profile, or notebook-native auth in Databricks).
    env:
        The environment to read credentials from (default ``os.environ``).
    hub:
        Where waiting happens (default: the process-wide hub).
    clock:
        Time for caches and retries (default: the real clock).
    cache_ttl:
        Seconds a read may be answered from cache (writes empty a job's cache at once).
    """

    def __init__(
        self,
        entries: Mapping[str, JobEntry],
        *,
        client: Any = None,
        env: Mapping[str, str] | None = None,
        hub: Hub | None = None,
        clock: Clock | None = None,
        cache_ttl: float = 2.0,
    ) -> None:
        self._entries = dict(entries)
        self._client = client
        self._env = env
        self._hub = hub
        self.clock: Clock = (
            as_clock(clock) if clock is not None else (hub.clock if hub is not None else SystemClock())
        )
        self.cache = ReadCache(self.clock, ttl=cache_ttl)
        self._gateway: Gateway | None = None
        self._gateways: dict[int, Gateway] = {}
        self._handles: dict[str, JobHandle] = {}
        self._lock = threading.RLock()
        self._run_jobs: OrderedDict[tuple[str, int], int | None] = OrderedDict()

    @classmethod
    def from_env(
        cls,
        config: Mapping[str, JobConfig | Mapping[str, Any] | None] | None = None,
        client: Any = None,
        env: Mapping[str, str] | None = None,
        *,
        hub: Hub | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        cache_ttl: float = 2.0,
    ) -> Jobs:
        """Discover jobs from ``env`` (default ``os.environ``) and explicit ``config``.

        ``rng`` seeds the jitter of a hub created for this ``Jobs`` when ``clock`` is
        given without a ``hub`` (a private hub on that clock, for simulations).
        """
        environ = dict(os.environ if env is None else env)
        entries = discover_jobs(environ, config)
        if hub is None and clock is not None:
            from jobs_widgets.core.hub import Hub

            clock = as_clock(clock)  # once, so the hub and these handles read one clock
            hub = Hub(clock=clock, rng=rng)
        return cls(entries, client=client, env=env, hub=hub, clock=clock, cache_ttl=cache_ttl)

    # ------------------------------------------------------------------ keys
    def keys(self) -> list[str]:
        """Configured job keys, in discovery order."""
        return [entry.key for entry in self._entries.values()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._entries

    def entry(self, key: str) -> JobEntry:
        """The discovery record of ``key`` (its id, variable, and any problem)."""
        if not _is_str(key) or key.lower() not in self._entries:
            raise UnknownJobError(str(key), self.keys())
        return self._entries[key.lower()]

    @property
    def problems(self) -> dict[str, str]:
        """Keys whose job id is unusable, with the reason."""
        return {e.key: e.problem for e in self._entries.values() if e.problem}

    def variable_for(self, key: str) -> str | None:
        entry = self._entries.get(key.lower())
        return entry.variable if entry else None

    def __call__(self, key: str) -> JobHandle:
        """The handle of job ``key`` (case-insensitive). Raises UnknownJobError / JobNotConfiguredError."""
        entry = self.entry(key)
        with self._lock:
            handle = self._handles.get(entry.key.lower())
            if handle is None:
                handle = JobHandle(self, entry.key, entry.require_id(), entry.config)
                self._handles[entry.key.lower()] = handle
            return handle

    __getitem__ = __call__

    def __repr__(self) -> str:
        return f"<Jobs {', '.join(self.keys()) or '(none)'}>"

    # ------------------------------------------------------------------ client
    @property
    def client(self) -> Any:
        """The ``WorkspaceClient`` (created on first use from the environment)."""
        return self.gateway.client

    @property
    def gateway(self) -> Gateway:
        with self._lock:
            if self._gateway is None:
                from jobs_widgets.core.sdk import Gateway, default_client

                client = self._client if self._client is not None else default_client(self._env)
                self._gateway = Gateway(client)
                self._gateways[id(client)] = self._gateway
            return self._gateway

    def gateway_for(self, client: Any) -> Gateway:
        """The gateway of another client (for ``as_user``), one per client."""
        from jobs_widgets.core.sdk import Gateway

        with self._lock:
            gateway = self._gateways.get(id(client))
            if gateway is None or gateway.client is not client:
                gateway = self._gateways[id(client)] = Gateway(client)
            return gateway

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            from jobs_widgets.core.hub import get_hub

            return get_hub()
        return self._hub

    def describe(self) -> dict[str, Any]:
        """Host, auth type and configured jobs (never a credential); creates the client."""
        return {
            **self.gateway.describe(),
            "jobs": {e.key: e.job_id for e in self._entries.values()},
            "problems": self.problems,
        }

    # ------------------------------------------------------------------ scope memory
    def remember_run_job(self, identity: str, run_id: int, job_id: int | None) -> None:
        """Runs never change job: remember which job a run belongs to (bounded)."""
        with self._lock:
            self._run_jobs[(identity, run_id)] = job_id
            self._run_jobs.move_to_end((identity, run_id))
            while len(self._run_jobs) > _RUN_JOB_MEMORY:
                self._run_jobs.popitem(last=False)

    def run_job(self, identity: str, run_id: int) -> int | None:
        with self._lock:
            return self._run_jobs.get((identity, run_id))


def _is_str(value: object) -> bool:
    return isinstance(value, str)


_default: Jobs | None = None
_default_lock = threading.Lock()


def set_default_jobs(jobs: Jobs | None) -> None:
    """Make ``jobs`` the session's registry (``%jobs`` does this; None forgets it)."""
    global _default
    with _default_lock:
        _default = jobs


def default_jobs() -> Jobs:
    """The session's registry: the one ``%jobs`` uses if any, else a fresh ``Jobs.from_env()``."""
    with _default_lock:
        if _default is not None:
            return _default
    return Jobs.from_env()
