"""Schedule trigger: run on a cron schedule in a given time zone."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime
from typing import Literal

from cronsim import CronSim, CronSimError
from pydantic import Field, field_validator

from agentflow.engine.nodes.base import NodeConfig, NodeType, widget_hint
from agentflow.engine.nodes.context import run_trigger


@functools.cache
def _known_time_zones() -> frozenset[str]:
    # Membership in the tz database, rather than ZoneInfo(name), so no user text ever becomes a path.
    return frozenset(zoneinfo.available_timezones())


class ScheduleTriggerConfig(NodeConfig):
    cron: str = Field(
        default="0 9 * * 1-5",
        max_length=100,
        description="Five fields: minute hour day-of-month month day-of-week, e.g. '0 9 * * 1-5'.",
        json_schema_extra=widget_hint("cron"),
    )
    timezone: str = Field(
        default="UTC",
        max_length=64,
        description="IANA time zone the schedule is read in, e.g. Europe/Paris.",
        json_schema_extra=widget_hint("timezone"),
    )
    missed_fires: Literal["fire_once", "skip"] = Field(
        default="fire_once",
        description="After downtime: run once for all missed times, or skip them.",
    )

    @field_validator("cron")
    @classmethod
    def _cron_is_valid(cls, cron: str) -> str:
        fields = cron.split()
        if len(fields) != 5:
            raise ValueError(f"a cron expression has 5 fields (minute hour day month weekday), got {len(fields)}")
        try:
            CronSim(" ".join(fields), datetime(2000, 1, 1))
        except CronSimError as error:
            raise ValueError(f"invalid cron expression: {error}") from None
        except Exception as error:  # pydantic lets non-ValueErrors escape; keep odd inputs a plain error
            raise ValueError(f"invalid cron expression ({type(error).__name__})") from None
        return cron

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, timezone: str) -> str:
        if timezone not in _known_time_zones():
            raise ValueError(f"unknown time zone {timezone!r}; use an IANA name like UTC or Europe/Paris")
        return timezone


NODE_TYPE = NodeType(
    type="trigger",
    subtype="schedule",
    display_name="Schedule",
    description="Start the agent on a cron schedule. {{trigger.data.scheduled_at}} is the planned time.",
    category="Triggers",
    icon="calendar-clock",
    config_model=ScheduleTriggerConfig,
    handler=run_trigger,
    inputs=(),
)
