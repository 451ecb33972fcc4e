"""Sending execution tasks to the workers (by name: the API never imports the worker's code)."""

from __future__ import annotations

import uuid

from celery import Celery

RUN_TASK = "executions.run"
RESUME_TASK = "executions.resume"


def enqueue(
    celery: Celery, execution_id: uuid.UUID, org_id: uuid.UUID, *, resume: bool = False, eta: float | None = None
) -> None:
    """Ids only: the task reads everything else from the database."""
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(eta, UTC) if eta is not None else None
    celery.send_task(RESUME_TASK if resume else RUN_TASK, args=[str(execution_id), str(org_id)], eta=when)
