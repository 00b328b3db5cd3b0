"""Names shared by the workflow, the worker, the CLI and the dev server: one place for each."""

from __future__ import annotations

from datetime import datetime

from temporalio.common import SearchAttributeKey

from domain.party import record_id

WORKFLOW_TYPE = "UserEntryProcess"
TASK_QUEUE = "uep"
STATE_QUERY = "state"

PARTY_WORKFLOW_TYPE = "PartyRecord"
"""One durable record per SEC Party (workflow id ``uep-party-<party_id>``, same task queue)."""
POSITION_QUERY = "position"
"""Party record query: the credit and security positions for a role on a day."""
CASE_FACTS_QUERY = "party_facts"
"""Role case query: what the Party record records of the case (role, status, User IDs)."""
ROLE_CASE_SIGNAL = "role_case"
"""Poke to a Party record: a role case opened or moved on; the record reads the case."""
PARTY_CHANGED_SIGNAL = "party_changed"
"""Poke to a role case: its Party record changed; the case reads its position."""

SA_PARTY_ID = SearchAttributeKey.for_keyword("UepPartyId")
SA_PARTY_NAME = SearchAttributeKey.for_keyword("UepPartyName")
SA_PARTY_CATEGORY = SearchAttributeKey.for_keyword("UepPartyCategory")
SA_ROLE = SearchAttributeKey.for_keyword("UepRole")
SA_STAGE = SearchAttributeKey.for_keyword("UepStage")
SA_NEXT_DEADLINE: SearchAttributeKey[datetime] = SearchAttributeKey.for_datetime("UepNextDeadline")
SA_MANDATE_DATE: SearchAttributeKey[datetime] = SearchAttributeKey.for_datetime("UepMandateDate")

SEARCH_ATTRIBUTES: dict[str, str] = {
    SA_PARTY_ID.name: "Keyword",
    SA_PARTY_NAME.name: "Keyword",
    SA_PARTY_CATEGORY.name: "Keyword",
    SA_ROLE.name: "Keyword",
    SA_STAGE.name: "Keyword",
    SA_NEXT_DEADLINE.name: "Datetime",
    SA_MANDATE_DATE.name: "Datetime",
}
"""Custom search attributes and their types, as `temporal server start-dev` takes them."""


def party_record_id(party_id: str) -> str:
    """The one workflow id (and event stream) of a Party's record."""
    return record_id(party_id)


def workflow_id(party_id: str, role: str) -> str:
    """The one workflow id of a Party x User Role case: ``uep-<party_id>-<role>``."""
    return f"uep-{party_id}-{role}"


ROLE_NAMES: frozenset[str] = frozenset(
    {
        "import_supplier",
        "export_supplier",
        "gas_supplier",
        "electricity_distributor",
        "gas_transporter",
        "registered_supplier_agent",
        "other_user",
    }
)
"""The role part of a case's workflow id (domain.roles.UserRole's values)."""


def party_of(workflow_type: str, workflow_id: str) -> str | None:
    """The Party a workflow belongs to, read from its id (both id shapes are fixed here)."""
    if workflow_type == PARTY_WORKFLOW_TYPE:
        prefix = party_record_id("")
        return workflow_id[len(prefix) :] if workflow_id.startswith(prefix) else None
    if not workflow_id.startswith("uep-"):
        return None
    head, sep, role = workflow_id[4:].rpartition("-")
    return head if sep and role in ROLE_NAMES else None
