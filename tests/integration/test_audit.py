"""`uep audit` on real PostgreSQL and a real Temporal dev server: clean cases and tampering.

One eventful case (a late DCC step, a dispute taken to Ofgem, several runs joined by
continue-as-new) and one short case are recorded once into a template database, archived and
checkpointed. Each test tampers with its own copy of that database, as a superuser would (the
append-only triggers bypassed), and runs the command that should notice, through the real CLI.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.api.common.v1 import Payloads, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.notices import MemoryChannel
from domain.roles import UserRole
from eventstore.archive import runs_of
from eventstore.checkpoints import CheckpointRefused, create_checkpoint, latest_head
from eventstore.hashing import event_hash
from eventstore.migrations import migrate
from eventstore.models import NewEvent
from eventstore.postgres import PostgresEventStore
from eventstore.signing import generate_key, public_key_hex, save_private_key
from projections import all_projections
from projections.projector import Projector
from tests.integration.audit_cases import (
    dev_server,
    eventful_case,
    short_case,
    start,
    tamper_sql,
    uep,
)
from tests.pg import random_database_name, with_database
from tests.workflows import story
from uep.archiver import Archiver
from uep.audit.case import Sources, gather_runs
from worker import build_worker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def dev_client() -> AsyncIterator[Client]:
    """A Temporal dev server of this module's own."""
    async with dev_server("uep-audit-") as client:
        yield client


@pytest.fixture(scope="module")
def keys() -> Any:
    """The deployment's signing key on disk, and another key nobody trusts."""
    folder = Path(tempfile.mkdtemp(prefix="uep-keys-"))
    key, other = generate_key(), generate_key()
    save_private_key(key, folder / "signing.pem")
    save_private_key(other, folder / "other.pem")
    yield key, folder / "signing.pem", other, folder / "other.pem"
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Recorded:
    """The template database and what is in it."""

    template: str
    case_id: str
    short_id: str
    address: str
    signing_key: Path
    public_hex: str
    other_key: Path


async def archive_all(archiver: Archiver, client: Client, pool: asyncpg.Pool, *ids: str) -> None:
    """Pass over visibility until every run of the cases is archived (each pass a round trip)."""
    wanted: set[str] = set()
    for case_id in ids:
        got = await gather_runs(Sources(client, "", pool, None), case_id)
        wanted |= {r.run_id for r in got.runs}
    for _ in range(5_000):
        await archiver.catch_up()
        stored = {r.run_id for case_id in ids for r in await runs_of(pool, case_id)}
        if wanted <= stored:
            return
    raise AssertionError(f"runs never archived: {wanted - stored}")


@pytest.fixture(scope="module")
async def recorded(dev_client: Client, pg_server_url: str, keys: Any) -> AsyncIterator[Recorded]:
    """Both cases run to their end, read models built, every run archived, two tree heads."""
    key, key_file, _, other_file = keys
    name = random_database_name()
    admin = await asyncpg.connect(pg_server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    pool = await asyncpg.create_pool(with_database(pg_server_url, name), min_size=1, max_size=8)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        store = PostgresEventStore(pool)
        task_queue = f"uep-audit-{uuid.uuid4()}"
        archiver = Archiver(dev_client, pool, key=key)
        async with build_worker(dev_client, store, task_queue, channel=MemoryChannel()):
            case = await eventful_case(dev_client, task_queue)
            await archiver.checkpoint()  # a first tree head, so the second must extend it
            short = await short_case(dev_client, task_queue)
        await store.close()
        projector = Projector(pool, all_projections())
        await projector.setup()
        await projector.catch_up()
        await archive_all(archiver, dev_client, pool, case.id, short.id)
        await archiver.checkpoint()
    finally:
        await pool.close()
    try:
        yield Recorded(
            template=name,
            case_id=case.id,
            short_id=short.id,
            address=dev_client.service_client.config.target_host,
            signing_key=key_file,
            public_hex=public_key_hex(key),
            other_key=other_file,
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass
class Copy:
    """A copy of the recorded database for one test, and the CLI pointed at it."""

    recorded: Recorded
    url: str
    env: dict[str, str]
    folder: Path

    async def uep(self, *args: str, python: str = "") -> Any:
        """Run `uep` against this copy."""
        return await uep(self.env, *args, python=python)

    async def sql(self, statement: str, *params: Any) -> Any:
        """Run one query on the copy as the superuser; its rows."""
        conn = await asyncpg.connect(self.url)
        try:
            return await conn.fetch(statement, *params)
        finally:
            await conn.close()

    async def tamper(self, statements: str) -> None:
        """Change the copy as a superuser would: the append-only triggers bypassed."""
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(tamper_sql(statements))
        finally:
            await conn.close()


@pytest.fixture
async def copy(recorded: Recorded, pg_server_url: str) -> AsyncIterator[Copy]:
    """A fresh copy of the recorded database."""
    name = random_database_name()
    admin = await asyncpg.connect(pg_server_url)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{recorded.template}"')
    folder = Path(tempfile.mkdtemp(prefix="uep-audit-copy-"))
    url = with_database(pg_server_url, name)
    env = {
        "UEP_DATABASE_URL": url,
        "UEP_TEMPORAL_ADDRESS": recorded.address,
        "UEP_STATE_DIR": str(folder / "state"),
        "UEP_SIGNING_KEY_FILE": str(recorded.signing_key),
    }
    try:
        yield Copy(recorded, url, env, folder)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(folder, ignore_errors=True)


async def position_of(copy: Copy, case_id: str, version: int) -> int:
    """The global position of one event."""
    rows = await copy.sql(
        "SELECT position FROM events WHERE stream_id = $1 AND version = $2", case_id, version
    )
    return int(rows[0]["position"])


# -- a clean case ---------------------------------------------------------------------------------


async def test_a_clean_closed_case_audits_clean_in_every_format(copy: Copy) -> None:
    case_id = copy.recorded.case_id
    result = await copy.uep("audit", case_id, "--format", "json")
    assert result.code == 0, result.out + result.err
    checks = result.checks()
    assert {n: c["status"] for n, c in checks.items()} == dict.fromkeys(
        [
            "case-health",
            "histories",
            "replay",
            "hash-chain",
            "history-events",
            "state-agreement",
            "read-models",
            "archive",
            "checkpoint",
        ],
        "passed",
    )
    report = result.json()
    assert len(report["runs"]) >= 2, "continue-as-new should have made several runs"
    assert {r["source"] for r in report["runs"]} == {"temporal"}
    assert "from Temporal" in checks["histories"]["detail"]
    assert report["rules_version"] and report["verdict"] == "clean"

    table = await copy.uep("audit", case_id)
    assert table.code == 0 and "verdict: clean (exit 0)" in table.out

    html_file = copy.folder / "report.html"
    html = await copy.uep("audit", case_id, "--format", "html", "--output", str(html_file))
    assert html.code == 0, html.err
    page = html_file.read_text()
    assert page.index("<h2>Findings</h2>") < page.index("<svg") < page.index("<h2>Events</h2>")
    for needle in ("DCC steps", "report receipt (cycle 1): 2 WD", "WD late", "dispute: privacy"):
        assert needle in page, needle
    # self-contained: no script, no link, no image or stylesheet fetched from anywhere
    for forbidden in ("<script", "<link", "src=", "href=", "url("):
        assert forbidden not in page, forbidden
    assert page.count("<tr><td>") >= len(report["events"])

    markdown = await copy.uep("audit", case_id, "--format", "markdown")
    assert markdown.code == 0 and markdown.out.startswith(f"# Audit of {case_id}")
    assert "| report_receipt | 1 |" in markdown.out


async def test_the_case_as_of_a_version_or_a_moment(copy: Copy) -> None:
    case_id = copy.recorded.case_id
    stream = await copy.sql(
        "SELECT version, type FROM events WHERE stream_id = $1 ORDER BY version", case_id
    )
    # the DCC's acceptance (after the Party record's position or two): the UEPT notice is next
    accepted = next(r["version"] for r in stream if r["type"] == "UserIdAccepted")
    result = await copy.uep("audit", case_id, "--version", str(accepted), "--format", "json")
    assert result.code == 0, result.err
    then = result.json()
    assert then["shown_version"] == accepted and len(then["events"]) == accepted
    assert then["view"]["stage"] == "uept_notice" and then["view"]["stream_version"] == accepted
    first = then["events"][0]["recorded_at"]
    result = await copy.uep("audit", case_id, "--as-of", first, "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["events"] == [e for e in then["events"] if e["recorded_at"] <= first]


async def test_the_log_verifies_and_a_checkpoint_can_be_signed_on_demand(copy: Copy) -> None:
    log = await copy.uep("audit", "log", "--format", "json")
    assert log.code == 0, log.out + log.err
    verified = log.json()
    assert verified["tree_heads"] == 2
    assert {c["name"]: c["status"] for c in verified["checks"]} == dict.fromkeys(
        ["signatures", "positions", "hash-chain", "tree-heads", "consistency"], "passed"
    )
    same = await copy.uep("audit", "checkpoint")
    assert same.code == 0 and "unchanged" in same.out, same.err
    key = await copy.uep("audit", "key")
    assert key.code == 0 and key.out.strip() == copy.recorded.public_hex


# -- tampering with the database ------------------------------------------------------------------


async def test_an_altered_event_is_found_by_the_case_audit_and_the_log(copy: Copy) -> None:
    case_id = copy.recorded.case_id
    position = await position_of(copy, case_id, 4)
    await copy.tamper(
        "UPDATE events SET data = jsonb_set(data, '{effective_on}', '\"2020-01-01\"') "
        f"WHERE stream_id = '{case_id}' AND version = 4"
    )
    audit = await copy.uep("audit", case_id, "--format", "json")
    assert audit.code == 1, audit.out + audit.err
    checks = audit.checks()
    assert checks["hash-chain"]["status"] == "failed"
    assert checks["hash-chain"]["detail"] == f"broken at version 4 (position {position})"
    [differs] = checks["history-events"]["findings"]
    assert (differs["version"], differs["position"]) == (4, position)
    assert "data.effective_on" in differs["detail"]

    log = await copy.uep("audit", "log", "--format", "json")
    assert log.code == 1
    chain = {c["name"]: c for c in log.json()["checks"]}["hash-chain"]
    [finding] = chain["findings"]
    assert (finding["position"], finding["stream_id"], finding["version"]) == (position, case_id, 4)
    assert finding["detail"] == "content does not match its hash"


async def test_a_rewritten_past_is_located_by_the_log(copy: Copy) -> None:
    """An edited event with the rest of its stream re-hashed: caught by tree heads and history."""
    case_id = copy.recorded.case_id
    rows = await copy.sql(
        "SELECT * FROM events WHERE stream_id = $1 AND version >= 4 ORDER BY version", case_id
    )
    prev = (
        await copy.sql("SELECT hash FROM events WHERE stream_id = $1 AND version = 3", case_id)
    )[0]["hash"]
    statements = []
    for row in rows:
        data = json.loads(row["data"])
        if row["version"] == 4:
            data["effective_on"] = "2020-01-01"
        digest = event_hash(
            stream_id=case_id,
            version=row["version"],
            event_id=row["event_id"],
            type=row["type"],
            schema_version=row["schema_version"],
            data=data,
            metadata=json.loads(row["metadata"]),
            recorded_at=row["recorded_at"],
            prev_hash=prev,
        )
        literal = json.dumps(data).replace("'", "''")  # a reason may hold an apostrophe
        statements.append(
            f"UPDATE events SET data = '{literal}'::jsonb, prev_hash = '{prev}', "
            f"hash = '{digest}' WHERE position = {row['position']}"
        )
        prev = digest
    await copy.tamper("; ".join(statements))
    position = rows[0]["position"]

    log = await copy.uep("audit", "log", "--format", "json")
    assert log.code == 1, log.out
    checks = {c["name"]: c for c in log.json()["checks"]}
    assert checks["hash-chain"]["status"] == "passed"  # re-hashed: the chain alone is fooled
    first = checks["tree-heads"]["findings"][0]
    assert (first["position"], first["stream_id"], first["version"]) == (position, case_id, 4)
    assert "rewritten" in first["detail"] and "tree head #1" in first["detail"]

    audit = await copy.uep("audit", case_id, "--format", "json")
    assert audit.code == 1
    checks = audit.checks()
    assert checks["hash-chain"]["status"] == "passed"
    [differs] = checks["history-events"]["findings"]
    assert (differs["version"], differs["position"]) == (4, position)
    assert checks["checkpoint"]["status"] == "failed"  # the last event's hash is not the signed one


async def test_a_deleted_event_is_found_at_its_position(copy: Copy) -> None:
    case_id = copy.recorded.case_id
    position = await position_of(copy, case_id, 5)
    await copy.tamper(f"DELETE FROM events WHERE position = {position}")
    audit = await copy.uep("audit", case_id, "--format", "json")
    assert audit.code == 1
    checks = audit.checks()
    assert checks["hash-chain"]["findings"][0]["detail"] == "version 5 is missing (found 6)"
    [missing] = checks["history-events"]["findings"]
    assert (missing["version"], missing["position"]) == (5, position)
    assert "missing from the store" in missing["detail"]

    log = await copy.uep("audit", "log", "--format", "json")
    assert log.code == 1
    checks = {c["name"]: c for c in log.json()["checks"]}
    [gap] = checks["positions"]["findings"]
    assert gap["position"] == position
    assert gap["detail"] == (
        f"position {position} missing: held {case_id} version 5 when checkpointed "
        "(the log must be gapless)"
    )


async def test_a_stream_whose_last_events_were_cut_off(copy: Copy) -> None:
    case_id = copy.recorded.case_id
    last = int(
        (await copy.sql("SELECT max(version) AS v FROM events WHERE stream_id = $1", case_id))[0][
            "v"
        ]
    )
    first_cut = await position_of(copy, case_id, last - 2)
    await copy.tamper(f"DELETE FROM events WHERE stream_id = '{case_id}' AND version > {last - 3}")
    audit = await copy.uep("audit", case_id, "--format", "json")
    assert audit.code == 1
    checks = audit.checks()
    assert checks["hash-chain"]["status"] == "passed"  # what is left still chains
    missing = checks["history-events"]["findings"]
    assert (missing[0]["version"], missing[0]["position"]) == (last - 2, first_cut)
    assert [f["version"] for f in missing] == [last - 2, last - 1, last]
    assert checks["state-agreement"]["status"] == "failed"

    log = await copy.uep("audit", "log", "--format", "json")
    assert log.code == 1
    gaps = {c["name"]: c for c in log.json()["checks"]}["positions"]["findings"]
    assert gaps[0]["position"] == first_cut
    assert f"held {case_id} version {last - 2}" in gaps[0]["detail"]


async def test_a_whole_stream_deleted(copy: Copy) -> None:
    short_id = copy.recorded.short_id
    positions = [
        r["position"]
        for r in await copy.sql(
            "SELECT position FROM events WHERE stream_id = $1 ORDER BY position", short_id
        )
    ]
    await copy.tamper(f"DELETE FROM events WHERE stream_id = '{short_id}'")
    log = await copy.uep("audit", "log", "--format", "json")
    assert log.code == 1
    gaps = {c["name"]: c for c in log.json()["checks"]}["positions"]["findings"]
    # one gap for each run of the stream's positions (the Party record's events fall between)
    runs = [p for p in positions if p - 1 not in positions]
    assert [g["position"] for g in gaps if g["stream_id"] == short_id] == runs
    # each gap names the versions it held: the first from version 1, the last up to the end
    mine = [g["detail"] for g in gaps if g["stream_id"] == short_id]
    assert f"held {short_id} version 1" in mine[0]
    assert mine[-1].split(" when ")[0].endswith(str(len(positions)))

    audit = await copy.uep("audit", short_id, "--format", "json")
    assert audit.code == 1
    checks = audit.checks()
    assert checks["hash-chain"]["detail"] == f"no events stored for {short_id}"
    missing = checks["history-events"]["findings"]
    assert [f["position"] for f in missing] == positions


# -- code that no longer replays ------------------------------------------------------------------

_WITH_CHANGED_CODE = """
import sys
import uep.cli.audit
from tests.integration.changed_workflow import CheckFirstUserEntryProcess
uep.cli.audit.WORKFLOWS = (CheckFirstUserEntryProcess,)
from uep.cli import main
main(sys.argv[1:])
"""


async def test_a_workflow_change_that_breaks_determinism(copy: Copy) -> None:
    case_id = copy.recorded.case_id
    audit = await copy.uep("audit", case_id, "--format", "json", python=_WITH_CHANGED_CODE)
    assert audit.code == 1, audit.out + audit.err
    report = audit.json()
    replay = audit.checks()["replay"]
    [finding] = replay["findings"]  # only the last run sends the completion notices
    last = report["runs"][-1]["run_id"]
    assert finding["run_id"] == last
    client = await Client.connect(copy.recorded.address)
    history = await client.get_workflow_handle(case_id, run_id=last).fetch_history()
    # the first notice: a regular activity in older histories, a local one's marker since
    # local-steps-2026-12, one activity for every notice since batched-notices-2026-12; either
    # way the changed code asks for something else there
    expected = next(
        e
        for e in history.events
        if e.activity_task_scheduled_event_attributes.activity_type.name
        in ("queue_completion_notice", "queue_completion_notices")
        or b'"activity_type":"queue_completion_notice"'
        in b"".join(
            p.data
            for p in e.marker_recorded_event_attributes.details.get("data", Payloads()).payloads
        )
    )
    # the replay names the event it diverged at: the notice's, or (local activities are matched
    # by the task's markers) an earlier marker of the same workflow task
    at = finding["history_event_id"]
    between = [e.event_type for e in history.events if at <= e.event_id < expected.event_id]
    assert at <= expected.event_id
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED not in between
    found = next(e for e in history.events if e.event_id == at)
    assert EventType.Name(found.event_type).removeprefix("EVENT_TYPE_") in finding["detail"]


# -- bundles --------------------------------------------------------------------------------------


def _rewrite_zip(source: Path, target: Path, name: str, change: Any) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info.filename, change(data) if info.filename == name else data)


async def test_a_bundle_verifies_offline_and_a_changed_byte_or_key_is_caught(copy: Copy) -> None:
    case_id = copy.recorded.case_id
    bundle = copy.folder / "case.zip"
    export = await copy.uep("audit", "export", case_id, str(bundle))
    assert export.code == 0, export.out + export.err
    names = zipfile.ZipFile(bundle).namelist()
    assert {"manifest.json", "manifest.sig", "events.jsonl"} <= set(names)
    assert any(n.startswith("histories/") for n in names)
    assert "read-models/case_board.json" in names

    # Nothing to reach: no database, no Temporal, no stack file.
    offline = {
        "UEP_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "UEP_TEMPORAL_ADDRESS": "127.0.0.1:1",
        "UEP_STATE_DIR": str(copy.folder / "auditor"),
        "UEP_SIGNING_KEY_FILE": str(copy.folder / "no-key.pem"),
    }
    key = copy.recorded.public_hex
    ok = await uep(offline, "audit", "verify", str(bundle), "--key", key, "--format", "json")
    assert ok.code == 0, ok.out + ok.err
    assert {c["status"] for c in ok.json()["checks"]} == {"passed"}

    unkeyed = await uep(offline, "audit", "verify", str(bundle))
    assert unkeyed.code == 2 and "no trusted key given" in unkeyed.out

    # one byte of the User ID proposed (after the Party record's position), in the bundle
    proposed: list[int] = []

    def change_user_id(data: bytes) -> bytes:
        lines = data.split(b"\n")
        at = next(i for i, line in enumerate(lines) if b'"UserIdProposed"' in line)
        proposed.append(json.loads(lines[at])["version"])
        lines[at] = lines[at].replace(b'"90b3d51f3001a0d1"', b'"90b3d51f3001a0d2"')
        return b"\n".join(lines)

    changed = copy.folder / "changed.zip"
    _rewrite_zip(bundle, changed, "events.jsonl", change_user_id)
    bad = await uep(offline, "audit", "verify", str(changed), "--key", key, "--format", "json")
    assert bad.code == 1
    checks = {c["name"]: c for c in bad.json()["checks"]}
    assert checks["files"]["findings"][0]["file"] == "events.jsonl"
    assert checks["hash-chain"]["findings"][0]["version"] == proposed[0]
    assert checks["signature"]["status"] == "passed"

    # one byte of the manifest
    edited = copy.folder / "edited.zip"
    _rewrite_zip(bundle, edited, "manifest.json", lambda d: d.replace(b'"events":', b'"Events":'))
    bad = await uep(offline, "audit", "verify", str(edited), "--key", key, "--format", "json")
    assert bad.code == 1
    checks = {c["name"]: c for c in bad.json()["checks"]}
    assert checks["signature"]["status"] == "failed"

    # the deployment's bundle checked against another key
    other = await uep(
        {**offline, "UEP_SIGNING_KEY_FILE": str(copy.recorded.other_key)},
        "audit",
        "key",
    )
    bad = await uep(offline, "audit", "verify", str(bundle), "--key", other.out.strip())
    assert bad.code == 1 and "signed by another key" in bad.out

    # a bundle made (and signed) with another key, checked against the deployment's
    forged = copy.folder / "forged"
    made = await uep(
        {**copy.env, "UEP_SIGNING_KEY_FILE": str(copy.recorded.other_key)},
        "audit",
        "export",
        case_id,
        str(forged),
    )
    assert made.code == 0, made.err
    bad = await uep(offline, "audit", "verify", str(forged), "--key", key, "--format", "json")
    assert bad.code == 1
    checks = {c["name"]: c for c in bad.json()["checks"]}
    assert checks["signature"]["status"] == "failed"
    assert "signed by another key" in checks["signature"]["detail"]


async def test_a_bundle_replayed_by_changed_code_fails_its_replay(copy: Copy) -> None:
    bundle = copy.folder / "case"
    assert (await copy.uep("audit", "export", copy.recorded.case_id, str(bundle))).code == 0
    verify = await copy.uep(
        "audit",
        "verify",
        str(bundle),
        "--key",
        copy.recorded.public_hex,
        "--format",
        "json",
        python=_WITH_CHANGED_CODE,
    )
    assert verify.code == 1
    replay = {c["name"]: c for c in verify.json()["checks"]}["replay"]
    assert replay["status"] == "failed" and replay["findings"][0]["history_event_id"]


# -- what cannot be checked is never a pass -------------------------------------------------------


async def test_an_open_case_without_a_worker_cannot_be_fully_audited(
    dev_client: Client, database_url: str, pool: asyncpg.Pool, keys: Any
) -> None:
    _, key_file, _, _ = keys
    store = PostgresEventStore(pool)
    task_queue = f"uep-audit-open-{uuid.uuid4()}"
    async with build_worker(dev_client, store, task_queue, channel=MemoryChannel()):
        handle = await start(
            dev_client, task_queue, UserRole.GAS_SUPPLIER, datetime.now(UTC).date()
        )
    await store.close()
    projector = Projector(pool, all_projections())
    await projector.setup()
    await projector.catch_up()
    env = {
        "UEP_DATABASE_URL": database_url,
        "UEP_TEMPORAL_ADDRESS": dev_client.service_client.config.target_host,
        "UEP_STATE_DIR": tempfile.mkdtemp(),
        "UEP_SIGNING_KEY_FILE": str(key_file),
    }
    assert (await uep(env, "audit", "checkpoint")).code == 0
    audit = await uep(env, "audit", handle.id, "--format", "json")
    assert audit.code == 2, audit.out + audit.err
    agreement = audit.checks()["state-agreement"]
    assert agreement["status"] == "skipped"
    # Temporal still lists a worker that stopped moments ago as a poller: either way, said.
    assert f"no worker polls task queue {task_queue!r}" in agreement["detail"] or (
        "the running workflow did not answer its state query" in agreement["detail"]
    )
    accepted = await uep(env, "audit", handle.id, "--skip", "state-agreement", "--format", "json")
    assert accepted.code == 0, accepted.out
    assert accepted.checks()["state-agreement"]["accepted"] is True
    await handle.terminate("test over")


# -- the archive after Temporal's retention -------------------------------------------------------


async def _still_there(client: Client, workflow_id: str, run_id: str) -> bool:
    """Whether Temporal still has the run."""
    try:
        await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
    except RPCError as err:
        assert err.status == RPCStatusCode.NOT_FOUND, err
        return False
    return True


async def test_a_case_deleted_from_temporal_still_audits_clean_from_the_archive(
    dev_client: Client, database_url: str, pool: asyncpg.Pool, keys: Any
) -> None:
    key, key_file, _, _ = keys
    store = PostgresEventStore(pool)
    task_queue = f"uep-audit-archive-{uuid.uuid4()}"
    async with build_worker(dev_client, store, task_queue, channel=MemoryChannel()):
        handle = await short_case(dev_client, task_queue, continue_after=10)
    await store.close()
    projector = Projector(pool, all_projections())
    await projector.setup()
    await projector.catch_up()
    archiver = Archiver(dev_client, pool, key=key)
    await archive_all(archiver, dev_client, pool, handle.id)
    await archiver.checkpoint()
    runs = await runs_of(pool, handle.id)
    for run in runs:
        await dev_client.workflow_service.delete_workflow_execution(
            DeleteWorkflowExecutionRequest(
                namespace=dev_client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=handle.id, run_id=run.run_id),
            )
        )
    # Deletion is a task the server runs later: ask (each question a round trip) until it is done.
    async with asyncio.timeout(120):
        for run in runs:
            while await _still_there(dev_client, handle.id, run.run_id):
                pass
    env = {
        "UEP_DATABASE_URL": database_url,
        "UEP_TEMPORAL_ADDRESS": dev_client.service_client.config.target_host,
        "UEP_STATE_DIR": tempfile.mkdtemp(),
        "UEP_SIGNING_KEY_FILE": str(key_file),
    }
    audit = await uep(env, "audit", handle.id, "--format", "json")
    assert audit.code == 0, audit.out + audit.err
    report = audit.json()
    assert {r["source"] for r in report["runs"]} == {"archive"}
    assert f"0 from Temporal, {len(runs)} from the archive" in audit.checks()["histories"]["detail"]
    assert {c["status"] for c in report["checks"]} == {"passed"}


# -- a checkpoint never vouches for a broken log ------------------------------------------------


async def test_a_checkpoint_refuses_to_sign_over_an_altered_event(
    pool: asyncpg.Pool, pg_store: PostgresEventStore, keys: Any
) -> None:
    key = keys[0]
    for n in range(3):
        event = NewEvent(event_id=uuid.uuid4(), type="Noted", data={"n": n})
        await pg_store.append("stream-a", [event], expected_version=n)
    first = await create_checkpoint(pool, key, datetime.now(UTC))
    assert (first.created, first.head.size) == (True, 3)
    await pg_store.append(
        "stream-a", [NewEvent(event_id=uuid.uuid4(), type="Noted", data={"n": 3})], 3
    )
    async with pool.acquire() as conn:
        await conn.execute(tamper_sql("UPDATE events SET data = '{\"n\": 9}' WHERE position = 4"))
    with pytest.raises(CheckpointRefused) as refused:
        await create_checkpoint(pool, key, datetime.now(UTC))
    assert refused.value.position == 4
    assert "content does not match its hash" in str(refused.value)
    assert (await latest_head(pool)) == first.head  # nothing new was signed


# -- a sick case is a finding, never a pass -------------------------------------------------------


async def test_a_terminated_case_and_a_stream_without_its_start_are_findings(
    dev_client: Client, database_url: str, pool: asyncpg.Pool, keys: Any
) -> None:
    _, key_file, _, _ = keys
    store = PostgresEventStore(pool)
    task_queue = f"uep-audit-sick-{uuid.uuid4()}"
    async with build_worker(dev_client, store, task_queue, channel=MemoryChannel()):
        handle = await start(
            dev_client, task_queue, UserRole.GAS_SUPPLIER, datetime.now(UTC).date()
        )
        await story.send(handle, "propose_user_id", user_id="90b3d51f3001c0d3")
    await handle.terminate("stopped by an operator")
    stored = len(await store.read_stream(handle.id))
    orphan = "uep-orphan-gas_supplier"
    await store.append(
        orphan,
        [
            NewEvent(
                event_id=uuid.uuid4(),
                type="UserIdProposed",
                data={"effective_on": "2026-11-02", "user_id": "90b3d51f3001c0d4"},
            )
        ],
        0,
    )
    await store.close()
    env = {
        "UEP_DATABASE_URL": database_url,
        "UEP_TEMPORAL_ADDRESS": dev_client.service_client.config.target_host,
        "UEP_STATE_DIR": tempfile.mkdtemp(),
        "UEP_SIGNING_KEY_FILE": str(key_file),
    }
    terminated = await uep(env, "audit", handle.id, "--format", "json")
    assert terminated.code == 1, terminated.out + terminated.err
    [finding] = terminated.checks()["case-health"]["findings"]
    assert f"terminated with {stored} events in the store (terminated: " in finding["detail"]
    stray = await uep(env, "audit", orphan, "--format", "json", "--skip", "histories")
    assert stray.code == 1, stray.out + stray.err
    [no_start] = stray.checks()["case-health"]["findings"]
    assert "holds 1 case events and no CaseStarted" in no_start["detail"]
