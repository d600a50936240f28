"""jobs_widgets: Databricks Lakeflow Jobs in the notebook.

``%load_ext jobs_widgets`` registers the ``%jobs`` magics; ``JobPanel`` is the live
widget (``JobsBoard`` every job at once); :mod:`jobs_widgets.core` is the scoped job core both are built on, and
:mod:`jobs_widgets.sandbox` an embedded local workspace to try it all without an
account.

Importing this package is cheap on purpose: no databricks-sdk, no widgets, no
pydantic until something needs them (see docs/architecture.md, section 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobs_widgets._version import __version__

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from jobs_widgets.board import JobsBoard
    from jobs_widgets.widget import JobPanel

__all__ = ["JobPanel", "JobsBoard", "__version__", "load_ipython_extension", "unload_ipython_extension"]


def __getattr__(name: str) -> object:
    # JobPanel pulls in ipywidgets and anywidget: load it only when asked for.
    if name == "JobPanel":
        from jobs_widgets.widget import JobPanel

        return JobPanel
    if name == "JobsBoard":
        from jobs_widgets.board import JobsBoard

        return JobsBoard
    raise AttributeError(f"module 'jobs_widgets' has no attribute {name!r}")


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext jobs_widgets``: register ``%jobs`` (the core loads on first use)."""
    from jobs_widgets.magics import load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """``%unload_ext jobs_widgets``: remove ``%jobs`` and stop all background polling."""
    from jobs_widgets.magics import unload

    unload(ipython)
