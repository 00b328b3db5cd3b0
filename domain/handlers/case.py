"""Commands on the case as a whole: withdrawal, and corrections of its Working-Day calendar."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain import events as ev
from domain.assurance import rules_for
from domain.calendar import WorkingDayCalendar
from domain.deadlines import STEP_WORKING_DAYS
from domain.errors import InvalidInputError
from domain.handlers.uept import uept_earliest_start
from domain.state import CaseState


def withdraw(
    state: CaseState, cmd: c.WithdrawCase, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """The Party withdraws; its User ID claim is released with the event."""
    return [ev.CaseWithdrawn(effective_on=on, reason=cmd.reason)]


def correct_calendar(
    state: CaseState, cmd: c.CorrectCalendar, on: date, cal: WorkingDayCalendar
) -> list[ev.Event]:
    """Change the non-working days and recompute every open DCC deadline."""
    if not cmd.add_holidays and not cmd.remove_holidays:
        raise InvalidInputError("give add_holidays or remove_holidays", field="add_holidays")
    for d in [*cmd.add_holidays, *cmd.remove_holidays]:
        if not cal.first_year <= d.year <= cal.last_year:
            raise InvalidInputError(
                f"{d.isoformat()} is outside the calendar's years {cal.first_year}-{cal.last_year}",
                field="add_holidays",
            )
    new = cal.corrected(cmd.add_holidays, cmd.remove_holidays)
    recomputed = {
        f"{s.step}:{s.cycle}": new.add_working_days(s.opened_on, STEP_WORKING_DAYS[s.step])
        for s in state.uept.dcc_steps
        if s.done_on is None
    }
    earliest = None
    u = state.uept
    if state.revision >= 2 and u.phase == "notice_given" and u.notice_given_on is not None:
        earliest = uept_earliest_start(state, u.notice_given_on, new)
    return [
        ev.CalendarCorrected(
            effective_on=on,
            added_holidays=sorted(cmd.add_holidays),
            removed_holidays=sorted(cmd.remove_holidays),
            recomputed=recomputed,
            earliest_start_on=earliest,
        )
    ]


def change_rules_version(
    state: CaseState, cmd: c.ChangeRulesVersion, on: date, _: WorkingDayCalendar
) -> list[ev.Event]:
    """Move the case onto a newer rules version in force on the effective date. A status the
    new version does not have (MP112 renamed two privacy statuses) must be set again first."""
    current, target = rules_for(state.rules_version), rules_for(cmd.rules_version)
    if target.version == current.version:
        raise InvalidInputError(
            f"the case already runs under {target.version.value}", field="rules_version"
        )
    if target.effective_from <= current.effective_from:
        raise InvalidInputError(
            f"{target.version.value} (in force from {target.effective_from}) is not newer than "
            f"{current.version.value} (from {current.effective_from}): a case moves forward only",
            field="rules_version",
        )
    if on < target.effective_from:
        raise InvalidInputError(
            f"{target.version.value} is in force from {target.effective_from}, after the "
            f"effective date {on}",
            field="rules_version",
        )
    privacy = state.privacy.status
    if state.privacy.applicable and privacy is not None and privacy not in target.privacy_statuses:
        raise InvalidInputError(
            f"the privacy status {privacy.value!r} does not exist under {target.version.value}; "
            "the Panel's status must be restated under the new version's names before the move",
            field="rules_version",
        )
    return [
        ev.RulesVersionChanged(
            effective_on=on,
            from_version=current.version,
            to_version=target.version,
            reason=cmd.reason,
        )
    ]
