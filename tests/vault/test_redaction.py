"""Registered secrets never reach a log line: the filter `configure_logging` installs, end to end
through the real handler and formatters."""

from __future__ import annotations

import io
import json
import logging
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentflow.kit import redaction
from agentflow.kit.logging import configure_logging
from agentflow.kit.vault import LocalKeyProvider, Vault
from agentflow.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("agentflow.tests.redaction")


def _secret(prefix: str = "sk-canary") -> str:
    return f"{prefix}-{secrets.token_urlsafe(18)}"


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], str]]:
    """Logging configured as the API and worker configure it, writing to a buffer; returns what
    was written so far."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)  # configure_logging's handler writes to sys.stderr
    configure_logging("INFO", json=True)
    yield buffer.getvalue
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_message_args_extras_and_exceptions_are_masked(capture: Callable[[], str]) -> None:
    secret, other = _secret(), _secret()
    redaction.register_secret(secret)
    redaction.register_secret(other)
    payload = {"headers": {"authorization": f"Bearer {secret}"}, "attempt": 2}
    log.info(f"calling provider with {secret}")
    log.info("key %s, request %r", other, payload)
    log.info("extras", extra={"api_key": secret, "request": payload, "ids": [1, other], "plain": "fine"})
    try:
        raise RuntimeError(f"provider rejected key {secret}")
    except RuntimeError:
        log.exception("call failed")

    written = capture()
    assert secret not in written and other not in written
    first, second, third, fourth = _lines(written)
    assert first["message"] == "calling provider with [REDACTED]"
    assert (
        second["message"] == "key [REDACTED], request {'headers': {'authorization': 'Bearer [REDACTED]'}, 'attempt': 2}"
    )
    assert third["api_key"] == "[REDACTED]"
    assert third["request"] == {"headers": {"authorization": "Bearer [REDACTED]"}, "attempt": 2}
    assert third["ids"] == [1, "[REDACTED]"]
    assert third["plain"] == "fine"
    assert "RuntimeError: provider rejected key [REDACTED]" in fourth["exception"]
    # The caller's objects are not changed by logging them.
    assert payload["headers"] == {"authorization": f"Bearer {secret}"}


def test_plain_text_logging_is_masked_too(capture: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging("INFO", json=False)
    secret = _secret()
    redaction.register_secret(secret)
    log.warning("token=%s", secret)
    assert "token=[REDACTED]" in buffer.getvalue()
    assert secret not in buffer.getvalue()


def test_escaped_forms_are_masked(capture: Callable[[], str]) -> None:
    secret = 'pa"ss\\word-' + secrets.token_hex(8)  # quotes and backslashes get escaped in JSON and reprs
    redaction.register_secret(secret)
    log.info("as json: %s", json.dumps({"password": secret}))
    log.info("as repr: %r", {"password": secret})
    as_json, as_repr = _lines(capture())
    assert as_json["message"] == 'as json: {"password": "[REDACTED]"}'
    assert as_repr["message"] == "as repr: {'password': '[REDACTED]'}"


def test_unregistered_and_short_values_are_left_alone(capture: Callable[[], str]) -> None:
    redaction.register_secret("short")  # below the minimum: masking it would garble every log line
    assert "short" not in redaction.registered_secrets()
    log.info("a short value and an ordinary sentence stay as they are")
    assert _lines(capture())[0]["message"] == "a short value and an ordinary sentence stay as they are"


def test_registry_is_bounded_and_keeps_the_most_recent(capture: Callable[[], str]) -> None:
    first = _secret("first")
    redaction.register_secret(first)
    flood = [_secret("flood") for _ in range(redaction.MAX_REGISTERED_SECRETS + 10)]
    redaction.register_secrets(flood)
    registered = redaction.registered_secrets()
    assert len(registered) <= redaction.MAX_REGISTERED_SECRETS
    assert first not in registered
    assert flood[-1] in registered
    log.info("latest %s", flood[-1])
    assert flood[-1] not in capture()


def test_settings_secrets_can_be_registered() -> None:
    previous = _secret("previous-master")
    settings = Settings(
        _env_file=None,
        jwt_secret=_secret("jwt"),
        vault_master_key=_secret("master"),
        vault_previous_master_keys=[previous],
    )
    redaction.register_settings_secrets(settings)
    registered = redaction.registered_secrets()
    assert settings.jwt_secret is not None and settings.jwt_secret.get_secret_value() in registered
    assert settings.vault_master_key is not None and settings.vault_master_key.get_secret_value() in registered
    assert previous in registered


def test_secrets_the_vault_opens_are_masked(capture: Callable[[], str], tmp_path: Path) -> None:
    """Sealed in another process, so only `open` here can have registered the value."""
    key = secrets.token_bytes(32)
    org_id, secret_id = uuid.uuid4(), uuid.uuid4()
    secret = _secret("sk-opened")
    script = (
        "import sys, uuid\n"
        "from agentflow.kit.vault import LocalKeyProvider, Vault\n"
        "vault = Vault(LocalKeyProvider(bytes.fromhex(sys.argv[1])))\n"
        "print(vault.seal({'api_key': sys.argv[2], 'nested': [{'token': sys.argv[2] + '-refresh'}]},"
        " org_id=uuid.UUID(sys.argv[3]), purpose='integration', secret_id=uuid.UUID(sys.argv[4])))\n"
    )
    sealed = subprocess.run(
        [sys.executable, "-c", script, key.hex(), secret, str(org_id), str(secret_id)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert secret not in redaction.registered_secrets()

    opened = Vault(LocalKeyProvider(key)).open(sealed, org_id=org_id, purpose="integration", secret_id=secret_id)
    assert opened["api_key"] == secret
    assert {secret, secret + "-refresh"} <= redaction.registered_secrets()
    log.info("opened %s and %s", opened["api_key"], opened["nested"][0]["token"])
    assert _lines(capture())[0]["message"] == "opened [REDACTED] and [REDACTED]"
