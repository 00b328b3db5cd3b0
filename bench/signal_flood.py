"""Replay safety under a flood of signals: how many cases' histories replay after one.

Starts its own dev stack (as bench/cases.py), opens N cases, sends each a burst of refused
headerless signals right after its start (as a retrying backend might), waits until the case
has listed them all, then replays the case's history against today's code. Prints the cases
whose history failed to replay, and how many did out of N. Not a test: a reproduction of the
fault docs/performance.md describes, and the check its fix must pass (N of N).

    .venv/bin/python bench/signal_flood.py [--cases 8] [--signals 40] [--when start|open]
                                      [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cases import fresh_database, gas_supplier_start
from temporalio.client import Client

from activities.notices import MemoryChannel
from eventstore.postgres import PostgresEventStore
from uep.audit.replay import replayer
from uep.connect import open_pool
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port, stop_embedded
from uep.devstack.temporal import (
    DevServerConfig,
    ensure_search_attributes,
    start_dev_server,
    wait_until_ready,
)
from uep.logging import configure_logging
from uep.settings import Settings
from worker import WORKFLOWS, build_worker
from workflows.names import STATE_QUERY, WORKFLOW_TYPE, workflow_id


def keep_history(path: Path, text: str) -> None:
    """Write a history that failed to replay, for `temporal workflow` or a replay test."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


async def flooded_case(
    client: Client, queue: str, n: int, signals: int, keep: Path | None, when: str
) -> str | None:
    """One case flooded at its start; the replay failure of its history, if any."""
    pid = f"flood{n}x{uuid.uuid4().hex[:6]}"
    begun = datetime.now(UTC).date() - timedelta(days=200)
    handle = await client.start_workflow(
        WORKFLOW_TYPE,
        gas_supplier_start(pid, f"Flood {n}", begun),
        id=workflow_id(pid, "gas_supplier"),
        task_queue=queue,
    )
    if when == "open":  # as the memo-limit test: once the case has opened
        for _ in range(1200):
            view = await handle.query(STATE_QUERY)
            if isinstance(view, dict) and view.get("status") == "open":
                break
            await asyncio.sleep(0.05)
    await asyncio.gather(
        *(
            handle.signal("verify_evidence", {"requirement": "uept", "message_id": f"v{i}"})
            for i in range(signals)
        )
    )
    for _ in range(1200):  # up to a minute
        view = await handle.query(STATE_QUERY)
        if isinstance(view, dict) and len(view.get("rejected_messages", [])) >= signals:
            break
        await asyncio.sleep(0.05)
    history = await handle.fetch_history()
    replayed = await replayer(WORKFLOWS).replay_workflow(history, raise_on_replay_failure=False)
    await handle.terminate("flood checked")
    if replayed.replay_failure is None:
        return None
    if keep is not None:
        await asyncio.to_thread(keep_history, keep / f"{pid}.json", history.to_json())
    return str(replayed.replay_failure)


async def main(args: argparse.Namespace) -> int:
    configure_logging("json", level=logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="uep-flood-"))
    settings = Settings(state_dir=folder, pg_port=free_port())
    url = await fresh_database(settings)
    pool = await open_pool(url, min_size=2, max_size=8)
    cfg = DevServerConfig(
        binary=temporal_cli(), db_file=folder / "t.sqlite", port=free_port(), ui_port=free_port()
    )
    server = start_dev_server(cfg, folder / "temporal.log")
    failed = 0
    try:
        client = await wait_until_ready(cfg, server)
        await ensure_search_attributes(client)
        queue = f"flood-{uuid.uuid4().hex[:6]}"
        async with build_worker(client, PostgresEventStore(pool), queue, channel=MemoryChannel()):
            for n in range(args.cases):
                failure = await flooded_case(client, queue, n, args.signals, args.keep, args.when)
                if failure is not None:
                    failed += 1
                    print(f"case {n}: does not replay: {failure[:240]}", flush=True)
        print(f"{args.cases - failed} of {args.cases} flooded cases replay")
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 15)
        # close the pool before its server stops: it would try to restore its floor and print
        # the refused connection as a traceback
        try:
            await asyncio.wait_for(pool.close(), 10)
        except TimeoutError:
            pool.terminate()
        if not settings.database_url:
            await asyncio.to_thread(stop_embedded, folder / "postgres")
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--signals", type=int, default=40)
    parser.add_argument(
        "--when",
        choices=("start", "open"),
        default="start",
        help="flood right after the start (default) or once the case has opened",
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="write each history that fails to replay here"
    )
    code = asyncio.run(main(parser.parse_args()))
    sys.stdout.flush()
    os._exit(code)  # sdk-python #300, and a pool the worker's tasks may still hold
