"""What GET /agents/{id}/triggers shows: how the agent is started, beyond a manual or API run."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class WebhookOut(BaseModel):
    url: str = Field(description="POST here to start the agent; the token in it is a secret (rotate if leaked)")
    signing_secret: str = Field(description="HMAC-SHA256 key for X-AgentFlow-Signature (see the docs)")
    require_signature: bool
    respond_mode: str
    response_timeout_seconds: int


class ScheduleOut(BaseModel):
    cron: str
    timezone: str
    missed_fires: str
    active: bool = Field(description="False while the agent is paused or archived")
    next_fire_times: list[datetime] = Field(description="The next five fire times (UTC)")
    last_fired_at: datetime | None


class TriggersOut(BaseModel):
    trigger_type: str | None = Field(description="The published version's trigger")
    webhook: WebhookOut | None
    schedule: ScheduleOut | None
