"""Strings from the API made safe for JSON and UTF-8 once, where they enter (the gateway).

JSON may carry ``"\\ud800"``: a lone surrogate, valid in a Python ``str`` but not
encodable as UTF-8, so one such parameter value made a panel's state unsendable (its
comm serialises to UTF-8) and a terminal print raise. Every string of every answer is
checked once; the rare bad one gets U+FFFD in place of each lone surrogate.
"""

from __future__ import annotations

from typing import Any

__all__ = ["json_safe", "safe_text"]


def safe_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (the same object when already fine)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def json_safe(value: Any) -> Any:
    """``value`` (JSON-shaped: dicts, lists, strings, numbers) with every string made safe."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(k) if isinstance(k, str) else k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
