"""Normalized errors: retryable or not, Retry-After parsing, and messages that never carry a key."""

from __future__ import annotations

import email.utils

import pytest

from agentflow.engine.providers.base import ProviderCredentials
from agentflow.engine.providers.errors import (
    AllProvidersFailed,
    AuthenticationFailed,
    ContentPolicyViolation,
    InvalidRequest,
    ModelNotFound,
    ProviderServerError,
    ProviderTimeout,
    QuotaExceeded,
    RateLimited,
    error_for_status,
    parse_retry_after,
    redact,
)


def test_retry_after_in_every_form() -> None:
    assert parse_retry_after({"Retry-After": "12"}) == 12
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    http_date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"Retry-After": http_date}, now=1_000_000) == 30
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after(None) is None
    assert parse_retry_after({"retry-after": "-5"}) == 0


@pytest.mark.parametrize(
    ("status", "code", "expected", "retryable"),
    [
        (429, None, RateLimited, True),
        (429, "insufficient_quota", QuotaExceeded, False),
        (402, None, QuotaExceeded, False),
        (500, None, ProviderServerError, True),
        (529, None, ProviderServerError, True),
        (408, None, ProviderTimeout, True),
        (400, None, InvalidRequest, False),
        (422, None, InvalidRequest, False),
        (400, "content_filter", ContentPolicyViolation, False),
        (401, None, AuthenticationFailed, False),
        (403, None, AuthenticationFailed, False),
        (404, None, ModelNotFound, False),
    ],
)
def test_status_mapping(status: int, code: str | None, expected: type, retryable: bool) -> None:
    error = error_for_status(provider="openai", status=status, detail="details", code=code)
    assert type(error) is expected
    assert error.is_retryable is retryable
    assert (error.provider, error.status) == ("openai", status)


def test_messages_never_carry_keys() -> None:
    key = "sk-proj-AbCdEf0123456789xyz"
    assert key not in redact(f"Incorrect API key provided: {key}.")
    assert "AIzaSyA1234567890abcdefgh" not in redact("key AIzaSyA1234567890abcdefgh is invalid")
    assert "tok_secret_value" not in redact("Authorization: Bearer tok_secret_value")
    assert "my-odd-key" not in redact("unknown key my-odd-key", secrets=["my-odd-key"])
    error = error_for_status(provider="openai", status=400, detail=f"bad request for {key}", secrets=[key])
    assert key not in str(error)
    assert len(redact("x" * 5000)) <= 300


def test_credentials_never_show_the_key() -> None:
    credentials = ProviderCredentials(api_key="sk-live-0123456789abcdef", base_url="https://api.example")
    assert "sk-live" not in repr(credentials)
    assert "0123456789" not in str(credentials)
    assert credentials.key_hint == "…cdef"
    assert ProviderCredentials(api_key="short").key_hint == "…"


def test_all_providers_failed_summarizes() -> None:
    error = AllProvidersFailed(
        "gpt-4o",
        [
            ("openai", "gpt-4o", ProviderServerError(provider="openai", status=500)),
            ("anthropic", "claude-sonnet-4-6", AuthenticationFailed(provider="anthropic", status=401)),
        ],
    )
    assert error.is_retryable  # one candidate failed for a passing reason
    assert error.status == 401
    assert str(error).startswith("router: no provider could serve gpt-4o — gpt-4o on openai:")
