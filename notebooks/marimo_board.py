"""JobsBoard in marimo: `marimo edit notebooks/marimo_board.py` (or `marimo run`).

Every configured job in one live widget. With DATABRICKS_HOST set (and
DATABRICKS_JOB_<KEY> naming jobs), it shows that workspace; without it, the embedded
sandbox (a local simulated workspace the real databricks-sdk talks to) is started for
this session.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os

    import marimo as mo
    from jobs_widgets import JobsBoard

    return JobsBoard, mo, os


@app.cell
def _(os):
    # No workspace configured: start the sandbox, which lives as long as this kernel.
    sandbox = None
    if not os.environ.get("DATABRICKS_HOST"):
        from jobs_widgets.sandbox import Sandbox

        sandbox = Sandbox().start()
        os.environ.update(sandbox.env())
    return (sandbox,)


@app.cell
def _(JobsBoard, mo, sandbox):
    # The same anywidget as in JupyterLab; mo.ui.anywidget makes it a marimo UI element.
    _ = sandbox  # the board reads the workspace chosen above
    board = mo.ui.anywidget(JobsBoard())
    board
    return (board,)


if __name__ == "__main__":
    app.run()
