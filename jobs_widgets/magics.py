"""``%jobs`` / ``%%jobs``: the notebook's command line for Lakeflow Jobs.

Parsing and rendering only: every action goes through :mod:`jobs_widgets.core`.
Loading this module is cheap (IPython is already imported in a shell; the core,
pydantic and databricks-sdk load on the first ``%jobs`` that needs them, or on a
background thread shortly after ``%load_ext``).

Errors: bad input raises ``UsageError`` with one line saying what to do, and IPython
shows it without a traceback. The grammar (:mod:`jobs_widgets._magic_grammar`) refuses
malformed input explicitly, and the core's ``JobsError`` (unknown job, invalid
parameters, a run of another job, an API failure) becomes such a line too. Any other
exception (``TypeError``, ``AttributeError``, a ``ValueError`` that is not the core's)
is a bug in jobs_widgets and keeps its traceback.

Results are returned, so ``runs = %jobs runs etl`` works. This module keeps the entry
point, the settings, the sandbox commands and the runtime wiring (one marked section);
beside it: ``_magic_grammar`` (the command line), ``_magic_commands`` (the per-job
subcommands), ``_magic_sandbox`` (the sandbox's life), ``_magic_wait`` (``--wait``),
``_magic_results`` (small result types), ``_magic_complete`` (tab completion).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol, cast

from IPython.core.error import TryNext, UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Bool, Float, Integer, Unicode, observe, validate

from jobs_widgets._magic_commands import COMMANDS
from jobs_widgets._magic_complete import complete
from jobs_widgets._magic_grammar import TASK_TYPES, build_parser, check_limit, full_help, parse, words
from jobs_widgets._magic_results import SandboxInfo, error_line
from jobs_widgets._magic_sandbox import SandboxSlot

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.utils.bunch import Bunch

    from jobs_widgets._render import KeyValues, Message
    from jobs_widgets.core import Clock, JobConfig, JobHandle, Jobs, PollPolicy
    from jobs_widgets.core.runtime import Runtime
    from jobs_widgets.sandbox import Sandbox

__all__ = ["JobsMagics", "SandboxInfo", "load", "unload"]

# What identifies the registry a magic built: DATABRICKS_* variables, default task type,
# the in-process sandbox (by id) and the attached sandbox's host.
_Fingerprint = tuple[tuple[tuple[str, str], ...], str, int, str | None]


def _is_jobs_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the core's ``JobsError``, without importing the core for it:
    when ``jobs_widgets.core.errors`` is not loaded, nothing can have raised one."""
    errors = sys.modules.get("jobs_widgets.core.errors")
    return errors is not None and isinstance(exc, errors.JobsError)


class _CompletionEvent(Protocol):
    """What IPython's ``complete_command`` hook passes (the fields used here)."""

    text_until_cursor: str


class _SetHook(Protocol):
    """``InteractiveShell.set_hook`` as called here (IPython leaves it unannotated)."""

    def __call__(
        self, name: str, hook: Callable[[object, _CompletionEvent], list[str]], *, str_key: str
    ) -> None: ...


@magics_class
class JobsMagics(Magics):
    """The ``%jobs`` magic. Settings: ``%config JobsMagics.<name> = <value>``."""

    default_task_type = Unicode(
        "",
        help="How plain -p parameters are sent for jobs without explicit config: '' (AppKit's rule: only jobs "
        "with a params model or task type take parameters), 'auto' (decide from the job's settings), or a task "
        "type (notebook, python_wheel, python_script, spark_jar, sql, dbt, job).",
    ).tag(config=True)
    wait_timeout = Float(
        0.0, help="Default --timeout for `%jobs run --wait`, in seconds (0: until the run ends)."
    ).tag(config=True)
    runs_limit = Integer(20, help="Default number of runs shown by `%jobs runs`.").tag(config=True)
    poll_cap = Float(30.0, help="Longest gap between two polls of a run, in seconds.").tag(config=True)
    poll_min_interval = Float(4.0, help="Shortest gap between two polls of one job, in seconds.").tag(
        config=True
    )
    poll_budget = Float(
        10.0, help="Requests per minute this kernel aims for when it watches several jobs."
    ).tag(config=True)
    poll_mode = Unicode(
        "auto",
        help="How watched runs are polled: 'auto' (foreground while a panel is visible or a cell waits "
        "on few runs, else background), 'foreground' (fast on every kind of end) or 'background' (frugal).",
    ).tag(config=True)
    prewarm = Bool(True, help="Import databricks-sdk on a background thread soon after %load_ext.").tag(
        config=True
    )

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: object) -> None:
        super().__init__(shell=shell, **kwargs)
        self._parser = build_parser()
        self._jobs_obj: Jobs | None = None
        self._fingerprint: _Fingerprint | None = None
        self._slot = SandboxSlot()
        self._sandbox_runtime: Runtime | None = None
        self._seen_runs: OrderedDict[str, deque[int]] = OrderedDict()
        self._lock = threading.RLock()
        self.active = True

    # --------------------------------------------------------------------- settings
    @validate("default_task_type")
    def _check_task_type(self, proposal: Bunch) -> str:
        value = str(proposal["value"]).strip().lower()
        if value not in TASK_TYPES:
            raise UsageError(f"default_task_type must be one of {', '.join(repr(t) for t in TASK_TYPES)}")
        return value

    @validate("poll_mode")
    def _check_poll_mode(self, proposal: Bunch) -> str:
        value = str(proposal["value"]).strip().lower()
        if value not in ("auto", "foreground", "background"):
            raise UsageError("poll_mode must be 'auto', 'foreground' or 'background'")
        return value

    @validate("runs_limit")
    def _check_runs_limit(self, proposal: Bunch) -> int:
        return check_limit(int(proposal["value"]), "runs_limit")

    @validate("wait_timeout", "poll_cap", "poll_min_interval", "poll_budget")
    def _check_seconds(self, proposal: Bunch) -> float:
        value = float(proposal["value"])
        name: str = proposal["trait"].name
        if not math.isfinite(value) or value < 0 or (name != "wait_timeout" and value == 0):
            raise UsageError(
                f"{name} must be a positive number" + (" (0: no limit)" if name == "wait_timeout" else "")
            )
        return value

    @observe("default_task_type")
    def _task_type_changed(self, change: Bunch) -> None:
        self._jobs_obj = None

    # --------------------------------------------------------------------- entry point
    @line_cell_magic
    def jobs(self, line: str = "", cell: str | None = None) -> object:
        try:
            return self._dispatch(line, cell)
        except Exception as exc:
            if not _is_jobs_error(exc):
                raise  # a UsageError is one line already; anything else is our bug: keep the traceback
            raise UsageError(error_line(exc)) from None

    def _dispatch(self, line: str, cell: str | None) -> object:
        args = parse(self._parser, words(line, cell))
        if args.command == "config":
            return self._config()
        if args.command == "sandbox":
            return self._sandbox_command(args)
        return COMMANDS[args.command](self, args, cell)

    # --------------------------------------------------------------------- state
    @property
    def sandbox(self) -> Sandbox | None:
        """The in-process sandbox started by ``%jobs sandbox start`` (None if not running)."""
        return self._slot.sandbox

    def handle(self, key: str) -> JobHandle:
        return self.jobs_registry()(key)

    def remember_runs(self, key: str, run_ids: Iterable[int]) -> None:
        with self._lock:
            seen = self._seen_runs.setdefault(key.lower(), deque(maxlen=50))
            for run_id in run_ids:
                if run_id in seen:
                    seen.remove(run_id)
                seen.appendleft(run_id)

    def in_notebook(self) -> bool:
        return type(self.shell).__name__ == "ZMQInteractiveShell"

    # --------------------------------------------------------------------- config and sandbox
    def _config(self) -> KeyValues:
        from jobs_widgets._render import KeyValues
        from jobs_widgets.core import JobsError

        jobs = self.jobs_registry()
        items: list[tuple[str, str]] = []
        try:
            described = jobs.gateway.describe()
            items += [
                ("host", str(described.get("host") or "")),
                ("auth type", str(described.get("auth_type") or "")),
            ]
        except JobsError as exc:  # no credentials, or a workspace that does not answer
            items.append(("workspace", f"not reachable: {error_line(exc)}"))
        for key in jobs:
            entry = jobs.entry(key)
            items.append((f"job {key}", entry.problem or f"{entry.job_id} ({entry.variable or 'JobConfig'})"))
        if not jobs.keys():
            items.append(("jobs", "none (set DATABRICKS_JOB_<KEY>=<job id>)"))
        policy = self._policy()
        items += [
            ("poll cap", f"{policy.cap:g} s"),
            ("poll min interval", f"{policy.min_interval:g} s"),
            ("poll budget", f"{policy.budget_per_minute:g} requests/min"),
            ("poll mode", policy.mode),
            ("default task type", self.default_task_type or "(none)"),
            (
                "sandbox",
                self.sandbox.host if self.sandbox is not None else (self._slot.attached or "not running"),
            ),
        ]
        return KeyValues("jobs_widgets configuration", items)

    def _sandbox_command(self, args: argparse.Namespace) -> SandboxInfo | Message:
        if args.words and args.action in {"start", "stop", "status"}:
            raise UsageError(
                f"%jobs sandbox {args.action} takes no {args.words[0]!r}. Try: %jobs help sandbox"
            )
        if args.action == "fault":
            with self._lock:
                self._slot.add_faults(args.words, clear=args.clear)
            return self._sandbox_status("Sandbox faults changed" if args.words or args.clear else "Sandbox")
        if args.action == "script":
            with self._lock:
                return self._slot.script(args.words, times=args.times, clear=args.clear)
        if args.action == "start":
            return self.start_sandbox(
                speed=args.speed, seed=args.seed, port=args.port, faults=args.fault, run_model=args.run_model
            )
        if args.action == "stop":
            return self.stop_sandbox()
        if not self._slot.running:
            return SandboxInfo("Sandbox", [("state", "not running (start it: %jobs sandbox start)")])
        return self._sandbox_status("Sandbox running")

    # --------------------------------------------------------------------- sandbox
    def start_sandbox(
        self,
        *,
        speed: float | None = None,
        seed: int = 0,
        port: int = 0,
        faults: Sequence[str] = (),
        run_model: bool = False,
    ) -> SandboxInfo:
        """Start the embedded workspace (``run_model``: with today's run-model jobs too) and point
        this kernel at it, or attach to the one the kernel was started with (``jobs-widgets demo``:
        ``JOBS_WIDGETS_SANDBOX``) unless ``speed`` or ``run_model`` asks for a private one (said so).
        ``faults``: rules like ``runs/get:503:0.1`` for whichever sandbox is used."""
        with self._lock:
            if self._slot.running:
                return self._sandbox_status(self._slot.already_running(speed=speed, faults=faults))
            clock = self._slot.start(speed=speed, seed=seed, port=port, faults=faults, run_model=run_model)
            self._attach_sandbox_runtime(clock)
            return self._sandbox_status(self._slot.started_title())

    def stop_sandbox(self) -> Message:
        from jobs_widgets._render import Message

        with self._lock:
            if not self._slot.running:
                return Message("The sandbox is not running.")
            sandbox, attached = self._slot.release()
            self._detach_sandbox_runtime()
        if sandbox is None:
            return Message(
                f"Detached from the sandbox at {attached}; it keeps running in the process that started it."
            )
        sandbox.stop()
        return Message("Sandbox stopped; DATABRICKS_* variables restored.")

    def sandbox_configs(self) -> dict[str, JobConfig]:
        """Job configs of the demo jobs the session's sandbox serves (task types, params models)."""
        return self._slot.configs()

    def _sandbox_status(self, title: str) -> SandboxInfo:
        return self._slot.status(title, self._clock_speed())

    # --------------------------------------------------------------------- completion
    def complete(self, event: _CompletionEvent) -> list[str]:
        """Tab completion: subcommands, job keys, options, and recent run ids."""
        if not self.active:
            raise TryNext

        def keys() -> list[str]:
            try:
                return self.jobs_registry().keys()
            except Exception:  # completion must never break typing; `%jobs list` says what is wrong
                return []

        def seen_runs(key: str) -> list[int]:
            with self._lock:
                return list(self._seen_runs.get(key.lower(), ()))

        return complete(event.text_until_cursor, self._parser, keys, seen_runs)

    # ===================================================================== runtime wiring
    # Which runtime polls for this magic, the policy it polls with, which registry the
    # subcommands use, and what closing shuts down. A sped-up sandbox gets a runtime on
    # its own clock; everything else shares the process-wide runtime. The poll settings
    # are the process default policy, so every runtime without its own follows them.
    @observe("poll_cap", "poll_min_interval", "poll_budget", "poll_mode")
    def _policy_changed(self, change: Bunch) -> None:
        from dataclasses import replace

        from jobs_widgets.core.policy import default_policy, set_default_policy

        current = default_policy()
        try:
            set_default_policy(
                replace(
                    current,
                    cap=self.poll_cap,
                    min_interval=min(self.poll_min_interval, self.poll_cap),
                    initial=min(current.initial, self.poll_cap),
                    budget_per_minute=self.poll_budget,
                    mode=self.poll_mode,
                )
            )
        except ValueError as exc:  # PollPolicy refuses the combination (its own checks)
            raise UsageError(f"invalid poll setting: {exc}") from None

    def jobs_registry(self) -> Jobs:
        """The session's configured jobs (rebuilt when DATABRICKS_* variables change).

        Rebuilding is cheap: registries of one workspace identity share one session
        (client, read cache), so a new registry does not make a new client.
        """
        from jobs_widgets.core import JobConfig, Jobs, TaskType
        from jobs_widgets.core.config import discover_jobs
        from jobs_widgets.core.jobs import set_default_jobs

        env = dict(os.environ)
        fingerprint: _Fingerprint = (
            tuple(sorted((k, v) for k, v in env.items() if k.startswith("DATABRICKS_"))),
            self.default_task_type,
            id(self._slot.sandbox),
            self._slot.attached,
        )
        with self._lock:
            if self._jobs_obj is not None and fingerprint == self._fingerprint:
                return self._jobs_obj
            config: dict[str, JobConfig] = {}
            if self.default_task_type:
                default = JobConfig(task_type=TaskType(self.default_task_type))
                config.update({entry.key: default for entry in discover_jobs(env).values()})
            config.update(self.sandbox_configs())
            self._jobs_obj = Jobs.from_env(config=config or None, env=env, runtime=self._sandbox_runtime)
            self._fingerprint = fingerprint
            set_default_jobs(self._jobs_obj)
            return self._jobs_obj

    def _attach_sandbox_runtime(self, clock: Clock) -> None:
        """A runtime on the sandbox's clock polls it (a sped-up sandbox needs its own time)."""
        from jobs_widgets.core.runtime import Runtime

        self._sandbox_runtime = Runtime(clock=clock, name="jobs-widgets-sandbox-hub")
        self._jobs_obj = None

    def _detach_sandbox_runtime(self) -> None:
        runtime, self._sandbox_runtime = self._sandbox_runtime, None
        self._jobs_obj = None
        if runtime is not None:
            runtime.close()  # its waits end with JobsClosedError; its panels say they stopped

    def _policy(self) -> PollPolicy:
        from jobs_widgets.core.policy import default_policy

        runtime = self._sandbox_runtime
        return runtime.hub.policy if runtime is not None else default_policy()

    def _clock_speed(self) -> float:
        runtime = self._sandbox_runtime
        return float(getattr(runtime.clock, "speed", 1.0)) if runtime is not None else 1.0

    def close(self) -> None:
        """Stop everything this magic started (sandbox, its runtime)."""
        from jobs_widgets.core.jobs import set_default_jobs
        from jobs_widgets.core.policy import PollPolicy, set_default_policy

        self.active = False
        set_default_jobs(None)
        set_default_policy(PollPolicy())  # the poll settings were this magic's
        if self._slot.running:
            self.stop_sandbox()

    @staticmethod
    def close_shared_runtime() -> None:
        """Close the process-wide runtime (if it was ever made): every wait and panel on it ends."""
        if "jobs_widgets.core.runtime" in sys.modules:
            from jobs_widgets.core.runtime import close_runtime

            close_runtime()


JobsMagics.jobs.__doc__ = full_help()

# ------------------------------------------------------------------------- extension hooks
_instances: dict[int, JobsMagics] = {}


def load(ipython: InteractiveShell) -> JobsMagics:
    """``%load_ext jobs_widgets``."""
    existing = _instances.get(id(ipython))
    if existing is not None and existing.active:
        return existing
    magics = JobsMagics(ipython)
    ipython.register_magics(magics)
    completer = magics.complete
    set_hook = cast(_SetHook, ipython.set_hook)
    for prefix in ("%jobs", "%%jobs"):
        set_hook("complete_command", lambda _shell, event: completer(event), str_key=prefix)
    _instances[id(ipython)] = magics
    if magics.prewarm and "databricks.sdk" not in sys.modules:
        from jobs_widgets._prewarm import prewarm

        prewarm(0.5)
    return magics


def unload(ipython: InteractiveShell) -> None:
    """``%unload_ext jobs_widgets``: remove ``%jobs`` and stop every background poller."""
    magics = _instances.pop(id(ipython), None)
    if magics is not None:
        magics.close()
    registry = ipython.magics_manager.magics
    for kind in ("line", "cell"):
        registry[kind].pop("jobs", None)
    JobsMagics.close_shared_runtime()
