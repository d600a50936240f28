"""The demo jobs' params models, as the panel's Run form sees them."""

from __future__ import annotations

import datetime as dt

from jobs_widgets.sandbox.demo_config import EtlParams


def test_the_etl_forms_date_starts_at_the_date_the_model_would_use() -> None:
    """``default_factory`` leaves no default in a JSON schema: the form's date would start empty."""
    date = EtlParams.model_json_schema()["properties"]["date"]
    assert date["format"] == "date"
    assert date["default"] == EtlParams().date.isoformat() == dt.date.today().isoformat()  # noqa: DTZ011 - what the model uses
    assert "``" in EtlParams.model_json_schema()["description"]  # the form shows it as plain text (js tests)
