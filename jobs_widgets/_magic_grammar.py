"""The grammar of ``%jobs``: subcommands, their help, the argument parser, and the
small parsers for run ids, ``-p``/``--json`` parameters, numbers and trailing comments.

Pure functions of text, kept apart from :mod:`jobs_widgets.magics` (which acts on
what these return) so the command line can be read, and tested, on its own.

Everything a person can get wrong on the command line is refused here with an
explicit one-line ``UsageError`` (never by letting a ``ValueError`` escape and hoping
it is mapped): the magic turns only those and the core's ``JobsError`` into one-line
messages; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import re
import shlex
from collections.abc import Sequence
from typing import Any, NoReturn

from IPython.core.error import UsageError

SUBCOMMANDS = (
    "list",
    "run",
    "runs",
    "status",
    "watch",
    "cancel",
    "output",
    "repair",
    "panel",
    "board",
    "sandbox",
    "config",
    "help",
)
SANDBOX_ACTIONS = ("start", "stop", "status", "fault", "script")
KEYED = {"run", "runs", "status", "watch", "cancel", "output", "repair", "panel"}
RUN_ID_SUBCOMMANDS = {"status", "watch", "cancel", "output", "repair", "panel"}
TASK_TYPES = ("", "notebook", "python_wheel", "python_script", "spark_jar", "sql", "dbt", "job", "auto")
_DIGITS = re.compile(r"[0-9]{1,20}")
MAX_LIMIT = 1000

HELP: dict[str, tuple[str, str, str]] = {
    "list": ("%jobs [list]", "The configured jobs, their names and how their last run went.", "%jobs list"),
    "run": (
        "%jobs run KEY [-p NAME=VALUE ...] [--json JSON] [--wait] [--timeout S] [--on-interrupt detach|cancel]",
        "Start a run. Without --wait, returns at once with a live panel; with --wait, prints each state "
        "change and returns the final run (Ctrl-C detaches, or cancels with --on-interrupt cancel). "
        "-p values are strings, coerced by the job's params model; --json takes a JSON object. "
        "%%jobs run KEY takes the JSON object as the cell body.",
        "%jobs run etl -p env=prod -p full_refresh=true --wait",
    ),
    "runs": (
        "%jobs runs KEY [-n N] [--active]",
        "Recent runs of KEY, newest first (.to_pandas() with pandas).",
        "r = %jobs runs etl -n 50",
    ),
    "status": (
        "%jobs status KEY [RUN_ID]",
        "One run (default: the latest) with its tasks.",
        "%jobs status etl",
    ),
    "watch": (
        "%jobs watch KEY [RUN_ID]",
        "Live panels for a run, or for every active run of KEY (re-attach after a kernel restart).",
        "%jobs watch etl",
    ),
    "cancel": (
        "%jobs cancel KEY RUN_ID",
        "Cancel a run of KEY (refused for runs of other jobs).",
        "%jobs cancel etl 5225",
    ),
    "output": (
        "%jobs output KEY RUN_ID",
        "Notebook results, errors, traces and logs, per task.",
        "%jobs output etl 5225",
    ),
    "repair": (
        "%jobs repair KEY RUN_ID [--tasks A,B]",
        "Re-run the failed tasks of a run (or the tasks named, by key), and what depends on them; "
        "the run's parameters are kept.",
        "%jobs repair etl 5225 --tasks transform",
    ),
    "panel": (
        "%jobs panel KEY [RUN_ID]",
        "A live panel for KEY: the run given, else its active or latest run; history, Run and Cancel buttons.",
        "%jobs panel etl",
    ),
    "board": (
        "%jobs board [KEY ...] [--interval S]",
        "A live board of every configured job (or the KEYs given): state, progress against the usual "
        "duration, recent runs, success rate, median, schedule, and Run and Open buttons. It asks the "
        "workspace about each job once every S seconds (default 10) while shown, never while hidden.",
        "%jobs board etl report",
    ),
    "sandbox": (
        "%jobs sandbox [start|stop|status] [--speed S] [--seed N] [--port P] [--fault RULE ...] [--run-model]\n"
        "%jobs sandbox fault [RULE ...] [--clear]  |  %jobs sandbox script KEY [FIELD=VALUE ...] [--times N] [--clear]",
        "The embedded local workspace (no account needed); start points this kernel at it (or at the "
        "sandbox the kernel was started with, e.g. by the demo). --fault RULE (ENDPOINT:KIND[:P[:ARG]], "
        "as jobs-widgets sandbox --fault) injects faults; `fault` adds or clears them later; `script` "
        "decides the next run(s) of KEY (outcome, fail_task, duration_s, error, ...). Both work on "
        "an attached sandbox too. --run-model adds jobs of today's run model (for-each with 150 "
        "iterations, a condition gate, run_if outcomes, a parent with child runs, a pipeline task, "
        "120 tasks, a timeout, a queued run, repairs). The result's .sandbox is the Sandbox (or a RemoteSandbox).",
        "%jobs sandbox start --fault runs/get:503:0.1",
    ),
    "config": (
        "%jobs config",
        "Host, auth type, configured jobs and polling settings (never a token).",
        "%jobs config",
    ),
    "help": ("%jobs help [SUBCOMMAND]", "This help, or one subcommand's.", "%jobs help run"),
}


def full_help() -> str:
    lines = [
        "%jobs: trigger, watch, cancel and inspect Databricks Lakeflow Jobs.",
        "",
        "Jobs are configured with DATABRICKS_JOB_<KEY>=<job id> (KEY is case-insensitive).",
        "No workspace? `%jobs sandbox start` runs a local one.",
        "",
    ]
    for usage, description, example in HELP.values():
        lines += [usage, f"    {description}", f"    e.g. {example}", ""]
    lines += [
        "Settings: %config JobsMagics (default_task_type, wait_timeout, runs_limit, poll_cap,",
        "poll_min_interval, poll_budget, prewarm). $var and {expr} are expanded in line magics.",
    ]
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}. Try: %jobs help")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message.strip() if message else "see %jobs help")


def build_parser() -> _Parser:
    parser = _Parser(prog="%jobs", add_help=False)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("list", add_help=False)
    run = sub.add_parser("run", add_help=False)
    run.add_argument("key")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--json", dest="json_params", metavar="JSON")
    run.add_argument("--wait", action="store_true")
    run.add_argument("--timeout", type=float)
    run.add_argument("--on-interrupt", choices=("detach", "cancel"), default="detach")
    runs = sub.add_parser("runs", add_help=False)
    runs.add_argument("key")
    runs.add_argument("-n", "--limit", type=int)
    runs.add_argument("--active", action="store_true")
    for name in ("status", "watch"):
        cmd = sub.add_parser(name, add_help=False)
        cmd.add_argument("key")
        cmd.add_argument("run_id", nargs="?")
    for name in ("cancel", "output", "repair"):
        cmd = sub.add_parser(name, add_help=False)
        cmd.add_argument("key")
        cmd.add_argument("run_id")
        if name == "repair":
            cmd.add_argument("--tasks", type=task_keys, metavar="A,B")
    panel = sub.add_parser("panel", add_help=False)
    panel.add_argument("key")
    panel.add_argument("run_id", nargs="?")
    board = sub.add_parser("board", add_help=False)
    board.add_argument("keys", nargs="*", metavar="KEY")
    board.add_argument("--interval", type=float, default=10.0)
    sandbox = sub.add_parser("sandbox", add_help=False)
    sandbox.add_argument("action", nargs="?", default="status", choices=SANDBOX_ACTIONS)
    sandbox.add_argument("words", nargs="*", metavar="RULE_OR_FIELD")
    sandbox.add_argument("--speed", type=float)
    sandbox.add_argument("--seed", type=int, default=0)
    sandbox.add_argument("--port", type=int, default=0)
    sandbox.add_argument("--fault", action="append", default=[], metavar="RULE")
    sandbox.add_argument("--times", type=int, default=1)
    sandbox.add_argument("--clear", action="store_true")
    sandbox.add_argument("--run-model", action="store_true")
    sub.add_parser("config", add_help=False)
    helper = sub.add_parser("help", add_help=False)
    helper.add_argument("topic", nargs="?")
    return parser


def task_keys(value: str) -> list[str]:
    """``--tasks a,b``: the task keys, comma-separated (checked against the run by the core)."""
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        raise argparse.ArgumentTypeError("name at least one task key, like --tasks transform,publish")
    return keys


def strip_comment(line: str) -> str:
    """``line`` without a trailing ``# comment`` (a ``#`` that starts a word, outside quotes).

    ``-p color=#fff`` and ``--json '{"tag": "#1"}'`` keep their ``#``.
    """
    quote: str | None = None
    for i, char in enumerate(line):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in {"'", '"'}:
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def words(line: str, cell: str | None) -> list[str]:
    """The words of a ``%jobs`` line (``list`` when empty), its subcommand checked first."""
    try:
        argv = shlex.split(strip_comment(line))
    except ValueError as exc:  # shlex: an unclosed quote or a trailing escape
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
    return argv


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """``argv`` parsed, with the numbers argparse's types cannot range-check checked here."""
    args = parser.parse_args(argv)
    if getattr(args, "timeout", None) is not None:
        check_timeout(args.timeout)
    if getattr(args, "limit", None) is not None:
        check_limit(args.limit, "-n")
    if getattr(args, "speed", None) is not None:
        check_speed(args.speed)
    if getattr(args, "port", None) is not None:
        check_port(args.port)
    return args


def check_timeout(seconds: float) -> float:
    if not (math.isfinite(seconds) and seconds > 0):
        raise UsageError(f"--timeout must be a positive number of seconds, got {seconds:g}")
    return seconds


def check_limit(limit: int, name: str) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"{name} must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def check_speed(speed: float) -> float:
    if not (math.isfinite(speed) and speed > 0):
        raise UsageError(f"--speed must be a positive number (1: real time), got {speed:g}")
    return speed


def check_port(port: int) -> int:
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be from 0 to 65535 (0: any free port), got {port}")
    return port


def run_id(text: str | None) -> int | None:
    """A run id typed by the user (None when omitted); anything else is a UsageError.

    Plain ASCII digits, then the core's one rule of what a run id is (positive, int64).
    """
    if text is None:
        return None
    from jobs_widgets.core.ids import as_run_id  # the core is needed by then anyway

    value = as_run_id(int(text)) if _DIGITS.fullmatch(text) else None
    if value is None:
        raise UsageError(f"run id must be a positive integer, got {_shown(text)}")
    return value


def _shown(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")


def parse_params(pairs: Sequence[str], json_text: str | None, cell: str | None) -> dict[str, Any] | None:
    """``--json``/cell JSON first, then ``-p NAME=VALUE`` pairs on top (values stay strings)."""
    params: dict[str, Any] = {}
    for source, text in (("--json", json_text), ("cell body", cell)):
        if text is None or not text.strip():
            continue
        try:
            value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{source} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            ) from None
        except ValueError as exc:  # from _finite / _no_constant, or an integer too long to read
            raise UsageError(f"{source} is not valid JSON ({exc})") from None
        except RecursionError:
            raise UsageError(f"{source} is nested too deeply") from None
        if not isinstance(value, dict):
            raise UsageError(
                f'{source} must be a JSON object like {{"env": "prod"}}, got {type(value).__name__}'
            )
        params.update(value)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-p expects NAME=VALUE, got {_shown(pair)}")
        params[name.strip()] = value
    return params or None


def options(parser: argparse.ArgumentParser, command: str) -> list[str]:
    """The option strings of ``command`` (for tab completion)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            sub = action.choices[command]
            return [opt for a in sub._actions for opt in a.option_strings]
    return []
