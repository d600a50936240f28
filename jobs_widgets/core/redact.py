"""Keep secrets out of everything a user sees: messages, reprs, logs, widget state.

databricks-sdk appends ``. Config: host=..., token=***, ...`` to 401/403 messages and
may echo request dumps; upstream messages can quote headers. We cut the config dump,
mask anything shaped like a Databricks token or bearer credential, and mask every
secret value we know (the token a client was built with).
"""

from __future__ import annotations

import re
import threading

__all__ = ["redact", "register_secret"]

_PATTERNS = [
    re.compile(r"\bdapi[0-9a-zA-Z\-_]{8,}"),  # personal access tokens
    re.compile(r"\bdose[0-9a-zA-Z\-_]{8,}"),  # OAuth secrets
    re.compile(r"(?i)(bearer\s+)[^\s,;\"']+"),
    re.compile(r"(?i)((?:token|password|secret|client_secret|authorization)\s*[=:]\s*)(?!\*\*\*)[^\s,;\"']+"),
    re.compile(r"\beyJ[0-9a-zA-Z_\-]{10,}\.[0-9a-zA-Z_\-]{10,}\.[0-9a-zA-Z_\-]*"),  # JWTs
]
_CONFIG_DUMP = re.compile(r"\.?\s*Config:\s*\w+=.*$", re.DOTALL)
_known: set[str] = set()
_lock = threading.Lock()
MASK = "***"


def register_secret(value: str | None) -> None:
    """Remember a secret (e.g. a client's token) so :func:`redact` masks it anywhere."""
    if value and len(value) >= 6:
        with _lock:
            _known.add(value)


def redact(text: str) -> str:
    """``text`` with the SDK config dump removed and every secret masked."""
    text = _CONFIG_DUMP.sub("", text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        replacement = (lambda m: m.group(1) + MASK) if pattern.groups else (lambda _m: MASK)
        text = pattern.sub(replacement, text)
    return text
