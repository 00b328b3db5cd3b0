"""`uep audit ...`: audit a case, export and verify its bundle, checkpoint and verify the log.

    uep audit CASE [--format table|json|markdown|html] [--as-of T] [--version N] [--skip CHECK]
    uep audit export CASE FILE          FILE.zip, or a new directory
    uep audit verify FILE [--key PUBKEY]
    uep audit checkpoint                sign a tree head over the event log now
    uep audit log [--key PUBKEY]        the whole log against its tree heads
    uep audit key [--pem]               the public key auditors verify with

Exit status of audit, verify and log: 0 clean, 1 findings, 2 could not audit (a check could not
run and was not accepted with --skip, or a dependency was out of reach). The logic lives in
:mod:`uep.audit`; this module parses, connects and prints.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from eventstore.checkpoints import CheckpointRefused, create_checkpoint, verify_log
from eventstore.signing import fingerprint, public_key_hex
from eventstore.verdicts import EXIT_INCOMPLETE, Check, exit_status
from uep.audit import report
from uep.audit.bundle import BUNDLE_CHECKS, BundleUnreadable, export_bundle, verify_bundle
from uep.audit.case import AuditOptions, Sources, audit_case
from uep.audit.checks import CASE_CHECKS
from uep.cli.common import CliError, console, run_command
from uep.connect import (
    StoreUnreachable,
    TemporalUnreachable,
    settings,
    store_pool,
    temporal_client,
)
from uep.keys import KeyUnavailable, load_signing_key, trusted_public_key
from worker import WORKFLOWS

SUBCOMMANDS = ("case", "export", "verify", "checkpoint", "log", "key")


def rewrite(argv: Sequence[str]) -> list[str]:
    """``uep audit CASE ...`` means ``uep audit case CASE ...``."""
    # Case ids start with "uep-", so no id is mistaken for a subcommand.
    args = list(argv)
    if len(args) >= 2 and args[0] == "audit" and args[1] not in (*SUBCOMMANDS, "-h", "--help"):
        args.insert(1, "case")
    return args


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--as-of {text!r} is not an ISO 8601 moment", EXIT_INCOMPLETE) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def print_checks(title: str, checks: Sequence[Check], status: int) -> None:
    """Checks on the terminal: one line each, findings indented below, the verdict last."""
    out = console()
    out.print(title)
    for check in checks:
        colour = {"passed": "green", "failed": "red", "skipped": "yellow"}[check.status.value]
        word = report.status_word(check)
        out.print(f"[{colour}]{word:<15}[/{colour}] {check.name:<16} {check.detail}")
        for line in report.findings_lines(check):
            out.print(f"{'':32}- {line}")
    out.print(f"verdict: {report.VERDICTS[status]} (exit {status})")


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text)
    else:
        sys.stdout.write(text)


async def _sources(args: argparse.Namespace, pool: Any) -> Sources:
    config = settings()
    try:
        client = await temporal_client(config)
        temporal_error = ""
    except TemporalUnreachable as err:
        client, temporal_error = None, str(err).split(";")[0]
    try:
        key: Ed25519PublicKey | None = trusted_public_key(config, getattr(args, "key", None))
        key_error = ""
    except KeyUnavailable as err:
        key, key_error = None, str(err)
    return Sources(client, temporal_error, pool, key, key_error)


async def _audit(args: argparse.Namespace) -> int:
    as_of = _moment(args.as_of) if args.as_of else None
    try:
        async with store_pool(settings()) as pool:
            sources = await _sources(args, pool)
            options = AuditOptions(
                as_of=as_of, version=args.version, skip=args.skip, workflows=WORKFLOWS
            )
            audit = await audit_case(sources, args.case_id, options)
    except StoreUnreachable as err:
        raise CliError(f"could not audit: {err}", EXIT_INCOMPLETE) from None
    if (
        not audit.events
        and not audit.runs
        and not any(c.name == "histories" and "unreachable" in c.detail for c in audit.checks)
    ):
        raise CliError(
            f"nothing to audit: no events and no history of {args.case_id}", EXIT_INCOMPLETE
        )
    fmt = "json" if args.json else args.format
    if fmt == "json":
        _emit(report.render_json(audit) + "\n", args.output)
    elif fmt == "markdown":
        _emit(report.render_markdown(audit), args.output)
    elif fmt == "html":
        _emit(report.render_html(audit), args.output)
    else:
        heading = f"audit of {args.case_id}" + (
            f" ({audit.party_name}, {audit.role}; rules {audit.rules_version})"
            if audit.party_id
            else ""
        )
        print_checks(heading, audit.checks, audit.exit_status)
    return audit.exit_status


async def _export(args: argparse.Namespace) -> int:
    target = Path(args.file)
    if await asyncio.to_thread(target.exists):
        raise CliError(f"{target} exists; choose a new file or directory", EXIT_INCOMPLETE)
    config = settings()
    try:
        key = load_signing_key(config)
    except KeyUnavailable as err:
        raise CliError(str(err), EXIT_INCOMPLETE) from None
    try:
        async with store_pool(config) as pool:
            sources = await _sources(args, pool)
            result = await export_bundle(sources, args.case_id, target, key)
    except StoreUnreachable as err:
        raise CliError(f"could not export: {err}", EXIT_INCOMPLETE) from None
    except ValueError as err:
        raise CliError(str(err), 1) from None
    print(
        f"wrote {result.path}: {result.events} events, {result.runs} run(s), {result.files} "
        f"files; signed by key {fingerprint(key)[:16]}"
    )
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 1 if result.notes else 0


class _Printable(BaseModel):
    checks: list[Check]
    exit_status: int


async def _verify(args: argparse.Namespace) -> int:
    try:
        trusted = trusted_public_key(settings(), args.key) if args.key else _local_key()
    except KeyUnavailable as err:
        raise CliError(str(err), EXIT_INCOMPLETE) from None
    try:
        verified = await verify_bundle(Path(args.file), trusted, WORKFLOWS, args.skip)
    except BundleUnreadable as err:
        raise CliError(str(err), EXIT_INCOMPLETE) from None
    status = exit_status(verified.checks)
    if args.format == "json":
        print(_Printable(checks=verified.checks, exit_status=status).model_dump_json(indent=2))
    else:
        print_checks(f"bundle {args.file} for {verified.case_id}", verified.checks, status)
    return status


def _local_key() -> Ed25519PublicKey | None:
    """This deployment's own public key when one is configured here (never a network call)."""
    try:
        return trusted_public_key(settings(), None)
    except KeyUnavailable:
        return None


async def _checkpoint(args: argparse.Namespace) -> int:
    config = settings()
    try:
        key = load_signing_key(config)
    except KeyUnavailable as err:
        raise CliError(str(err), EXIT_INCOMPLETE) from None
    async with store_pool(config) as pool:
        try:
            result = await create_checkpoint(pool, key, datetime.now(UTC))
        except CheckpointRefused as err:
            print(f"uep audit checkpoint: refused at {err}", file=sys.stderr)
            return 1
    head = result.head
    state = "signed" if result.created else "unchanged (no event since)"
    print(
        f"tree head #{head.seq} {state}: size {head.size}, root {head.head.root_hash}, "
        f"at {head.head.timestamp}, key {head.head.key_fingerprint[:16]}"
    )
    return 0


async def _log(args: argparse.Namespace) -> int:
    config = settings()
    try:
        trusted = trusted_public_key(config, args.key)
    except KeyUnavailable as err:
        raise CliError(str(err), EXIT_INCOMPLETE) from None
    try:
        async with store_pool(config) as pool, pool.acquire() as conn:
            verified = await verify_log(conn, trusted)
    except StoreUnreachable as err:
        raise CliError(f"could not verify: {err}", EXIT_INCOMPLETE) from None
    status = exit_status(verified.checks)
    if args.format == "json":
        print(verified.model_dump_json(indent=2))
    else:
        print_checks(
            f"event log: {verified.events} events, head at {verified.head_position}, "
            f"{verified.tree_heads} tree head(s)",
            verified.checks,
            status,
        )
    return status


async def _key(args: argparse.Namespace) -> int:
    try:
        key = load_signing_key(settings())
    except KeyUnavailable as err:
        raise CliError(str(err), EXIT_INCOMPLETE) from None
    if args.pem:
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        print(pem.decode(), end="")
    else:
        print(public_key_hex(key))
        print(f"fingerprint {fingerprint(key)}", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register `uep audit` and its subcommands."""
    audit = sub.add_parser(
        "audit",
        help="audit a case; export / verify its signed bundle; checkpoint / verify the log",
        description="`uep audit CASE` audits one case; the subcommands below do the rest.",
    )
    asub = audit.add_subparsers(dest="audit_command", required=True, metavar="CASE|subcommand")
    p = asub.add_parser("case", help="audit one case (`uep audit CASE` is short for this)")
    p.add_argument("case_id")
    p.add_argument("--format", choices=("table", "json", "markdown", "html"), default="table")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p.add_argument("-o", "--output", help="write the report to this file instead of stdout")
    p.add_argument("--as-of", help="show the case as recorded at this moment (ISO 8601)")
    p.add_argument("--version", type=int, help="show the case as of this stream version")
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=CASE_CHECKS,
        metavar="CHECK",
        help=f"accept that this check does not run ({', '.join(CASE_CHECKS)})",
    )
    p.add_argument("--key", help="trusted public key (PEM file or hex) for the tree head")
    p.set_defaults(func=run_command("uep audit", _audit))

    p = asub.add_parser("export", help="write the case's signed evidence bundle")
    p.add_argument("case_id")
    p.add_argument("file", help="FILE.zip for one zip file, else a new directory")
    p.set_defaults(func=run_command("uep audit export", _export))

    p = asub.add_parser("verify", help="verify a bundle offline (no Temporal, no database)")
    p.add_argument("file")
    p.add_argument("--key", help="the deployment's public key: PEM file or 64 hex digits")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=BUNDLE_CHECKS,
        metavar="CHECK",
        help="accept that this check could not run",
    )
    p.set_defaults(func=run_command("uep audit verify", _verify))

    p = asub.add_parser("checkpoint", help="sign a tree head over the whole event log now")
    p.set_defaults(func=run_command("uep audit checkpoint", _checkpoint))

    p = asub.add_parser("log", help="verify the whole event log against its tree heads")
    p.add_argument("--key", help="trusted public key (PEM file or hex); default: this deployment's")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=run_command("uep audit log", _log))

    p = asub.add_parser("key", help="print the public key auditors verify with")
    p.add_argument("--pem", action="store_true", help="as a PEM file instead of hex")
    p.set_defaults(func=run_command("uep audit key", _key))
