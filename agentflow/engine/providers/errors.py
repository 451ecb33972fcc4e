"""Provider failures, normalized so the router and the user see one vocabulary for every provider.

Two families, because the router treats them differently:

- `RetryableProviderError`: the same call may succeed if tried again later or elsewhere (timeouts,
  connection failures, 429, 5xx). The router retries these with backoff, then falls back.
- everything else: the request itself is the problem (bad request, bad key, content policy, unknown
  model, garbage reply). Trying again cannot help, so the router fails at once with the message.

Messages are written for the person who configured the workflow and never contain an API key: any
text that comes from a provider passes through `redact()` first.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable, Mapping
from typing import ClassVar

# Key-shaped tokens a provider might echo back ("Incorrect API key provided: sk-proj-…").
_KEY_PATTERN = re.compile(
    r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-*.]{6,}|\bAIza[0-9A-Za-z_\-]{10,}|\bBearer\s+\S+", re.IGNORECASE
)
_MAX_DETAIL_CHARS = 300


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets or anything shaped like an API key, shortened for a message."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    text = _KEY_PATTERN.sub("[redacted]", text)
    text = " ".join(text.split())
    if len(text) > _MAX_DETAIL_CHARS:
        text = text[: _MAX_DETAIL_CHARS - 1] + "…"
    return text


class ProviderError(Exception):
    """A provider call failed; `message` is safe to show to the user and to store."""

    retryable: ClassVar[bool] = False
    summary: ClassVar[str] = "the provider call failed"

    def __init__(self, message: str | None = None, *, provider: str, status: int | None = None) -> None:
        self.provider = provider
        self.status = status
        self.message = message or self.summary
        super().__init__(self.message)

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.provider}: {self.message}{status}"

    @property
    def is_retryable(self) -> bool:
        return self.retryable


class RetryableProviderError(ProviderError):
    retryable = True
    summary = "the provider is temporarily unavailable"


class ProviderTimeout(RetryableProviderError):
    summary = "the provider did not answer in time"


class ProviderConnectionError(RetryableProviderError):
    summary = "could not connect to the provider"


class RateLimited(RetryableProviderError):
    summary = "the provider is rate limiting requests"

    def __init__(
        self,
        message: str | None = None,
        *,
        provider: str,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after = retry_after


class ProviderServerError(RetryableProviderError):
    summary = "the provider had an internal error"


class InvalidRequest(ProviderError):
    summary = "the provider rejected the request as invalid"


class AuthenticationFailed(ProviderError):
    summary = "the API key was rejected; check the key configured for this provider"


class QuotaExceeded(ProviderError):
    """Out of credit or over a hard quota: unlike a 429 rate limit, waiting does not help."""

    summary = "the account has no quota or credit left with this provider"


class ContentPolicyViolation(ProviderError):
    summary = "the provider refused the request or the answer under its content policy"


class ModelNotFound(ProviderError):
    summary = "the model does not exist or this key has no access to it"


class MalformedResponse(ProviderError):
    summary = "the provider sent a response that could not be understood"


class ProviderNotConfigured(ProviderError):
    """No credentials (or no base URL) for this provider in this org, and no platform key either."""

    summary = "no API key is configured for this provider"


class CircuitOpen(ProviderError):
    """The router is keeping this provider out for a cool-down after repeated failures."""

    summary = "the provider is failing repeatedly and is paused for a short cool-down"


class AllProvidersFailed(ProviderError):
    """Every candidate (the requested model and its fallbacks) failed or was unavailable."""

    summary = "no provider could serve the request"

    def __init__(self, model: str, failures: Iterable[tuple[str, str, ProviderError]]) -> None:
        self.model = model
        self.failures = tuple(failures)
        parts = [f"{model_id} on {provider}: {error.message}" for provider, model_id, error in self.failures]
        message = f"no provider could serve {model}" + (" — " + "; ".join(parts) if parts else "")
        last_status = self.failures[-1][2].status if self.failures else None
        super().__init__(message, provider="router", status=last_status)

    @property
    def is_retryable(self) -> bool:
        # Worth running the whole step again later only if some candidate failed for a passing reason.
        return any(error.is_retryable for _, _, error in self.failures)


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` / `Retry-After` (seconds or an HTTP date), if present."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


_CONTENT_POLICY_HINTS = ("content_policy", "content_filter", "content management policy", "safety system")
_AUTH_HINTS = ("api key not valid", "api_key_invalid", "invalid api key", "invalid x-api-key")


def error_for_status(
    *,
    provider: str,
    status: int,
    detail: str = "",
    code: str | None = None,
    retry_after: float | None = None,
    secrets: Iterable[str] = (),
) -> ProviderError:
    """The normalized error for an HTTP error answer; `detail` is the provider's own message."""
    detail = redact(detail, secrets)
    hint = f"{code or ''} {detail}".lower()

    def message(summary: str) -> str:
        return f"{summary}: {detail}" if detail else summary

    if status == 429:
        # OpenAI answers 429 `insufficient_quota` when the account is out of credit: no wait fixes that.
        if "insufficient_quota" in hint:
            return QuotaExceeded(message(QuotaExceeded.summary), provider=provider, status=status)
        return RateLimited(message(RateLimited.summary), provider=provider, status=status, retry_after=retry_after)
    if status in (401, 403) or (status == 400 and any(h in hint for h in _AUTH_HINTS)):
        # The provider's wording of an auth failure sometimes quotes part of the key; ours never does.
        return AuthenticationFailed(provider=provider, status=status)
    if status == 402:
        return QuotaExceeded(message(QuotaExceeded.summary), provider=provider, status=status)
    if status == 404:
        return ModelNotFound(message(ModelNotFound.summary), provider=provider, status=status)
    if status == 408:
        return ProviderTimeout(message(ProviderTimeout.summary), provider=provider, status=status)
    if status >= 500:
        return ProviderServerError(message(ProviderServerError.summary), provider=provider, status=status)
    if any(h in hint for h in _CONTENT_POLICY_HINTS):
        return ContentPolicyViolation(message(ContentPolicyViolation.summary), provider=provider, status=status)
    return InvalidRequest(message(InvalidRequest.summary), provider=provider, status=status)
