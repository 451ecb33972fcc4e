"""A real Celery worker process on the test stack, and an app whose broker is that worker's.

The worker listens on its own Valkey database number, so executions started by other test
modules (whose app uses database 0 and has no worker) never reach it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from agentflow.app import create_app
from agentflow.settings import Settings
from agentflow.worker import create_celery
from tests.api_fixtures import OrgWorld, client_for, make_org_world, settings_for

WORKER_REDIS_DB = 7
ROOT = Path(__file__).resolve().parents[2]


def _with_db(url: str, db: int) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{db}"


@pytest.fixture(scope="session")
def worker_env(stack: Any) -> dict[str, str]:
    return {**stack.env, "AGENTFLOW_REDIS_URL": _with_db(stack.redis_url, WORKER_REDIS_DB)}


@pytest.fixture(scope="session")
def worker_settings(worker_env: dict[str, str]) -> Settings:
    return settings_for(worker_env)


def start_worker(
    env: dict[str, str], log_path: Path, *, name: str = "worker", beat: bool = False
) -> subprocess.Popen[bytes]:
    """A real `celery worker` process (solo pool, both queues), with Celery beat inside it when
    `beat` (the sweeper's schedule); returns once it answers a ping through its broker."""
    full_env = {**os.environ, "AGENTFLOW_LOG_LEVEL": "WARNING", "AGENTFLOW_ENVIRONMENT": "test", **env}
    celery = str(Path(sys.executable).with_name("celery"))
    command = [celery, "-A", "agentflow.worker", "worker", "-Q", "default,executions", "--pool", "solo", "-c", "1"]
    command += ["-n", f"{name}@%h"]
    if beat:
        command += ["-B", "-s", str(log_path.with_suffix(".beat-schedule"))]
    with open(log_path, "ab") as log:
        # Its own process group: with -B the worker forks a beat process, and a kill must take
        # the whole node down, as a crashed machine would, not leave beat running on its own.
        process = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    client = create_celery(settings_for(full_env))
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited: {log_path.read_text()[-3000:]}")
        try:
            if client.send_task("system.ping").get(timeout=5) == "pong":
                return process
        except Exception:
            if time.monotonic() > deadline:
                stop_worker(process)
                raise


def stop_worker(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """SIGTERM (a warm shutdown) or, with `kill`, SIGKILL to the worker and its beat at once:
    they get no chance to clean up. Whatever is left of the group afterwards is killed."""
    if process.poll() is None:
        if kill:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def worker(worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    process = start_worker(worker_env, log_path)
    try:
        yield process
    finally:
        stop_worker(process)
        if os.environ.get("AGENTFLOW_SHOW_WORKER_LOG"):
            print(log_path.read_text())


@pytest.fixture(scope="session")
async def worker_app(worker_settings: Settings, worker: subprocess.Popen[bytes]) -> AsyncIterator[FastAPI]:
    application = create_app(worker_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wclient(worker_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(worker_app) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def wworld(wclient: httpx.AsyncClient) -> OrgWorld:
    return await make_org_world(wclient)
