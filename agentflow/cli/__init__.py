"""`agentflow` command line: `up` for the embedded default, `api|worker|beat|migrate` for production."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.panel import Panel

from agentflow.settings import ConfigurationError, Settings, get_settings

# Tracebacks with locals would print connection URLs and secrets to the terminal.
app = typer.Typer(
    help="AgentFlow: design, publish and run AI agent workflows.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

_READY_TIMEOUT = 180.0


def _fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)
    raise typer.Exit(1)


def _settings_ready() -> Settings:
    get_settings.cache_clear()
    settings = get_settings()
    try:
        settings.check_ready()
    except ConfigurationError as exc:
        _fail(str(exc))
    return settings


def _exec(argv: list[str]) -> NoReturn:
    """Become the server process, so signals from the process manager reach it directly."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)  # noqa: S606 - argv[0] is sys.executable


class _StopSignals:
    """SIGINT/SIGTERM ask for an orderly stop; a second one during start-up interrupts it."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.interruptible = True

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = not self.requested.is_set()
        self.requested.set()
        if not first and self.interruptible:
            raise KeyboardInterrupt


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Interface the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the API listens on.")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Where the embedded database, broker data and secrets live.")] = Path(
        ".agentflow"
    ),
    workers: Annotated[int, typer.Option("--workers", "-w", help="Celery worker concurrency.")] = 2,
) -> None:
    """Start AgentFlow: embedded PostgreSQL + Valkey (unless configured by URL), API, worker, beat."""
    from agentflow.embedded import EmbeddedServiceError, EmbeddedStack, load_or_create_secrets
    from agentflow.embedded.runtime import prepare_data_dir
    from agentflow.embedded.supervisor import Supervisor, api_argv, beat_argv, local_url, worker_argv

    signals = _StopSignals()
    signals.install()
    data_dir = data_dir.expanduser().resolve()
    stack: EmbeddedStack | None = None
    supervisor: Supervisor | None = None
    code = 0
    try:
        settings = get_settings()
        env: dict[str, str] = {"AGENTFLOW_DATA_DIR": str(data_dir)}
        if settings.database_url and settings.redis_url:
            console.print("Using the PostgreSQL and Redis given by AGENTFLOW_DATABASE_URL / AGENTFLOW_REDIS_URL.")
            prepare_data_dir(data_dir)
            generated = load_or_create_secrets(data_dir)
            if not settings.jwt_secret:
                env["AGENTFLOW_JWT_SECRET"] = generated.jwt_secret
            if not settings.vault_master_key:
                env["AGENTFLOW_VAULT_MASTER_KEY"] = generated.vault_master_key
            from agentflow.provision import prepare_database

            with console.status("Applying database migrations…"):
                prepare_database(settings.owner_database_url, settings.db_app_role)
        else:
            stack = EmbeddedStack(data_dir, app_role=settings.db_app_role)
            with console.status(f"Starting embedded PostgreSQL and Valkey in {data_dir}…"):
                env.update(stack.start())
        if signals.requested.is_set():
            return

        # The children inherit this environment; checking it here fails fast, with one message.
        os.environ.update(env)
        _settings_ready()
        supervisor = Supervisor(dict(os.environ))
        supervisor.start("API", api_argv(host, port))
        supervisor.start("worker", worker_argv(concurrency=workers))
        supervisor.start("beat", beat_argv(schedule=data_dir / "celerybeat-schedule"))

        base_url = local_url(host, port)
        with console.status("Waiting for the API to be ready…"):
            ready = supervisor.wait_until_ready(
                f"{base_url}/readyz", timeout=_READY_TIMEOUT, should_stop=signals.requested.is_set
            )
        if not ready:
            return
        shown_url = base_url
        console.print(
            Panel.fit(
                f"[bold]AgentFlow[/] is running\n\n"
                f"  URL       {shown_url}\n"
                f"  API docs  {shown_url}/api/docs\n"
                f"  Data dir  {data_dir}\n\n"
                "Press Ctrl-C to stop.",
                title="agentflow up",
            ),
            highlight=False,
        )
        console.print("[green]ready[/]", highlight=False)

        while not signals.requested.wait(0.5):
            dead = supervisor.first_exited()
            if dead is not None:
                err_console.print(
                    f"[bold red]error:[/] the {dead.name} process exited unexpectedly "
                    f"(code {dead.process.returncode}); stopping AgentFlow.",
                    soft_wrap=True,
                    highlight=False,
                )
                code = 1
                break
    except (EmbeddedServiceError, ConfigurationError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True, highlight=False)
        code = 1
    except KeyboardInterrupt:
        code = 0
    finally:
        signals.interruptible = False
        if supervisor is not None:
            with console.status("Stopping…"):
                supervisor.stop_all()
        if stack is not None:
            stack.stop()
    if code == 0:
        console.print("AgentFlow stopped.")
    raise typer.Exit(code)


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
) -> None:
    """Run the API server (production: configuration from AGENTFLOW_* variables)."""
    from agentflow.embedded.supervisor import api_argv

    _settings_ready()
    _exec(api_argv(host, port, workers=workers))


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", help="Task processes (default: CPU count).")
    ] = None,
    queues: Annotated[str, typer.Option("--queues", "-Q", help="Comma-separated queues.")] = "default,executions",
) -> None:
    """Run a Celery worker (production: configuration from AGENTFLOW_* variables)."""
    from agentflow.embedded.supervisor import worker_argv

    _settings_ready()
    _exec(worker_argv(concurrency=concurrency, queues=queues))


@app.command()
def beat(
    schedule: Annotated[
        Path | None, typer.Option(help="Beat's state file (default: <data dir>/celerybeat-schedule).")
    ] = None,
) -> None:
    """Run Celery beat, the periodic task scheduler. Run exactly one per deployment."""
    from agentflow.embedded.supervisor import beat_argv

    settings = _settings_ready()
    if schedule is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        schedule = settings.data_dir / "celerybeat-schedule"
    _exec(beat_argv(schedule=schedule.resolve()))


@app.command()
def migrate() -> None:
    """Apply the database migrations as the schema owner (AGENTFLOW_MIGRATION_DATABASE_URL)."""
    from agentflow.provision import prepare_database

    get_settings.cache_clear()
    settings = get_settings()
    try:
        owner_url = settings.owner_database_url
    except ConfigurationError as exc:
        _fail(str(exc))
    prepare_database(owner_url, settings.db_app_role)
    console.print("Database migrated to the latest revision.")


@app.command()
def openapi(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Print the API's OpenAPI document (the web app's typed client is generated from it)."""
    from agentflow.app import openapi_document

    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


vault_app = typer.Typer(help="Credential vault: master keys and key rotation.", no_args_is_help=True)
app.add_typer(vault_app, name="vault")


@vault_app.command("rotate")
def vault_rotate(
    batch_size: Annotated[int, typer.Option(min=1, help="Rows read per batch.")] = 200,
) -> None:
    """Re-wrap every stored secret's data key under the current master key (no downtime)."""
    from rich.table import Table

    from agentflow.kit.logging import configure_logging
    from agentflow.kit.vault import vault_from_settings
    from agentflow.kit.vault.rotation import rewrap_all

    get_settings.cache_clear()
    settings = get_settings()
    # Rows that fail are reported as log lines (table and row id, never the envelope).
    configure_logging(settings.log_level, json=settings.log_json)
    try:
        owner_url = settings.owner_database_url
        vault = vault_from_settings(settings)
    except ConfigurationError as exc:
        _fail(str(exc))
    with console.status("Re-wrapping data keys…"):
        counts = rewrap_all(owner_url, vault, batch_size=batch_size)
    table = Table("rows", "count", title=f"Vault key {vault.current_key_id}")
    for name, count in counts.items():
        table.add_row(name, str(count))
    console.print(table)
    if counts["failed"]:
        _fail(f"{counts['failed']} secret(s) could not be re-wrapped (see the log); keep the old key configured.")


@vault_app.command("generate-key")
def vault_generate_key() -> None:
    """Print a new random master key (32 bytes, base64url) for AGENTFLOW_VAULT_MASTER_KEY."""
    from agentflow.kit.vault import generate_master_key

    # Plain stdout, no Rich markup or wrapping, so it can be piped into a secret store.
    typer.echo(generate_master_key())


def main() -> None:
    app()
