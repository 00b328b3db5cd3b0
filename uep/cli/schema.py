"""JSON Schemas of every workflow input, update, signal and the state query, from the models.

Generated from the same pydantic models the workflow validates with, so the documentation an
operator reads cannot drift from what the workflow accepts.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from domain.assurance import rules_summary
from domain.commands import MESSAGES, Message, StartCase
from domain.limits import LIMITS
from domain.party.commands import PARTY_MESSAGES, PartyRecordInput
from domain.party.view import PartyView
from domain.principals import EXEMPT_QUERIES, matrix_table
from domain.view import CaseView
from workflows.io import UpdateResult
from workflows.names import PARTY_WORKFLOW_TYPE, STATE_QUERY, WORKFLOW_TYPE, party_record_id
from workflows.party_io import PartyUpdateResult


def _updates_and_signals(messages: dict[str, Message]) -> tuple[dict[str, Any], dict[str, Any]]:
    updates = {
        name: {"sender": m.sender, "summary": m.summary, "schema": m.model.model_json_schema()}
        for name, m in messages.items()
    }
    signals = {
        name: {
            "sender": m.sender,
            "summary": m.summary + " message_id is required on a signal.",
            "schema": m.model.model_json_schema(),
        }
        for name, m in messages.items()
        if m.signal
    }
    return updates, signals


def all_schemas() -> dict[str, Any]:
    """Every message schema, keyed by kind and name; the Party record's under ``party_record``."""
    updates, signals = _updates_and_signals(MESSAGES)
    party_updates, party_signals = _updates_and_signals(PARTY_MESSAGES)
    return {
        "workflow": WORKFLOW_TYPE,
        "input": StartCase.model_json_schema(),
        "updates": updates,
        "update_result": UpdateResult.model_json_schema(),
        "signals": signals,
        "queries": {STATE_QUERY: CaseView.model_json_schema()},
        "senders": {
            "matrix": matrix_table(),
            "exempt_queries": list(EXEMPT_QUERIES),
            "rule": "a Party sends only to its own cases and record; SECAS may record a message "
            "on its sender's behalf where secas_records_on_behalf is true (the event names both)",
        },
        "limits": LIMITS,
        "rules_versions": rules_summary(),
        "party_record": {
            "workflow": PARTY_WORKFLOW_TYPE,
            "workflow_id": party_record_id("<party_id>"),
            "opened_by": "the Party's first role case (signal-with-start); not started by hand",
            "input": PartyRecordInput.model_json_schema(),
            "updates": party_updates,
            "update_result": PartyUpdateResult.model_json_schema(),
            "signals": party_signals,
            "queries": {STATE_QUERY: PartyView.model_json_schema()},
        },
    }


def _schema(args: argparse.Namespace) -> int:
    schemas = all_schemas()
    if args.name:
        found = {
            kind: section[args.name]
            for kind, section in [
                *schemas.items(),
                *((f"party_record.{k}", v) for k, v in schemas["party_record"].items()),
            ]
            if isinstance(section, dict) and args.name in section
        }
        if not found:
            print(f"uep schema: no message named {args.name!r}", file=sys.stderr)
            return 2
        schemas = found
    print(json.dumps(schemas, indent=2, default=str))
    return 0


def add_parser(sub: Any) -> None:
    """Register `uep schema`."""
    p = sub.add_parser("schema", help="print the JSON Schema of every workflow message")
    p.add_argument("name", nargs="?", help="only this update / signal / query")
    p.set_defaults(func=_schema)
