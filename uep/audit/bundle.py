"""Audit bundles: one case's evidence in a zip or a directory, signed; verified offline.

A bundle holds every run's history (JSON), the case's events (JSON Lines), its read-model rows,
and ``manifest.json``: RFC 8785 canonical JSON naming each file with its SHA-256, the code and
rules versions, the stream's first and last positions and hashes, the latest signed tree head
and the inclusion proof of the stream's last event in it. ``manifest.sig`` is the Ed25519
signature over those exact bytes (hex). Verifying needs only the bundle, the public key and this
package: no Temporal, no PostgreSQL, no network.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path, PurePosixPath
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.history import fold_stored
from eventstore.checkpoints import (
    CheckpointRefused,
    StoredHead,
    checkpoint_leaves,
    create_checkpoint,
    inclusion,
    latest_head,
)
from eventstore.models import RecordedEvent
from eventstore.postgres import PostgresEventStore
from eventstore.signing import (
    Json,
    SignedTreeHead,
    canonical_bytes,
    fingerprint,
    public_key_from_hex,
    public_key_hex,
    sign,
    verify,
)
from eventstore.verdicts import Check, Finding, accept_skips
from uep.audit import checks as c
from uep.audit.case import Sources, gather_runs, read_model_rows
from uep.audit.history import HistoryUnreadable, RunRecord, decode_run, history_from_json
from uep.audit.replay import replayer

BUNDLE_KIND = "uep-audit-bundle-v1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
EVENTS = "events.jsonl"
PUBLIC_KEY = "public-key.txt"
README = "README.txt"

# Checks of a bundle beyond the case checks.
MANIFEST_CHECK = "manifest"
SIGNATURE_CHECK = "signature"
FILES_CHECK = "files"
BUNDLE_CHECKS = (
    MANIFEST_CHECK,
    SIGNATURE_CHECK,
    FILES_CHECK,
    c.HASH_CHAIN,
    c.CHECKPOINT,
    c.REPLAY,
    c.HISTORY_EVENTS,
    c.STATE_AGREEMENT,
    c.READ_MODELS,
)

_README = """This is a uep audit bundle for case {case_id}, made {created_at}.

manifest.json  RFC 8785 canonical JSON: each file's SHA-256, the code and rules versions, the
               stream's first and last events, a signed tree head over the whole event log and
               the inclusion proof of the stream's last event in it.
manifest.sig   Ed25519 signature over the bytes of manifest.json, as hex. The signing key's
               fingerprint (SHA-256 of the raw public key) is in the manifest.
histories/     every Temporal run of the case, as JSON.
events.jsonl   the case's event stream, one event per line.
read-models/   the read-model rows about the case when the bundle was made.

Verify it on any machine with the same uep version installed, with the public key the
deployment publishes (`uep audit key` prints it):

    uep audit verify THIS_BUNDLE --key PUBLIC_KEY

Without uep: check manifest.sig over manifest.json with any Ed25519 implementation, then each
file's SHA-256 against the manifest.
"""


def sha256_hex(data: bytes) -> str:
    """SHA-256 of bytes, as hex."""
    return hashlib.sha256(data).hexdigest()


def code_version() -> dict[str, str]:
    """The versions that replay and fold: the package, the SDK and a digest of workflow code."""
    digest = hashlib.sha256()
    folder = resources.files("workflows")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return {
        "uep": metadata.version("uep"),
        "temporalio": metadata.version("temporalio"),
        "workflows_sha256": digest.hexdigest(),
    }


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=1, ensure_ascii=False) + "\n").encode()


def _event_line(event: RecordedEvent) -> str:
    return json.dumps(event.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class ExportResult:
    """What ``export`` wrote, and anything it could not include."""

    path: Path
    files: int
    events: int
    runs: int
    head: SignedTreeHead | None
    notes: list[str]


@dataclass
class Evidence:
    """Everything a bundle holds about one case, gathered before it is written."""

    case_id: str
    events: list[RecordedEvent]
    runs: list[RunRecord]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    head: SignedTreeHead | None = None
    proof: tuple[int, list[bytes]] | None = None
    """(position, sibling hashes): the inclusion proof of the stream's last event in ``head``."""
    runs_complete: bool = True
    read_models_current: bool = True
    notes: list[str] = field(default_factory=list)


async def export_bundle(
    sources: Sources, case_id: str, target: Path, key: Ed25519PrivateKey
) -> ExportResult:
    """Write the case's bundle to ``target`` (``.zip``: one zip file; else a new directory)."""
    pool = sources.pool
    events = await PostgresEventStore(pool, group_commit=False).read_stream(case_id)
    if not events:
        raise ValueError(f"no events stored for {case_id}")
    got = await gather_runs(sources, case_id)
    now = datetime.now(UTC)
    notes: list[str] = []
    if got.unavailable:
        notes.append(f"run(s) {', '.join(got.unavailable)} in neither Temporal nor the archive")
    head, proof = await _covering_head(pool, key, events[-1].position, now, notes)
    lag = await _projector_lag(pool, events[-1].position)
    if lag:
        notes.append(lag)
    evidence = Evidence(
        case_id=case_id,
        events=events,
        runs=got.runs,
        rows=await read_model_rows(pool, case_id),
        head=head,
        proof=proof,
        runs_complete=not got.unavailable and not got.unreadable,
        read_models_current=not lag,
        notes=notes,
    )
    files = assemble(evidence, key, now)
    write_bundle(target, files, now)
    return ExportResult(target, len(files), len(events), len(got.runs), head, notes)


def assemble(evidence: Evidence, key: Ed25519PrivateKey, now: datetime) -> dict[str, bytes]:
    """The bundle's files by name: histories, events, read models, the signed manifest."""
    events = evidence.events
    files: dict[str, bytes] = {}
    runs_manifest: list[Json] = []
    for n, run in enumerate(evidence.runs, start=1):
        name = f"histories/{n:03d}-{run.run_id}.json"
        files[name] = _json_bytes(
            {
                "workflow_id": run.workflow_id,
                "run_id": run.run_id,
                "source": run.source,
                "status": run.status,
                "history": run.history.to_json_dict(),
            }
        )
        runs_manifest.append(
            {"file": name, "run_id": run.run_id, "status": run.status, "source": run.source}
        )
    files[EVENTS] = ("\n".join(_event_line(e) for e in events) + "\n").encode()
    for table, table_rows in sorted(evidence.rows.items()):
        files[f"read-models/{table}.json"] = _json_bytes(table_rows)
    files[PUBLIC_KEY] = (public_key_hex(key) + "\n").encode()
    files[README] = _README.format(case_id=evidence.case_id, created_at=now.isoformat()).encode()
    state = fold_stored(events)
    head, proof = evidence.head, evidence.proof
    manifest: dict[str, Json] = {
        "kind": BUNDLE_KIND,
        "case_id": evidence.case_id,
        "party_id": state.party.party_id if state else None,
        "party_name": state.party.party_name if state else None,
        "role": str(state.role) if state else None,
        "rules_version": str(state.rules_version) if state else None,
        "created_at": now.isoformat(),
        "code_version": dict(code_version()),
        "files": {name: sha256_hex(data) for name, data in sorted(files.items())},
        "runs": runs_manifest,
        "runs_complete": evidence.runs_complete,
        "stream": {
            "events": len(events),
            "first": _event_ref(events[0]) if events else None,
            "last": _event_ref(events[-1]) if events else None,
        },
        "tree_head": head.model_dump() if head else None,
        "inclusion_proof": None
        if proof is None or head is None
        else {
            "position": proof[0],
            "leaf_index": proof[0] - 1,
            "tree_size": head.tree_size,
            "hashes": [h.hex() for h in proof[1]],
        },
        "read_models_current": evidence.read_models_current,
        "notes": list(evidence.notes),
        "key": {"fingerprint": fingerprint(key), "public_key": public_key_hex(key)},
    }
    files[MANIFEST] = canonical_bytes(manifest)
    files[SIGNATURE] = sign(manifest, key).hex().encode()
    return files


def _event_ref(e: RecordedEvent) -> dict[str, Json]:
    return {"version": e.version, "position": e.position, "hash": e.hash}


async def _covering_head(
    pool: asyncpg.Pool, key: Ed25519PrivateKey, position: int, now: datetime, notes: list[str]
) -> tuple[SignedTreeHead | None, tuple[int, list[bytes]] | None]:
    """A tree head covering ``position`` (signing one now if needed) and the proof for it."""
    stored: StoredHead | None = await latest_head(pool)
    if stored is None or stored.size < position:
        try:
            stored = (await create_checkpoint(pool, key, now)).head
        except CheckpointRefused as err:
            notes.append(f"no new tree head: {err}")
    if stored is None:
        return None, None
    if stored.size < position:
        notes.append(f"tree head #{stored.seq} ends at {stored.size}, before position {position}")
        return stored.head, None
    leaves = await checkpoint_leaves(pool, stored.size)
    proof = inclusion(leaves, stored.head, position)
    if proof is None:
        notes.append(f"no inclusion proof for position {position} in tree head #{stored.seq}")
        return stored.head, None
    return stored.head, (position, proof)


async def _projector_lag(pool: asyncpg.Pool, position: int) -> str:
    rows = await pool.fetch("SELECT name, position FROM projection_checkpoints")
    behind = [f"{r['name']} at {r['position']}" for r in rows if r["position"] < position]
    return f"read models behind the case's last event: {', '.join(behind)}" if behind else ""


def write_bundle(target: Path, files: Mapping[str, bytes], now: datetime) -> None:
    """Write the files as one zip (``target`` ends in ``.zip``) or into a new directory."""
    if target.suffix == ".zip":
        stamp = now.timetuple()[:6]
        with zipfile.ZipFile(target, "x", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(files.items()):
                archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data)
        return
    target.mkdir(parents=True, exist_ok=False)
    for name, data in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# -- verifying -------------------------------------------------------------------------------------


class BundleUnreadable(ValueError):
    """Not a bundle at all: no such file, not a zip or directory, no manifest."""


def read_bundle(path: Path) -> dict[str, bytes]:
    """Every file of a bundle by its relative name (zip or directory)."""
    if path.is_dir():
        return {
            p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(path.rglob("*"))
            if p.is_file()
        }
    try:
        with zipfile.ZipFile(path) as archive:
            out = {}
            for info in archive.infolist():
                name = PurePosixPath(info.filename)
                if info.is_dir():
                    continue
                if name.is_absolute() or ".." in name.parts:
                    raise BundleUnreadable(f"{path}: unsafe name {info.filename!r} in the zip")
                out[str(name)] = archive.read(info)
            return out
    except FileNotFoundError:
        raise BundleUnreadable(f"{path}: no such file or directory") from None
    except zipfile.BadZipFile as err:
        raise BundleUnreadable(f"{path}: neither a directory nor a zip ({err})") from None


@dataclass
class Verified:
    """The verification of one bundle."""

    case_id: str
    checks: list[Check]
    manifest: dict[str, Any]


def _manifest(files: Mapping[str, bytes]) -> tuple[dict[str, Any] | None, Check]:
    raw = files.get(MANIFEST)
    if raw is None:
        return None, Check.failed(MANIFEST_CHECK, "no manifest.json in the bundle")
    try:
        manifest = json.loads(raw)
    except ValueError as err:
        return None, Check.failed(
            MANIFEST_CHECK,
            f"manifest.json is not JSON ({err})",
            [Finding(detail=str(err), file=MANIFEST)],
        )
    if not isinstance(manifest, dict) or manifest.get("kind") != BUNDLE_KIND:
        return None, Check.failed(MANIFEST_CHECK, f"manifest.json is not a {BUNDLE_KIND}")
    if canonical_bytes(manifest) != raw:
        return manifest, Check.failed(
            MANIFEST_CHECK,
            "manifest.json is not in RFC 8785 canonical form: it was edited after signing",
            [Finding(detail="not canonical", file=MANIFEST)],
        )
    return manifest, Check.passed(MANIFEST_CHECK, f"{BUNDLE_KIND} for {manifest.get('case_id')}")


def _signature(
    files: Mapping[str, bytes], manifest: dict[str, Any], trusted: Ed25519PublicKey | None
) -> Check:
    named = manifest.get("key", {})
    try:
        signature = bytes.fromhex(files.get(SIGNATURE, b"").decode().strip())
        bundled = public_key_from_hex(str(named.get("public_key", "")))
    except ValueError as err:
        return Check.failed(SIGNATURE_CHECK, f"unreadable signature or key ({err})")
    if trusted is None:
        ok = verify(manifest, signature, bundled)
        return Check.skipped(
            SIGNATURE_CHECK,
            f"no trusted key given (--key): the signature {'is' if ok else 'is NOT'} valid "
            f"under the key the bundle names ({str(named.get('fingerprint', '?'))[:16]}), which "
            "proves nothing about who made it",
        )
    if fingerprint(trusted) != named.get("fingerprint"):
        return Check.failed(
            SIGNATURE_CHECK,
            f"signed by another key: the manifest names {str(named.get('fingerprint'))[:16]}, "
            f"the trusted key is {fingerprint(trusted)[:16]}",
            [Finding(detail="key fingerprint differs", file=SIGNATURE)],
        )
    if not verify(manifest, signature, trusted):
        return Check.failed(
            SIGNATURE_CHECK,
            "manifest.sig is not the trusted key's signature over manifest.json",
            [Finding(detail="signature does not verify", file=SIGNATURE)],
        )
    return Check.passed(SIGNATURE_CHECK, f"signed by the trusted key {fingerprint(trusted)[:16]}")


def _files(files: Mapping[str, bytes], manifest: dict[str, Any]) -> Check:
    listed: dict[str, str] = manifest.get("files", {})
    findings = []
    for name, digest in sorted(listed.items()):
        data = files.get(name)
        if data is None:
            findings.append(Finding(detail=f"{name}: missing", file=name))
        elif sha256_hex(data) != digest:
            findings.append(Finding(detail=f"{name}: SHA-256 differs from the manifest", file=name))
    extra = sorted(set(files) - set(listed) - {MANIFEST, SIGNATURE})
    findings += [Finding(detail=f"{n}: not named in the manifest", file=n) for n in extra]
    return Check.of(
        FILES_CHECK, findings, f"{len(listed)} file(s), each as hashed", "{n} file(s) differ"
    )


def _events(files: Mapping[str, bytes]) -> tuple[list[RecordedEvent], list[Finding]]:
    events, bad = [], []
    for number, line in enumerate(files.get(EVENTS, b"").decode(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            events.append(RecordedEvent.model_validate_json(line))
        except ValueError as err:
            bad.append(Finding(detail=f"{EVENTS} line {number}: not an event ({err})", file=EVENTS))
    return events, bad


def _runs(
    files: Mapping[str, bytes], manifest: dict[str, Any]
) -> tuple[list[RunRecord], list[Finding]]:
    runs, bad = [], []
    for entry in manifest.get("runs", []):
        name = entry.get("file", "")
        try:
            record = json.loads(files[name])
            history = history_from_json(record["workflow_id"], json.dumps(record["history"]))
            runs.append(decode_run(history, "bundle"))
        except (KeyError, ValueError, HistoryUnreadable) as err:
            bad.append(Finding(detail=f"{name}: not a history ({err})", file=name))
    return sorted(runs, key=lambda r: r.started_at), bad


def _stream_ref_findings(
    manifest: dict[str, Any], events: Sequence[RecordedEvent]
) -> list[Finding]:
    stream = manifest.get("stream", {})
    found = []
    if stream.get("events") != len(events):
        found.append(
            Finding(
                detail=f"{EVENTS} has {len(events)} events, the manifest {stream.get('events')}",
                file=EVENTS,
            )
        )
    if events:
        for which, event in (("first", events[0]), ("last", events[-1])):
            if stream.get(which) != _event_ref(event):
                found.append(
                    Finding(
                        detail=f"the stream's {which} event is {_event_ref(event)}, the "
                        f"manifest says {stream.get(which)}",
                        position=event.position,
                        version=event.version,
                        file=EVENTS,
                    )
                )
    return found


async def verify_bundle(
    path: Path,
    trusted: Ed25519PublicKey | None,
    workflows: Sequence[type],
    skip: Sequence[str] = (),
) -> Verified:
    """Check a bundle offline: signature, file hashes, chain, inclusion, replay, state."""
    files = read_bundle(path)
    manifest, manifest_check = _manifest(files)
    checks = [manifest_check]
    if manifest is None:
        return Verified("?", checks, {})
    case_id = str(manifest.get("case_id"))
    checks.append(_signature(files, manifest, trusted))
    checks.append(_files(files, manifest))
    events, bad_lines = _events(files)
    chain = c.check_chain(case_id, events)
    refs = _stream_ref_findings(manifest, events)
    if bad_lines or refs:
        chain = Check.failed(
            c.HASH_CHAIN,
            chain.detail if chain.findings else "the events do not match the manifest",
            [*bad_lines, *refs, *chain.findings],
        )
    checks.append(chain)
    checks.append(_inclusion(manifest, events, trusted))
    runs, bad_runs = _runs(files, manifest)
    replay = await c.check_replay(replayer(workflows), runs)
    if bad_runs:
        replay = Check.failed(
            c.REPLAY, "histories that cannot be read", [*bad_runs, *replay.findings]
        )
    checks.append(replay)
    complete = bool(manifest.get("runs_complete")) and not bad_runs
    checks.append(c.check_history_events(case_id, runs, events, complete))
    checks.append(_state(runs, events))
    checks.append(_read_models(files, manifest, case_id, events))
    # --skip accepts a check that could not run; it never turns a failure into a pass.
    return Verified(case_id, accept_skips(checks, skip), manifest)


def _inclusion(
    manifest: dict[str, Any], events: Sequence[RecordedEvent], trusted: Ed25519PublicKey | None
) -> Check:
    raw_head = manifest.get("tree_head")
    head = SignedTreeHead.model_validate(raw_head) if raw_head else None
    proof_entry = manifest.get("inclusion_proof") or {}
    proof = [bytes.fromhex(h) for h in proof_entry.get("hashes", [])] if proof_entry else None
    return c.check_inclusion(events, head, proof, trusted)


def _state(runs: Sequence[RunRecord], events: Sequence[RecordedEvent]) -> Check:
    if not runs or not events:
        return Check.skipped(c.STATE_AGREEMENT, "no history or no events in the bundle")
    if runs[-1].closed:
        return c.check_closed_agreement(runs, events)
    findings, so_far = c.history_agreement(runs, events)
    return Check.of(
        c.STATE_AGREEMENT,
        findings,
        f"{so_far} (the case was open when exported)",
        "{n} disagreement(s)",
    )


def _read_models(
    files: Mapping[str, bytes],
    manifest: dict[str, Any],
    case_id: str,
    events: Sequence[RecordedEvent],
) -> Check:
    if not manifest.get("read_models_current"):
        return Check.skipped(
            c.READ_MODELS, "the read models had not caught up when the bundle was made"
        )
    rows: dict[str, list[dict[str, Any]]] = {}
    for name, data in files.items():
        if name.startswith("read-models/") and name.endswith(".json"):
            try:
                rows[PurePosixPath(name).stem] = json.loads(data)
            except ValueError:
                rows[PurePosixPath(name).stem] = []
    return c.check_read_models(case_id, events, rows)
