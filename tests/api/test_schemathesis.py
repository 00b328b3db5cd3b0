"""schemathesis against the API's own OpenAPI schema: a bounded number of generated requests
per endpoint, served by uvicorn on a real socket; no 5xx, no response the schema does not
allow. (Run on the API test stack: real PostgreSQL and Temporal.)"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import ApiStack
from tests.summary import LINES

EXAMPLES_PER_ENDPOINT = 4


def run_schemathesis(base_url: str, token: str) -> tuple[int, int, list[str]]:
    """(operations, requests, failures), each operation with its own bounded examples."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    operations = 0
    sent = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        operations += 1
        label = operation.label

        @settings(
            max_examples=EXAMPLES_PER_ENDPOINT,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            nonlocal sent
            sent += 1
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            try:
                case.validate_response(
                    response, checks=[not_a_server_error, response_schema_conformance]
                )
            except Exception as err:  # collect them all, report together
                failures.append(f"{label}: {str(err)[:400]}")  # noqa: B023

        check()
    return operations, sent, failures


async def test_no_5xx_and_no_schema_violation(api: ApiStack) -> None:
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(128)  # bound and listening before the server runs: no wait for it
    port = listening.getsockname()[1]
    config = uvicorn.Config(api.app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        operations, sent, failures = await asyncio.to_thread(
            run_schemathesis, f"http://127.0.0.1:{port}", api.tokens["secas"]
        )
    finally:
        server.should_exit = True
        await serving
        listening.close()
    LINES.append(f"schemathesis: {operations} operations, {sent} generated requests")
    assert operations > 50
    assert not failures, "\n".join(failures[:20])
