"""A real Celery worker process on the test stack, and an app whose broker is that worker's.

The worker listens on its own Valkey database number, so executions started by other test
modules (whose app uses database 0 and has no worker) never reach it.
"""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def worker(
    worker_env: dict[str, str], worker_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[bytes]]:
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {**os.environ, **worker_env, "AGENTFLOW_LOG_LEVEL": "WARNING", "AGENTFLOW_ENVIRONMENT": "test"}
    celery = str(Path(sys.executable).with_name("celery"))
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [celery, "-A", "agentflow.worker", "worker", "-Q", "default,executions", "--pool", "solo", "-c", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        client = create_celery(worker_settings)
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited: {log_path.read_text()[-3000:]}")
            try:
                if client.send_task("system.ping").get(timeout=5) == "pong":
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
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
