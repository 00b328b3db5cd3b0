"""`uep party`: a Party's record - send it a message, show it, list the records.

The Party record (workflow ``uep-party-<party_id>``) holds what belongs to the Party rather than
to one User Role: Credit Support, the security assessments and the User ID ranges. Its first
role case opens it; operators send it messages here or from the Web UI.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.party import record_id
from domain.party.commands import PARTY_MESSAGES
from uep.cli.case import connect, parse_json_object, refusal_message, rpc_error
from uep.cli.common import OK, REFUSED, USAGE, CliError, print_json, run_command
from uep.cli.common import console as _out
from uep.updates import execute_update
from workflows import names

OPENING_PAUSES = (0.2, 0.4, 0.8, 1.6, 3.2)
"""Pauses between tries while a just-started Party's record is not there yet (about 6 s)."""


def _record_id(party: str) -> str:
    """A Party id or a record's workflow id -> the record's workflow id."""
    return party if party.startswith(names.party_record_id("")) else record_id(party)


def _not_found(err: RPCError, party: str) -> CliError:
    if err.status == RPCStatusCode.NOT_FOUND:
        return CliError(
            f"no Party record for {party!r}: its first role case opens it "
            "(`uep case start`, or the Web UI's Start Workflow)",
            REFUSED,
        )
    return rpc_error(err, party)


async def _send(args: argparse.Namespace) -> int:
    if args.message not in PARTY_MESSAGES:
        known = ", ".join(sorted(PARTY_MESSAGES))
        raise CliError(f"no Party record message {args.message!r}; known: {known}", USAGE)
    payload = parse_json_object(args.json_payload or "{}")
    client = await connect()
    handle = client.get_workflow_handle(_record_id(args.party))
    # The record opens a moment after the Party's first role case starts: give it that moment.
    for pause in (*OPENING_PAUSES, None):
        try:
            # across a hand-over too: uep/updates.py asks the current run once more
            result = await execute_update(client, handle, args.message, payload, None)
            break
        except WorkflowUpdateFailedError as err:
            print(f"refused: {refusal_message(err)}", file=sys.stderr)
            return REFUSED
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND or pause is None:
                raise _not_found(err, args.party) from None
            await asyncio.sleep(pause)
    if args.as_json:
        print_json(result)
    else:
        events = ", ".join(result.get("events", [])) or "nothing new"
        _out().print(f"accepted: {events}")
    return OK


async def fetch_party(party: str) -> dict[str, Any]:
    """The record's ``state`` query answer (its PartyView as JSON)."""
    client = await connect()
    try:
        view = await client.get_workflow_handle(_record_id(party)).query(names.STATE_QUERY)
    except RPCError as err:
        raise _not_found(err, party) from None
    if not isinstance(view, dict):
        raise CliError(f"unexpected answer from the state query: {view!r}", REFUSED)
    return view


def render_party(console: Console, view: dict[str, Any]) -> None:
    """The Party record as an analyst reads it."""
    profile = view.get("profile", {})
    console.print(
        f"[bold]{view['party_name']}[/] ({view['party_id']}) - {profile.get('category')}, "
        f"record {view['record_id']} opened {view['opened_on']}, as of {view['as_of']}"
    )
    roles = Table(title="Roles")
    for col in ("role", "case", "status", "User IDs", "security"):
        roles.add_column(col)
    for r in view.get("roles", []):
        sec = r["security"]
        roles.add_row(
            r["role_label"],
            r["case_id"],
            r["status"],
            ", ".join(r.get("user_ids", [])) or "-",
            ("met: " if sec["met"] else "not met: ") + sec["reason"],
        )
    console.print(roles)
    console.print("User ID ranges: " + (", ".join(view.get("user_id_ranges", [])) or "none yet"))
    credit = view["credit"]
    line = ("met" if credit["met"] else "not met") + f": {credit['reason']}"
    if credit.get("valid_until"):
        line += f" (until {credit['valid_until']})"
    console.print(f"Credit: {line}")
    if view.get("review_due_on"):
        console.print(f"DCC monthly review due on {view['review_due_on']}")
    if view.get("instruments"):
        table = Table(title="Credit Support")
        for col in ("reference", "form", "amount", "expires", "status", "counts until", "today"):
            table.add_column(col)
        for i in view["instruments"]:
            table.add_row(
                i["reference"],
                i["form"],
                str(i["amount"]),
                i.get("expires_on") or "-",
                i["status"],
                i.get("counts_until") or "-",
                "counts" if i["counts_today"] else (i.get("why_not") or "does not count"),
            )
        console.print(table)
    if view.get("security"):
        table = Table(title="Security assessments")
        for col in ("id", "kind", "roles", "on", "done", "status"):
            table.add_column(col)
        for a in view["security"]:
            table.add_row(
                a["assessment_id"],
                a["kind"],
                ", ".join(a["roles"]),
                a["assessment_on"],
                a.get("done_on") or "-",
                a.get("status") or "-",
            )
        console.print(table)
    todo = view.get("outstanding", [])
    console.print("Waiting for:" if todo else "Nothing outstanding.")
    for item in todo:
        console.print(f"  {item['who']}: {item['what']}")


async def _show(args: argparse.Namespace) -> int:
    view = await fetch_party(args.party)
    if args.json:
        print_json(view)
    else:
        render_party(_out(), view)
    return OK


async def _list(args: argparse.Namespace) -> int:
    client = await connect()
    query = f'WorkflowType = "{names.PARTY_WORKFLOW_TYPE}"'
    rows: list[dict[str, Any]] = []
    try:
        async for w in client.list_workflows(query, limit=args.limit):
            attrs = w.typed_search_attributes
            rows.append(
                {
                    "record": w.id,
                    "party": attrs.get(names.SA_PARTY_ID),
                    "name": attrs.get(names.SA_PARTY_NAME),
                    "stage": attrs.get(names.SA_STAGE),
                    "status": w.status.name.lower() if w.status else "",
                }
            )
    except RPCError as err:
        raise rpc_error(err, "party records") from None
    if args.json:
        print_json(rows)
        return OK
    table = Table(title=f"Party records ({len(rows)})")
    for col in ("record", "party", "name", "stage", "status"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in ("record", "party", "name", "stage", "status")))
    _out().print(table)
    return OK


async def _dispatch(args: argparse.Namespace) -> int:
    code: int = await args.party_func(args)
    return code


def add_parser(sub: Any) -> None:
    """Register `uep party` and its subcommands."""
    party = sub.add_parser(
        "party", help="a Party's record: credit, security assessments, User ID ranges"
    )
    party.set_defaults(func=run_command("uep party", _dispatch))
    ps = party.add_subparsers(dest="party_command", required=True)

    p = ps.add_parser("send", help="send an update to a Party record")
    p.add_argument("party", help="the party id (or the record's workflow id)")
    p.add_argument("message", help="e.g. allocate_user_id_range, lodge_instrument")
    p.add_argument("--json", dest="json_payload", metavar="PAYLOAD", help="the payload object")
    p.add_argument("--print-json", dest="as_json", action="store_true", help="print JSON")
    p.set_defaults(party_func=_send)

    p = ps.add_parser("show", help="one Party: roles, credit, security, User IDs, what is due")
    p.add_argument("party", help="the party id (or the record's workflow id)")
    p.add_argument("--json", action="store_true", help="print the state query's JSON")
    p.set_defaults(party_func=_show)

    p = ps.add_parser("list", help="every Party record (Temporal visibility)")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(party_func=_list)
