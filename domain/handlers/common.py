"""Rules shared by every step: effective dates, open cases, paused steps, refusals."""

from __future__ import annotations

from datetime import date

from domain.errors import InvalidInputError, OutOfStageError
from domain.limits import PLANNED_YEARS_MAX
from domain.progress import waiting_for
from domain.state import CaseState

# -- helpers ------------------------------------------------------------------------------


def effective_date(
    given: date | None, today: date, not_before: date | None, what: str = "the case started"
) -> date:
    """Facts take effect when they happened: never in the future, never before ``what``."""
    on = given or today
    if on > today:
        raise InvalidInputError(
            f"{on.isoformat()} is in the future (today is {today.isoformat()}); "
            "record a fact once it has happened",
            field="effective_on",
        )
    if not_before is not None and on < not_before:
        raise InvalidInputError(
            f"{on.isoformat()} is before {what} on {not_before.isoformat()}",
            field="effective_on",
        )
    return on


def require_open(state: CaseState) -> None:
    """Refuse anything on a completed or withdrawn case."""
    if state.status == "completed":
        raise OutOfStageError(
            f"the case completed on {state.completed_on}; nothing more can be recorded on it"
        )
    if state.status == "withdrawn":
        raise OutOfStageError(
            f"the case was withdrawn on {state.withdrawn_on}; start a new case to try again"
        )


def require_not_paused(state: CaseState, area: str) -> None:
    """Refuse a step paused by a dispute with the Panel or Ofgem (H1.13)."""
    for d in state.disputes:
        if d.subject == area and d.pauses:
            who = "the SEC Panel" if d.phase == "with_panel" else "Ofgem"
            raise OutOfStageError(
                f"the {area} step is paused by dispute {d.dispute_id} until {who} determines it",
                waiting_for=[f"{who}'s determination of dispute {d.dispute_id}"],
            )


def not_too_far_ahead(planned: date, on: date, field: str) -> None:
    """Refuse a planned date more years ahead of its notice than any real plan (a typo)."""
    try:
        limit = on.replace(year=on.year + PLANNED_YEARS_MAX)
    except ValueError:  # 29 February
        limit = on.replace(year=on.year + PLANNED_YEARS_MAX, day=28)
    if planned > limit:
        raise InvalidInputError(
            f"{planned.isoformat()} is more than {PLANNED_YEARS_MAX} years after "
            f"{on.isoformat()}; check the date",
            field=field,
        )


def stage_error(state: CaseState, message: str) -> OutOfStageError:
    """An out-of-stage refusal that lists what the case is waiting for."""
    return OutOfStageError(message, waiting_for=waiting_for(state))


def not_before(on: date, earlier: date | None, what: str) -> None:
    """Refuse a fact dated before the fact it follows."""
    if earlier is not None and on < earlier:
        raise InvalidInputError(
            f"{on.isoformat()} is before {what} on {earlier.isoformat()}", field="effective_on"
        )
