"""`uep dev`: the whole stack in one foreground process group, stopped cleanly by Ctrl-C.

Children (the Temporal dev server, the worker, the projector, the archiver) each run in their own
process group, so a Ctrl-C in the terminal reaches this supervisor only and the stack stops in
order: archiver, projector and worker first, then Temporal, then the embedded PostgreSQL. A
``stack.json`` in the state directory tells other terminals (``uep case ...``) where the running
stack listens.

The supervisor keeps the stack up: a child that exits unexpectedly is restarted after a capped,
jittered backoff, and said so in one line; only Ctrl-C / SIGTERM, or a child that dies
:data:`MAX_DEATHS` times (``UEP_DEV_MAX_DEATHS``) within :data:`DEATH_WINDOW` seconds, stops the
stack, and then it says which child and why. PostgreSQL is not its child (the embedded server runs
detached): when it stops answering the supervisor says so, and again when it is back, and the
services ride it out. It also says when a service's ``/readyz`` changes its answer (ready, or not
ready and why), so the terminal shows what an orchestrator's probe would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from eventstore.roles import APP_ROLE, AUDITOR_ROLE, LOGIN_ROLES
from eventstore.tokens import TokenStore
from uep.connect import StoreUnreachable, prepare_store, with_user
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
from uep.health import failing_checks, read_readyz
from uep.keys import ensure_dev_key
from uep.principal import ensure_dev_principal_key
from uep.settings import Settings

STOP_TIMEOUT = 15.0
MAX_DEATHS = 5
"""A child that dies this often within :data:`DEATH_WINDOW` stops the stack."""
DEATH_WINDOW = 60.0
RESTART_WAIT_FIRST, RESTART_WAIT_MAX = 0.5, 10.0
PASSWORDS_FILE = "db-passwords.json"


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
    respawn: Callable[[], subprocess.Popen[bytes]] | None = None
    deaths: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    restarted: asyncio.Event = field(default_factory=asyncio.Event)
    """Set each time the supervisor has started the child again (for whoever waits on it)."""
    readyz: str | None = None
    """The child's ``/readyz`` URL, if it serves one (the worker, the projector, the API)."""

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


def spawn_python(
    name: str, args: list[str], env: dict[str, str], logs: Path, readyz: str | None = None
) -> Child:
    """Run ``python -m uep.cli <args>`` as a child in its own process group."""
    log = logs / f"{name}.log"

    def start() -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "uep.cli", *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    return Child(name, start(), log, respawn=start, readyz=readyz)


def describe_exit(code: int | None) -> str:
    """``status 1`` or ``killed by SIGKILL``."""
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"status {code}"


def restart_wait(deaths: int) -> float:
    """Seconds before a restart: doubling from the first death, capped, with jitter so children
    that died together do not come back in lockstep."""
    base = min(RESTART_WAIT_MAX, RESTART_WAIT_FIRST * 2.0 ** max(0, deaths - 1))
    return base * random.uniform(0.75, 1.25)


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
    metrics_port: int = 9464
    api: bool = True
    api_port: int = 8000

    def metrics_ports(self) -> dict[str, int]:
        """Ports of the worker's metrics and health, its Temporal SDK metrics, the projector's."""
        ports = {"worker": self.metrics_port, "worker (Temporal SDK)": self.metrics_port + 1}
        if self.projector:
            ports["projector"] = self.metrics_port + 2
        return ports


@dataclass
class Stack:
    """Everything `uep dev` started, for an orderly stop."""

    children: list[Child] = field(default_factory=list)
    api_token: str = ""
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
        *((p, f"{name} metrics", "--metrics-port") for name, p in opts.metrics_ports().items()),
        *([(opts.api_port, "HTTP API", "--api-port")] if opts.api else []),
    ):
        if port_open(port):
            raise PreflightError(
                f"port {port} ({what}) is already in use: stop whatever listens there "
                f"(another Temporal server or uep dev?) or choose another with {flag}"
            )
    return binary


@dataclass(frozen=True)
class Database:
    """The event store as `uep dev` set it up: who connects as what, and where it is."""

    owner_url: str
    app_url: str
    auditor_url: str
    where: str


def _role_passwords(state: Path) -> dict[str, str]:
    """Passwords for the login roles on a server given by URL, kept in the state directory
    (mode 600) so a restart reuses them. The embedded server trusts local connections."""
    path = state / PASSWORDS_FILE
    with contextlib.suppress(OSError, ValueError):
        kept = json.loads(path.read_text())
        if isinstance(kept, dict) and set(kept) == set(LOGIN_ROLES):
            return {str(k): str(v) for k, v in kept.items()}
    made = {role: secrets.token_urlsafe(18) for role in LOGIN_ROLES}
    path.touch(mode=0o600)
    path.write_text(json.dumps(made))
    return made


async def _database(opts: DevOptions, stack: Stack) -> Database:
    """Resolve PostgreSQL (given URL or embedded); as its owner create the login roles,
    migrate and set the read models up; the URLs of the owner, the application, the auditor."""
    url = opts.settings.database_url
    where = "UEP_DATABASE_URL"
    passwords: dict[str, str | None]
    if not url:
        pgdata = (opts.settings.state_dir / "postgres").resolve()
        stack.embedded_pgdata = pgdata
        try:
            server = await asyncio.to_thread(ensure_embedded, pgdata, opts.pg_port)
        except EmbeddedPostgresError as err:
            raise PreflightError(f"embedded PostgreSQL: {err}") from None
        url, where = server.url(), f"embedded, {pgdata}"
        passwords = dict.fromkeys(LOGIN_ROLES)  # trust authentication on loopback
    else:
        passwords = dict(_role_passwords(opts.settings.state_dir.resolve()))
    try:
        await prepare_store(url, login_passwords=passwords)
    except StoreUnreachable as err:
        raise PreflightError(
            f"{err} at {redact(url)}; check UEP_DATABASE_URL or unset it to use the embedded server"
        ) from None
    except asyncpg.PostgresError as err:
        # e.g. a UEP_DATABASE_URL role that may not create roles or migrate
        raise PreflightError(
            f"setting up the event store at {redact(url)} as its owner failed: "
            f"{type(err).__name__}: {err}"
        ) from None
    return Database(
        owner_url=url,
        app_url=with_user(url, APP_ROLE, passwords[APP_ROLE]),
        auditor_url=with_user(url, AUDITOR_ROLE, passwords[AUDITOR_ROLE]),
        where=where,
    )


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


def banner(
    info: StackInfo,
    where: str,
    logs: Path,
    temporal_db: Path,
    retention: str = "",
    api_token: str = "",
) -> str:
    """The short banner: URLs, where the data lives, three commands to try."""
    metrics = [f"  Metrics          {name:<22} {url}" for name, url in info.metrics.items()]
    api = (
        [
            f"  HTTP API         {info.api_url}  (OpenAPI {info.api_url}/docs)",
            f"  SECAS token      {api_token}",
            f"                   (shown once; curl -H 'Authorization: Bearer ...' "
            f"{info.api_url}/cases)",
        ]
        if info.api_url
        else []
    )
    return "\n".join(
        [
            "uep dev: the stack is up",
            f"  Temporal Web UI  {info.ui_url}",
            f"  Temporal         {info.temporal_address}  (namespace {info.namespace}, "
            "task queue uep" + (f", retention {retention}" if retention else "") + ")",
            f"  PostgreSQL       {redact(info.database_url)}  ({where}; migrations ran as "
            f"{urlsplit(info.owner_database_url).username}, the auditor is {AUDITOR_ROLE})",
            *api,
            *metrics,
            "  Health           /healthz and /readyz beside the worker's and projector's /metrics"
            + (" and on the API" if info.api_url else ""),
            "                   (a /readyz that changes its answer is said below)",
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

    def stopping(sig: signal.Signals) -> None:
        if not stop.is_set():
            print(f"uep dev: {sig.name} received", flush=True)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping, sig)
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
    db = await _database(opts, stack)
    signing_key = opts.settings.signing_key_file or ensure_dev_key(state)
    principal_key = opts.settings.principal_key_file or ensure_dev_principal_key(state)

    cfg = DevServerConfig(
        binary=binary,
        db_file=state / "temporal.sqlite",
        port=opts.temporal_port,
        ui_port=opts.ui_port,
        namespace=opts.settings.namespace,
    )
    temporal_log = logs / "temporal.log"
    server = start_dev_server(cfg, temporal_log)
    stack.children.append(
        Child(
            "temporal",
            server,
            temporal_log,
            signal.SIGINT,
            respawn=lambda: start_dev_server(cfg, temporal_log),
        )
    )
    try:
        client = await wait_until_ready(cfg, server)
        await ensure_search_attributes(client)
        retention = await set_retention(client, cfg.retention)
    except DevServerError as err:
        raise PreflightError(f"{err}; see {temporal_log}") from None

    ports = opts.metrics_ports()
    env = {
        **os.environ,
        "UEP_TEMPORAL_ADDRESS": cfg.address,
        "UEP_NAMESPACE": cfg.namespace,
        "UEP_DATABASE_URL": db.app_url,
        "UEP_STATE_DIR": str(state),
        "UEP_LOG_FORMAT": "json",
        "UEP_METRICS_HOST": "127.0.0.1",
        # the dev stack's delivery channel: each completion notice becomes a file here
        "UEP_NOTICE_DIR": os.environ.get("UEP_NOTICE_DIR", str(state / "notices")),
        "UEP_SIGNING_KEY_FILE": str(signing_key),
        "UEP_PRINCIPAL_KEY_FILE": str(principal_key),
        # the dev stack's Web UI is the operators' console: unsigned writes are SECAS's
        "UEP_ALLOW_UI_WRITES": os.environ.get("UEP_ALLOW_UI_WRITES", "true"),
    }
    worker_env = {
        **env,
        "UEP_METRICS_PORT": str(ports["worker"]),
        "UEP_TEMPORAL_METRICS_PORT": str(ports["worker (Temporal SDK)"]),
    }
    worker = spawn_python("worker", ["worker"], worker_env, logs, _readyz(ports["worker"]))
    stack.children.append(worker)
    if opts.projector:
        projector_env = {**env, "UEP_METRICS_PORT": str(ports["projector"])}
        stack.children.append(
            spawn_python(
                "projector", ["projector"], projector_env, logs, _readyz(ports["projector"])
            )
        )
    if opts.archiver:
        stack.children.append(spawn_python("archiver", ["archiver"], env, logs))
    api_url, token = "", ""
    if opts.api:
        api_env = {**env, "UEP_API_HOST": "127.0.0.1", "UEP_API_PORT": str(opts.api_port)}
        stack.children.append(spawn_python("api", ["api"], api_env, logs, _readyz(opts.api_port)))
        api_url = f"http://127.0.0.1:{opts.api_port}"
        token = await _secas_token(db.app_url)
    await _wait_for_worker(client, opts.settings.task_queue, worker, 60.0)

    info = StackInfo(
        pid=os.getpid(),
        temporal_address=cfg.address,
        namespace=cfg.namespace,
        ui_url=cfg.ui_url,
        database_url=db.app_url,
        owner_database_url=db.owner_url,
        auditor_database_url=db.auditor_url,
        metrics={name: f"http://127.0.0.1:{port}/metrics" for name, port in ports.items()},
        state_dir=str(state),
        api_url=api_url,
    )
    stack.stack_file = stack_path(state)
    stack.stack_file.touch(mode=0o600)  # it holds the database URLs
    stack.stack_file.write_text(json.dumps(info.model_dump(), indent=2))
    stack.api_token = token
    return info, db.where, cfg.db_file, _days(retention)


def _readyz(port: int) -> str:
    return f"http://127.0.0.1:{port}/readyz"


async def _secas_token(app_url: str) -> str:
    """A fresh SECAS token for the banner (only its hash is stored; one per start)."""
    pool = await asyncpg.create_pool(app_url, min_size=1, max_size=1)
    try:
        token, _ = await TokenStore(pool).create("secas", "secas", "SECAS (uep dev)")
    finally:
        await pool.close()
    return token


def _days(span: timedelta) -> str:
    """A retention period in words: "3 days", "36 hours"."""
    hours = span.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours % 24 == 0 else f"{hours:g} hours"


async def _supervise(
    stack: Stack, stop: asyncio.Event, database_url: str, max_deaths: int = MAX_DEATHS
) -> int:
    """Until Ctrl-C / SIGTERM (status 0): restart children that exit, with backoff; a child
    dying ``max_deaths`` times within :data:`DEATH_WINDOW` seconds stops it (status 1)."""
    watch = _DatabaseWatch(database_url)
    readiness = _ReadinessWatch(stack.children)
    watching = asyncio.create_task(readiness.run(stop), name="uep-dev-readiness")
    try:
        return await _keep_up(stack, stop, watch, readiness, max_deaths)
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


async def _keep_up(
    stack: Stack,
    stop: asyncio.Event,
    watch: _DatabaseWatch,
    readiness: _ReadinessWatch,
    max_deaths: int,
) -> int:
    while not stop.is_set():
        now = time.monotonic()
        for child in stack.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restart_at = None
                    _restart(child)
                    readiness.forget(child)
                continue
            if not child.exited():
                continue
            status = describe_exit(child.process.returncode)
            child.deaths.append(now)
            while child.deaths and child.deaths[0] < now - DEATH_WINDOW:
                child.deaths.popleft()
            if child.respawn is None or len(child.deaths) >= max_deaths:
                print(
                    f"uep dev: the {child.name} died {len(child.deaths)} times within "
                    f"{DEATH_WINDOW:.0f}s (last: {status}); it keeps dying, so the stack stops. "
                    f"Last lines of {child.log}:\n{child.tail()}",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
            wait = restart_wait(len(child.deaths))
            child.restart_at = now + wait
            print(
                f"uep dev: the {child.name} exited unexpectedly ({status}); restarting it in "
                f"{wait:.1f}s ({len(child.deaths)} in the last {DEATH_WINDOW:.0f}s; see "
                f"{child.log})",
                file=sys.stderr,
                flush=True,
            )
        await watch.check()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    return 0


def _restart(child: Child) -> None:
    """Start the child again (whatever its old process group left is killed first)."""
    assert child.respawn is not None
    stop_child(child)
    child.process = child.respawn()
    print(f"uep dev: restarted the {child.name} (pid {child.process.pid})", flush=True)
    child.restarted.set()


class _DatabaseWatch:
    """Says when PostgreSQL stops answering and when it is back (one line each)."""

    def __init__(self, url: str, every: float = 1.0) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 5432
        self._every = every
        self._next = 0.0
        self._down_since: float | None = None

    async def check(self) -> None:
        """Look at most every ``every`` seconds; print a line on a change."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self._every
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), timeout=1.0
            )
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            up = True
        except (OSError, TimeoutError):
            up = False
        where = f"{self._host}:{self._port}"
        if not up and self._down_since is None:
            self._down_since = now
            print(
                f"uep dev: PostgreSQL at {where} does not answer; appends wait (Temporal "
                "retries them) and the projector reconnects when it is back",
                file=sys.stderr,
                flush=True,
            )
        elif up and self._down_since is not None:
            print(
                f"uep dev: PostgreSQL at {where} answers again after {now - self._down_since:.0f}s",
                flush=True,
            )
            self._down_since = None


READY = "ready"


class _ReadinessWatch:
    """Says when a child's ``/readyz`` changes its answer: one line when it turns ready, one
    when it is not (naming the failing checks), and again only when the failing checks change.
    A child just (re)started is unknown until its first answer; one that does not answer (it
    is starting, or dead: the restart lines say so) keeps its last verdict."""

    def __init__(self, children: list[Child], every: float = 1.0) -> None:
        self._children = children
        self._every = every
        self._said: dict[str, str | frozenset[str] | None] = {}
        self._starts: dict[str, int] = {}

    def forget(self, child: Child) -> None:
        """The child was started again: its next answer is said, whatever it is (an answer
        asked for before, from the process that died, is dropped)."""
        self._said[child.name] = None
        self._starts[child.name] = self._starts.get(child.name, 0) + 1

    async def run(self, stop: asyncio.Event) -> None:
        """Look every ``every`` seconds until ``stop``."""
        while not stop.is_set():
            await self.look()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)

    async def look(self) -> None:
        """Ask every watched child once (side by side); say what changed."""
        watched = [c for c in self._children if c.readyz and c.restart_at is None]
        starts = [self._starts.get(c.name, 0) for c in watched]
        answers = await asyncio.gather(
            *(asyncio.to_thread(_ask_readyz, c.readyz or "") for c in watched)
        )
        for child, start, answer in zip(watched, starts, answers, strict=True):
            if answer is not None and start == self._starts.get(child.name, 0):
                self._heard(child.name, answer)

    def _heard(self, name: str, failing: dict[str, str]) -> None:
        verdict: str | frozenset[str] = frozenset(failing) if failing else READY
        if self._said.get(name) == verdict:
            return
        self._said[name] = verdict
        if not failing:
            print(f"uep dev: the {name} is ready", flush=True)
            return
        why = "; ".join(f"{check}: {detail}" for check, detail in sorted(failing.items()))
        print(f"uep dev: the {name} is not ready ({why})", file=sys.stderr, flush=True)


def _ask_readyz(url: str) -> dict[str, str] | None:
    """The failing checks of a ``/readyz`` (empty: ready); None when nothing answers."""
    try:
        return failing_checks(read_readyz(url, timeout=8))
    except (OSError, ValueError):
        return None


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
            print(banner(info, where, logs, temporal_db, retention, stack.api_token), flush=True)
            up = True
            code = await _supervise(
                stack, stop, info.owner_database_url, opts.settings.dev_max_deaths
            )
            print("uep dev: stopping ...", flush=True)
            return code
        except PreflightError as err:
            print(f"uep dev: {err}", file=sys.stderr)
            return 1
        finally:
            await asyncio.to_thread(stack.stop)
            if up:
                print("uep dev: stopped", flush=True)
