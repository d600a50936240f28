"""A marimo kernel without a browser, and what its browser would hold.

``python -m tests.marimo_kernel APP`` runs the cells of the marimo app ``APP`` in
marimo's own kernel (``marimo._runtime.kernel_lifecycle.kernel_session``, the kernel
``marimo edit`` runs), clicks the ``JobPanel``'s buttons the way the browser does (a
widget ``custom`` message, as marimo's front end sends it), and prints one JSON report.

The kernel's stream is replaced by :class:`FrontEnd`, which keeps every notification
and folds the widget ``model-lifecycle`` ones into per-model state exactly as marimo's
front end does (``open`` sets the state, ``update`` merges changed traits, ``close``
drops the model), so the report says what the browser would show, not what Python
holds. It is a separate process because ``marimo edit`` runs its kernel in one, and
because marimo's formatter hooks patch ipywidgets for the whole process.

Steps (the arguments after APP), each bounded by ``--timeout`` seconds:

* ``run``: click Run; wait until the front end shows a run the panel did not show before;
* ``running``: wait until the front end shows that run as RUNNING;
* ``cancel``: click Cancel on the shown run;
* ``terminal``: wait until the front end shows the run as terminal.

With ``--board`` the app shows a ``JobsBoard`` (``board``) instead, and the steps are:

* ``loaded``: wait until the front end shows every job's row loaded;
* ``run:KEY``: click the board's Run for job KEY; wait until its row shows a new run;
* ``active:KEY``: wait until KEY's row shows its run as active;
* ``ended:KEY``: wait until KEY's row shows its run as ended.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

PANEL_ID = "jobs_widgets.widget.JobPanel"  # JobPanel's _anywidget_id (module.class)
BOARD_ID = "jobs_widgets.board.JobsBoard"
Model = dict[str, Any]


class FrontEnd:
    """marimo's stream: the notifications a browser would receive, and the widget models it would hold."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.ops: list[str] = []
        self.outputs: dict[str, str] = {}  # cell id -> last output data
        self.models: dict[str, Model] = {}
        self.esm_urls: dict[str, str] = {}
        self.updates: dict[str, list[Model]] = {}

    def write(self, data: bytes) -> None:
        msg = json.loads(data)
        with self._cond:
            self.ops.append(msg["op"])
            if msg["op"] == "cell-op" and msg.get("output"):
                self.outputs[msg["cell_id"]] = str(msg["output"].get("data", ""))
            elif msg["op"] == "model-lifecycle":
                self._fold(msg["model_id"], msg["message"])
            self._cond.notify_all()

    def _fold(self, model_id: str, message: Model) -> None:
        method = message["method"]
        if method == "open":
            self.models[model_id] = dict(message["state"])
            if message.get("esm_spec"):
                self.esm_urls[model_id] = message["esm_spec"]["url"]
        elif method == "update" and model_id in self.models:
            self.models[model_id].update(message["state"])
            self.updates.setdefault(model_id, []).append(message["state"])
        elif method == "close":
            self.models.pop(model_id, None)

    def wait(self, what: str, probe: Callable[[], Any], timeout: float) -> Any:
        """Wait until ``probe()`` (called under the lock) is truthy; fail naming ``what``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (value := probe()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the front end never showed {what} within {timeout:g}s")
                self._cond.wait(left)
            return value

    def panel_id(self, widget: str = PANEL_ID) -> str | None:
        return next((mid for mid, s in self.models.items() if s.get("_anywidget_id") == widget), None)


def _stream(front: FrontEnd) -> Any:
    from marimo._messaging.types import Stream

    class _Recording(Stream):
        def write(self, data: Any) -> None:
            front.write(bytes(data))

    return _Recording()


async def session(
    app_path: str, steps: list[str], step_timeout: float, board: bool = False
) -> dict[str, Any]:
    from marimo._ast.app_config import _AppConfig
    from marimo._ast.load import load_app
    from marimo._config.config import DEFAULT_CONFIG
    from marimo._messaging.types import KernelStreams
    from marimo._output.formatters.formatters import register_formatters
    from marimo._runtime.commands import (
        AppMetadata,
        ExecuteCellCommand,
        ModelCommand,
        ModelCustomMessage,
    )
    from marimo._runtime.kernel_lifecycle import KernelArgs, kernel_session
    from marimo._session.model import SessionMode

    app = load_app(app_path)
    if app is None:
        raise ValueError(f"{app_path} is not a marimo app")
    cells = [(cid, cell._cell.code) for cid, cell in app._cell_manager.valid_cells()]
    register_formatters()  # what marimo's kernel process does first: widgets get marimo comms
    front = FrontEnd()
    args = KernelArgs(
        streams=KernelStreams(stream=_stream(front), stdout=None, stderr=None, stdin=None),
        debugger=None,
        configs={},
        app_metadata=AppMetadata(query_params={}, cli_args={}, app_config=_AppConfig(), filename=app_path),
        user_config=DEFAULT_CONFIG,
        mode=SessionMode.EDIT,
        control_queue=asyncio.Queue(),
        set_ui_element_queue=asyncio.Queue(),
        virtual_file_storage=None,
    )
    report: dict[str, Any] = {"cells": [cid for cid, _ in cells], "steps": []}
    with kernel_session(args) as (kernel, _ctx):
        if board:
            try:
                await kernel.run([ExecuteCellCommand(cell_id=cid, code=code) for cid, code in cells])
                await _board_steps(
                    kernel, front, steps, step_timeout, report, ModelCommand, ModelCustomMessage
                )
            except TimeoutError as exc:
                report["error"] = str(exc)
            return report
        try:
            await kernel.run([ExecuteCellCommand(cell_id=cid, code=code) for cid, code in cells])
            model_id = await asyncio.to_thread(front.wait, "a JobPanel model", front.panel_id, step_timeout)

            def shown() -> Model | None:
                return front.models[model_id].get("run")

            def job_loaded() -> bool:
                return bool(front.models[model_id].get("job", {}).get("tasks"))

            await asyncio.to_thread(front.wait, "the job's tasks", job_loaded, step_timeout)
            report["first_run_id"] = (shown() or {}).get("run_id")
            run_id = report["first_run_id"]

            async def click(content: Model) -> None:
                command = ModelCommand(
                    model_id=model_id, message=ModelCustomMessage(content=content), buffers=[]
                )
                await kernel.handle_message(command)

            for step in steps:
                if step == "run":
                    before = run_id
                    await click({"kind": "run", "params": {}})
                    run_id = await asyncio.to_thread(
                        front.wait,
                        "a new run",
                        lambda b=before: (r := shown()) and r["run_id"] != b and r["run_id"],
                        step_timeout,
                    )
                elif step == "running":
                    await asyncio.to_thread(
                        front.wait,
                        f"run {run_id} running",
                        lambda: (shown() or {}).get("state") == "RUNNING",
                        step_timeout,
                    )
                elif step == "cancel":
                    await click({"kind": "cancel", "run_id": run_id})
                elif step == "terminal":
                    await asyncio.to_thread(
                        front.wait,
                        f"run {run_id} ended",
                        lambda: (shown() or {}).get("is_terminal"),
                        step_timeout,
                    )
                else:
                    raise ValueError(f"unknown step {step!r}")
                report["steps"].append(
                    {"step": step, "run_id": run_id, "state": (shown() or {}).get("state")}
                )

            _both_sides(kernel.globals["panel"], front, model_id, report)
            report.update(
                run_states=[u["run"]["state"] for u in front.updates.get(model_id, []) if u.get("run")],
                run_ids=[u["run"]["run_id"] for u in front.updates.get(model_id, []) if u.get("run")],
            )
        except TimeoutError as exc:
            report["error"] = str(exc)
    return report


async def _board_steps(
    kernel: Any,
    front: FrontEnd,
    steps: list[str],
    step_timeout: float,
    report: dict[str, Any],
    command: Any,
    custom: Any,
) -> None:
    """Drive a JobsBoard the way marimo's front end does; report what the browser holds."""
    model_id = await asyncio.to_thread(
        front.wait, "a JobsBoard model", lambda: front.panel_id(BOARD_ID), step_timeout
    )

    def row(key: str) -> Model:
        return next((r for r in front.models[model_id].get("jobs", []) if r.get("key") == key), {})

    def shown(key: str) -> Model:
        return row(key).get("run") or {}

    started: dict[str, int] = {}
    for step in steps:
        name, _, key = step.partition(":")
        if name == "loaded":
            await asyncio.to_thread(
                front.wait,
                "every job's row loaded",
                lambda: (rows := front.models[model_id].get("jobs")) and all(r.get("loaded") for r in rows),
                step_timeout,
            )
        elif name == "run":
            before = shown(key).get("run_id")
            message = custom(content={"kind": "run", "key": key})
            await kernel.handle_message(command(model_id=model_id, message=message, buffers=[]))
            started[key] = await asyncio.to_thread(
                front.wait,
                f"a new {key} run on the board",
                lambda b=before, k=key: (r := shown(k).get("run_id")) and r != b and r,
                step_timeout,
            )
        elif name == "active":
            await asyncio.to_thread(
                front.wait, f"{key} active", lambda k=key: shown(k).get("active"), step_timeout
            )
        elif name == "ended":
            await asyncio.to_thread(
                front.wait, f"{key} ended", lambda k=key: shown(k).get("is_terminal"), step_timeout
            )
        else:
            raise ValueError(f"unknown board step {step!r}")
        report["steps"].append(
            {
                "step": step,
                "run_id": shown(key).get("run_id") if key else None,
                "label": shown(key).get("label") if key else None,
            }
        )
    report["started"] = started
    _both_sides(kernel.globals["board"], front, model_id, report)


def _both_sides(element: Any, front: FrontEnd, model_id: str, report: dict[str, Any]) -> None:
    """What the front end and Python hold at one instant (a widget sends its changes while
    holding its lock), into ``report``; then the widget is closed (nothing left polling)."""
    widget = element.widget
    with widget._lock, front._cond:
        front_end, python = _plain(front.models[model_id]), _plain(widget.get_state())
    report.update(
        model_id=model_id,
        esm_url=front.esm_urls.get(model_id),
        outputs=front.outputs,
        front_end=front_end,
        python=python,
        element=type(element).__module__ + "." + type(element).__qualname__,
    )
    widget.close()


def _plain(state: Model) -> Model:
    """The state without the code and style (the same in both, and large)."""
    return {k: v for k, v in state.items() if k not in ("_esm", "_css")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app")
    parser.add_argument("steps", nargs="*")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--board", action="store_true", help="the app shows a JobsBoard named board")
    ns = parser.parse_args(argv)
    report = asyncio.run(session(ns.app, ns.steps, ns.timeout, ns.board))
    sys.stdout.write("\n" + json.dumps(report, default=str) + "\n")
    sys.stdout.flush()
    return 1 if "error" in report else 0


if __name__ == "__main__":
    sys.exit(main())
