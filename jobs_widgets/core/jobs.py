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
import weakref
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from jobs_widgets.core.cache import ReadCache
from jobs_widgets.core.clock import Clock
from jobs_widgets.core.config import JobConfig, JobEntry, discover_jobs
from jobs_widgets.core.errors import JobsClosedError, UnknownJobError
from jobs_widgets.core.handle import JobHandle
from jobs_widgets.core.session import Session, identity_of_client, identity_of_env

if TYPE_CHECKING:
    from jobs_widgets.core.hub import Hub, Subscription
    from jobs_widgets.core.runtime import Runtime
    from jobs_widgets.core.sdk import Gateway

__all__ = ["Jobs", "default_jobs", "set_default_jobs"]


class Jobs:
    """The jobs this process may touch, by key.

    A registry is cheap and shares everything that matters: its runtime (the loop
    thread and workers, process-wide unless a clock or hub is given) and, per
    workspace identity, one :class:`~jobs_widgets.core.session.Session` (client, read
    cache, run memory) with every other registry, panel and magic of that identity.
    ``close()`` (or leaving ``with Jobs.from_env() as jobs:``) ends every wait and
    panel subscription made through it with :class:`JobsClosedError`.

    Parameters
    ----------
    entries:
        Discovered jobs (see :func:`~jobs_widgets.core.config.discover_jobs`).
    client:
        A ``WorkspaceClient``; None creates one from databricks-sdk's unified auth on
        first use (env variables, a profile, or notebook-native auth in Databricks).
    env:
        The environment to read credentials from (default ``os.environ``).
    hub, runtime:
        Where waiting happens (default: the process-wide runtime). A hub implies its runtime.
    clock:
        With no hub or runtime: a private runtime on this clock, owned (and closed) by
        this registry.
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
        runtime: Runtime | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        cache_ttl: float = 2.0,
    ) -> None:
        self._entries = dict(entries)
        self._client = client
        self._env = env
        self.cache_ttl = cache_ttl
        self._runtime: Runtime | None = hub.runtime if hub is not None else runtime
        self._owned: Runtime | None = None
        if self._runtime is None and clock is not None:
            from jobs_widgets.core.runtime import Runtime

            self._runtime = self._owned = Runtime(clock=clock, rng=rng)
            weakref.finalize(self, self._owned.close)  # a dropped registry frees its threads
        self._handles: dict[str, JobHandle] = {}
        self._lock = threading.RLock()
        self._subscriptions: weakref.WeakSet[Subscription] = weakref.WeakSet()
        self._closed = False

    @classmethod
    def from_env(
        cls,
        config: Mapping[str, JobConfig | Mapping[str, Any] | None] | None = None,
        client: Any = None,
        env: Mapping[str, str] | None = None,
        *,
        hub: Hub | None = None,
        runtime: Runtime | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        cache_ttl: float = 2.0,
    ) -> Jobs:
        """Discover jobs from ``env`` (default ``os.environ``) and explicit ``config``.

        ``clock`` (with ``rng`` for its jitter) and no ``hub``/``runtime``: a private
        runtime on that clock, for simulations; ``close()`` ends it.
        """
        environ = dict(os.environ if env is None else env)
        entries = discover_jobs(environ, config)
        return cls(
            entries,
            client=client,
            env=env,
            hub=hub,
            runtime=runtime,
            clock=clock,
            rng=rng,
            cache_ttl=cache_ttl,
        )

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

    # ------------------------------------------------------------------ runtime and session
    @property
    def runtime(self) -> Runtime:
        """Where this registry's waits run (the process-wide runtime unless given one)."""
        if self._runtime is not None:
            return self._runtime
        from jobs_widgets.core.runtime import get_runtime

        return get_runtime()

    @property
    def hub(self) -> Hub:
        return self.runtime.hub

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    @property
    def session(self) -> Session:
        """The session of this registry's identity (shared with every other registry of it)."""
        if self._client is not None:
            return self.session_for(self._client)
        env = os.environ if self._env is None else self._env
        runtime = self.runtime
        return runtime.session(
            identity_of_env(env),
            lambda: Session(identity_of_env(env), self._make_default_gateway(env), runtime.clock),
        )

    def session_for(self, client: Any) -> Session:
        """The session of another client's identity (``as_user``), shared like any other."""
        from jobs_widgets.core.sdk import Gateway

        identity = identity_of_client(client)
        runtime = self.runtime
        return runtime.session(
            identity, lambda: Session(identity, lambda: Gateway(client, identity), runtime.clock)
        )

    @staticmethod
    def _make_default_gateway(env: Mapping[str, str]) -> Any:
        environ = dict(env)

        def make() -> Gateway:
            from jobs_widgets.core.sdk import Gateway, default_client

            return Gateway(default_client(environ), identity_of_env(environ))

        return make

    def workspace_time(self) -> float:
        """The workspace's clock now (epoch seconds): see :meth:`Session.workspace_time`."""
        return self.session.workspace_time(self.clock)

    @property
    def cache(self) -> ReadCache:
        return self.session.cache

    @property
    def client(self) -> Any:
        """The ``WorkspaceClient`` (created on first use from the environment)."""
        return self.gateway.client

    @property
    def gateway(self) -> Gateway:
        return self.session.gateway

    def describe(self) -> dict[str, Any]:
        """Host, auth type and configured jobs (never a credential); creates the client."""
        return {
            **self.gateway.describe(),
            "jobs": {e.key: e.job_id for e in self._entries.values()},
            "problems": self.problems,
        }

    # ------------------------------------------------------------------ closing
    @property
    def closed(self) -> bool:
        return self._closed

    def check_open(self) -> None:
        if self._closed:
            raise JobsClosedError("this Jobs registry")

    def track(self, subscription: Subscription) -> None:
        """Count ``subscription`` among this registry's waits (``close()`` ends it)."""
        with self._lock:
            if self._closed:
                subscription.end(JobsClosedError("this Jobs registry"))
                return
            self._subscriptions.add(subscription)

    def close(self) -> None:
        """End every wait and panel subscription made through this registry (idempotent).

        Each ends with :class:`JobsClosedError`; runs in the workspace are not touched.
        A private runtime (``clock=`` without a hub) is closed too; the shared one and
        the sessions live on for other registries.
        """
        with self._lock:
            self._closed = True
            subscriptions = list(self._subscriptions)
            self._subscriptions.clear()
        reason = JobsClosedError("this Jobs registry")
        for subscription in subscriptions:
            subscription.end(reason)
        if self._owned is not None:
            self._owned.close(reason=reason)

    def __enter__(self) -> Jobs:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


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
