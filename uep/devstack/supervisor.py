"""`uep dev`: the whole stack in one foreground process group, stopped cleanly by Ctrl-C.

Children (the Temporal dev server, the worker, the projector, the archiver) each run in their own
process group, so a Ctrl-C in the terminal reaches this supervisor only and the stack stops in
order: archiver, projector and worker first, then Temporal, then the embedded PostgreSQL. A
``stack.json`` in the state directory tells other terminals (``uep case ...``) where the running
stack listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from eventstore.migrations import migrate
from uep.devstack.binaries import MissingBinaryError, temporal_cli
from uep.devstack.postgres import EmbeddedPostgresError, ensure_embedded, stop_embedded
from uep.devstack.stackfile import StackInfo, read_stack, redact, stack_path
from uep.devstack.temporal import (
    DevServerConfig,
    DevServerError,
    ensure_search_attributes,
    port_open,
    set_retention,
    start_dev_server,
    wait_until_ready,
)
from uep.keys import ensure_dev_key
from uep.settings import Settings

STOP_TIMEOUT = 15.0


class PreflightError(Exception):
    """An expected failure: one line for the operator, then a non-zero exit."""


# -- child processes --------------------------------------------------------------------------


@dataclass
class Child:
    """A child process in its own process group, with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM

    def exited(self) -> bool:
        """True once the child has ended."""
        return self.process.poll() is not None

    def tail(self, lines: int = 15) -> str:
        """The last lines of the child's log."""
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


def _killpg(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def stop_child(child: Child, timeout: float = STOP_TIMEOUT) -> None:
    """Ask the child's process group to stop, wait, then kill what is left."""
    if child.exited():
        _killpg(child.process.pid, signal.SIGKILL)  # anything it left in its group
        return
    _killpg(child.process.pid, child.stop_signal)
    try:
        child.process.wait(timeout)
    except subprocess.TimeoutExpired:
        _killpg(child.process.pid, signal.SIGKILL)
        child.process.wait(5)
    _killpg(child.process.pid, signal.SIGKILL)


def spawn_python(name: str, args: list[str], env: dict[str, str], logs: Path) -> Child:
    """Run ``python -m uep.cli <args>`` as a child in its own process group."""
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uep.cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return Child(name, process, log)


# -- the supervisor ---------------------------------------------------------------------------


@dataclass
class DevOptions:
    """What `uep dev` starts and where."""

    settings: Settings
    temporal_port: int
    ui_port: int
    pg_port: int
    projector: bool = True
    archiver: bool = True


@dataclass
class Stack:
    """Everything `uep dev` started, for an orderly stop."""

    children: list[Child] = field(default_factory=list)
    embedded_pgdata: Path | None = None
    stack_file: Path | None = None

    def stop(self) -> None:
        """Stop in reverse order of start: archiver, projector, worker, Temporal; PostgreSQL."""
        for child in reversed(self.children):
            stop_child(child)
        if self.embedded_pgdata is not None:
            try:
                stop_embedded(self.embedded_pgdata)
            except (EmbeddedPostgresError, OSError, subprocess.SubprocessError) as err:
                # said, not swallowed: a server left running would hold the port next time
                print(f"uep dev: the embedded PostgreSQL did not stop: {err}", file=sys.stderr)
        if self.stack_file is not None:
            with contextlib.suppress(OSError):
                self.stack_file.unlink()


def preflight(opts: DevOptions) -> str:
    """Check the binary, the ports and the state dir before starting anything; the binary."""
    try:
        binary = temporal_cli()
    except MissingBinaryError as err:
        raise PreflightError(str(err)) from None
    running = read_stack(opts.settings.state_dir)
    if running is not None:
        raise PreflightError(
            f"uep dev already runs for {opts.settings.state_dir} (pid {running.pid}); "
            "stop it first, or use another UEP_STATE_DIR"
        )
    for port, what, flag in (
        (opts.temporal_port, "Temporal frontend", "--temporal-port"),
        (opts.ui_port, "Temporal Web UI", "--ui-port"),
    ):
        if port_open(port):
            raise PreflightError(
                f"port {port} ({what}) is already in use: stop whatever listens there "
                f"(another Temporal server or uep dev?) or choose another with {flag}"
            )
    return binary


async def _database(opts: DevOptions, stack: Stack) -> tuple[str, str]:
    """Resolve PostgreSQL (given URL or embedded), check it answers and migrate it."""
    url = opts.settings.database_url
    where = "UEP_DATABASE_URL"
    if not url:
        pgdata = (opts.settings.state_dir / "postgres").resolve()
        stack.embedded_pgdata = pgdata
        try:
            server = await asyncio.to_thread(ensure_embedded, pgdata, opts.pg_port)
        except EmbeddedPostgresError as err:
            raise PreflightError(f"embedded PostgreSQL: {err}") from None
        url, where = server.url(), f"embedded, {pgdata}"
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as err:
        raise PreflightError(
            f"cannot reach PostgreSQL at {redact(url)} ({err}); check UEP_DATABASE_URL "
            "or unset it to use the embedded server"
        ) from None
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url, where


async def _wait_for_worker(client: Client, task_queue: str, worker: Child, within: float) -> None:
    """Wait until the worker polls its task queue (or fail with its log)."""
    deadline = time.monotonic() + within
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    while time.monotonic() < deadline:
        if worker.exited():
            raise PreflightError(f"the worker exited at start-up; its log says:\n{worker.tail()}")
        answer = await client.workflow_service.describe_task_queue(request)
        if answer.pollers:
            return
        await asyncio.sleep(0.2)
    raise PreflightError(f"the worker did not start polling within {within:.0f}s; see {worker.log}")


def banner(info: StackInfo, where: str, logs: Path, temporal_db: Path, retention: str = "") -> str:
    """The short banner: URLs, where the data lives, three commands to try."""
    return "\n".join(
        [
            "uep dev: the stack is up",
            f"  Temporal Web UI  {info.ui_url}",
            f"  Temporal         {info.temporal_address}  (namespace {info.namespace}, "
            "task queue uep" + (f", retention {retention}" if retention else "") + ")",
            f"  PostgreSQL       {redact(info.database_url)}  ({where})",
            f"  Data             {temporal_db} and the PostgreSQL above; logs in {logs}",
            "Try, in another terminal:",
            "  uep demo                                  # a handful of realistic cases",
            "  uep case list                             # every case, stage and next deadline",
            "  uep case show uep-acme-gas_supplier       # one case: who must act, deadlines",
            "Ctrl-C stops everything; data is kept for the next start.",
        ]
    )


@contextlib.contextmanager
def _signals_set(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start(opts: DevOptions, stack: Stack, binary: str) -> tuple[StackInfo, str, Path, str]:
    """Start PostgreSQL, Temporal, the worker, the projector and the archiver; the stack's info."""
    state = opts.settings.state_dir.resolve()
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    url, where = await _database(opts, stack)
    signing_key = opts.settings.signing_key_file or ensure_dev_key(state)

    cfg = DevServerConfig(
        binary=binary,
        db_file=state / "temporal.sqlite",
        port=opts.temporal_port,
        ui_port=opts.ui_port,
        namespace=opts.settings.namespace,
    )
    temporal_log = logs / "temporal.log"
    server = start_dev_server(cfg, temporal_log)
    stack.children.append(Child("temporal", server, temporal_log, signal.SIGINT))
    try:
        client = await wait_until_ready(cfg, server)
        await ensure_search_attributes(client)
        retention = await set_retention(client, cfg.retention)
    except DevServerError as err:
        raise PreflightError(f"{err}; see {temporal_log}") from None

    env = {
        **os.environ,
        "UEP_TEMPORAL_ADDRESS": cfg.address,
        "UEP_NAMESPACE": cfg.namespace,
        "UEP_DATABASE_URL": url,
        "UEP_STATE_DIR": str(state),
        "UEP_LOG_FORMAT": "json",
        # the dev stack's delivery channel: each completion notice becomes a file here
        "UEP_NOTICE_DIR": os.environ.get("UEP_NOTICE_DIR", str(state / "notices")),
        "UEP_SIGNING_KEY_FILE": str(signing_key),
    }
    worker = spawn_python("worker", ["worker"], env, logs)
    stack.children.append(worker)
    if opts.projector:
        stack.children.append(spawn_python("projector", ["projector"], env, logs))
    if opts.archiver:
        stack.children.append(spawn_python("archiver", ["archiver"], env, logs))
    await _wait_for_worker(client, opts.settings.task_queue, worker, 60.0)

    info = StackInfo(
        pid=os.getpid(),
        temporal_address=cfg.address,
        namespace=cfg.namespace,
        ui_url=cfg.ui_url,
        database_url=url,
        state_dir=str(state),
    )
    stack.stack_file = stack_path(state)
    stack.stack_file.write_text(json.dumps(info.model_dump(), indent=2))
    return info, where, cfg.db_file, _days(retention)


def _days(span: timedelta) -> str:
    """A retention period in words: "3 days", "36 hours"."""
    hours = span.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours % 24 == 0 else f"{hours:g} hours"


async def _supervise(stack: Stack, stop: asyncio.Event) -> int:
    """Wait for Ctrl-C / SIGTERM, or for a child to die (then stop everything, status 1)."""
    while not stop.is_set():
        for child in stack.children:
            if child.exited():
                print(
                    f"uep dev: the {child.name} stopped unexpectedly "
                    f"(status {child.process.returncode}); stopping the stack. "
                    f"Last lines of {child.log}:\n{child.tail()}",
                    file=sys.stderr,
                )
                return 1
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    return 0


async def run_dev(opts: DevOptions) -> int:
    """Run the stack in the foreground until stopped; the process exit status."""
    try:
        binary = preflight(opts)
    except PreflightError as err:
        print(f"uep dev: {err}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    stack = Stack()
    up = False
    with _signals_set(stop):
        try:
            starting = asyncio.ensure_future(_start(opts, stack, binary))
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait([starting, stopper], return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not starting.done():  # Ctrl-C while starting
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError, PreflightError):
                    await starting
                return 130
            info, where, temporal_db, retention = starting.result()
            logs = Path(info.state_dir) / "logs"
            print(banner(info, where, logs, temporal_db, retention), flush=True)
            up = True
            code = await _supervise(stack, stop)
            print("uep dev: stopping ...", flush=True)
            return code
        except PreflightError as err:
            print(f"uep dev: {err}", file=sys.stderr)
            return 1
        finally:
            await asyncio.to_thread(stack.stop)
            if up:
                print("uep dev: stopped", flush=True)
