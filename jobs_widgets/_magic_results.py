"""The small result objects ``%jobs`` returns that are not views of a run or a job.

Split out of :mod:`jobs_widgets.magics` so that module keeps to parsing and acting:
these only decide how a result shows (text in a terminal, HTML or several outputs in a
notebook). The views of runs and jobs themselves live in :mod:`jobs_widgets._render`,
which loads the core (pydantic), so it is imported here only when a result is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from jobs_widgets.sandbox import RemoteSandbox, Sandbox

__all__ = ["HelpText", "Panels", "SandboxInfo", "error_line", "show"]


def error_line(exc: BaseException) -> str:
    """``exc``'s message as the one line a ``UsageError`` shows (whitespace folded, cut at 600)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 600 else text[:597] + "..."


class _Printer(Protocol):
    """The part of IPython's pretty printer a ``_repr_pretty_`` uses."""

    def text(self, obj: str) -> None: ...


class _Display(Protocol):
    """``IPython.display.display`` as called here (IPython leaves it unannotated)."""

    def __call__(self, *objs: object, display_id: str | None = None, update: bool = False) -> object: ...


def show(obj: object, *, display_id: str | None = None, update: bool = False) -> None:
    """Display ``obj`` in the notebook; with ``display_id``, as one output that ``update`` replaces."""
    from IPython.display import display

    cast(_Display, display)(obj, display_id=display_id, update=update)


class SandboxInfo:
    """The sandbox's status; ``.sandbox`` scripts it (``.faults.add``, ``.engine.script``).

    ``.sandbox`` is the in-process :class:`~jobs_widgets.sandbox.Sandbox` when this kernel
    started it, a :class:`~jobs_widgets.sandbox.RemoteSandbox` when it is attached to one
    started elsewhere (the demo's), and None when none is running.
    """

    def __init__(
        self, title: str, items: list[tuple[str, str]], sandbox: Sandbox | RemoteSandbox | None = None
    ) -> None:
        from jobs_widgets._render import KeyValues

        self._view = KeyValues(title, items)
        self.items = items
        self.sandbox = sandbox

    def __repr__(self) -> str:
        return repr(self._view)

    def _repr_pretty_(self, printer: _Printer, cycle: bool) -> None:
        printer.text(repr(self._view))

    def _repr_html_(self) -> str:
        return self._view._repr_html_()


class HelpText:
    """``%jobs help``: plain text, shown as is (not as a quoted string)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: _Printer, cycle: bool) -> None:
        printer.text(self.text)


class Panels:
    """Several panels shown one after the other (``%jobs watch KEY`` with many active runs)."""

    def __init__(self, panels: list[Any]) -> None:
        self.panels = panels

    def __iter__(self) -> Iterator[Any]:
        return iter(self.panels)

    def __len__(self) -> int:
        return len(self.panels)

    def _ipython_display_(self) -> None:
        for panel in self.panels:
            show(panel)

    def __repr__(self) -> str:
        return "\n".join(repr(p) for p in self.panels)
