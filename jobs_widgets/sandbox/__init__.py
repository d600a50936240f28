"""The embedded sandbox: a local Databricks workspace for demos and tests.

A simulated Jobs service (:class:`~jobs_widgets.sandbox.engine.Engine`) behind a
stdlib HTTP server on 127.0.0.1 that the real databricks-sdk talks to::

    with Sandbox(speed=1.0, seed=0, port=0) as sb:
        w = sb.client()                 # a WorkspaceClient for it, isolated from your profiles
        os.environ.update(sb.env())     # DATABRICKS_HOST / _TOKEN / _JOB_<KEY> for the demo jobs

Time can be real (``speed=1``), sped up (``speed=60``) or manual
(``Sandbox(manual=True)`` then ``sb.advance(seconds)``), and faults can be injected
(``sb.faults.add("runs/get:503:0.1")``). A sandbox started in another process (the
demo's, ``jobs-widgets sandbox``) is scripted the same way through a
:class:`~jobs_widgets.sandbox.remote.RemoteSandbox` (its address and token).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from jobs_widgets.core.clock import Clock, ManualClock, ScaledClock, SystemClock
from jobs_widgets.sandbox.demo import demo_jobs
from jobs_widgets.sandbox.demo_runmodel import run_model_jobs
from jobs_widgets.sandbox.engine import ApiError, Engine, RunRecord
from jobs_widgets.sandbox.faults import FaultInjector, FaultRule
from jobs_widgets.sandbox.remote import RemoteSandbox
from jobs_widgets.sandbox.server import Identity, RequestRecord, SandboxServer, ServerState
from jobs_widgets.sandbox.specs import Behaviour, JobSpec, TaskSpec

if TYPE_CHECKING:
    from jobs_widgets.core.config import JobConfig

__all__ = [
    "ApiError",
    "Behaviour",
    "Engine",
    "FaultRule",
    "JobSpec",
    "RemoteSandbox",
    "RequestRecord",
    "RunRecord",
    "Sandbox",
    "TaskSpec",
    "demo_jobs",
]


def _new_token() -> str:
    return "dapi" + secrets.token_hex(16)


class Sandbox:
    """A running local workspace. Use as a context manager, or call :meth:`start`/:meth:`stop`.

    Parameters
    ----------
    speed:
        How fast simulated time runs (1.0: real time). Ignored with ``manual`` or ``clock``.
    seed:
        Seeds the workspace: job histories, run outcomes and fault decisions.
    port:
        TCP port on 127.0.0.1 (0: any free port).
    manual:
        Use a :class:`ManualClock`: time moves only with :meth:`advance`.
    clock:
        Any :class:`Clock` (for example one shared with a hub under test).
    jobs:
        The jobs to create (default: the seven demo jobs, see :mod:`~jobs_widgets.sandbox.demo`).
    faults:
        Fault rules (or ``"ENDPOINT:KIND[:P[:ARG]]"`` strings) active from the start.
    run_model:
        Also create the run-model demo jobs (for-each, condition, run_if, child run,
        pipeline, 120 tasks, timeout, queue; see :mod:`~jobs_widgets.sandbox.demo_runmodel`).
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        seed: int = 0,
        port: int = 0,
        manual: bool = False,
        clock: Clock | None = None,
        jobs: Iterable[JobSpec] | None = None,
        faults: Iterable[FaultRule | str] = (),
        token: str | None = None,
        run_model: bool = False,
    ) -> None:
        if clock is None:
            if manual:
                clock = ManualClock()
            elif speed == 1.0:
                clock = SystemClock()
            else:
                clock = ScaledClock(speed)
        self.clock: Clock = clock
        self.speed = speed if not isinstance(clock, ManualClock) else 0.0
        self.seed = seed
        self.token = token or _new_token()
        self.engine = Engine(clock, seed=seed)
        self.faults = FaultInjector(seed=seed)
        for rule in faults:
            self.faults.add(rule)
        identity = Identity("demo@example.com", admin=True)  # its own token may also script it
        self._state = ServerState(self.engine, self.faults, {self.token: identity})
        self._server = SandboxServer(self._state, port=port)
        self.engine.base_url = self._server.url
        self.jobs: dict[str, int] = {}
        specs = list(demo_jobs() if jobs is None else jobs)
        if run_model:
            specs += run_model_jobs()
        for spec in specs:
            job_id = self.engine.add_job(spec)
            if spec.key:
                self.jobs[spec.key] = job_id
        self._started = False

    # --------------------------------------------------------------------- lifecycle
    def start(self) -> Sandbox:
        if not self._started:
            self._server.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._server.stop()
            self._started = False

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._started

    # --------------------------------------------------------------------- addresses
    @property
    def host(self) -> str:
        """``http://127.0.0.1:<port>``: what to set as DATABRICKS_HOST."""
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    def env(self, *, include_jobs: bool = True) -> dict[str, str]:
        """``DATABRICKS_HOST``, ``DATABRICKS_TOKEN`` and ``DATABRICKS_JOB_<KEY>`` for the demo jobs."""
        env = {"DATABRICKS_HOST": self.host, "DATABRICKS_TOKEN": self.token}
        if include_jobs:
            env.update({f"DATABRICKS_JOB_{key.upper()}": str(job_id) for key, job_id in self.jobs.items()})
        return env

    def attach_env(self) -> dict[str, str]:
        """:meth:`env` plus what another process needs to attach to this running sandbox.

        ``JOBS_WIDGETS_SANDBOX`` (its host) makes ``%jobs sandbox start`` in a kernel use
        it instead of starting its own; ``JOBS_WIDGETS_SANDBOX_CLOCK`` (``origin:speed``)
        lets that kernel read the same sped-up time.
        """
        env = self.env()
        env["JOBS_WIDGETS_SANDBOX"] = self.host
        if isinstance(self.clock, ScaledClock):
            env["JOBS_WIDGETS_SANDBOX_CLOCK"] = f"{self.clock.origin!r}:{self.clock.speed!r}"
        elif isinstance(self.clock, SystemClock):
            env["JOBS_WIDGETS_SANDBOX_CLOCK"] = "real"
        return env

    def client(
        self,
        *,
        token: str | None = None,
        retry_timeout_seconds: int = 10,
        http_timeout_seconds: float = 10.0,
        instant_retries: bool = False,
    ) -> Any:
        """A databricks-sdk ``WorkspaceClient`` for this sandbox (imports the SDK on first use).

        ``instant_retries`` makes the SDK's own retry sleeps take no real time (for
        fault tests in virtual time).
        """
        from jobs_widgets.core.sdk import make_client

        return make_client(
            self.host,
            token or self.token,
            retry_timeout_seconds=retry_timeout_seconds,
            http_timeout_seconds=http_timeout_seconds,
            instant_retries=instant_retries,
        )

    def config(self) -> dict[str, JobConfig]:
        """Job configs for the demo jobs (task types, and a params model for ``etl``)."""
        from jobs_widgets.sandbox.demo_config import demo_configs

        return {key: cfg for key, cfg in demo_configs().items() if key in self.jobs}

    # --------------------------------------------------------------------- identities
    def add_user(
        self, name: str, *, jobs_scope: bool = True, can_run: Iterable[str | int] | None = None
    ) -> str:
        """Create another identity and return its token (for OBO and permission tests).

        ``jobs_scope=False`` gives a token the service rejects with "does not have required
        scopes: jobs"; ``can_run`` limits the jobs it may run or cancel.
        """
        token = _new_token()
        runnable = None if can_run is None else frozenset(self.engine.job_id(j) for j in can_run)
        self._state.tokens[token] = Identity(name, has_jobs_scope=jobs_scope, runnable_jobs=runnable)
        return token

    # --------------------------------------------------------------------- observing
    @property
    def requests(self) -> list[RequestRecord]:
        """Every API request served so far (method, endpoint, params, status)."""
        with self._state.lock:
            return list(self._state.log)

    def clear_requests(self) -> None:
        with self._state.lock:
            self._state.log.clear()

    def advance(self, seconds: float) -> None:
        """Move a manual clock forward (only with ``manual=True`` or a ManualClock)."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a manual clock: Sandbox(manual=True)")
        self.clock.advance(seconds)

    def __repr__(self) -> str:
        state = f"at {self.host}" if self._started else "stopped"
        return f"<Sandbox {state}, {len(self.jobs)} jobs, clock={self.clock!r}>"
