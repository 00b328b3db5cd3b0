"""The checks of a case audit, on evidence already gathered: no Temporal, no database.

The live audit (:mod:`uep.audit.case`) and the offline bundle verifier (:mod:`uep.audit.bundle`)
both call these, so a case audited on the deployment and its bundle verified on an auditor's
machine are judged by the same code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.history import DOMAIN_TYPES, fold_stored
from domain.state import CaseState
from eventstore.checkpoints import event_leaf
from eventstore.hashing import verify_events
from eventstore.merkle import verify_inclusion
from eventstore.models import RecordedEvent
from eventstore.signing import SignedTreeHead, fingerprint, verify_tree_head
from eventstore.verdicts import Check, Finding
from uep.audit.history import AppendedEvent, RunRecord, execution_chain, history_end
from uep.audit.replay import replay_run

# The names an auditor passes to --skip.
REPLAY = "replay"
HISTORIES = "histories"
HASH_CHAIN = "hash-chain"
HISTORY_EVENTS = "history-events"
STATE_AGREEMENT = "state-agreement"
READ_MODELS = "read-models"
ARCHIVE = "archive"
CHECKPOINT = "checkpoint"
HEALTH = "case-health"
CASE_CHECKS = (
    HEALTH,
    HISTORIES,
    REPLAY,
    HASH_CHAIN,
    HISTORY_EVENTS,
    STATE_AGREEMENT,
    READ_MODELS,
    ARCHIVE,
    CHECKPOINT,
)


def check_health(
    case_id: str,
    runs: Sequence[RunRecord],
    events: Sequence[RecordedEvent],
    retrying: Sequence[str] = (),
) -> Check:
    """Signs of a sick case: a stream without its CaseStarted, a run terminated or failed with
    events already in the store, a workflow task failing at the end of a run's history, and
    (live only) activities retrying beyond their threshold."""
    findings = []
    domain = [e for e in events if e.type in DOMAIN_TYPES]
    if domain and not any(e.type == "CaseStarted" for e in domain):
        findings.append(
            Finding(
                detail=f"the stream {case_id} holds {len(domain)} case events and no "
                "CaseStarted (not a case the engine opened)",
                stream_id=case_id,
                version=domain[0].version,
            )
        )
    if runs and events:
        last = runs[-1]
        if last.status in ("terminated", "failed", "timed_out"):
            findings.append(
                Finding(
                    detail=f"run {last.run_id} {last.status.replace('_', ' ')} with "
                    f"{len(events)} events in the store ({last.failure or 'no reason given'})",
                    run_id=last.run_id,
                )
            )
    for run in runs:
        tail = [e.event_type for e in run.history.events[-3:]]
        if EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED in tail and run.status == "running":
            failed = next(
                e
                for e in reversed(run.history.events)
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            )
            cause = failed.workflow_task_failed_event_attributes.failure.message
            findings.append(
                Finding(
                    detail=f"run {run.run_id}: its workflow task fails (history event "
                    f"{failed.event_id}): {cause[:300]}",
                    run_id=run.run_id,
                    history_event_id=failed.event_id,
                )
            )
    findings += [Finding(detail=text) for text in retrying]
    return Check.of(
        HEALTH,
        findings,
        "the case is well: opened by the engine, no failing task, no run cut short",
        "{n} sign(s) of a sick case",
    )


async def check_replay(replay: Replayer, runs: Sequence[RunRecord]) -> Check:
    """Every run's history replays against the given workflow code."""
    if not runs:
        return Check.skipped(REPLAY, "no history of any run to replay")

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for run in runs:
            yield run.history

    # One replay worker for every run; only a run that fails is replayed again to locate it.
    results = await replay.replay_workflows(histories(), raise_on_replay_failure=False)
    findings = []
    for run in runs:
        if run.history.run_id not in results.replay_failures:
            continue
        outcome = await replay_run(replay, run.history)
        findings.append(
            Finding(
                detail=f"run {run.run_id} ({run.source}) diverges at history event "
                f"{outcome.event_id} ({outcome.event_type}): {outcome.failure}",
                run_id=run.run_id,
                history_event_id=outcome.event_id,
            )
        )
    return Check.of(
        REPLAY,
        findings,
        f"{len(runs)} run(s) replay against this code",
        "{n} run(s) do not replay against this code",
    )


def check_chain(case_id: str, events: Sequence[RecordedEvent]) -> Check:
    """The stream's versions are contiguous from 1 and its hash chain intact."""
    if not events:
        return Check.failed(HASH_CHAIN, f"no events stored for {case_id}")
    report = verify_events(case_id, events)
    if report.ok:
        return Check.passed(HASH_CHAIN, f"versions 1..{report.events} contiguous, chain intact")
    bad = report.first_bad_version
    at = next((e for e in events if e.version == bad), None)
    position = at.position if at is not None else None
    where = f"version {bad}" + (f" (position {position})" if position is not None else "")
    return Check.failed(
        HASH_CHAIN,
        f"broken at {where}",
        [Finding(detail=report.detail, position=position, stream_id=case_id, version=bad)],
    )


def _appended(runs: Sequence[RunRecord]) -> list[AppendedEvent]:
    """Every event the runs appended, once each (a retried append reports the same events)."""
    seen: dict[str, AppendedEvent] = {}
    for run in sorted(runs, key=lambda r: r.started_at):
        for a in run.appended:
            seen.setdefault(str(a.event.event_id), a)
    return sorted(seen.values(), key=lambda a: a.version)


def _differs(stored: RecordedEvent, a: AppendedEvent) -> list[str]:
    """The parts of a stored event that differ from what the run appended."""
    fields = []
    if stored.type != a.event.type:
        fields.append("type")
    keys = sorted(set(stored.data) | set(a.event.data))
    fields += [f"data.{k}" for k in keys if stored.data.get(k) != a.event.data.get(k)]
    keys = sorted(set(stored.metadata) | set(a.event.metadata))
    fields += [f"metadata.{k}" for k in keys if stored.metadata.get(k) != a.event.metadata.get(k)]
    return fields


def settled(runs: Sequence[RunRecord], events: Sequence[RecordedEvent]) -> list[RecordedEvent]:
    """The events less those of an append whose answer a running run has not recorded yet."""
    # The store committed them moments ago; the workflow has not folded them yet either.
    pending = {e.event_id for r in runs for e in r.pending}
    return [e for e in events if e.event_id not in pending]


def check_history_events(
    case_id: str, runs: Sequence[RunRecord], events: Sequence[RecordedEvent], complete: bool
) -> Check:
    """The stream holds exactly the events the histories appended, where the store put them."""
    # This shows a stream's cut-off tail or a deleted stream, which the chain alone cannot: the
    # histories say how far the stream went. Without every run's history (``complete`` false),
    # events no available run appended are not reported.
    if not runs:
        return Check.skipped(HISTORY_EVENTS, "no history of any run to compare with")
    appended = _appended(runs)
    stored = {e.version: e for e in events}
    findings: list[Finding] = []
    for a in appended:
        where = {
            "position": a.position,
            "stream_id": case_id,
            "version": a.version,
            "run_id": a.run_id,
            "history_event_id": a.history_event_id,
        }
        e = stored.get(a.version)
        appended_by = f"run {a.run_id} appended it (history event {a.history_event_id})"
        if e is None:
            findings.append(
                Finding(
                    detail=f"version {a.version} ({a.event.type}, position {a.position}) is "
                    f"missing from the store; {appended_by}",
                    **where,
                )
            )
        elif e.event_id != a.event.event_id:
            findings.append(
                Finding(
                    detail=f"version {a.version} holds event {e.event_id}, but {appended_by} "
                    f"as {a.event.event_id}",
                    **where,
                )
            )
        elif e.position != a.position:
            findings.append(
                Finding(
                    detail=f"version {a.version} is at position {e.position}; the store had "
                    f"put it at {a.position}",
                    **where,
                )
            )
        elif differs := _differs(e, a):
            findings.append(
                Finding(
                    detail=f"version {a.version} differs from what {appended_by}: "
                    + ", ".join(differs),
                    **where,
                )
            )
    covered = {a.version for a in appended}
    in_flight = len(events) - len(settled(runs, events))
    extra = [e for e in settled(runs, events) if e.version not in covered]
    if complete:
        findings += [
            Finding(
                detail=f"version {e.version} ({e.type}) is in the store but no run appended it",
                position=e.position,
                stream_id=case_id,
                version=e.version,
            )
            for e in extra
        ]
    ok = f"the store holds the {len(appended)} event(s) the {len(runs)} run(s) appended"
    if extra and not complete:
        ok += f"; {len(extra)} more from runs whose history is unavailable"
    if in_flight:
        ok += f"; {in_flight} appended moments ago, their activity's answer not in history yet"
    return Check.of(HISTORY_EVENTS, findings, ok, "{n} event(s) differ from the histories")


def _state_differences(stream: CaseState | None, history: CaseState | None) -> list[str]:
    if stream is None or history is None:
        return ["the case itself"] if stream is not history else []
    a, b = stream.model_dump(mode="json"), history.model_dump(mode="json")
    return [k for k in a if a.get(k) != b.get(k)]


def history_agreement(
    runs: Sequence[RunRecord], events: Sequence[RecordedEvent]
) -> tuple[list[Finding], str]:
    """The stream folded with today's ``evolve`` against the state the history ends with."""
    chain = execution_chain(runs)
    end = history_end(chain)
    findings = [Finding(detail=f"run {r}: {what}", run_id=r) for r, what in end.problems]
    events = settled(runs, events)
    state = fold_stored(events)
    differ = _state_differences(state, end.state)
    if differ:
        findings.append(
            Finding(
                detail="the stream folds to a different case than the history ended with: "
                + ", ".join(differ),
                run_id=end.run_id,
            )
        )
    last = events[-1].version if events else 0
    if last != end.stream_version:
        findings.append(
            Finding(
                detail=f"the stream ends at version {last}; the history at {end.stream_version}",
                version=last,
                run_id=end.run_id,
            )
        )
    return findings, (
        f"the stream folds to the state the history {'ends' if chain[-1].closed else 'holds'} "
        f"with (run {end.run_id}, {end.status}, version {end.stream_version})"
    )


def check_closed_agreement(runs: Sequence[RunRecord], events: Sequence[RecordedEvent]) -> Check:
    """A closed case: the stream against the state its history ended with (no worker needed)."""
    if not runs:
        return Check.skipped(STATE_AGREEMENT, "no history to compare the stream with")
    findings, ok = history_agreement(runs, events)
    return Check.of(STATE_AGREEMENT, findings, ok, "{n} disagreement(s)")


def live_differences(live: Mapping[str, Any], folded: Mapping[str, Any]) -> list[str]:
    """Where the workflow's live view and the stream's folded view disagree."""
    keys = ("stage", "status", "stream_version", "user_id")
    differ = [
        f"{k}: workflow {live.get(k)!r}, stream {folded.get(k)!r}"
        for k in keys
        if live.get(k) != folded.get(k)
    ]

    def reqs(view: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return [(r["requirement"], r["status"], r["met"]) for r in view.get("requirements", [])]

    if reqs(live) != reqs(folded):
        differ.append(f"requirements: workflow {reqs(live)}, stream {reqs(folded)}")
    return differ


def _json_state(value: Any) -> CaseState | None:
    try:
        return CaseState.model_validate(value)
    except ValueError:
        return None


def check_read_models(
    case_id: str,
    events: Sequence[RecordedEvent],
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
) -> Check:
    """The read models hold what the stream folds to: the board, timeline, DCC steps, counts."""
    state = fold_stored(events)
    domain = [e for e in events if e.type in DOMAIN_TYPES]
    findings: list[Finding] = []

    def finding(table: str, what: str) -> None:
        findings.append(Finding(detail=f"{table}: {what}", stream_id=case_id))

    board = list(rows.get("case_board", []))
    if state is not None and domain:
        last = domain[-1]
        if not board:
            finding("case_board", "no row for the case")
        else:
            row = board[0]
            stored = _json_state(row.get("state"))
            differ = _state_differences(state, stored)
            if differ:
                finding("case_board", "state differs from the stream's fold: " + ", ".join(differ))
            if (row.get("version"), row.get("last_position")) != (last.version, last.position):
                finding(
                    "case_board",
                    f"at version {row.get('version')} (position {row.get('last_position')}), "
                    f"the stream's last event is version {last.version} (position "
                    f"{last.position})",
                )
        timeline = sorted(int(r["version"]) for r in rows.get("case_timeline", []))
        expected = [e.version for e in domain]
        if timeline != expected:
            finding(
                "case_timeline", f"versions {_span(timeline)}, the stream has {_span(expected)}"
            )
        steps = {
            (r["step"], int(r["cycle"])): (r["due_on"], r["done_on"])
            for r in rows.get("dcc_deadlines", [])
        }
        folded_steps = {
            (s.step, s.cycle): (s.due_on.isoformat(), s.done_on.isoformat() if s.done_on else None)
            for s in state.uept.dcc_steps
        }
        if steps != folded_steps:
            finding("dcc_deadlines", f"steps {steps}, the stream folds to {folded_steps}")
    counts = list(rows.get("stream_counts", []))
    if events and counts:
        c = counts[0]
        if (c.get("events"), c.get("last_version")) != (len(events), events[-1].version):
            finding(
                "stream_counts",
                f"{c.get('events')} events up to version {c.get('last_version')}, the stream "
                f"has {len(events)} up to {events[-1].version}",
            )
    return Check.of(
        READ_MODELS,
        findings,
        f"case_board, case_timeline, dcc_deadlines and stream_counts agree with the stream "
        f"({len(domain)} events)",
        "{n} read model(s) disagree with the stream",
    )


def _span(versions: Sequence[int]) -> str:
    if not versions:
        return "none"
    if list(versions) == list(range(versions[0], versions[-1] + 1)):
        return f"{versions[0]}..{versions[-1]}"
    return ", ".join(map(str, versions))


def check_inclusion(
    events: Sequence[RecordedEvent],
    head: SignedTreeHead | None,
    proof: Sequence[bytes] | None,
    public_key: Ed25519PublicKey | None,
) -> Check:
    """The stream's last checkpointed event is in a tree head signed by the trusted key."""
    if head is None:
        return Check.skipped(CHECKPOINT, "no tree head yet: run `uep audit checkpoint`")
    if public_key is None:
        return Check.skipped(CHECKPOINT, "no trusted public key to verify the tree head with")
    if head.key_fingerprint != fingerprint(public_key):
        return Check.failed(
            CHECKPOINT,
            f"the tree head was signed by another key ({head.key_fingerprint[:16]}), not the "
            f"trusted one ({fingerprint(public_key)[:16]})",
        )
    if not verify_tree_head(head, public_key):
        return Check.failed(CHECKPOINT, "the tree head's signature does not verify")
    covered = [e for e in events if e.position <= head.tree_size]
    if not covered:
        first = events[0].position if events else None
        return Check.skipped(
            CHECKPOINT,
            f"no event of the case is covered by the tree head of size {head.tree_size} yet "
            f"(the case starts at position {first}): run `uep audit checkpoint`",
        )
    last = covered[-1]
    where = f"version {last.version} (position {last.position})"
    if proof is None:
        return Check.failed(
            CHECKPOINT,
            f"no inclusion proof for {where}: the checkpointed leaves do not reproduce the "
            "signed root (run `uep audit log`)",
            [Finding(detail="no proof", position=last.position, version=last.version)],
        )
    if not verify_inclusion(
        last.position - 1,
        head.tree_size,
        event_leaf(last.hash),
        list(proof),
        bytes.fromhex(head.root_hash),
    ):
        return Check.failed(
            CHECKPOINT,
            f"{where} is not the event the tree head signed at that position",
            [
                Finding(
                    detail="inclusion proof does not verify against the signed root",
                    position=last.position,
                    version=last.version,
                )
            ],
        )
    newer = len(events) - len(covered)
    return Check.passed(
        CHECKPOINT,
        f"{where} is in the tree head of size {head.tree_size} signed {head.timestamp}"
        + (f"; {newer} newer event(s) not yet covered" if newer else ""),
    )


def closed_for(closed_at: datetime | None, now: datetime) -> float:
    """Seconds since a run closed (0 when it has not)."""
    return 0.0 if closed_at is None else (now - closed_at).total_seconds()
