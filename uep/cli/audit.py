"""`uep audit CASE_ID`: check a case three ways, as an auditor would.

1. **Replay**: every run of the case's Temporal history (continue-as-new makes several) is
   replayed against today's workflow code; a non-determinism means today's code could not
   carry the case on.
2. **Hash chain**: the case's event stream is re-hashed from its first event; any edit of a
   stored event breaks the chain at that version.
3. **Agreement**: the event stream folded with today's ``evolve`` gives the same stage,
   requirements and stream version as the running workflow's ``state`` query.

Exit status 0 when all hold, 1 when any check fails, 3 when Temporal or PostgreSQL is out of reach.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError
from temporalio.worker import Replayer

from domain.history import fold_stored, view_as_of
from eventstore.postgres import PostgresEventStore
from uep.cli.common import REFUSED, run_command
from uep.connect import settings, store_pool, temporal_client
from uep.converter import DATA_CONVERTER
from worker import WORKFLOWS


@dataclass
class Check:
    """One audit check and what it found."""

    name: str
    ok: bool
    detail: str


async def replay_runs(client: Client, case_id: str) -> Check:
    """Replay each run of the case, newest first, following continue-as-new back to the start."""
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=DATA_CONVERTER)
    run_id: str | None = None
    replayed = 0
    while True:
        handle = client.get_workflow_handle(case_id, run_id=run_id)
        history: WorkflowHistory = await handle.fetch_history()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            return Check("replay", False, f"run {run_id or 'latest'}: {result.replay_failure}")
        replayed += 1
        first = history.events[0].workflow_execution_started_event_attributes
        previous = first.continued_execution_run_id
        if not previous:
            return Check("replay", True, f"{replayed} run(s) replay against today's code")
        run_id = previous


async def agreement(client: Client, case_id: str, folded: dict[str, Any]) -> Check:
    """The stream folded with today's code against the workflow's own view of the case."""
    try:
        live: dict[str, Any] = await client.get_workflow_handle(case_id).query(
            "state", result_type=dict
        )
    except RPCError as err:
        return Check("agreement", True, f"not compared: the workflow cannot answer ({err.message})")
    keys = ("stage", "status", "stream_version", "user_id")
    differ = [k for k in keys if live.get(k) != folded.get(k)]
    live_reqs = [(r["requirement"], r["status"], r["met"]) for r in live.get("requirements", [])]
    folded_reqs = [
        (r["requirement"], r["status"], r["met"]) for r in folded.get("requirements", [])
    ]
    if live_reqs != folded_reqs:
        differ.append("requirements")
    if differ:
        detail = "; ".join(
            f"{k}: workflow {live.get(k)!r}, stream {folded.get(k)!r}" for k in differ
        )
        return Check("agreement", False, detail)
    return Check(
        "agreement", True, f"stream and workflow agree at version {folded['stream_version']}"
    )


async def audit(case_id: str) -> list[Check]:
    """Run the three checks on one case."""
    config = settings()
    client = await temporal_client(config)
    checks = [await replay_runs(client, case_id)]
    async with store_pool(config) as pool:
        store = PostgresEventStore(pool)
        events = await store.read_stream(case_id)
        report = await store.verify_chain(case_id)
    if report.ok:
        chain = Check("hash chain", True, f"intact over {report.events} events")
    else:
        detail = f"broken at version {report.first_bad_version}: {report.detail}"
        chain = Check("hash chain", False, detail)
    checks.append(chain)
    state = fold_stored(events)
    if state is None:
        checks.append(Check("agreement", False, "the stream has no CaseStarted event"))
        return checks
    today = datetime.now(UTC).date()
    folded = view_as_of(state, today, stream_version=events[-1].version)
    checks.append(await agreement(client, case_id, json.loads(folded.model_dump_json())))
    return checks


async def run_audit(args: argparse.Namespace) -> int:
    """`uep audit CASE_ID [--json]`."""
    try:
        checks = await audit(args.case_id)
    except RPCError as err:
        print(f"uep audit: {args.case_id}: {err.message}", file=sys.stderr)
        return REFUSED
    if args.json:
        print(json.dumps([asdict(c) for c in checks]))
    else:
        for c in checks:
            print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<11} {c.detail}")
    return 0 if all(c.ok for c in checks) else REFUSED


def add_parser(sub: Any) -> None:
    """Register `uep audit`."""
    p = sub.add_parser(
        "audit", help="replay a case's history, verify its hash chain, compare stream and workflow"
    )
    p.add_argument("case_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_command("uep audit", run_audit))
