"""Importing databricks-sdk ahead of need, so ``%load_ext`` stays fast (about 20 ms) and the
first ``%jobs`` command does not pay the SDK's import (about a second)."""

from __future__ import annotations

import threading

__all__ = ["prewarm"]


def prewarm(delay: float) -> None:
    """Import the core and databricks-sdk on a background thread, after ``delay`` seconds."""

    def work() -> None:
        threading.Event().wait(delay)
        try:
            from jobs_widgets.core.sdk import _sdk

            _sdk()
        except Exception:  # a missing optional piece shows up later, with context
            return

    threading.Thread(target=work, name="jobs-widgets-prewarm", daemon=True).start()
