"""JSON Schemas of every workflow input, update, signal and the state query, from the models.

Generated from the same pydantic models the workflow validates with, so the documentation an
operator reads cannot drift from what the workflow accepts.
"""

from __future__ import annotations

from typing import Any

from domain.commands import MESSAGES, StartCase
from domain.view import CaseView
from workflows.io import UpdateResult
from workflows.names import STATE_QUERY, WORKFLOW_TYPE


def all_schemas() -> dict[str, Any]:
    """Every message schema, keyed by kind and name."""
    updates = {
        name: {"sender": m.sender, "summary": m.summary, "schema": m.model.model_json_schema()}
        for name, m in MESSAGES.items()
    }
    signals = {
        name: {
            "sender": m.sender,
            "summary": m.summary + " message_id is required on a signal.",
            "schema": m.model.model_json_schema(),
        }
        for name, m in MESSAGES.items()
        if m.signal
    }
    return {
        "workflow": WORKFLOW_TYPE,
        "input": StartCase.model_json_schema(),
        "updates": updates,
        "update_result": UpdateResult.model_json_schema(),
        "signals": signals,
        "queries": {STATE_QUERY: CaseView.model_json_schema()},
    }
