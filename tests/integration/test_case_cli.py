"""`uep case ...` against a real Temporal dev server and worker: output, refusals, exit codes.

The worker runs in this process (in-memory event store: the CLI talks to Temporal only), so
the CLI is run with asyncio subprocesses; a blocking call would freeze the worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from activities.notices import MemoryChannel
from eventstore.memory import InMemoryEventStore
from uep.converter import DATA_CONVERTER
from uep.devstack.binaries import temporal_cli
from uep.devstack.postgres import free_port
from uep.devstack.temporal import DevServerConfig, running_dev_server
from worker import build_worker
from workflows.names import TASK_QUEUE, WORKFLOW_TYPE

pytestmark = pytest.mark.integration

UEP = str(Path(sys.executable).parent / "uep")
USER_ID = "90-B3-D5-1F-30-01-00-00"


@dataclass
class Result:
    """What one CLI run did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """Stdout parsed as JSON."""
        return json.loads(self.out)


@dataclass
class Cli:
    """Runs `uep` against the session's server."""

    env: dict[str, str]

    async def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """Run ``uep *args`` and collect its exit code and output."""
        process = await asyncio.create_subprocess_exec(
            UEP,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**self.env, **(env or {})},
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return Result(process.returncode, out.decode(), err.decode())


@pytest.fixture(scope="session")
async def cli() -> AsyncIterator[Cli]:
    """A dev server with the search attributes, a worker on queue ``uep``, and the CLI."""
    folder = Path(tempfile.mkdtemp(prefix="uep-cli-"))
    cfg = DevServerConfig(
        binary=temporal_cli(),
        db_file=folder / "temporal.sqlite",
        port=free_port(),
        ui_port=free_port(),
    )
    env = {
        **os.environ,
        "UEP_TEMPORAL_ADDRESS": cfg.address,
        "UEP_STATE_DIR": str(folder),  # no stack file here: the address comes from the env
        # No database for these tests: `case list` falls back to Temporal visibility.
        "UEP_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/postgres",
    }
    try:
        async with (
            running_dev_server(cfg, folder / "temporal.log") as client,
            build_worker(client, InMemoryEventStore(), TASK_QUEUE, channel=MemoryChannel()),
        ):
            yield Cli(env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def new_party() -> str:
    """A Party id no other test uses."""
    return f"p{uuid.uuid4().hex[:8]}"


async def start_gas_supplier(cli: Cli, party: str) -> str:
    """Start a Gas Supplier case with flags; return its case id."""
    result = await cli(
        "case", "start", "--party-id", party, "--party-name", f"Party {party}",
        "--category", "small_supplier", "--licence", "gas_supply", "--role", "gas_supplier",
        "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    case_id: str = result.json()["case_id"]
    # SECAS allocates the Party its User ID range on the Party record the case opened
    allocated = await cli(
        "party", "send", party, "allocate_user_id_range",
        "--json", '{"first": "90b3d51f30010000", "last": "90b3d51f3001ffff"}',
    )  # fmt: skip
    assert allocated.code == 0, allocated.err

    async def holds_range() -> bool:
        shown = await cli("case", "show", case_id, "--json")
        return bool(((shown.json() or {}).get("party_record") or {}).get("user_id_ranges"))

    await eventually(holds_range)
    return case_id


async def eventually(check: Callable[[], Awaitable[bool]], attempts: int = 60) -> None:
    """Run ``check`` (a real `uep` command) again until it holds: Temporal's visibility index
    is eventually consistent and announces nothing, so each attempt is itself the wait."""
    for _ in range(attempts):
        if await check():
            return
    raise AssertionError(f"condition not met after {attempts} attempts")


async def test_start_with_flags_then_a_second_start_is_refused(cli: Cli) -> None:
    """One open case per Party and role: the second start exits 1 and says why."""
    party = new_party()
    case_id = await start_gas_supplier(cli, party)
    assert case_id == f"uep-{party}-gas_supplier"

    again = await cli(
        "case", "start", "--party-id", party, "--party-name", "x", "--category",
        "small_supplier", "--licence", "gas_supply", "--role", "gas_supplier",
    )  # fmt: skip
    assert again.code == 1
    assert "already open" in again.err


async def test_start_from_a_file_and_bad_input_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    """The Web UI's JSON works as a file; an ineligible or malformed input exits 2."""
    party = new_party()
    good = tmp_path / "case.json"
    good.write_text(
        json.dumps(
            {
                "party": {
                    "party_id": party,
                    "party_name": "File Energy",
                    "category": "other_sec_party",
                },
                "role": "other_user",
            }
        )
    )
    started = await cli("case", "start", "--file", str(good), "--json")
    assert started.code == 0, started.err
    assert started.json()["case_id"] == f"uep-{party}-other_user"

    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"party": {"party_id": party}, "role": "other_user", "rol": 1}))
    refused = await cli("case", "start", "--file", str(typo))
    assert refused.code == 2
    assert "rol" in refused.err and "Traceback" not in refused.err


async def test_updates_signals_and_show(cli: Cli) -> None:
    """A refused update exits 1 with the validator's words; accepted ones move the stage."""
    case_id = await start_gas_supplier(cli, new_party())

    bad = await cli("case", "send", case_id, "propose_user_id", "--json", '{"user_id": "90-B3"}')
    assert bad.code == 1
    assert "propose_user_id: user_id:" in bad.err and "Traceback" not in bad.err

    not_json = await cli("case", "send", case_id, "propose_user_id", "--json", "{user_id")
    assert not_json.code == 2
    unknown = await cli("case", "send", case_id, "propose_userid", "--json", "{}")
    assert unknown.code == 2

    ok = await cli(
        "case", "send", case_id, "propose_user_id", "--json", json.dumps({"user_id": USER_ID}),
        "--print-json",
    )  # fmt: skip
    assert ok.code == 0, ok.err
    assert ok.json()["events"] == ["UserIdProposed"]

    signal = await cli(
        "case", "send", case_id, "accept_user_id", "--signal",
        "--json", json.dumps({"user_id": USER_ID}), "--print-json",
    )  # fmt: skip
    assert signal.code == 0, signal.err
    assert signal.json()["message_id"].startswith("cli-")

    # An update sent after the signal is handled after it (handlers queue on the case's lock),
    # so once the update has answered the signal's effect is recorded: no polling needed.
    after = await cli("case", "send", case_id, "record_srept_completed", "--json", "{}")
    assert after.code == 0, after.err
    shown = await cli("case", "show", case_id, "--json")
    assert shown.code == 0 and shown.json()["stage"] == "uept_notice"
    view = shown.json()
    assert {item["who"] for item in view["outstanding"]} >= {"Party", "DCC"}
    assert all("due_on" in d and "working_days_left" in d for d in view["deadlines"])

    table = await cli("case", "show", case_id)
    assert table.code == 0
    assert "Outstanding: who must act" in table.out and "UEPT notice" in table.out


async def test_list_filters_on_search_attributes(cli: Cli) -> None:
    """`uep case list` finds cases by stage, role and party."""
    party = new_party()
    case_id = await start_gas_supplier(cli, party)

    async def listed() -> bool:
        found = await cli("case", "list", "--party", party, "--stage", "user_id", "--json")
        return found.code == 0 and [r["case_id"] for r in found.json()] == [case_id]

    await eventually(listed)
    found = await cli("case", "list", "--role", "gas_supplier", "--json")
    assert "listed from Temporal visibility" in found.err
    row = next(r for r in found.json() if r["case_id"] == case_id)
    assert row["party_name"] == f"Party {party}" and row["category"] == "small_supplier"
    assert row["status"] == "open"
    none = await cli(
        "case", "list", "--party", party, "--stage", "completed", "--json", "--source", "temporal"
    )  # fmt: skip
    assert none.code == 0 and none.err == "" and none.json() == []
    board = await cli("case", "list", "--source", "board")
    assert board.code == 3 and "cannot read the case board" in board.err


async def test_unknown_case_and_unreachable_server(cli: Cli) -> None:
    """A case that does not exist exits 1; no Temporal at the address exits 3."""
    missing = await cli("case", "show", "uep-nobody-gas_supplier")
    assert missing.code == 1
    assert "no case" in missing.err

    nowhere = await cli("case", "list", env={"UEP_TEMPORAL_ADDRESS": f"localhost:{free_port()}"})
    assert nowhere.code == 3
    assert "cannot reach Temporal" in nowhere.err
    assert len(nowhere.err.strip().splitlines()) == 1


async def test_a_start_that_cannot_proceed_is_refused_at_once(cli: Cli) -> None:
    """The CLI checks eligibility before starting (exit 1, nothing started); a start from the
    Web UI fails at once, and `case show` / `case list` show it as refused at start."""
    party = new_party()
    refused = await cli(
        "case", "start", "--party-id", party, "--party-name", "No Gas Ltd",
        "--category", "small_supplier", "--licence", "electricity_supply", "--role", "gas_supplier",
    )  # fmt: skip
    assert refused.code == 1
    assert "needs a gas supply licence" in refused.err
    case_id = f"uep-{party}-gas_supplier"
    assert (await cli("case", "show", case_id)).code == 1  # nothing was started

    client = await Client.connect(cli.env["UEP_TEMPORAL_ADDRESS"], data_converter=DATA_CONVERTER)
    handle = await client.start_workflow(
        WORKFLOW_TYPE,
        {
            "party": {
                "party_id": party,
                "party_name": "No Gas Ltd",
                "category": "small_supplier",
                "licences": ["electricity_supply"],
            },
            "role": "gas_supplier",
        },
        id=case_id,
        task_queue=TASK_QUEUE,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "needs a gas supply licence" in str(failed.value.cause)
    shown = await cli("case", "show", case_id)
    assert shown.code == 0
    assert shown.out.startswith("refused: refused at start: ")
    assert "needs a gas supply licence" in shown.out

    async def listed() -> bool:
        found = await cli("case", "list", "--source", "temporal", "--json")
        rows = [r for r in found.json() if r["case_id"] == case_id] if found.code == 0 else []
        return [r["status"] for r in rows] == ["refused at start"]

    await eventually(listed)
