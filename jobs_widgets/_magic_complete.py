"""Tab completion for ``%jobs``: subcommands, options, job keys and recent run ids.

Split out of :mod:`jobs_widgets.magics` because it is a pure function of the text
before the cursor: what it may offer comes in as two callables (the configured keys,
the run ids seen for a key), so it is readable and testable without a shell.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

from jobs_widgets._magic_grammar import KEYED, RUN_ID_SUBCOMMANDS, SANDBOX_ACTIONS, SUBCOMMANDS, options

__all__ = ["complete"]

_MAGIC = re.compile(r"^\s*%%?jobs")


def complete(
    text: str,
    parser: argparse.ArgumentParser,
    keys: Callable[[], list[str]],
    seen_runs: Callable[[str], list[int]],
) -> list[str]:
    """Completions of the last word of ``text`` (a ``%jobs``/``%%jobs`` line up to the cursor)."""
    body = _MAGIC.sub("", text, count=1)
    words = body.split()
    if body.endswith((" ", "\t")) or not words:
        words.append("")
    current, done = words[-1], words[:-1]
    if not done:
        return [s for s in SUBCOMMANDS if s.startswith(current)]
    command = done[0]
    if current.startswith("-"):
        return [o for o in options(parser, command) if o.startswith(current)]
    positional = [w for w in done[1:] if not w.startswith("-")]
    if command == "help" and not positional:
        return [s for s in SUBCOMMANDS if s.startswith(current)]
    if command == "sandbox" and not positional:
        return [a for a in SANDBOX_ACTIONS if a.startswith(current)]
    if command == "sandbox" and positional == ["script"]:
        return [k for k in keys() if k.lower().startswith(current.lower())]
    if command in KEYED and not positional:
        return [k for k in keys() if k.lower().startswith(current.lower())]
    if command in RUN_ID_SUBCOMMANDS and len(positional) == 1:
        return [str(r) for r in seen_runs(positional[0]) if str(r).startswith(current)]
    return []
