"""The audit's offline half on a recorded history: no Temporal, no PostgreSQL.

A completed case's recorded history says which events the store must hold; rebuilt into a
hash-chained stream, a tree head and a signed bundle, everything an auditor checks on their own
machine is exercised here: replay, chain, inclusion, the state the history ends with, and what
each kind of damage to a bundle looks like.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eventstore.checkpoints import event_leaf
from eventstore.hashing import event_hash
from eventstore.merkle import MerkleTree, leaf_hash
from eventstore.models import RecordedEvent
from eventstore.signing import generate_key, sign_tree_head
from eventstore.verdicts import Check, Status, exit_status
from tests.replay.reordered import ReorderedUserEntryProcess
from uep.audit import checks as c
from uep.audit.bundle import Evidence, assemble, read_bundle, verify_bundle, write_bundle
from uep.audit.history import decode_run, execution_chain, history_end, history_from_json
from uep.audit.replay import replayer
from uep.audit.report import build_report, principal, render_html, render_markdown
from worker import WORKFLOWS

HISTORIES = Path(__file__).parent.parent / "histories"
RECORDED = HISTORIES / "happy-path-other_user.g2.json"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
KEY = generate_key()


def recorded_run(path: Path = RECORDED) -> Any:
    record = json.loads(path.read_text())
    return decode_run(
        history_from_json(record["workflow_id"], json.dumps(record["history"])), "temporal"
    )


def stream_of(run: Any) -> list[RecordedEvent]:
    """The events the run appended, hash-chained as the store would have stored them."""
    events, prev = [], None
    for n, a in enumerate(run.appended):
        recorded_at = run.started_at + timedelta(seconds=n)
        digest = event_hash(
            stream_id=run.workflow_id,
            version=a.version,
            event_id=a.event.event_id,
            type=a.event.type,
            schema_version=a.event.schema_version,
            data=a.event.data,
            metadata=a.event.metadata,
            recorded_at=recorded_at,
            prev_hash=prev,
        )
        events.append(
            RecordedEvent(
                position=a.position,
                stream_id=run.workflow_id,
                version=a.version,
                event_id=a.event.event_id,
                type=a.event.type,
                schema_version=a.event.schema_version,
                data=a.event.data,
                metadata=a.event.metadata,
                recorded_at=recorded_at,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return events


def evidence() -> Evidence:
    """The recorded case as a bundle would hold it, with a tree head over a log of its own."""
    run = recorded_run()
    events = stream_of(run)
    size = events[-1].position + 3  # other streams' events around it
    leaves = [leaf_hash(f"other {i}".encode()) for i in range(size)]
    for e in events:
        leaves[e.position - 1] = event_leaf(e.hash)
    tree = MerkleTree(leaves)
    head = sign_tree_head(size, tree.root(), KEY, timestamp=NOW)
    proof = (events[-1].position, tree.inclusion_proof(events[-1].position - 1))
    return Evidence(
        case_id=run.workflow_id,
        events=events,
        runs=[run],
        head=head,
        proof=proof,
        read_models_current=False,
    )


def bundle(tmp_path: Path, name: str = "case.zip", change: Any = None) -> Path:
    files = assemble(evidence(), KEY, NOW)
    if change is not None:
        change(files)
    target = tmp_path / name
    write_bundle(target, files, NOW)
    return target


async def verified(path: Path, key: Any = KEY, workflows: Any = WORKFLOWS) -> dict[str, Check]:
    result = await verify_bundle(
        path, key.public_key() if key else None, workflows, ["read-models"]
    )
    return {check.name: check for check in result.checks}


# -- the history alone ----------------------------------------------------------------------------


def test_a_history_says_what_was_appended_and_how_the_case_ended() -> None:
    run = recorded_run()
    assert run.status == "completed" and run.result is not None
    assert [a.version for a in run.appended] == list(range(1, len(run.appended) + 1))
    end = history_end(execution_chain([run]))
    assert end.problems == []
    assert end.state is not None and end.state.status == "completed"
    assert end.stream_version == run.result.stream_version


def test_the_stream_agrees_with_the_history_it_came_from() -> None:
    run = recorded_run()
    events = stream_of(run)
    assert c.check_history_events(run.workflow_id, [run], events, True).status is Status.PASSED
    assert c.check_closed_agreement([run], events).status is Status.PASSED
    cut = c.check_history_events(run.workflow_id, [run], events[:-2], True)
    assert cut.status is Status.FAILED
    assert [f.version for f in cut.findings] == [events[-2].version, events[-1].version]
    assert c.check_closed_agreement([run], events[:-2]).status is Status.FAILED


async def test_replay_names_the_history_event_where_changed_code_diverges() -> None:
    run = recorded_run()
    assert (await c.check_replay(replayer(WORKFLOWS), [run])).status is Status.PASSED
    failed = await c.check_replay(replayer([ReorderedUserEntryProcess]), [run])
    [finding] = failed.findings
    assert finding.history_event_id is not None
    scheduled = run.history.events[finding.history_event_id - 1]
    assert scheduled.activity_task_scheduled_event_attributes.activity_type.name == "load_calendar"
    assert "ACTIVITY_TASK_SCHEDULED" in finding.detail


async def test_a_case_written_from_the_web_ui_replays_in_the_audit() -> None:
    """Its updates and signals looked up their Temporal identity (an activity a replay must
    meet again: the audit replays with the worker's sender-check interceptor)."""
    run = recorded_run(HISTORIES / "ui-identity-update.g5.json")
    assert (await c.check_replay(replayer(WORKFLOWS), [run])).status is Status.PASSED
    identities = [a.event.metadata.get("temporal_identity") for a in run.appended]
    assert "alice@secas-console" in identities


def test_the_report_names_the_temporal_identity_of_a_web_ui_message() -> None:
    console = {"kind": "secas", "id": "temporal-ui", "name": "SECAS (Temporal Web UI)"}
    meta = {"principal": console, "temporal_identity": "alice@secas-console"}
    assert principal(meta) == "SECAS (Temporal Web UI) (Temporal identity alice@secas-console)"
    assert principal({"principal": console, "temporal_identity": None}) == console["name"]
    assert principal({"actor": "operator"}) == "operator"


def test_every_continued_as_new_history_decodes_and_hands_on_a_state() -> None:
    first = recorded_run(HISTORIES / "continued-as-new-run1.g2.json")
    assert first.status == "continued_as_new" and first.handed_on is not None
    assert history_end([first]).problems == []


# -- verdicts -------------------------------------------------------------------------------------


def test_a_check_that_could_not_run_is_never_a_pass() -> None:
    passed = Check.passed("a", "fine")
    skipped = Check.skipped("b", "no worker")
    failed = Check.failed("c", "broken")
    assert exit_status([passed]) == 0
    assert exit_status([passed, skipped]) == 2
    assert exit_status([passed, skipped.model_copy(update={"accepted": True})]) == 0
    assert exit_status([failed, skipped]) == 1


# -- bundles --------------------------------------------------------------------------------------


async def test_a_bundle_verifies_offline(tmp_path: Path) -> None:
    checks = await verified(bundle(tmp_path))
    assert {n: k.status for n, k in checks.items()} == {
        "manifest": Status.PASSED,
        "signature": Status.PASSED,
        "files": Status.PASSED,
        "hash-chain": Status.PASSED,
        "checkpoint": Status.PASSED,
        "replay": Status.PASSED,
        "history-events": Status.PASSED,
        "state-agreement": Status.PASSED,
        "read-models": Status.SKIPPED,  # none in this bundle; accepted above
    }
    assert checks["read-models"].accepted
    directory = bundle(tmp_path, "as-a-directory")
    assert (directory / "manifest.json").is_file()
    assert {k.status for k in (await verified(directory)).values()} <= {
        Status.PASSED,
        Status.SKIPPED,
    }


async def test_without_a_trusted_key_the_signature_is_not_taken_on_trust(tmp_path: Path) -> None:
    checks = await verified(bundle(tmp_path), key=None)
    assert checks["signature"].status is Status.SKIPPED
    assert "no trusted key given" in checks["signature"].detail
    assert exit_status(checks.values()) == 2


def _edit(name: str, old: bytes, new: bytes) -> Any:
    def change(files: dict[str, bytes]) -> None:
        assert old in files[name], (name, old)
        files[name] = files[name].replace(old, new, 1)

    return change


async def test_a_changed_byte_in_the_events_is_located(tmp_path: Path) -> None:
    ev = evidence()
    target = ev.events[1]
    assert target.type == "UserIdProposed"
    files = assemble(ev, KEY, NOW)
    lines = files["events.jsonl"].split(b"\n")
    assert json.loads(lines[1])["version"] == target.version
    uid = str(target.data["user_id"]).encode()
    other = uid[:-1] + (b"0" if uid[-1:] != b"0" else b"1")  # one byte
    lines[1] = lines[1].replace(b'"' + uid + b'"', b'"' + other + b'"')
    files["events.jsonl"] = b"\n".join(lines)
    path = tmp_path / "byte.zip"
    write_bundle(path, files, NOW)
    checks = await verified(path)
    assert [f.file for f in checks["files"].findings] == ["events.jsonl"]
    [broken] = checks["hash-chain"].findings
    assert (broken.version, broken.position) == (target.version, target.position)
    assert checks["signature"].status is Status.PASSED  # the manifest itself is untouched


async def test_an_edited_manifest_or_another_key_fails_the_signature(tmp_path: Path) -> None:
    edited = bundle(
        tmp_path,
        "edited.zip",
        change=_edit("manifest.json", b'"runs_complete":true', b'"runs_complete":false'),
    )
    checks = await verified(edited)
    assert checks["signature"].status is Status.FAILED
    assert "not the trusted key's signature" in checks["signature"].detail
    other = generate_key()
    checks = await verified(bundle(tmp_path), key=other)
    assert checks["signature"].status is Status.FAILED
    assert "signed by another key" in checks["signature"].detail
    assert checks["checkpoint"].status is Status.FAILED  # the tree head is not theirs either


async def test_missing_and_unlisted_files_are_named(tmp_path: Path) -> None:
    def drop_and_add(files: dict[str, bytes]) -> None:
        del files["README.txt"]
        files["extra.txt"] = b"slipped in"

    checks = await verified(bundle(tmp_path, change=drop_and_add))
    assert sorted(f.file or "" for f in checks["files"].findings) == ["README.txt", "extra.txt"]


async def test_a_bundle_of_a_truncated_stream(tmp_path: Path) -> None:
    """The tail cut off before export still chains, and is still caught by the history."""
    cut = evidence()
    cut.events = cut.events[:-1]
    files = assemble(cut, KEY, NOW)
    path = tmp_path / "cut.zip"
    write_bundle(path, files, NOW)
    checks = await verified(path)
    assert checks["hash-chain"].status is Status.PASSED
    assert checks["history-events"].status is Status.FAILED
    assert checks["history-events"].findings[0].version == evidence().events[-1].version


def test_a_zip_with_an_unsafe_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../outside.txt", b"x")
    with pytest.raises(ValueError, match="unsafe name"):
        read_bundle(path)


# -- the report -----------------------------------------------------------------------------------


def test_the_html_report_is_self_contained_with_findings_first() -> None:
    ev = evidence()
    checks = [
        Check.passed("replay", "1 run(s) replay"),
        Check.failed("hash-chain", "broken at version 3 (position 3)"),
    ]
    audit = build_report(ev.case_id, ev.events, ev.runs, checks, audited_at=NOW)
    page = render_html(audit)
    assert page.index("broken at version 3") < page.index("<svg") < page.index("<h2>Events</h2>")
    for forbidden in ("<script", "<link", "src=", "href=", "url("):
        assert forbidden not in page
    assert audit.timeline is not None
    assert [lane.requirement for lane in audit.timeline.lanes] == [
        "user_id",
        "uept",
        "security",
        "privacy",
        "credit",
    ]
    assert {d.step for d in audit.timeline.dcc} == {
        "report_receipt",
        "report_review",
        "certificate",
    }
    assert all(e.principal for e in audit.events)
    markdown = render_markdown(audit)
    assert markdown.index("## Findings") < markdown.index("## Checks") < markdown.index("## Events")
    assert audit.exit_status == 1 and audit.verdict == "findings"
