"""Sending execution tasks to the workers (by name: the API never imports the worker's code)."""

from __future__ import annotations

import uuid

from celery import Celery

RUN_TASK = "executions.run"
RESUME_TASK = "executions.resume"


def enqueue(celery: Celery, execution_id: uuid.UUID, org_id: uuid.UUID, *, resume: bool = False) -> None:
    """Ids only: the task reads everything else from the database. Never with an ETA: a run that
    must wait (a delay, an approval timeout) is parked in the database and woken by the sweeper,
    so no broker message or worker is held meanwhile."""
    celery.send_task(RESUME_TASK if resume else RUN_TASK, args=[str(execution_id), str(org_id)])
