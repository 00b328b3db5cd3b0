"""A `uep dev`-style Temporal dev server (Web UI on) and a worker, for driving the UI."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client

from activities.notices import MemoryChannel
from eventstore.memory import InMemoryEventStore
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port
from uep.devstack.temporal import DevServerConfig, running_dev_server
from worker import build_worker
from workflows.names import TASK_QUEUE

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class UiStack:
    """The Web UI's address and a client on the same server."""

    ui_url: str
    client: Client


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The system Chromium; without it skip, or fail where ``UEP_REQUIRE_BROWSER`` is set (CI)."""
    if not CHROMIUM.exists():
        why = (
            "no Chromium at /usr/bin/chromium; install Debian package chromium: "
            "apt-get install chromium"
        )
        if os.environ.get("UEP_REQUIRE_BROWSER"):
            pytest.fail(why + " (UEP_REQUIRE_BROWSER is set: the Web UI test may not skip)")
        pytest.skip(why)
    return CHROMIUM


@pytest.fixture(scope="session")
async def ui_stack(chromium: Path) -> AsyncIterator[UiStack]:
    """A dev server on free ports with the search attributes, and a worker on queue ``uep``.

    The worker uses the in-memory event store: these tests are about the operator's experience
    in the UI, and the PostgreSQL store has its own integration tests.
    """
    folder = Path(tempfile.mkdtemp(prefix="uep-ui-"))
    cfg = DevServerConfig(
        binary=temporal_cli(),
        db_file=folder / "temporal.sqlite",
        port=free_port(),
        ui_port=free_port(),
    )
    try:
        async with (
            running_dev_server(cfg, folder / "temporal.log") as client,
            build_worker(client, InMemoryEventStore(), TASK_QUEUE, channel=MemoryChannel()),
        ):
            yield UiStack(ui_url=cfg.ui_url, client=client)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
