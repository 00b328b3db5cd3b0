"""Each service's small HTTP server: ``/metrics``, ``/healthz`` and ``/readyz`` on one port.

It is prometheus-client's own WSGI server (a thread), so a scrape waits for the event loop only
where the service asks to refresh its gauges first (``before_scrape``, bounded: the projector's
lag as of the scrape); ``/healthz`` and ``/readyz`` do ask the loop, which is the point: a loop
that no longer answers is not alive. ``/readyz`` runs the service's checks (PostgreSQL
reachable, migrations at head, Temporal reachable, the service's own state) and answers 200 or
503 with JSON naming each.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import asyncpg
from prometheus_client import REGISTRY, make_wsgi_app
from temporalio.client import Client

from eventstore.migrations import require_head

T = TypeVar("T")

CHECK_TIMEOUT = 3.0
ALIVE_TIMEOUT = 2.0

Check = Callable[[], Awaitable[str]]
"""A readiness check: returns what it saw, raises when not ready."""

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class NotReady(Exception):
    """A check's one-line reason for answering 503."""


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict."""

    ok: bool
    detail: str


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes and probes every few seconds would drown the service's own log."""


class HealthServer:
    """Serves one service's metrics, liveness and readiness from a background thread."""

    def __init__(
        self,
        service: str,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop,
        checks: Mapping[str, Check] | None = None,
    ) -> None:
        self.service = service
        self.checks: dict[str, Check] = dict(checks or {})
        self.before_scrape: Callable[[], Coroutine[Any, Any, None]] | None = None
        """Run on the service's loop before each ``/metrics`` answer (bounded in time; a
        failure serves the values as they were): gauges then hold the state as of the scrape."""
        self._loop = loop
        self._metrics = make_wsgi_app(REGISTRY)
        self._server = make_server(host, port, self._app, _Server, handler_class=_Quiet)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"uep-{service}-http", daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on (useful when asked for port 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start answering."""
        self._thread.start()

    def stop(self) -> None:
        """Stop answering and free the port."""
        if self._thread.is_alive():
            self._server.shutdown()  # waits for serve_forever, so only once it runs
        self._server.server_close()

    async def readiness(self) -> dict[str, CheckResult]:
        """Run every check at once, each bounded in time."""
        return await run_checks(self.checks)

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            self._refresh()
            answer: Iterable[bytes] = self._metrics(environ, start_response)
            return answer
        if path == "/healthz":
            return self._healthz(start_response)
        if path == "/readyz":
            return self._readyz(start_response)
        return _json(start_response, 404, {"error": f"no such path {path!r}"})

    def _on_loop(self, step: Coroutine[Any, Any, T], within: float) -> T:
        """Run ``step`` on the service's event loop from this server's thread, at most
        ``within`` seconds; raises (the step cancelled) when it fails or the loop does not
        answer in time."""
        future = asyncio.run_coroutine_threadsafe(step, self._loop)
        try:
            return future.result(within)
        except BaseException:
            future.cancel()
            raise

    def _refresh(self) -> None:
        if self.before_scrape is None:
            return
        with contextlib.suppress(Exception):  # a scrape still answers, with the last values
            self._on_loop(self.before_scrape(), CHECK_TIMEOUT)

    def _healthz(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            self._on_loop(asyncio.sleep(0), ALIVE_TIMEOUT)
        except Exception:
            body = {"service": self.service, "alive": False, "detail": "event loop stuck"}
            return _json(start_response, 503, body)
        return _json(start_response, 200, {"service": self.service, "alive": True})

    def _readyz(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            results = self._on_loop(self.readiness(), CHECK_TIMEOUT + ALIVE_TIMEOUT)
        except Exception:
            body = {"service": self.service, "ready": False, "detail": "event loop stuck"}
            return _json(start_response, 503, body)
        status, body = readiness_answer(self.service, results)
        return _json(start_response, status, body)


async def run_checks(checks: Mapping[str, Check]) -> dict[str, CheckResult]:
    """Run every check at once, each bounded in time."""
    names = list(checks)
    results = await asyncio.gather(*(_run_check(checks[n]) for n in names))
    return dict(zip(names, results, strict=True))


async def _run_check(check: Check) -> CheckResult:
    try:
        return CheckResult(True, await asyncio.wait_for(check(), CHECK_TIMEOUT))
    except TimeoutError:
        return CheckResult(False, f"no answer within {CHECK_TIMEOUT:.0f}s")
    except Exception as err:  # any failure is "not ready", said in one line
        text = str(err).splitlines()[0] if str(err) else ""
        return CheckResult(False, text if isinstance(err, NotReady) else _named(err, text))


def readiness_answer(
    service: str, results: Mapping[str, CheckResult]
) -> tuple[int, dict[str, Any]]:
    """The status (200 or 503) and the JSON every ``/readyz`` answers with, naming each check."""
    ready = all(r.ok for r in results.values())
    body = {
        "service": service,
        "ready": ready,
        "checks": {n: {"ok": r.ok, "detail": r.detail} for n, r in results.items()},
    }
    return (200 if ready else 503), body


def read_readyz(url: str, timeout: float) -> dict[str, Any]:
    """A ``/readyz`` answer's JSON, 200 or 503 alike (both name the checks); raises OSError or
    ValueError when nothing answers or the answer is not JSON."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as err:  # 503 carries the checks too
        body = json.loads(err.read() or b"{}")
    if not isinstance(body, dict):
        raise ValueError(f"{url} answered {type(body).__name__}, not an object")
    return body


def failing_checks(body: Mapping[str, Any]) -> dict[str, str]:
    """The failing checks of a ``/readyz`` answer, name -> detail (empty: ready); an answer
    that is not ready but names no failing check (a stuck loop) fails as ``readyz``."""
    checks = body.get("checks") or {}
    failing = {n: str(c.get("detail", "")) for n, c in checks.items() if not c.get("ok")}
    if not failing and not body.get("ready", False):
        failing["readyz"] = str(body.get("detail", "not ready"))
    return failing


def _json(start_response: StartResponse, status: int, body: object) -> list[bytes]:
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    data = json.dumps(body).encode()
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _named(err: BaseException, text: str) -> str:
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


# -- checks the services share ------------------------------------------------------------------


def postgres_check(pool: asyncpg.Pool) -> Check:
    """PostgreSQL answers on the service's own pool."""

    async def check() -> str:
        await pool.fetchval("SELECT 1")
        return "answers"

    return check


def migrations_check(pool: asyncpg.Pool) -> Check:
    """Every migration this code ships is applied."""

    async def check() -> str:
        async with pool.acquire() as conn:
            try:
                await require_head(conn)
            except Exception as err:
                raise NotReady(str(err)) from None
        return "at head"

    return check


def temporal_check(client: Client) -> Check:
    """The Temporal frontend answers its health check."""

    async def check() -> str:
        if not await client.service_client.check_health():
            raise NotReady("Temporal says it is not serving")
        return f"serving at {client.service_client.config.target_host}"

    return check
