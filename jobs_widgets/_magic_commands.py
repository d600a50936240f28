"""The ``%jobs`` subcommands that act on one job: list, run, runs, status, watch, panel, board,
cancel, output, repair, help.

Split out of :mod:`jobs_widgets.magics` (which keeps the entry point, the settings,
the sandbox and the runtime wiring) because these are plain functions of a parsed
command line and a small context: the job handles, the run ids seen so far, two
settings. Each returns what the cell shows; bad input is a ``UsageError`` raised
here or in :mod:`jobs_widgets._magic_grammar`, and the core's ``JobsError`` is turned
into one by the magic's entry point. The core and the views load on first use.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from IPython.core.error import UsageError

from jobs_widgets._magic_grammar import HELP, SUBCOMMANDS, full_help, parse_params
from jobs_widgets._magic_grammar import run_id as _run_id
from jobs_widgets._magic_results import HelpText, Panels, error_line
from jobs_widgets._magic_wait import wait_for_run

if TYPE_CHECKING:
    from jobs_widgets._render import JobRow, JobsList, Message, RunsTable, RunSummary
    from jobs_widgets._render_nested import Nested
    from jobs_widgets.core import JobHandle, Jobs, Run
    from jobs_widgets.widget import JobPanel

__all__ = ["COMMANDS", "Command", "MagicContext", "panel_for"]


class MagicContext(Protocol):
    """What a subcommand needs from the magic (``JobsMagics`` is one)."""

    @property
    def wait_timeout(self) -> float: ...

    @property
    def runs_limit(self) -> int: ...

    def jobs_registry(self) -> Jobs: ...

    def handle(self, key: str) -> JobHandle: ...

    def remember_runs(self, key: str, run_ids: Iterable[int]) -> None: ...

    def in_notebook(self) -> bool: ...


Command = Callable[[MagicContext, argparse.Namespace, "str | None"], object]


def _help(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> HelpText | Message:
    from jobs_widgets._render import Message

    topic = args.topic
    if topic is None:
        return HelpText(full_help())
    if topic not in HELP:
        raise UsageError(f"no help for {topic!r}; subcommands: {', '.join(SUBCOMMANDS)}")
    usage, description, example = HELP[topic]
    return Message(f"{usage}\n    {description}\n    e.g. {example}")


def _list(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> JobsList:
    from jobs_widgets._render import JobsList, job_row
    from jobs_widgets.core import JobsError

    jobs = ctx.jobs_registry()
    keys = jobs.keys()
    if not keys:
        return JobsList([])

    def row(key: str) -> tuple[JobRow, JobsError | None]:
        entry = jobs.entry(key)
        if entry.problem:
            return job_row(key, entry.job_id, None, None, entry.problem), None
        handle = jobs(key)
        try:
            info = handle.get_job()
            last = handle.last_run()
        except JobsError as exc:  # one broken job does not hide the others
            return job_row(key, entry.job_id, None, None, error_line(exc)), exc
        if last is not None:
            ctx.remember_runs(key, [last.run_id])
        return job_row(key, entry.job_id, info, last, None), None

    with ThreadPoolExecutor(min(8, len(keys))) as pool:
        results = list(pool.map(row, keys))
    errors = [err for _, err in results if err is not None]
    if errors and len(errors) == len([k for k in keys if not jobs.entry(k).problem]):
        raise UsageError(error_line(errors[0]))  # nothing worked: one clear error, not a table of them
    return JobsList([r for r, _ in results], host=jobs.gateway.host or None, now_s=jobs.workspace_time())


def _run(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> RunSummary | JobPanel | Message:
    from jobs_widgets._render import Message

    params = parse_params(args.param, args.json_params, cell)
    handle = ctx.handle(args.key)
    run_id = handle.run_user_params(params)
    ctx.remember_runs(handle.key, [run_id])
    if args.wait:
        timeout: float | None = args.timeout if args.timeout is not None else (ctx.wait_timeout or None)
        return wait_for_run(
            handle, run_id, timeout=timeout, on_interrupt=args.on_interrupt, notebook=ctx.in_notebook()
        )
    panel = panel_for(handle, run_id)
    if panel is not None:
        return panel
    return Message(
        f"Started {handle.key} run {run_id}. Follow it: %jobs watch {handle.key} {run_id}", run_id=run_id
    )


def panel_for(handle: JobHandle, run_id: int | None = None) -> JobPanel | None:
    try:
        from jobs_widgets.widget import JobPanel
    except ImportError:  # an unbuilt checkout: fall back to text
        return None
    return JobPanel(handle, run_id=run_id)


def _runs(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> RunsTable:
    from jobs_widgets._render import RunsTable

    limit: int = args.limit if args.limit is not None else ctx.runs_limit
    handle = ctx.handle(args.key)
    runs = handle.list_runs(limit, active_only=args.active)
    ctx.remember_runs(handle.key, [r.run_id for r in reversed(runs)])
    return RunsTable(handle.key, runs, active_only=args.active, now_s=handle.workspace_time())


def _status(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> object:
    from jobs_widgets._render import Message, RunSummary

    handle = ctx.handle(args.key)
    run_id = _run_id(args.run_id)
    run = handle.get_run(run_id) if run_id is not None else handle.last_run()
    if run is None:
        return Message(f"{handle.key} has no runs yet. Start one: %jobs run {handle.key}")
    ctx.remember_runs(handle.key, [run.run_id])
    now_s = handle.workspace_time()
    return RunSummary(
        handle.key, run, now_s=now_s, nested=_nested(handle, run), note=_timeline_note(handle, run, now_s)
    )


def _timeline_note(handle: JobHandle, run: Run, now_s: float) -> str | None:
    """The task timeline in one line (tasks slower than their usual, when the history knows it)."""
    from jobs_widgets._present import outcome
    from jobs_widgets._render_tasks import timeline_note
    from jobs_widgets.core.taskviews import timeline_view

    usual = handle.registry.hub.history.task_etas((handle.identity, handle.job_id))
    return timeline_note(timeline_view(run, usual, outcome=outcome), now_s * 1000) or None


def _nested(handle: JobHandle, run: Run) -> Nested | None:
    """Child runs and failed iterations under ``run`` (None when it has neither kind of task);
    a failure to read them is said in the summary, never raised: the run itself was read."""
    from jobs_widgets.core.details import nested_runs

    return nested_runs(handle, run)


def _watch(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> object:
    from jobs_widgets._render import Message

    handle = ctx.handle(args.key)
    run_id = _run_id(args.run_id)
    runs = [handle.get_run(run_id)] if run_id is not None else handle.list_runs(25, active_only=True)
    if not runs:
        return Message(f"{handle.key} has no active runs. Show the job: %jobs panel {handle.key}")
    ctx.remember_runs(handle.key, [r.run_id for r in runs])
    panels = [panel_for(handle, r.run_id) for r in runs]
    if any(p is None for p in panels):
        raise UsageError("live panels need the jobs_widgets front end (jobs_widgets.widget)")
    return panels[0] if len(panels) == 1 else Panels(panels)


def _panel(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> object:
    panel = panel_for(ctx.handle(args.key), _run_id(args.run_id))
    if panel is None:
        raise UsageError("live panels need the jobs_widgets front end (jobs_widgets.widget)")
    return panel


def _board(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> object:
    handles = [ctx.handle(key) for key in args.keys]  # an unknown key: the usual one-line error
    if not args.interval > 0:
        raise UsageError(f"--interval must be a positive number of seconds, got {args.interval:g}")
    try:
        from jobs_widgets.board import JobsBoard
    except ImportError:  # an unbuilt checkout
        raise UsageError("the jobs board needs the jobs_widgets front end (jobs_widgets.board)") from None
    return JobsBoard([h.key for h in handles] or None, jobs=ctx.jobs_registry(), interval=args.interval)


def _cancel(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> object:
    from jobs_widgets._render import Message, state_text

    handle = ctx.handle(args.key)
    run_id = _run_id(args.run_id)
    assert run_id is not None
    run = handle.get_run(run_id)
    if run.is_terminal:
        return Message(
            f"Run {run_id} already ended ({state_text(run)}); nothing to cancel.",
            run_id,
            run.run_page_url,
        )
    handle.cancel_run(run_id)
    return Message(
        f"Cancel requested for {handle.key} run {run_id} (was {run.state.label}). Follow it: %jobs watch {handle.key} {run_id}",
        run_id,
        run.run_page_url,
    )


def _output(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> object:
    from jobs_widgets._render_output import OutputView

    handle = ctx.handle(args.key)
    run_id = _run_id(args.run_id)
    assert run_id is not None
    return OutputView(handle.key, handle.get_run_output(run_id))


def _repair(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> object:
    from jobs_widgets._render import Message

    handle = ctx.handle(args.key)
    run_id = _run_id(args.run_id)
    assert run_id is not None
    run = handle.get_run(run_id)
    if not run.is_terminal:
        raise UsageError(f"run {run_id} is still {run.state.label.lower()}; repair it once it has ended")
    from jobs_widgets.core.repairs import repair_plan

    repair_id = handle.repair_run(run_id, rerun_tasks=args.tasks)
    plan = repair_plan(run)
    if args.tasks:
        what = f"{', '.join(args.tasks)} and what depends on them run again"
    elif plan is not None and plan.default:
        what = f"{', '.join(plan.default)} run again"
    else:
        what = "its failed tasks run again"
    return Message(
        f"Repair {repair_id} started for {handle.key} run {run_id}: {what}, with the run's parameters. "
        f"Follow it: %jobs watch {handle.key} {run_id}",
        run_id,
        run.run_page_url,
    )


COMMANDS: dict[str, Command] = {
    "help": _help,
    "list": _list,
    "run": _run,
    "runs": _runs,
    "status": _status,
    "watch": _watch,
    "panel": _panel,
    "board": _board,
    "cancel": _cancel,
    "output": _output,
    "repair": _repair,
}
