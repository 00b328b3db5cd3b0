"""Read models over real domain events: case board, DCC deadlines, mandates, registry, timeline."""

from __future__ import annotations

import json
from datetime import date
from uuid import uuid4

import asyncpg
import pytest

from domain import commands as c
from domain import events as ev
from domain.decider import start_case
from domain.history import fold_stored, view_as_of
from domain.roles import PartyProfile, UserRole
from domain.state import CaseState
from eventstore.models import NewEvent
from eventstore.postgres import PostgresEventStore
from projections import case_board, case_timeline, dcc_deadlines, mandates, user_id_registry
from projections.projector import Projection, Projector
from uep.cli.report import case_calendars, dcc_steps_today

READ_MODELS = [
    case_board.PROJECTION,
    dcc_deadlines.PROJECTION,
    mandates.PROJECTION,
    user_id_registry.PROJECTION,
    case_timeline.PROJECTION,
]
UID = "90b3d51f30010000"
START = date(2025, 6, 2)


def party(party_id: str, name: str) -> PartyProfile:
    """A small supplier with both supply licences."""
    return PartyProfile.model_validate(
        {
            "party_id": party_id,
            "party_name": name,
            "category": "small_supplier",
            "licences": ["gas_supply", "electricity_supply"],
        }
    )


def stored(events: list[ev.Event]) -> list[NewEvent]:
    """Domain events as the workflow stores them: type = class name, data = JSON dump."""
    return [
        NewEvent(
            event_id=uuid4(),
            type=type(e).__name__,
            schema_version=e.schema_version,
            data=ev.event_to_data(e),
            metadata={"actor": "operator@secas"},
        )
        for e in events
    ]


def completed_case(case_id: str) -> list[ev.Event]:
    """A gas supplier case through UEPT (DCC late on receipt by two Working Days) to completion."""
    started = start_case(
        c.StartCase(
            party=party("acme", "Acme Energy"), role=UserRole.GAS_SUPPLIER, started_on=START
        ),
        case_id,
        START,
    )
    return [
        *started,
        ev.UserIdProposed(effective_on=date(2025, 6, 3), user_id=UID),
        ev.UserIdAccepted(effective_on=date(2025, 6, 5), user_id=UID),
        ev.TestCompletionReportSubmitted(
            effective_on=date(2025, 9, 1), cycle=1, receipt_due_on=date(2025, 9, 3)
        ),
        ev.TestCompletionReportReceiptConfirmed(
            effective_on=date(2025, 9, 5), cycle=1, review_due_on=date(2025, 9, 12)
        ),
        ev.UeptReviewConcluded(effective_on=date(2025, 9, 10), cycle=1, outcome="concluded"),
        ev.QualityGateMeetingHeld(
            effective_on=date(2025, 9, 15),
            cycle=1,
            successful=True,
            certificate_due_on=date(2025, 9, 17),
        ),
        ev.TestCompletionCertificateIssued(
            effective_on=date(2025, 9, 16), cycle=1, certificate_ref="TCC-1"
        ),
        ev.UserEntryProcessCompleted(effective_on=date(2025, 10, 1), user_id=UID),
    ]


def withdrawn_case(case_id: str) -> list[ev.Event]:
    """Another Party proposes an id, then withdraws."""
    started = start_case(
        c.StartCase(party=party("beta", "Beta Power"), role=UserRole.OTHER_USER, started_on=START),
        case_id,
        START,
    )
    return [
        *started,
        ev.UserIdProposed(effective_on=date(2025, 6, 4), user_id="90b3d51f30020000"),
        ev.CaseWithdrawn(effective_on=date(2025, 7, 1), reason="changed plans"),
    ]


@pytest.fixture
async def built(pg_store: PostgresEventStore, pool: asyncpg.Pool) -> Projector:
    """Both cases stored (plus a non-domain stream) and every read model caught up."""
    await pg_store.append(
        "uep-acme-gas_supplier", stored(completed_case("uep-acme-gas_supplier")), 0
    )
    await pg_store.append("uep-beta-other_user", stored(withdrawn_case("uep-beta-other_user")), 0)
    await pg_store.append(
        "not-a-case", [NewEvent(event_id=uuid4(), type="SomethingElse", data={})], 0
    )
    projector = Projector(pool, READ_MODELS, batch_size=4)
    await projector.setup()
    await projector.catch_up()
    return projector


async def test_case_board(built: Projector, pool: asyncpg.Pool) -> None:
    rows = {r["case_id"]: r for r in await pool.fetch("SELECT * FROM case_board")}

    acme = rows["uep-acme-gas_supplier"]
    assert set(rows) == {"uep-acme-gas_supplier", "uep-beta-other_user"}
    assert (acme["party_name"], acme["role"], acme["status"]) == (
        "Acme Energy",
        "gas_supplier",
        "completed",
    )
    assert acme["completed_on"] == date(2025, 10, 1)
    assert acme["user_id"] == UID
    assert acme["version"] == 9
    requirements = json.loads(acme["requirements"])
    assert requirements["user_id"] == {"status": "accepted", "met": True, "verified_on": None}
    assert requirements["uept"]["status"] == "certified"
    assert rows["uep-beta-other_user"]["status"] == "withdrawn"
    assert rows["uep-beta-other_user"]["stage"] == "withdrawn"


async def test_dcc_deadlines(built: Projector, pool: asyncpg.Pool) -> None:
    rows = await pool.fetch(
        "SELECT step, due_on, done_on, status, working_days_late FROM dcc_deadlines "
        "ORDER BY opened_on, step"
    )

    assert [tuple(r) for r in rows] == [
        ("report_receipt", date(2025, 9, 3), date(2025, 9, 5), "missed", 2),
        ("report_review", date(2025, 9, 12), date(2025, 9, 10), "met", 0),
        ("certificate", date(2025, 9, 17), date(2025, 9, 16), "met", 0),
    ]


async def test_mandates(built: Projector, pool: asyncpg.Pool) -> None:
    rows = {r["party_id"]: r for r in await pool.fetch("SELECT * FROM mandates")}

    assert rows["acme"]["completed_on"] == date(2025, 10, 1)
    assert rows["acme"]["role"] == "gas_supplier"
    # a Small domestic Supplier's mandate fell due on 25 Nov 2017; Acme completed in 2025
    assert (rows["acme"]["mandate_due_on"], rows["acme"]["status"]) == (
        date(2017, 11, 25),
        "breached",
    )
    assert rows["beta"]["completed_on"] is None
    assert rows["beta"]["case_status"] == "withdrawn"


async def test_mandate_met_by_completing_before_the_due_date(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    """A Large Supplier that completed on 2 May 2017 met its 25 May 2017 mandate."""
    case_id = "uep-gamma-import_supplier"
    opened = date(2017, 1, 9)
    profile = PartyProfile.model_validate(
        {
            "party_id": "gamma",
            "party_name": "Gamma Supply",
            "category": "large_supplier",
            "licences": ["electricity_supply"],
        }
    )
    started = start_case(
        c.StartCase(party=profile, role=UserRole.IMPORT_SUPPLIER, started_on=opened),
        case_id,
        opened,
    )
    completed = ev.UserEntryProcessCompleted(effective_on=date(2017, 5, 2), user_id=UID)
    await pg_store.append(case_id, stored([*started, completed]), 0)
    projector = Projector(pool, [mandates.PROJECTION], batch_size=4)
    await projector.setup()
    await projector.catch_up()

    row = await pool.fetchrow("SELECT * FROM mandates WHERE case_id = $1", case_id)

    assert row is not None
    assert (row["mandate_due_on"], row["completed_on"], row["status"]) == (
        date(2017, 5, 25),
        date(2017, 5, 2),
        "met",
    )


async def test_user_id_registry(built: Projector, pool: asyncpg.Pool) -> None:
    rows = {
        r["party_id"]: (r["user_id"], r["status"])
        for r in await pool.fetch("SELECT * FROM user_id_registry")
    }

    assert rows == {"acme": (UID, "in_use"), "beta": ("90b3d51f30020000", "released")}


async def test_case_timeline(built: Projector, pool: asyncpg.Pool) -> None:
    lines = await pool.fetch(
        "SELECT version, who, what FROM case_timeline WHERE case_id = $1 ORDER BY version",
        "uep-acme-gas_supplier",
    )

    assert [r["version"] for r in lines] == list(range(1, 10))
    assert lines[0]["what"] == "Case started: Acme Energy as gas_supplier"
    assert lines[1]["what"] == f"User id proposed (user id {UID})"
    assert all(r["who"] == "operator@secas" for r in lines)


@pytest.mark.parametrize("projection", READ_MODELS, ids=lambda p: p.name)
async def test_rebuilt_read_model_equals_incremental(
    built: Projector, pool: asyncpg.Pool, projection: Projection
) -> None:
    key = "position" if projection.name == "case_timeline" else "1, 2, 3"
    query = f"SELECT * FROM {projection.table} ORDER BY {key}"
    incremental = [tuple(r) for r in await pool.fetch(query)]

    await built.rebuild(projection.name, batch_size=3)

    assert incremental
    assert [tuple(r) for r in await pool.fetch(query)] == incremental


async def test_case_view_and_dcc_report_agree_on_the_scotland_calendar(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    """Receipt due Wed 31 Dec 2025, confirmed Mon 5 Jan 2026: 1 Working Day late in Scotland
    (Fri 2 Jan is a Scottish bank holiday), 2 on the England and Wales calendar."""
    case_id = "uep-scot-gas_supplier"
    opened = date(2025, 6, 2)
    profile = party("scot", "Scot Gas")
    started = start_case(
        c.StartCase(
            party=profile,
            role=UserRole.GAS_SUPPLIER,
            started_on=opened,
            calendar_region="scotland",
        ),
        case_id,
        opened,
    )
    events = [
        *started,
        ev.TestCompletionReportSubmitted(
            effective_on=date(2025, 12, 29), cycle=1, receipt_due_on=date(2025, 12, 31)
        ),
        ev.DccDeadlineMissed(
            effective_on=date(2026, 1, 1),
            step="report_receipt",
            cycle=1,
            due_on=date(2025, 12, 31),
        ),
        ev.TestCompletionReportReceiptConfirmed(
            effective_on=date(2026, 1, 5), cycle=1, review_due_on=date(2026, 1, 12)
        ),
    ]
    await pg_store.append(case_id, stored(events), 0)
    projector = Projector(pool, [dcc_deadlines.PROJECTION], batch_size=2)
    await projector.setup()
    await projector.catch_up()
    today = date(2026, 1, 20)

    shown = view_as_of(fold_stored(await pg_store.read_stream(case_id)) or _no_case(), today)
    states = [dict(r) for r in await pool.fetch("SELECT * FROM dcc_deadlines_cases")]
    rows = [
        dict(r)
        for r in await pool.fetch(
            "SELECT case_id, step, cycle, opened_on, due_on, done_on, reported_missed "
            "FROM dcc_deadlines ORDER BY opened_on"
        )
    ]
    reported = dcc_steps_today(rows, case_calendars(states, today), today)

    assert [(s.step, s.status, s.working_days_late) for s in shown.dcc_steps] == [
        ("report_receipt", "missed", 1),
        ("report_review", "overdue", 6),
    ]
    assert [(r["step"], r["status"], r["working_days_late"]) for r in reported] == [
        (s.step, s.status, s.working_days_late) for s in shown.dcc_steps
    ]


def _no_case() -> CaseState:
    raise AssertionError("the stream folded to no case")


async def test_party_board_counts_one_guarantee_for_three_roles(
    pg_store: PostgresEventStore, pool: asyncpg.Pool
) -> None:
    """The Party record's stream folds into one board row: three roles, one guarantee counted
    once, judged on the day its last event was stored (so a rebuild gives the same row)."""
    from domain.party import commands as pc
    from domain.party import events as pe
    from domain.party import record_id
    from domain.party.decider import decide_party, open_party
    from domain.party.state import fold_party
    from projections import party_board

    pid = f"p{uuid4().hex[:10]}"
    on = date(2026, 3, 2)
    profile = {
        "party_id": pid,
        "party_name": "Tri Energy plc",
        "category": "large_supplier",
        "licences": ["gas_supply", "electricity_supply"],
    }
    events: list[pe.PartyEvent] = list(
        open_party(pc.PartyRecordInput.model_validate({"party": profile}), on)
    )
    commands: list[c.Command] = [
        *(
            pc.RecordRoleCase(role=role, case_id=f"uep-{pid}-{role}", status="open")
            for role in (UserRole.IMPORT_SUPPLIER, UserRole.EXPORT_SUPPLIER, UserRole.GAS_SUPPLIER)
        ),
        pc.NotifyPartyCreditCover.model_validate({"requirement": "48000", "threshold": "2400"}),
        pc.LodgeInstrument.model_validate(
            {
                "reference": "BG-1",
                "instrument": {
                    "form": "bank_guarantee",
                    "amount": "50000",
                    "expires_on": "2099-01-04",
                },
            }
        ),
        pc.AssessPartyCredit(),
    ]
    for command in commands:
        state = fold_party(events)
        assert state is not None
        events += decide_party(state, command, on)
    record = record_id(pid)
    await pg_store.append(
        record,
        [
            NewEvent(
                event_id=uuid4(),
                type=type(e).__name__,
                schema_version=1,
                data=pe.party_event_to_data(e),
                metadata={"actor": "test"},
            )
            for e in events
        ],
        expected_version=0,
    )
    projector = Projector(pool, [party_board.PROJECTION], batch_size=3)
    await projector.setup()
    await projector.catch_up()
    row = await pool.fetchrow("SELECT * FROM party_board WHERE party_id = $1", pid)
    assert row is not None
    assert row["record_id"] == record and row["party_name"] == "Tri Energy plc"
    roles = json.loads(row["roles"])
    assert [r["role"] for r in roles] == ["import_supplier", "export_supplier", "gas_supplier"]
    assert row["credit_met"] is True and row["instruments"] == 1
    assert "50,000.00" in row["credit_reason"] and "48,000.00" in row["credit_reason"]
    assert row["version"] == len(events)
