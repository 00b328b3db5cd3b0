"""SECAS moves a running case onto a newer rules version: forward only, once in force, and never
past a privacy status the new version does not have."""

from __future__ import annotations

from datetime import date

import pytest

from domain import commands as c
from domain import events as ev
from domain.assurance import AssuranceStatus, RulesVersion
from domain.errors import DomainError
from domain.roles import UserRole
from domain.state import fold
from tests.unit.test_decider import given, started, when

REASON = "MP112 implemented"


def move(to: RulesVersion) -> c.ChangeRulesVersion:
    return c.ChangeRulesVersion(rules_version=to, reason=REASON)


def test_a_case_moves_onto_mp112_and_its_privacy_statuses_follow() -> None:
    state = given(started(UserRole.OTHER_USER, rules=RulesVersion.GUIDANCE_2018))
    events = when(state, move(RulesVersion.MP112))
    assert events == [
        ev.RulesVersionChanged(
            effective_on=date(2026, 11, 23),
            from_version=RulesVersion.GUIDANCE_2018,
            to_version=RulesVersion.MP112,
            reason=REASON,
        )
    ]
    moved = fold(events, state)
    assert moved is not None and moved.rules_version == RulesVersion.MP112


@pytest.mark.parametrize(
    ("start", "to", "words"),
    [
        (RulesVersion.MP112, RulesVersion.MP112, "already runs under mp112"),
        (RulesVersion.MP112, RulesVersion.GUIDANCE_2018, "a case moves forward only"),
    ],
)
def test_same_or_older_versions_are_refused(
    start: RulesVersion, to: RulesVersion, words: str
) -> None:
    state = given(started(UserRole.OTHER_USER, rules=start))
    with pytest.raises(DomainError) as refused:
        when(state, move(to))
    assert words in str(refused.value) and refused.value.field == "rules_version"


def test_a_version_not_yet_in_force_on_the_effective_date_is_refused() -> None:
    state = given(started(UserRole.OTHER_USER, rules=RulesVersion.GUIDANCE_2018))
    in_2019 = state.model_copy(update={"started_on": date(2019, 1, 2)})
    backdated = c.ChangeRulesVersion(
        rules_version=RulesVersion.MP112, reason=REASON, effective_on=date(2020, 11, 28)
    )
    with pytest.raises(DomainError) as too_soon:
        when(in_2019, backdated)
    assert "is in force from 2020-11-29, after the effective date 2020-11-28" in str(too_soon.value)
    on_the_day = backdated.model_copy(update={"effective_on": date(2020, 11, 29)})
    assert when(in_2019, on_the_day)[0].type == "RulesVersionChanged"


def test_a_privacy_status_the_new_version_lacks_must_be_restated_first() -> None:
    state = given(started(UserRole.OTHER_USER, rules=RulesVersion.GUIDANCE_2018))
    held = state.model_copy(
        update={
            "privacy": state.privacy.model_copy(
                update={"status": AssuranceStatus.PROVISIONALLY_APPROVED}
            )
        }
    )
    with pytest.raises(DomainError) as refused:
        when(held, move(RulesVersion.MP112))
    assert "'provisionally_approved' does not exist under mp112" in str(refused.value)
