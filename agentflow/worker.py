"""The Celery application: `celery -A agentflow.worker:celery_app worker|beat` (or `agentflow worker`).

Tasks take ids only and are idempotent, so the broker may deliver one twice: that is what makes
`acks_late` + `reject_on_worker_lost` safe, and those are what make a killed worker's task run
again instead of vanishing.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging
from kombu import Queue

from agentflow.kit.logging import configure_logging
from agentflow.kit.redaction import register_settings_secrets
from agentflow.settings import Settings, get_settings

DEFAULT_QUEUE = "default"
EXECUTIONS_QUEUE = "executions"

# Longer than the longest execution we allow, so Redis never hands a still-running (unacked,
# acks_late) task to a second worker. It is also how long a task held by a worker that died
# without a goodbye waits before it is redelivered.
VISIBILITY_TIMEOUT_SECONDS = 2 * 60 * 60
SWEEP_TASK = "maintenance.sweep_executions"
SCHEDULES_TASK = "maintenance.fire_schedules"


def create_celery(settings: Settings) -> Celery:
    app = Celery("agentflow", include=["agentflow.executions.tasks"])
    app.conf.update(
        broker_url=settings.redis_url,
        result_backend=settings.redis_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
        result_expires=24 * 60 * 60,
        task_default_queue=DEFAULT_QUEUE,
        # Explicit routing keys: left out, both queues would bind the default key and every task
        # sent to one would also land in the other.
        task_queues=(
            Queue(DEFAULT_QUEUE, routing_key=DEFAULT_QUEUE),
            Queue(EXECUTIONS_QUEUE, routing_key=EXECUTIONS_QUEUE),
        ),
        # Executions get their own queue so long agent runs never starve short housekeeping tasks.
        task_routes={"executions.*": {"queue": EXECUTIONS_QUEUE}},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # With acks_late, a prefetched task waits behind a long one on a busy worker; take one at a time.
        worker_prefetch_multiplier=1,
        # After a broker connection loss the unacked tasks are redelivered anyway; cancelling the
        # local copies avoids running them twice at once.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # JSON only: pickle would let anyone who can write to the broker run code in the worker.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        # The sweeper wakes parked runs, times out approvals and requeues runs of dead workers.
        # A sweep nobody picked up within one interval is dropped: the next one does its work.
        beat_schedule={
            "sweep-executions": {
                "task": SWEEP_TASK,
                "schedule": settings.execution_sweep_interval_seconds,
                "options": {"expires": settings.execution_sweep_interval_seconds},
            },
            # Cron schedules live in the database (agent_triggers); this tick fires the due ones.
            "fire-schedules": {
                "task": SCHEDULES_TASK,
                "schedule": settings.schedule_tick_seconds,
                "options": {"expires": settings.schedule_tick_seconds},
            },
        },
    )
    return app


celery_app = create_celery(get_settings())


def _configure_worker_logging(**_: Any) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    register_settings_secrets(settings)  # never let a configured secret reach a log line


# A receiver on this signal stops Celery from installing its own log handlers, so the worker and
# beat log the same JSON lines as the API.
setup_logging.connect(_configure_worker_logging)


def _ping() -> str:
    """Round trip through the broker and a worker; used by readiness checks and tests."""
    return "pong"


# Registered by call rather than decorator: Celery is untyped, and a decorator would make mypy
# treat the function itself as untyped.
ping = celery_app.task(name="system.ping")(_ping)
