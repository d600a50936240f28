"""One session per workspace identity: its client, read cache and run memory, shared.

Every :class:`~jobs_widgets.core.Jobs` registry, panel and magic that talks to the
same workspace as the same identity (host + credentials) in one runtime shares one
:class:`Session`: one ``WorkspaceClient`` (created on first use), one read cache, one
memory of which job each run belongs to, and one name in the hub's subscription
space, so two panels and a wait on one run are one subscription and one request
stream, however they were made.

The identity is a digest of the host and the credentials' identifying parts, salted
per process: it never reveals a token, and it is the same whether the client was
built from the environment or handed in.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from jobs_widgets.core.cache import ReadCache
from jobs_widgets.core.clock import Clock

if TYPE_CHECKING:
    from jobs_widgets.core.sdk import Gateway

__all__ = ["Session", "identity_of_client", "identity_of_env"]

RUN_JOB_MEMORY = 10_000
_SALT = os.urandom(16)
_PARTS = (
    ("DATABRICKS_TOKEN", "token"),
    ("DATABRICKS_CONFIG_PROFILE", "profile"),
    ("DATABRICKS_CLIENT_ID", "client_id"),
    ("DATABRICKS_USERNAME", "username"),
)


def _identity(host: str, parts: list[str]) -> str:
    host = host.strip().rstrip("/")
    digest = hashlib.sha256(_SALT + "\0".join([host, *parts]).encode("utf-8", "replace")).hexdigest()
    return f"{host or '(default host)'}|{digest[:16]}"


def identity_of_env(env: Mapping[str, str]) -> str:
    """The identity a client built from ``env`` by databricks-sdk's unified auth will have."""
    notebook = "notebook" if env.get("DATABRICKS_RUNTIME_VERSION") else ""
    return _identity(env.get("DATABRICKS_HOST", ""), [env.get(n, "").strip() for n, _ in _PARTS] + [notebook])


def identity_of_client(client: Any) -> str:
    """The identity of a ``WorkspaceClient`` (same as :func:`identity_of_env` for the same credentials)."""
    config = getattr(client, "config", None)
    if config is None:
        return _identity("", [f"client-{id(client)}"])

    def attr(name: str) -> str:
        try:
            value = getattr(config, name, None)
        except Exception:  # a config property that needs the network: not identifying
            value = None
        return "" if value is None else str(value).strip()

    notebook = "notebook" if attr("auth_type") in {"runtime", "runtime-oauth"} else ""
    return _identity(attr("host"), [*(attr(name) for _, name in _PARTS), notebook])


class Session:
    """The shared state of one workspace identity in one runtime."""

    def __init__(self, identity: str, make_gateway: Callable[[], Gateway], clock: Clock) -> None:
        self.identity = identity
        self._make_gateway = make_gateway
        self._gateway: Gateway | None = None
        self._lock = threading.Lock()
        self.cache = ReadCache(clock)
        self._run_jobs: OrderedDict[int, int | None] = OrderedDict()

    @property
    def gateway(self) -> Gateway:
        """The identity's SDK calls (the client is created on first use, once)."""
        with self._lock:
            if self._gateway is None:
                self._gateway = self._make_gateway()
            return self._gateway

    @property
    def has_client(self) -> bool:
        return self._gateway is not None

    def workspace_time(self, clock: Clock) -> float:
        """The workspace's clock now (epoch seconds), to measure its runs' elapsed times against.

        An injected clock (a sandbox's, a simulation's) is the workspace's own; on the real
        clock, the offset the workspace's ``Date`` headers show is applied, so a workspace a
        day behind still shows a 3-second-old run as 3 seconds old.
        """
        from jobs_widgets.core.clock import SystemClock

        if isinstance(clock, SystemClock) and self._gateway is not None:
            measured = self._gateway.workspace_time()
            if measured is not None:
                return measured
        return clock.time()

    def close(self) -> None:
        """Close the client's connections (its runtime is closing; nothing will use them again)."""
        with self._lock:
            gateway = self._gateway
        if gateway is not None:
            gateway.close()

    def remember_run_job(self, run_id: int, job_id: int | None) -> None:
        """Runs never change job: remember which job a run belongs to (bounded)."""
        with self._lock:
            self._run_jobs[run_id] = job_id
            self._run_jobs.move_to_end(run_id)
            while len(self._run_jobs) > RUN_JOB_MEMORY:
                self._run_jobs.popitem(last=False)

    def run_job(self, run_id: int) -> int | None:
        with self._lock:
            return self._run_jobs.get(run_id)

    def __repr__(self) -> str:
        return f"<Session {self.identity}>"
