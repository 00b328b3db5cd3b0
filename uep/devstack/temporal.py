"""The Temporal dev server of `uep dev`: its command line, readiness and search attributes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    GetSystemInfoRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import Client

from uep.converter import DATA_CONVERTER
from workflows.names import SEARCH_ATTRIBUTES

# Pragmas the Temporal CLI's own tests use; about three times the throughput on a laptop disk.
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL")

DEV_RETENTION = timedelta(days=3)
"""How long the dev namespace keeps a closed run's history. Set on every start rather than left
to the dev server's unstated default (24 hours); audits of older runs read the history archive.
"""

_INDEXED_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


class DevServerError(RuntimeError):
    """The dev server could not be started or did not answer in time."""


@dataclass(frozen=True)
class DevServerConfig:
    """Where the dev server keeps its data and which ports it listens on."""

    binary: str
    db_file: Path
    port: int = 7233
    ui_port: int = 8233
    namespace: str = "default"
    ip: str = "127.0.0.1"
    log_level: str = "warn"
    retention: timedelta = DEV_RETENTION
    search_attributes: dict[str, str] = field(default_factory=lambda: dict(SEARCH_ATTRIBUTES))

    @property
    def address(self) -> str:
        """The frontend address clients connect to."""
        return f"localhost:{self.port}"

    @property
    def ui_url(self) -> str:
        """The Web UI's address."""
        return f"http://localhost:{self.ui_port}"


def dev_server_command(cfg: DevServerConfig) -> list[str]:
    """The `temporal server start-dev` command line for ``cfg``."""
    cmd = [
        cfg.binary,
        "server",
        "start-dev",
        "--db-filename",
        str(cfg.db_file),
        "--ip",
        cfg.ip,
        "--port",
        str(cfg.port),
        "--ui-port",
        str(cfg.ui_port),
        "--namespace",
        cfg.namespace,
        "--log-level",
        cfg.log_level,
    ]
    for name, kind in cfg.search_attributes.items():
        cmd += ["--search-attribute", f"{name}={kind}"]
    for pragma in SQLITE_PRAGMAS:
        cmd += ["--sqlite-pragma", pragma]
    return cmd


def start_dev_server(cfg: DevServerConfig, log_file: Path) -> subprocess.Popen[bytes]:
    """Launch the dev server in its own process group, its output going to ``log_file``."""
    cfg.db_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        return subprocess.Popen(
            dev_server_command(cfg),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop it in order
            env=os.environ.copy(),
        )


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


async def wait_until_ready(
    cfg: DevServerConfig,
    process: subprocess.Popen[bytes] | None = None,
    within: float = 60.0,
) -> Client:
    """Poll until the frontend answers; return a connected client (pydantic converter)."""
    deadline = time.monotonic() + within
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise DevServerError(f"the Temporal dev server exited with status {process.returncode}")
        if port_open(cfg.port):
            try:
                client = await Client.connect(
                    cfg.address, namespace=cfg.namespace, data_converter=DATA_CONVERTER
                )
                await client.workflow_service.get_system_info(GetSystemInfoRequest())
                return client
            except Exception as err:  # still starting: the namespace may not exist yet
                last = err
        await asyncio.sleep(0.2)
    raise DevServerError(f"the Temporal dev server did not answer on {cfg.address}: {last}")


async def ensure_search_attributes(
    client: Client, wanted: dict[str, str] | None = None
) -> list[str]:
    """Register the custom search attributes that are missing; return the names added.

    A dev server started on an existing database file ignores ``--search-attribute`` for names
    it did not have, so the list is checked and completed on every start (idempotent).
    """
    wanted = dict(SEARCH_ATTRIBUTES if wanted is None else wanted)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = {
        name: _INDEXED_TYPES[kind]
        for name, kind in wanted.items()
        if name not in listed.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return sorted(missing)


async def set_retention(client: Client, retention: timedelta) -> timedelta:
    """Set the namespace's retention of closed histories; the retention now in force."""
    # `temporal server start-dev` has no flag for it: this is what
    # `temporal operator namespace update --retention` does.
    ttl = Duration()
    ttl.FromTimedelta(retention)
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=client.namespace,
            config=NamespaceConfig(workflow_execution_retention_ttl=ttl),
        )
    )
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


@contextlib.asynccontextmanager
async def running_dev_server(cfg: DevServerConfig, log_file: Path) -> AsyncIterator[Client]:
    """A dev server for the duration of the block (tests, tools): started, ready, stopped."""
    process = start_dev_server(cfg, log_file)
    try:
        client = await wait_until_ready(cfg, process)
        await ensure_search_attributes(client)
        yield client
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            await asyncio.to_thread(process.wait, 5)
