"""Structured JSON logs with secrets and card data scrubbed.

Log lines are parsed by machines (Loki, CloudWatch), so each is one JSON object. Anything passed as
`extra=` whose key looks secret is replaced, and digit runs that look like card numbers are masked,
because a log line is the easiest place for a PAN or a token to leak.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|authorization|api[_-]?key|cookie|card|cvv|pan\b", re.I)
_CARD_LIKE = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_STD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def scrub(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEYS.search(key):
        return "[redacted]"
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return _CARD_LIKE.sub(_mask_card, value)
    return value


def _mask_card(match: re.Match) -> str:
    """Only digit runs that pass the Luhn check, as every card number does: time stamps and
    ERP positions (20261201120500) stay readable, nine in ten of them at least."""
    digits = [int(c) for c in match.group(0) if c.isdigit()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return "[card-redacted]" if total % 10 == 0 else match.group(0)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for k, v in record.__dict__.items():
            if k not in _STD_ATTRS and not k.startswith("_"):
                entry[k] = scrub(v, k)
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
