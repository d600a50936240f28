"""jobs_widgets: Databricks Lakeflow Jobs in the notebook.

:mod:`jobs_widgets.core` is the scoped job core, and :mod:`jobs_widgets.sandbox` an
embedded local workspace to try it all without an account.

Importing this package is cheap on purpose: no databricks-sdk, no widgets, no
pydantic until something needs them (see DESIGN.md section 1).
"""

from __future__ import annotations

from jobs_widgets._version import __version__

__all__ = ["__version__"]
