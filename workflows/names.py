"""Names shared by the workflow, the worker, the CLI and the dev server: one place for each."""

from __future__ import annotations

from datetime import datetime

from temporalio.common import SearchAttributeKey

WORKFLOW_TYPE = "UserEntryProcess"
TASK_QUEUE = "uep"
STATE_QUERY = "state"

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


def workflow_id(party_id: str, role: str) -> str:
    """The one workflow id of a Party x User Role case: ``uep-<party_id>-<role>``."""
    return f"uep-{party_id}-{role}"
