"""``%jobs`` / ``%%jobs``: the notebook's command line for Lakeflow Jobs.

Parsing and rendering only: every action goes through :mod:`jobs_widgets.core`.
Loading this module is cheap (IPython is already imported in a shell; the core,
pydantic and databricks-sdk load on the first ``%jobs`` that needs them, or on a
background thread shortly after ``%load_ext``).

Bad input raises ``UsageError`` with one line saying what to do; IPython shows it
without a traceback. Results are returned, so ``runs = %jobs runs etl`` works.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from IPython.core.error import TryNext, UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Bool, Float, Integer, Unicode, observe, validate

from jobs_widgets._magic_grammar import (
    HELP,
    KEYED,
    RUN_ID_SUBCOMMANDS,
    SUBCOMMANDS,
    TASK_TYPES,
    build_parser,
    full_help,
    options,
    parse_params,
    strip_comment,
)
from jobs_widgets._magic_grammar import run_id as _run_id

if TYPE_CHECKING:
    from jobs_widgets.core import JobHandle, Jobs, Run
    from jobs_widgets.core.hub import Hub
    from jobs_widgets.sandbox import Sandbox

__all__ = ["JobsMagics", "load", "unload"]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 600 else text[:597] + "..."


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
    prewarm = Bool(True, help="Import databricks-sdk on a background thread soon after %load_ext.").tag(
        config=True
    )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._parser = build_parser()
        self._jobs_obj: Jobs | None = None
        self._fingerprint: tuple[Any, ...] | None = None
        self._sandbox: Sandbox | None = None
        self._sandbox_hub: Hub | None = None
        self._sandbox_env: dict[str, str | None] = {}
        self._attached: str | None = None
        self._seen_runs: OrderedDict[str, deque[int]] = OrderedDict()
        self._lock = threading.RLock()
        self.active = True

    # --------------------------------------------------------------------- settings
    @validate("default_task_type")
    def _check_task_type(self, proposal: Any) -> str:
        value = str(proposal["value"]).strip().lower()
        if value not in TASK_TYPES:
            raise UsageError(f"default_task_type must be one of {', '.join(repr(t) for t in TASK_TYPES)}")
        return value

    @validate("runs_limit")
    def _check_runs_limit(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if not 1 <= value <= 1000:
            raise UsageError("runs_limit must be between 1 and 1000")
        return value

    @validate("wait_timeout", "poll_cap", "poll_min_interval", "poll_budget")
    def _check_non_negative(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if value < 0 or (proposal["trait"].name != "wait_timeout" and value == 0):
            raise UsageError(f"{proposal['trait'].name} must be positive")
        return value

    @observe("poll_cap", "poll_min_interval", "poll_budget")
    def _policy_changed(self, change: Any) -> None:
        from dataclasses import replace

        from jobs_widgets.core import get_hub

        try:
            for hub in {get_hub(), self._sandbox_hub} - {None}:
                assert hub is not None
                hub.policy = replace(
                    hub.policy,
                    cap=self.poll_cap,
                    min_interval=min(self.poll_min_interval, self.poll_cap),
                    initial=min(hub.policy.initial, self.poll_cap),
                    budget_per_minute=self.poll_budget,
                )
        except ValueError as exc:
            raise UsageError(f"invalid poll setting: {exc}") from None

    @observe("default_task_type")
    def _task_type_changed(self, change: Any) -> None:
        self._jobs_obj = None

    # --------------------------------------------------------------------- entry point
    @line_cell_magic
    def jobs(self, line: str = "", cell: str | None = None) -> Any:
        try:
            return self._dispatch(line, cell)
        except UsageError:
            raise
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            from jobs_widgets.core import JobsError

            if isinstance(exc, JobsError | ValueError | TypeError | OSError):
                raise UsageError(_one_line(exc)) from None
            raise

    def _dispatch(self, line: str, cell: str | None) -> Any:
        try:
            argv = shlex.split(strip_comment(line))
        except ValueError as exc:
            raise UsageError(f"cannot parse the arguments ({exc}); check the quotes") from None
        if not argv:
            argv = ["list"]
        if argv[0] in {"-h", "--help", "?"}:
            argv = ["help"]
        if argv[0] not in SUBCOMMANDS:
            close = difflib.get_close_matches(argv[0], SUBCOMMANDS, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise UsageError(f"unknown subcommand {argv[0]!r}.{hint} Subcommands: {', '.join(SUBCOMMANDS)}")
        if cell is not None and argv[0] != "run":
            raise UsageError("only `%%jobs run KEY` takes a cell (a JSON object of parameters)")
        args = self._parser.parse_args(argv)
        handler: Callable[[argparse.Namespace, str | None], Any] = getattr(self, f"_cmd_{args.command}")
        return handler(args, cell)

    # --------------------------------------------------------------------- state
    @property
    def sandbox(self) -> Sandbox | None:
        """The in-process sandbox started by ``%jobs sandbox start`` (None if not running)."""
        return self._sandbox

    def jobs_registry(self) -> Jobs:
        """The session's configured jobs (rebuilt when DATABRICKS_* variables change)."""
        from jobs_widgets.core import JobConfig, Jobs, TaskType
        from jobs_widgets.core.config import discover_jobs
        from jobs_widgets.core.jobs import set_default_jobs

        env = dict(os.environ)
        fingerprint = (
            tuple(sorted((k, v) for k, v in env.items() if k.startswith("DATABRICKS_"))),
            self.default_task_type,
            id(self._sandbox),
            self._attached,
        )
        with self._lock:
            if self._jobs_obj is not None and fingerprint == self._fingerprint:
                return self._jobs_obj
            config: dict[str, Any] = {}
            if self.default_task_type:
                default = JobConfig(task_type=TaskType(self.default_task_type))
                config.update({entry.key: default for entry in discover_jobs(env).values()})
            config.update(self.sandbox_configs())
            client = None
            previous = self._jobs_obj
            if previous is not None and previous._gateway is not None and self._fingerprint is not None:
                same_target = [
                    (k, v) for k, v in self._fingerprint[0] if k in {"DATABRICKS_HOST", "DATABRICKS_TOKEN"}
                ] == [(k, v) for k, v in fingerprint[0] if k in {"DATABRICKS_HOST", "DATABRICKS_TOKEN"}]
                if same_target:
                    client = previous._gateway.client
            hub = self._sandbox_hub
            self._jobs_obj = Jobs.from_env(
                config=config or None, client=client, env=env, hub=hub, clock=hub.clock if hub else None
            )
            self._fingerprint = fingerprint
            set_default_jobs(self._jobs_obj)
            return self._jobs_obj

    def handle(self, key: str) -> JobHandle:
        return self.jobs_registry()(key)

    def remember_runs(self, key: str, run_ids: Iterable[int]) -> None:
        with self._lock:
            seen = self._seen_runs.setdefault(key.lower(), deque(maxlen=50))
            for run_id in run_ids:
                if run_id in seen:
                    seen.remove(run_id)
                seen.appendleft(run_id)

    # --------------------------------------------------------------------- subcommands
    def _cmd_help(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import Message

        topic = args.topic
        if topic is None:
            return _HelpText(full_help())
        if topic not in HELP:
            raise UsageError(f"no help for {topic!r}; subcommands: {', '.join(SUBCOMMANDS)}")
        usage, description, example = HELP[topic]
        return Message(f"{usage}\n    {description}\n    e.g. {example}")

    def _cmd_list(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import JobsList, job_row

        jobs = self.jobs_registry()
        keys = jobs.keys()
        if not keys:
            return JobsList([])

        def row(key: str) -> Any:
            entry = jobs.entry(key)
            if entry.problem:
                return job_row(key, entry.job_id, None, None, entry.problem), None
            handle = jobs(key)
            try:
                info = handle.get_job()
                last = handle.last_run()
            except Exception as exc:  # one broken job does not hide the others
                return job_row(key, entry.job_id, None, None, _one_line(exc)), exc
            if last is not None:
                self.remember_runs(key, [last.run_id])
            return job_row(key, entry.job_id, info, last, None), None

        with ThreadPoolExecutor(min(8, len(keys))) as pool:
            results = list(pool.map(row, keys))
        errors = [err for _, err in results if err is not None]
        if errors and len(errors) == len([k for k in keys if not jobs.entry(k).problem]):
            raise UsageError(_one_line(errors[0]))  # nothing worked: one clear error, not a table of them
        return JobsList([r for r, _ in results], host=jobs.gateway.host or None)

    def _cmd_run(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import Message

        params = parse_params(args.param, args.json_params, cell)
        if args.timeout is not None and args.timeout <= 0:
            raise UsageError("--timeout must be a positive number of seconds")
        handle = self.handle(args.key)
        run_id = handle.run_user_params(params)
        self.remember_runs(handle.key, [run_id])
        if args.wait:
            timeout = args.timeout if args.timeout is not None else (self.wait_timeout or None)
            return self._wait(handle, run_id, timeout, args.on_interrupt)
        panel = self._panel(handle, run_id)
        if panel is not None:
            return panel
        return Message(
            f"Started {handle.key} run {run_id}. Follow it: %jobs watch {handle.key} {run_id}", run_id=run_id
        )

    def _wait(self, handle: JobHandle, run_id: int, timeout: float | None, on_interrupt: str) -> Any:
        from jobs_widgets._render import RunSummary
        from jobs_widgets.core import WaitTimeoutError

        progress = _Progress(self.shell)
        progress.line(
            f"{handle.key} run {run_id} started; watching (Ctrl-C to {'cancel' if on_interrupt == 'cancel' else 'stop watching'})"
        )
        last: Run | None = None
        note: str | None = None
        try:
            for update in handle.watch(run_id, timeout=timeout):
                last = update.run
                progress.line(_progress_line(handle.key, update.run))
        except WaitTimeoutError:
            note = f"Stopped watching after {timeout:g} s; the run keeps going (%jobs watch {handle.key} {run_id})."
        except KeyboardInterrupt:
            if on_interrupt == "cancel":
                handle.cancel_run(run_id)
                note = f"Interrupted: cancel requested for run {run_id}."
            else:
                note = f"Interrupted: stopped watching; run {run_id} keeps going (%jobs watch {handle.key} {run_id})."
        if note:
            progress.line(note)
        final = handle.get_run(run_id) if note or last is None else last
        return RunSummary(handle.key, final, note=note)

    def _panel(self, handle: JobHandle, run_id: int | None = None) -> Any:
        try:
            from jobs_widgets.widget import JobPanel
        except ImportError:  # an unbuilt checkout: fall back to text
            return None
        return JobPanel(handle, run_id=run_id)

    def _cmd_runs(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import RunsTable

        limit = args.limit if args.limit is not None else self.runs_limit
        if not 1 <= limit <= 1000:
            raise UsageError("-n must be between 1 and 1000")
        handle = self.handle(args.key)
        runs = handle.list_runs(limit, active_only=args.active)
        self.remember_runs(handle.key, [r.run_id for r in reversed(runs)])
        return RunsTable(handle.key, runs, active_only=args.active)

    def _cmd_status(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import Message, RunSummary

        handle = self.handle(args.key)
        run_id = _run_id(args.run_id)
        run = handle.get_run(run_id) if run_id is not None else handle.last_run()
        if run is None:
            return Message(f"{handle.key} has no runs yet. Start one: %jobs run {handle.key}")
        self.remember_runs(handle.key, [run.run_id])
        return RunSummary(handle.key, run)

    def _cmd_watch(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import Message

        handle = self.handle(args.key)
        run_id = _run_id(args.run_id)
        runs = [handle.get_run(run_id)] if run_id is not None else handle.list_runs(25, active_only=True)
        if not runs:
            return Message(f"{handle.key} has no active runs. Show the job: %jobs panel {handle.key}")
        self.remember_runs(handle.key, [r.run_id for r in runs])
        panels = [self._panel(handle, r.run_id) for r in runs]
        if any(p is None for p in panels):
            raise UsageError("live panels need the jobs_widgets front end (jobs_widgets.widget)")
        return panels[0] if len(panels) == 1 else _Panels(panels)

    def _cmd_panel(self, args: argparse.Namespace, cell: str | None) -> Any:
        panel = self._panel(self.handle(args.key))
        if panel is None:
            raise UsageError("live panels need the jobs_widgets front end (jobs_widgets.widget)")
        return panel

    def _cmd_cancel(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import Message

        handle = self.handle(args.key)
        run_id = _run_id(args.run_id)
        assert run_id is not None
        run = handle.get_run(run_id)
        if run.is_terminal:
            return Message(
                f"Run {run_id} already ended ({run.state.label}); nothing to cancel.",
                run_id,
                run.run_page_url,
            )
        handle.cancel_run(run_id)
        return Message(
            f"Cancel requested for {handle.key} run {run_id} (was {run.state.label}). Follow it: %jobs watch {handle.key} {run_id}",
            run_id,
            run.run_page_url,
        )

    def _cmd_output(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import OutputView

        handle = self.handle(args.key)
        run_id = _run_id(args.run_id)
        assert run_id is not None
        return OutputView(handle.key, handle.get_run_output(run_id))

    def _cmd_repair(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import Message

        handle = self.handle(args.key)
        run_id = _run_id(args.run_id)
        assert run_id is not None
        run = handle.get_run(run_id)
        if not run.is_terminal:
            raise UsageError(f"run {run_id} is still {run.state.label.lower()}; repair it once it has ended")
        repair_id = handle.repair_run(run_id)
        return Message(
            f"Repair {repair_id} started for {handle.key} run {run_id}: failed tasks run again. "
            f"Follow it: %jobs watch {handle.key} {run_id}",
            run_id,
            run.run_page_url,
        )

    def _cmd_config(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import KeyValues
        from jobs_widgets.core import get_hub

        jobs = self.jobs_registry()
        items: list[tuple[str, str]] = []
        try:
            described = jobs.gateway.describe()
            items += [
                ("host", str(described.get("host") or "")),
                ("auth type", str(described.get("auth_type") or "")),
            ]
        except Exception as exc:
            items.append(("workspace", f"not reachable: {_one_line(exc)}"))
        for key in jobs:
            entry = jobs.entry(key)
            items.append((f"job {key}", entry.problem or f"{entry.job_id} ({entry.variable or 'JobConfig'})"))
        if not jobs.keys():
            items.append(("jobs", "none (set DATABRICKS_JOB_<KEY>=<job id>)"))
        policy = (self._sandbox_hub or get_hub()).policy
        items += [
            ("poll cap", f"{policy.cap:g} s"),
            ("poll min interval", f"{policy.min_interval:g} s"),
            ("poll budget", f"{policy.budget_per_minute:g} requests/min"),
            ("default task type", self.default_task_type or "(none)"),
            (
                "sandbox",
                self._sandbox.host if self._sandbox is not None else (self._attached or "not running"),
            ),
        ]
        return KeyValues("jobs_widgets configuration", items)

    def _cmd_sandbox(self, args: argparse.Namespace, cell: str | None) -> Any:
        from jobs_widgets._render import KeyValues

        if args.action == "start":
            return self.start_sandbox(speed=args.speed, seed=args.seed, port=args.port)
        if args.action == "stop":
            return self.stop_sandbox()
        if self._sandbox is None and self._attached is None:
            return KeyValues("Sandbox", [("state", "not running (start it: %jobs sandbox start)")])
        return self._sandbox_status("Sandbox running")

    # --------------------------------------------------------------------- sandbox
    def start_sandbox(self, *, speed: float | None = None, seed: int = 0, port: int = 0) -> Any:
        """Start the embedded workspace and point this kernel's environment at it.

        If this kernel was started by ``jobs-widgets demo`` (or from a shell with a
        ``jobs-widgets sandbox``'s exports), it attaches to that running sandbox instead:
        ``JOBS_WIDGETS_SANDBOX`` names it and ``JOBS_WIDGETS_SANDBOX_CLOCK`` its clock.
        """
        from jobs_widgets.core import Hub
        from jobs_widgets.sandbox import Sandbox

        if speed is not None and speed <= 0:
            raise UsageError("--speed must be positive")
        with self._lock:
            if self._sandbox is not None or self._attached is not None:
                return self._sandbox_status("Sandbox already running")
            external = os.environ.get("JOBS_WIDGETS_SANDBOX", "").strip()
            if external and speed is None and _reachable(external):
                self._attached = external
                self._sandbox_hub = Hub(clock=_attached_clock(), name="jobs-widgets-sandbox-hub")
                self._jobs_obj = None
                return self._sandbox_status("Using the sandbox this kernel was started with")
            if speed is None:
                speed = _demo_speed()
            try:
                sandbox = Sandbox(speed=speed, seed=seed, port=port).start()
            except OSError as exc:
                raise UsageError(f"cannot start the sandbox on port {port}: {exc.strerror or exc}") from None
            self._sandbox = sandbox
            self._sandbox_hub = Hub(clock=sandbox.clock, name="jobs-widgets-sandbox-hub")
            env = sandbox.env()
            self._sandbox_env = {name: os.environ.get(name) for name in env}
            for name in [n for n in os.environ if n.startswith("DATABRICKS_JOB_") and n not in env]:
                self._sandbox_env[name] = os.environ.pop(name)
            os.environ.update(env)
            self._jobs_obj = None
        return self._sandbox_status("Sandbox started; this kernel now talks to it")

    def stop_sandbox(self) -> Any:
        from jobs_widgets._render import Message

        with self._lock:
            sandbox, hub, attached = self._sandbox, self._sandbox_hub, self._attached
            if sandbox is None and attached is None:
                return Message("The sandbox is not running.")
            self._sandbox, self._sandbox_hub, self._attached = None, None, None
            for name, value in self._sandbox_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._sandbox_env = {}
            self._jobs_obj = None
        if hub is not None:
            hub.shutdown()
        if sandbox is None:
            return Message(
                f"Detached from the sandbox at {attached}; it keeps running in the process that started it."
            )
        sandbox.stop()
        return Message("Sandbox stopped; DATABRICKS_* variables restored.")

    def sandbox_configs(self) -> dict[str, Any]:
        """Job configs of the demo jobs the session's sandbox serves (task types, params models)."""
        if self._sandbox is not None:
            return self._sandbox.config()
        if self._attached is not None:
            from jobs_widgets.sandbox.demo_config import demo_configs

            present = {
                n[len("DATABRICKS_JOB_") :].lower() for n in os.environ if n.startswith("DATABRICKS_JOB_")
            }
            return {key: cfg for key, cfg in demo_configs().items() if key in present}
        return {}

    def _sandbox_status(self, title: str) -> Any:
        sandbox = self._sandbox
        hub = self._sandbox_hub
        speed = float(getattr(hub.clock, "speed", 1.0)) if hub is not None else 1.0
        clock = "real time" if speed == 1 else f"{speed:g}x real time"
        if sandbox is not None:
            jobs = ", ".join(f"{k} ({v})" for k, v in sandbox.jobs.items())
            host = sandbox.host
        else:
            present = sorted(
                (n[len("DATABRICKS_JOB_") :].lower(), v)
                for n, v in os.environ.items()
                if n.startswith("DATABRICKS_JOB_")
            )
            jobs = ", ".join(f"{k} ({v})" for k, v in present)
            host = f"{self._attached} (started outside this kernel)"
        return SandboxInfo(
            title, [("host", host), ("clock", clock), ("jobs", jobs), ("try", "%jobs list")], sandbox=sandbox
        )

    # --------------------------------------------------------------------- completion
    def complete(self, event: Any) -> list[str]:
        """Tab completion: subcommands, job keys, options, and recent run ids."""
        if not self.active:
            raise TryNext
        text = event.text_until_cursor
        body = re.sub(r"^\s*%%?jobs", "", text, count=1)
        words = body.split()
        if body.endswith((" ", "\t")) or not words:
            words.append("")
        current, done = words[-1], words[:-1]
        if not done:
            return [s for s in SUBCOMMANDS if s.startswith(current)]
        command = done[0]
        if current.startswith("-"):
            return [o for o in options(self._parser, command) if o.startswith(current)]
        positional = [w for w in done[1:] if not w.startswith("-")]
        if command == "help" and not positional:
            return [s for s in SUBCOMMANDS if s.startswith(current)]
        if command == "sandbox" and not positional:
            return [a for a in ("start", "stop", "status") if a.startswith(current)]
        if command in KEYED and not positional:
            try:
                keys = self.jobs_registry().keys()
            except Exception:
                return []
            return [k for k in keys if k.lower().startswith(current.lower())]
        if command in RUN_ID_SUBCOMMANDS and len(positional) == 1:
            with self._lock:
                seen = list(self._seen_runs.get(positional[0].lower(), ()))
            return [str(r) for r in seen if str(r).startswith(current)]
        return []

    def close(self) -> None:
        """Stop everything this magic started (sandbox, its hub)."""
        from jobs_widgets.core.jobs import set_default_jobs

        self.active = False
        set_default_jobs(None)
        if self._sandbox is not None or self._attached is not None:
            self.stop_sandbox()


def _reachable(host: str) -> bool:
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(host)
    if not url.hostname:
        return False
    try:
        with socket.create_connection((url.hostname, url.port or 80), timeout=2):
            return True
    except OSError:
        return False


def _attached_clock() -> Any:
    """The clock of the sandbox named by JOBS_WIDGETS_SANDBOX_CLOCK (``real`` or ``origin:speed``)."""
    from jobs_widgets.core import ScaledClock, SystemClock

    spec = os.environ.get("JOBS_WIDGETS_SANDBOX_CLOCK", "real").strip()
    origin, _, speed = spec.partition(":")
    try:
        return ScaledClock(float(speed), origin=float(origin)) if speed else SystemClock()
    except ValueError:
        return SystemClock()


def _demo_speed() -> float:
    try:
        speed = float(os.environ.get("JOBS_WIDGETS_DEMO_SPEED", "1"))
    except ValueError:
        return 1.0
    return speed if speed > 0 else 1.0


def _progress_line(key: str, run: Run) -> str:
    from jobs_widgets._render import duration, one_line

    tasks = ", ".join(f"{one_line(t.task_key, 40)}={t.state.label}" for t in run.tasks)
    elapsed = run.duration_s if run.is_terminal else None
    took = f" in {duration(elapsed)}" if elapsed else ""
    detail = f" [{tasks}]" if tasks else ""
    message = f" — {one_line(run.state_message, 160)}" if run.state.is_failure and run.state_message else ""
    return f"{key} run {run.run_id}: {run.state.label}{took}{detail}{message}"


class _Progress:
    """Lines for ``--wait``: printed in a terminal, one updating output in a notebook."""

    def __init__(self, shell: Any) -> None:
        self._lines: list[str] = []
        self._handle: Any = None
        self._notebook = type(shell).__name__ == "ZMQInteractiveShell"

    def line(self, text: str) -> None:
        import datetime as dt

        from jobs_widgets._render import visible

        stamped = f"[{dt.datetime.now().astimezone().strftime('%H:%M:%S')}] {visible(text)}"
        self._lines.append(stamped)
        if not self._notebook:
            print(stamped, flush=True)
            return
        import html

        from IPython.display import HTML, display

        from jobs_widgets._render import inert_html

        body = HTML(
            inert_html("<pre class='jw-progress-log'>" + html.escape("\n".join(self._lines)) + "</pre>")
        )
        if self._handle is None:
            self._handle = display(body, display_id=True)
        else:
            self._handle.update(body)


class SandboxInfo:
    """The sandbox's status; ``.sandbox`` is the in-process Sandbox (None when attached)."""

    def __init__(self, title: str, items: list[tuple[str, str]], sandbox: Any = None) -> None:
        from jobs_widgets._render import KeyValues

        self._view = KeyValues(title, items)
        self.items = items
        self.sandbox = sandbox

    def __repr__(self) -> str:
        return repr(self._view)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self._view))

    def _repr_html_(self) -> str:
        return self._view._repr_html_()


class _HelpText:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text)


class _Panels:
    """Several panels shown one after the other (``%jobs watch KEY`` with many active runs)."""

    def __init__(self, panels: list[Any]) -> None:
        self.panels = panels

    def __iter__(self) -> Any:
        return iter(self.panels)

    def __len__(self) -> int:
        return len(self.panels)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for panel in self.panels:
            display(panel)

    def __repr__(self) -> str:
        return "\n".join(repr(p) for p in self.panels)


JobsMagics.jobs.__doc__ = full_help()

# ------------------------------------------------------------------------- extension hooks
_instances: dict[int, JobsMagics] = {}


def _prewarm(delay: float) -> None:
    """Import the core and databricks-sdk on a background thread, after ``delay`` seconds."""

    def work() -> None:
        threading.Event().wait(delay)
        try:
            from jobs_widgets.core.sdk import _sdk

            _sdk()
        except Exception:  # a missing optional piece shows up later, with context
            return

    threading.Thread(target=work, name="jobs-widgets-prewarm", daemon=True).start()


def load(ipython: Any) -> JobsMagics:
    """``%load_ext jobs_widgets``."""
    existing = _instances.get(id(ipython))
    if existing is not None and existing.active:
        return existing
    magics = JobsMagics(ipython)
    ipython.register_magics(magics)
    completer = magics.complete
    ipython.set_hook("complete_command", lambda _self, event: completer(event), str_key="%jobs")
    ipython.set_hook("complete_command", lambda _self, event: completer(event), str_key="%%jobs")
    _instances[id(ipython)] = magics
    if magics.prewarm and "databricks.sdk" not in sys.modules:
        _prewarm(0.5)
    return magics


def unload(ipython: Any) -> None:
    """``%unload_ext jobs_widgets``: remove ``%jobs`` and stop every background poller."""
    magics = _instances.pop(id(ipython), None)
    if magics is not None:
        magics.close()
    registry = ipython.magics_manager.magics
    for kind in ("line", "cell"):
        registry[kind].pop("jobs", None)
    if "jobs_widgets.core.hub" in sys.modules:
        from jobs_widgets.core.hub import shutdown_hub

        shutdown_hub()
