"""Secrets never leave: a process-wide registry of secret values, and the log filter that masks them.

The vault registers every string it seals or opens; start-up code registers the platform's own
secrets (`register_settings_secrets`). `RedactionFilter`, installed on the log handler by
`configure_logging`, replaces any registered value in a record's message, arguments, extra fields,
exception and stack text with `[REDACTED]` before the record is formatted. `registered_secrets()`
is what a canary test scans logs, execution steps, checkpoints and broker messages for.

Bounds: values shorter than `MIN_SECRET_LENGTH` are ignored (masking "true" or "admin" everywhere
would garble logs and protect nothing), and at most `MAX_REGISTERED_SECRETS` values are kept,
the least recently registered dropped first; the vault re-registers on every open, so the secrets
a process is actually using stay in.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, SecretStr

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 8
# Each logged string is checked against every value (one substring search each), so the cap also
# bounds the cost: at 512 values a typical record (message + a few extras) takes ~0.1 ms more.
MAX_REGISTERED_SECRETS = 512

_lock = threading.Lock()
_values: OrderedDict[str, None] = OrderedDict()
# Longest first, so a secret that contains another is masked whole. Rebuilt under the lock on
# change; readers take the tuple without locking (a reference read is atomic).
_snapshot: tuple[str, ...] = ()

_RESERVED_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def _forms(value: str) -> set[str]:
    # The value as JSON or a repr shows it (quotes, backslashes, newlines escaped): that is how it
    # appears in a checkpoint, a broker message or a logged dict.
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1]}


def register_secret(value: str) -> None:
    """Mask `value` (and its JSON/repr-escaped forms) in every log record from now on."""
    if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
        return
    global _snapshot
    with _lock:
        changed = False
        for form in _forms(value):
            if form in _values:
                _values.move_to_end(form)
            else:
                _values[form] = None
                changed = True
        while len(_values) > MAX_REGISTERED_SECRETS:
            _values.popitem(last=False)
            changed = True
        if changed:
            _snapshot = tuple(sorted(_values, key=len, reverse=True))


def register_secrets(values: Iterable[str]) -> None:
    for value in values:
        register_secret(value)


def register_settings_secrets(settings: BaseModel) -> None:
    """Register every `SecretStr` in a settings object (JWT secret, master keys, platform API keys…)."""
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, SecretStr):
                register_secret(item.get_secret_value())


def registered_secrets() -> frozenset[str]:
    """Every value currently masked, escaped forms included (for canary tests that scan output)."""
    return frozenset(_snapshot)


def redact(text: str) -> str:
    secrets = _snapshot
    if not secrets or len(text) < MIN_SECRET_LENGTH:
        return text
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_value(value: Any) -> Any:
    """`value` with registered secrets masked; containers are copied, never changed in place."""
    if not _snapshot or value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_value(v) for v in value)
    if isinstance(value, frozenset):
        return frozenset(redact_value(v) for v in value)
    if isinstance(value, set):
        return {redact_value(v) for v in value}
    # Anything else is rendered with str() by the formatters; mask that rendering only if it leaks.
    try:
        rendered = str(value)
    except Exception:
        return value
    masked = redact(rendered)
    return masked if masked != rendered else value


class RedactionFilter(logging.Filter):
    """Masks registered secrets in a record before any formatter sees it. Installed on handlers
    (not loggers): handler filters see records propagated from every logger, logger filters don't."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _snapshot:
            return True
        if record.args:
            # Render first: a secret may sit in the str() of any argument, not only in strings.
            try:
                message = record.getMessage()
            except Exception:
                # Leave a broken format to the formatter's own error handling; mask what we can.
                record.msg = redact_value(record.msg)
                record.args = redact_value(record.args)
            else:
                record.msg, record.args = redact(message), None
        else:
            record.msg = redact_value(record.msg)
        for key, value in list(record.__dict__.items()):
            if key not in _RESERVED_RECORD_FIELDS and not key.startswith("_"):
                record.__dict__[key] = redact_value(value)
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the masked trace is what gets written.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
