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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from IPython.core.error import UsageError

from jobs_widgets._magic_grammar import check_port, check_speed
from jobs_widgets._magic_results import SandboxInfo

if TYPE_CHECKING:
    from jobs_widgets._render import Message
    from jobs_widgets.core import Clock, JobConfig
    from jobs_widgets.sandbox import RemoteSandbox, Sandbox
    from jobs_widgets.sandbox.faults import FaultRule

__all__ = ["SandboxSlot"]

_T = TypeVar("_T")

_JOB_PREFIX = "DATABRICKS_JOB_"


class SandboxSlot:
    """At most one sandbox: started here (``sandbox``) or attached to (``attached``, its host).

    Not thread-safe on its own: the magic calls it under its lock.
    """

    def __init__(self) -> None:
        self.sandbox: Sandbox | None = None
        self.attached: str | None = None
        #: The sandbox the kernel was started with, when an explicit --speed started another.
        self.passed_over: str | None = None
        self._saved_env: dict[str, str | None] = {}
        self._why_private = "--speed"

    @property
    def running(self) -> bool:
        return self.sandbox is not None or self.attached is not None

    def start(
        self,
        *,
        speed: float | None,
        seed: int,
        port: int,
        faults: Sequence[str] = (),
        run_model: bool = False,
    ) -> Clock:
        """Start the workspace (or attach to the one this kernel was started with); its clock.

        ``JOBS_WIDGETS_SANDBOX`` names a running sandbox and ``JOBS_WIDGETS_SANDBOX_CLOCK``
        its clock; it is used when reachable and no ``speed`` was asked for (its speed is
        its own): then ``faults`` are added to it. An explicit ``speed`` (or ``run_model``,
        whose jobs an attached sandbox may not have) starts a private sandbox, and
        :meth:`started_title` says so.
        """
        from jobs_widgets.sandbox import RemoteSandbox, Sandbox

        if speed is not None:
            check_speed(speed)
        check_port(port)
        rules = _fault_rules(faults)
        external = os.environ.get("JOBS_WIDGETS_SANDBOX", "").strip()
        reachable = bool(external) and _reachable(external)
        if reachable and speed is None and not run_model:
            remote = RemoteSandbox(external, os.environ.get("DATABRICKS_TOKEN", ""))
            if rules:
                _remotely(lambda: [remote.faults.add(rule) for rule in rules])
            self.attached, self.passed_over = external, None
            return _attached_clock()
        try:
            sandbox = Sandbox(
                speed=speed or _demo_speed(), seed=seed, port=port, faults=rules, run_model=run_model
            ).start()
        except OSError as exc:  # the port is taken, or not ours to bind
            raise UsageError(f"cannot start the sandbox on port {port}: {exc.strerror or exc}") from None
        self.sandbox = sandbox
        self.passed_over = external if reachable else None
        self._why_private = "--speed" if speed is not None else "--run-model"
        env = sandbox.env()
        self._saved_env = {name: os.environ.get(name) for name in env}
        for name in [n for n in os.environ if n.startswith(_JOB_PREFIX) and n not in env]:
            self._saved_env[name] = os.environ.pop(name)
        os.environ.update(env)
        return sandbox.clock

    def started_title(self) -> str:
        """What :meth:`start` did, in a few words."""
        if self.attached is not None:
            return "Using the sandbox this kernel was started with"
        if self.passed_over is not None and self.sandbox is not None:
            return (
                f"Started a private sandbox at {self.sandbox.speed:g}x ({self._why_private}); this kernel no longer "
                f"uses the one it was started with ({self.passed_over}), which keeps running"
            )
        return "Sandbox started; this kernel now talks to it"

    def already_running(self, *, speed: float | None, faults: Sequence[str]) -> str:
        """``start`` on a running sandbox: its faults are added, a ``speed`` cannot be (said so)."""
        rules = _fault_rules(faults)
        if rules:
            self.add_faults(rules)
        title = "Sandbox already running"
        if rules:
            title += f"; added {len(rules)} fault rule{'s' if len(rules) > 1 else ''}"
        if speed is not None:
            title += f"; --speed {speed:g} not applied (%jobs sandbox stop, then start, to change it)"
        return title

    def control(self) -> Sandbox | RemoteSandbox | None:
        """What scripts the sandbox: the in-process Sandbox, or a RemoteSandbox for an attached one."""
        from jobs_widgets.sandbox import RemoteSandbox

        if self.sandbox is not None:
            return self.sandbox
        if self.attached is not None:
            return RemoteSandbox(self.attached, os.environ.get("DATABRICKS_TOKEN", ""))
        return None

    def _require(self) -> Sandbox | RemoteSandbox:
        target = self.control()
        if target is None:
            raise UsageError("the sandbox is not running: %jobs sandbox start")
        return target

    def add_faults(self, rules: Sequence[FaultRule | str], *, clear: bool = False) -> list[str]:
        """``%jobs sandbox fault``: clear (if asked), add ``rules``; the rules now active."""
        target = self._require()
        parsed = _fault_rules(rules)

        def change() -> list[str]:
            if clear:
                target.faults.clear()
            for rule in parsed:
                target.faults.add(rule)
            return [rule.spec() for rule in target.faults.rules]

        return _remotely(change)

    def script(self, words: Sequence[str], *, times: int, clear: bool) -> Message:
        """``%jobs sandbox script KEY FIELD=VALUE ...``: decide the next run(s) of KEY."""
        from jobs_widgets._render import Message
        from jobs_widgets.sandbox.plans import script_fields

        target = self._require()
        if not words:
            raise UsageError("which job? e.g. %jobs sandbox script etl outcome=FAILED fail_task=transform")
        key, *pairs = words
        key = key.lower()
        if self.sandbox is not None and key not in self.sandbox.jobs:
            raise UsageError(f"the sandbox has no job {key!r}; its jobs: {', '.join(self.sandbox.jobs)}")
        if clear:
            _remotely(lambda: target.engine.clear_scripts(key))
            return Message(f"Scripted runs of {key} not started yet: forgotten.")
        if not 1 <= times <= 1000:
            raise UsageError(f"--times must be from 1 to 1000, got {times}")
        raw: dict[str, object] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name:
                raise UsageError(f"expected FIELD=VALUE, got {pair!r} (e.g. outcome=FAILED)")
            raw[name] = value
        if not raw:
            raise UsageError("what should the run do? e.g. outcome=FAILED fail_task=transform duration_s=60")
        try:
            overrides = script_fields(raw)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        _remotely(lambda: target.engine.script(key, times=times, **overrides))
        runs = "run" if times == 1 else f"{times} runs"
        shown = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items())
        return Message(f"The next {runs} of {key}: {shown}.")

    def release(self) -> tuple[Sandbox | None, str | None]:
        """Forget the sandbox and restore the environment; the sandbox (to stop) and attached host."""
        released = self.sandbox, self.attached
        self.sandbox, self.attached, self.passed_over = None, None, None
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
        items = [("host", host), ("clock", clock), ("jobs", jobs)]
        target = self.control()
        if target is not None:
            try:
                items.append(("faults", ", ".join(r.spec() for r in target.faults.rules) or "none"))
            except (OSError, ValueError):  # an attached sandbox that stopped: say so, do not fail
                items.append(("faults", "unknown (the sandbox does not answer)"))
        items.append(("try", "%jobs list"))
        return SandboxInfo(title, items, sandbox=target)


def _fault_rules(rules: Sequence[FaultRule | str]) -> list[FaultRule]:
    """Rules as ``jobs-widgets sandbox --fault`` reads them; a bad one is a one-line UsageError."""
    from jobs_widgets.sandbox.faults import FaultRule

    try:
        return [FaultRule.parse(r) if isinstance(r, str) else r for r in rules]
    except ValueError as exc:
        raise UsageError(f"{exc} (e.g. runs/get:503:0.1)") from None


def _remotely(change: Callable[[], _T]) -> _T:
    """``change()``, with its refusals (a bad job, task or rule; a stopped sandbox) as one UsageError line."""
    try:
        return change()
    except KeyError as exc:  # the in-process engine: a task the job does not have
        raise UsageError(f"the job has no task {exc.args[0]!r}") from None
    except OSError as exc:  # RemoteSandbox: a refused token, or a sandbox that does not answer
        raise UsageError(str(exc)) from None
    except ValueError as exc:  # RemoteSandbox: the sandbox's own message
        raise UsageError(f"the sandbox refused: {exc}") from None


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
