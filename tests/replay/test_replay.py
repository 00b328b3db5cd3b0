"""Recorded histories replay against today's code: a change that breaks running cases fails.

New histories are recorded by running the workflow tests with ``UEP_RECORD_HISTORIES=1``; keep
old ones: each is a case that may still be running somewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.replay.reordered import ReorderedUserEntryProcess
from uep.converter import DATA_CONVERTER
from worker import WORKFLOWS
from workflows.senders import replay_interceptors

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def test_there_are_recorded_histories() -> None:
    assert HISTORIES, "tests/histories/ has no recorded history to replay"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    record = json.loads(path.read_text())  # noqa: ASYNC240 - a small file
    history = WorkflowHistory.from_json(record["workflow_id"], record["history"])
    # as a worker replays: with the sender check's interceptor, which hands each handler the
    # header its message carried (a headerless one looks up its Temporal identity)
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        interceptors=replay_interceptors(),
        data_converter=DATA_CONVERTER,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_an_incompatible_change_fails_the_replay() -> None:
    path = HISTORIES[0]
    record = json.loads(path.read_text())
    history = WorkflowHistory.from_json(record["workflow_id"], record["history"])
    replayer = Replayer(workflows=[ReorderedUserEntryProcess], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
