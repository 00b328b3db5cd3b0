"""Cases for the audit tests, driven through a real worker, and the `uep` CLI as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from domain.deadlines import uept_earliest_start
from domain.roles import UserRole
from tests.workflows import story
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port
from uep.devstack.temporal import DevServerConfig, running_dev_server
from workflows import limits, names
from workflows.io import CaseResult

USER_ID = "90b3d51f3001a0d1"


@contextlib.asynccontextmanager
async def dev_server(prefix: str) -> AsyncIterator[Client]:
    """A Temporal dev server of a test module's own, on free ports."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    cfg = DevServerConfig(
        binary=temporal_cli(), db_file=folder / "t.sqlite", port=free_port(), ui_port=free_port()
    )
    try:
        async with running_dev_server(cfg, folder / "temporal.log") as client:
            yield client
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Result:
    """What one CLI run did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """Stdout parsed as JSON."""
        return json.loads(self.out)

    def checks(self) -> dict[str, dict[str, Any]]:
        """`uep audit --format json` checks by name."""
        return {c["name"]: c for c in self.json()["checks"]}


async def uep(env: dict[str, str], *args: str, python: str = "") -> Result:
    """Run the `uep` command (or ``python -c`` code that ends in it) as a subprocess."""
    # A subprocess, never a blocking call: the worker runs in the test's event loop.
    argv = ["-c", python, *args] if python else ["-m", "uep.cli", *args]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


async def start(
    client: Client,
    task_queue: str,
    role: UserRole,
    begun: date,
    continue_after: int | None = None,
    **extra: Any,
) -> WorkflowHandle[Any, CaseResult]:
    """Start a case for a new Party, backdated to ``begun``; wait until it has opened. With
    ``continue_after``, its runs roll over after that many history events (its memo)."""
    p = story.party(role)
    handle = await client.start_workflow(
        names.WORKFLOW_TYPE,
        {"party": p, "role": str(role), "started_on": begun.isoformat(), **extra},
        id=names.workflow_id(p["party_id"], str(role)),
        task_queue=task_queue,
        result_type=CaseResult,
        memo=None if continue_after is None else {limits.MEMO_EVENTS_LIMIT: continue_after},
    )
    await story.allocated(story.Via(client), handle, *story.TEST_RANGE)
    await story.opened(handle)
    return handle


async def eventful_case(
    client: Client, task_queue: str, *, continue_after: int | None = 80
) -> WorkflowHandle[Any, CaseResult]:
    """A completed Other User case: a late DCC step, a dispute to Ofgem, continued as new."""
    today = datetime.now(UTC).date()
    begun = today - timedelta(days=250)
    handle = await start(client, task_queue, UserRole.OTHER_USER, begun, continue_after)
    await story.user_id_accepted(handle, USER_ID, begun)
    earliest = uept_earliest_start(begun, story.CALENDAR)
    send = story.send
    await send(handle, "give_uept_notice", planned_start_on=earliest, effective_on=begun)
    await send(handle, "confirm_entry_criteria", criteria=story.ALL_CRITERIA, effective_on=begun)
    await send(handle, "start_uept", effective_on=earliest)
    submitted = story.CALENDAR.add_working_days(earliest, 15)
    late = story.CALENDAR.add_working_days(submitted, 5)  # the DCC had 2 Working Days
    await send(handle, "submit_test_completion_report", effective_on=submitted)
    await send(handle, "confirm_report_receipt", effective_on=late)
    await send(handle, "conclude_uept_review", outcome="concluded", effective_on=late)
    await send(handle, "record_quality_gate_meeting", successful=True, effective_on=late)
    await send(handle, "issue_test_certificate", certificate_ref="TCC-9", effective_on=late)
    assessed = begun + timedelta(weeks=12)
    await story.party_security_approved(story.Via(client), handle, begun)
    await send(handle, "book_privacy_assessment", assessment_on=assessed, effective_on=begun)
    await send(handle, "complete_privacy_assessment", effective_on=assessed)
    await send(
        handle, "set_privacy_status", status="deferred", effective_on=assessed + timedelta(days=1)
    )
    await send(
        handle,
        "raise_dispute",
        subject="privacy",
        reason="scope of the assessment",
        effective_on=assessed + timedelta(days=2),
    )
    await send(
        handle,
        "record_panel_determination",
        dispute_id="D1",
        upheld=False,
        effective_on=assessed + timedelta(days=20),
    )
    await send(
        handle,
        "refer_dispute_to_ofgem",
        dispute_id="D1",
        effective_on=assessed + timedelta(days=25),
    )
    await send(
        handle,
        "record_ofgem_determination",
        dispute_id="D1",
        upheld=True,
        outcome="approved",
        effective_on=assessed + timedelta(days=60),
    )
    await story.party_credit(story.Via(client), handle, requirement="100")
    await story.verify_all(handle, ["user_id", "uept", "security", "privacy", "credit"], today)
    await story.panel_informed(handle, today)
    result = await handle.result()
    assert result.status == "completed"
    return handle


async def short_case(
    client: Client, task_queue: str, continue_after: int | None = None
) -> WorkflowHandle[Any, CaseResult]:
    """A Gas Supplier case that proposes a User ID and is withdrawn: closed in a few steps."""
    today = datetime.now(UTC).date()
    begun = today - timedelta(days=5)
    handle = await start(client, task_queue, UserRole.GAS_SUPPLIER, begun, continue_after)
    first_run = client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    for n in range(40 if continue_after is not None else 0):  # until the first run rolls over
        if (await first_run.describe()).status != WorkflowExecutionStatus.RUNNING:
            break
        uid = f"90b3d51f3001c{n:03x}"
        await story.send(handle, "propose_user_id", user_id=uid)
        await story.send(handle, "reject_user_id", user_id=uid, reason="in use")
    await story.send(handle, "propose_user_id", user_id="90b3d51f3001b0d2")
    await story.send(handle, "withdraw", reason="left the market")
    assert (await handle.result()).status == "withdrawn"
    return handle


def tamper_sql(conn_sql: str) -> str:
    """A statement run as a superuser would: with the append-only triggers bypassed."""
    return f"SET session_replication_role = replica; {conn_sql}; RESET session_replication_role"
