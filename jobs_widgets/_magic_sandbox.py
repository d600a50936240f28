"""The sandbox of one ``%jobs`` session: ``%jobs sandbox start|stop|status``.

Split out of :mod:`jobs_widgets.magics` because it owns something the rest of the
magic does not: a process-level resource (an in-process workspace, or the address of
one started outside this kernel by ``jobs-widgets demo``) and the ``DATABRICKS_*``
variables that point the kernel at it, which ``stop`` must put back exactly.

It says which clock the workspace runs on; what polls it (the hub) is decided by the
magic, so the runtime wiring stays in one place there.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from jobs_widgets._magic_grammar import check_port, check_speed
from jobs_widgets._magic_results import SandboxInfo

if TYPE_CHECKING:
    from jobs_widgets.core import Clock, JobConfig
    from jobs_widgets.sandbox import Sandbox

__all__ = ["SandboxSlot"]

_JOB_PREFIX = "DATABRICKS_JOB_"


class SandboxSlot:
    """At most one sandbox: started here (``sandbox``) or attached to (``attached``, its host).

    Not thread-safe on its own: the magic calls it under its lock.
    """

    def __init__(self) -> None:
        self.sandbox: Sandbox | None = None
        self.attached: str | None = None
        self._saved_env: dict[str, str | None] = {}

    @property
    def running(self) -> bool:
        return self.sandbox is not None or self.attached is not None

    def start(self, *, speed: float | None, seed: int, port: int) -> Clock:
        """Start the workspace (or attach to the one this kernel was started with); its clock.

        ``JOBS_WIDGETS_SANDBOX`` names a running sandbox and ``JOBS_WIDGETS_SANDBOX_CLOCK``
        its clock; it is used when reachable and no ``speed`` was asked for.
        """
        from jobs_widgets.sandbox import Sandbox

        if speed is not None:
            check_speed(speed)
        check_port(port)
        external = os.environ.get("JOBS_WIDGETS_SANDBOX", "").strip()
        if external and speed is None and _reachable(external):
            self.attached = external
            return _attached_clock()
        try:
            sandbox = Sandbox(speed=speed or _demo_speed(), seed=seed, port=port).start()
        except OSError as exc:  # the port is taken, or not ours to bind
            raise UsageError(f"cannot start the sandbox on port {port}: {exc.strerror or exc}") from None
        self.sandbox = sandbox
        env = sandbox.env()
        self._saved_env = {name: os.environ.get(name) for name in env}
        for name in [n for n in os.environ if n.startswith(_JOB_PREFIX) and n not in env]:
            self._saved_env[name] = os.environ.pop(name)
        os.environ.update(env)
        return sandbox.clock

    def release(self) -> tuple[Sandbox | None, str | None]:
        """Forget the sandbox and restore the environment; the sandbox (to stop) and attached host."""
        released = self.sandbox, self.attached
        self.sandbox, self.attached = None, None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        return released

    def configs(self) -> dict[str, JobConfig]:
        """Job configs of the demo jobs the sandbox serves (task types, params models)."""
        if self.sandbox is not None:
            return self.sandbox.config()
        if self.attached is not None:
            from jobs_widgets.sandbox.demo_config import demo_configs

            present = {key for key, _ in _env_jobs()}
            return {key: cfg for key, cfg in demo_configs().items() if key in present}
        return {}

    def status(self, title: str, speed: float) -> SandboxInfo:
        """Where the sandbox is, how fast its clock runs, and its jobs."""
        clock = "real time" if speed == 1 else f"{speed:g}x real time"
        if self.sandbox is not None:
            jobs = ", ".join(f"{k} ({v})" for k, v in self.sandbox.jobs.items())
            host = self.sandbox.host
        else:
            jobs = ", ".join(f"{k} ({v})" for k, v in sorted(_env_jobs()))
            host = f"{self.attached} (started outside this kernel)"
        items = [("host", host), ("clock", clock), ("jobs", jobs), ("try", "%jobs list")]
        return SandboxInfo(title, items, sandbox=self.sandbox)


def _env_jobs() -> list[tuple[str, str]]:
    """``(key, job id)`` of every ``DATABRICKS_JOB_<KEY>`` variable."""
    return [(n[len(_JOB_PREFIX) :].lower(), v) for n, v in os.environ.items() if n.startswith(_JOB_PREFIX)]


def _reachable(host: str) -> bool:
    from urllib.parse import urlsplit

    url = urlsplit(host)
    if not url.hostname:
        return False
    try:
        with socket.create_connection((url.hostname, url.port or 80), timeout=2):
            return True
    except (OSError, ValueError):  # refused, unresolvable, or a port out of range in the variable
        return False


def _attached_clock() -> Clock:
    """The clock of the sandbox named by JOBS_WIDGETS_SANDBOX_CLOCK (``real`` or ``origin:speed``)."""
    from jobs_widgets.core import ScaledClock, SystemClock

    spec = os.environ.get("JOBS_WIDGETS_SANDBOX_CLOCK", "real").strip()
    origin, _, speed = spec.partition(":")
    try:
        return ScaledClock(float(speed), origin=float(origin)) if speed else SystemClock()
    except ValueError:  # a malformed variable: real time is the safe reading
        return SystemClock()


def _demo_speed() -> float:
    try:
        speed = float(os.environ.get("JOBS_WIDGETS_DEMO_SPEED", "1"))
    except ValueError:
        return 1.0
    return speed if 0 < speed < float("inf") else 1.0
