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
