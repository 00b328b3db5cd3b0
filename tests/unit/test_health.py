"""The services' HTTP server: /healthz asks the event loop, /readyz runs every check, /metrics
serves the registry, and `uep probe` turns /readyz into a healthcheck's exit status."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY, Gauge

from uep.health import HealthServer, NotReady
from uep.metrics import prepare_process


async def get(server: HealthServer, path: str) -> tuple[int, bytes]:
    """GET a path from another thread, as Prometheus or a probe would."""

    def fetch() -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as r:
                return int(r.status), bytes(r.read())
        except urllib.error.HTTPError as err:
            return int(err.code), bytes(err.read())

    return await asyncio.to_thread(fetch)


@pytest.fixture
async def server() -> AsyncIterator[HealthServer]:
    prepare_process()
    health = HealthServer("worker", "127.0.0.1", 0, asyncio.get_running_loop())
    health.start()
    yield health
    health.stop()


async def ok() -> str:
    return "fine"


BEHIND = "PostgreSQL is at migration 6, this code needs 40"


async def refuses() -> str:
    raise NotReady(BEHIND)


async def breaks() -> str:
    raise ConnectionRefusedError("connection refused")


async def test_healthz_answers_while_the_event_loop_does(server: HealthServer) -> None:
    status, body = await get(server, "/healthz")
    assert status == 200 and json.loads(body) == {"service": "worker", "alive": True}


async def test_readyz_is_200_when_every_check_passes(server: HealthServer) -> None:
    server.checks.update(postgresql=ok, temporal=ok)
    status, body = await get(server, "/readyz")
    answer = json.loads(body)
    assert status == 200 and answer["ready"] is True
    assert answer["checks"]["postgresql"] == {"ok": True, "detail": "fine"}


async def test_readyz_is_503_and_names_each_failing_check(server: HealthServer) -> None:
    server.checks.update(temporal=ok, migrations=refuses, postgresql=breaks)
    status, body = await get(server, "/readyz")
    checks = json.loads(body)["checks"]
    assert status == 503
    assert checks["migrations"] == {"ok": False, "detail": BEHIND}
    assert checks["postgresql"]["detail"] == "ConnectionRefusedError: connection refused"
    assert checks["temporal"]["ok"] is True


async def test_metrics_serves_the_registry_and_unknown_paths_are_404(server: HealthServer) -> None:
    status, body = await get(server, "/metrics")
    assert status == 200 and b'uep_build_info{version="' in body
    assert (await get(server, "/nowhere"))[0] == 404


async def probe(server: HealthServer, service: str) -> tuple[int, str]:
    """`uep probe SERVICE` against the server's port."""
    env = {**os.environ, "UEP_METRICS_PORT": str(server.port), "UEP_STATE_DIR": "/nonexistent"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uep.cli", "probe", service, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return int(process.returncode or 0), out.decode()


async def test_probe_exits_0_when_ready_and_1_naming_what_is_not(server: HealthServer) -> None:
    server.checks.update(temporal=ok)
    code, out = await probe(server, "worker")
    assert code == 0 and "healthy: temporal: fine" in out, out
    server.checks.update(migrations=refuses)
    code, out = await probe(server, "worker")
    assert code == 1 and "migrations: PostgreSQL is at migration 6" in out, out
    code, out = await probe(server, "projector")  # another service answers on that port
    assert code == 1 and "answers for 'worker'" in out, out


async def test_probe_with_nothing_listening_is_unhealthy() -> None:
    health = HealthServer("worker", "127.0.0.1", 0, asyncio.get_running_loop())
    port = health.port
    health.stop()  # bound, never started, then closed: nothing listens there now
    env = {**os.environ, "UEP_METRICS_PORT": str(port), "UEP_STATE_DIR": "/nonexistent"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uep.cli", "probe", "worker", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode == 1 and "unhealthy" in out.decode()


async def test_a_scrape_refreshes_the_gauges_first_and_survives_a_refresh_that_fails(
    server: HealthServer,
) -> None:
    """`before_scrape` runs on the loop before each /metrics answer; if it fails, the scrape
    still answers with the values as they were."""
    gauge = Gauge("uep_test_refreshed_total", "scrapes that refreshed first")
    refreshed = 0

    async def refresh() -> None:
        nonlocal refreshed
        refreshed += 1
        gauge.set(refreshed)
        if refreshed == 2:
            raise ConnectionRefusedError("PostgreSQL went away")

    server.before_scrape = refresh
    try:
        first = (await get(server, "/metrics"))[1].decode()
        second = await get(server, "/metrics")
        assert "uep_test_refreshed_total 1.0" in first
        assert second[0] == 200 and "uep_test_refreshed_total 2.0" in second[1].decode()
    finally:
        REGISTRY.unregister(gauge)
