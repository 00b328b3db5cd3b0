"""The HTTP API end to end: tokens, the sender matrix as HTTP statuses, idempotency, reads,
and every bad input refused with a problem+json body and nothing recorded."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import structlog.testing

from domain.commands import MESSAGES
from domain.party.commands import PARTY_MESSAGES
from domain.principals import PUBLIC_KINDS, SENDER_MATRIX, PrincipalKind
from eventstore.tokens import TokenCache, TokenStore
from tests.api.conftest import KEY, ApiStack, start_body
from tests.pg import random_database_name, with_database
from uep.api.app import create_app
from uep.connect import with_user
from uep.settings import Settings
from workflows.names import workflow_id

PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def started(api: ApiStack, party_id: str | None = None) -> str:
    """A case of the stack's Party (or another), started by SECAS and opened."""
    pid = party_id or api.party_id
    case_id = workflow_id(pid, "gas_supplier")
    response = await api.http.post(
        "/cases", json=start_body(pid), headers=api.auth("secas") | {"Idempotency-Key": pid}
    )
    assert response.status_code in (200, 201), response.text
    handle = api.env.client.get_workflow_handle(case_id)
    for _ in range(2_000):  # each query is a round trip: no sleep
        view = await handle.query("state", result_type=dict)
        if view.get("status") != "opening":
            break
    return case_id


async def test_no_token_no_data(api: ApiStack) -> None:
    problem(await api.http.get("/cases"), 401)
    problem(await api.http.get("/cases", headers={"Authorization": "Bearer uep_x_y"}), 401)
    problem(await api.http.get("/senders", headers={"Authorization": "Basic abc"}), 401)
    assert (await api.http.get("/healthz")).status_code == 200
    assert (await api.http.get("/readyz")).status_code == 200


async def test_readyz_names_each_check_and_refuses_a_store_behind_its_migrations(
    api: ApiStack, api_pg_server: str, tmp_path: Path
) -> None:
    """Ready: PostgreSQL, the migrations and Temporal each say so. On a database no one has
    migrated, 503 names the migrations (an orchestrator then sends it no traffic)."""
    answer = await api.http.get("/readyz")
    body = answer.json()
    assert answer.status_code == 200 and body["service"] == "api" and body["ready"] is True
    assert {n: c["ok"] for n, c in body["checks"].items()} == dict.fromkeys(
        ("postgresql", "migrations", "temporal"), True
    )
    name = random_database_name()
    admin = await asyncpg.connect(api_pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        empty = await asyncpg.create_pool(
            with_database(api_pg_server, name), min_size=1, max_size=2
        )
        key_file = tmp_path / "principal.key"
        key_file.write_text(KEY.hex())
        config = Settings(principal_key_file=key_file)
        app = create_app(config, client=api.env.client, pool=empty)
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as h,
            ):
                behind = await h.get("/readyz")
        finally:
            await empty.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    checks = behind.json()["checks"]
    assert behind.status_code == 503 and behind.json()["ready"] is False
    assert not checks["migrations"]["ok"] and "migration" in checks["migrations"]["detail"]
    assert checks["postgresql"]["ok"] and checks["temporal"]["ok"]


async def test_a_revoked_token_is_refused_within_the_cache_time(
    api: ApiStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Revoked in PostgreSQL (as `uep token revoke` does from another process): the API that
    remembers the token refuses it once its memory of the token is older than the cache time."""
    tokens: TokenCache = api.app.state.services.tokens
    assert tokens.ttl > 0
    token = await api.token("dcc", "dcc")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.http.get("/senders", headers=headers)).status_code == 200
    token_id = token.split("_")[1]
    await api.pool.execute("UPDATE api_tokens SET revoked_at = now() WHERE token_id = $1", token_id)
    assert (await api.http.get("/senders", headers=headers)).status_code == 200  # remembered
    later = tokens.clock() + tokens.ttl
    monkeypatch.setattr(tokens, "clock", lambda: later)
    problem(await api.http.get("/senders", headers=headers), 401)


async def test_only_hashes_are_stored(api: ApiStack) -> None:
    rows = await api.pool.fetch("SELECT token_hash FROM api_tokens")
    stored = {bytes(r["token_hash"]) for r in rows}
    for token in api.tokens.values():
        assert token.encode() not in stored
        assert all(token.encode() not in s for s in stored)


async def test_every_message_as_every_principal_kind(api: ApiStack) -> None:
    case_id = await started(api)
    await api.catch_up()
    party = f"/parties/{api.party_id}"
    before = await api.events(case_id)
    failures = []
    paths = [(n, f"/cases/{case_id}/{n}") for n in MESSAGES]
    paths += [(n, f"{party}/{n}") for n in PARTY_MESSAGES]
    for name, path in paths:
        for kind in PUBLIC_KINDS:
            row = SENDER_MATRIX[name]
            allowed = kind in row.senders or (kind == PrincipalKind.SECAS and row.secas_records)
            # an empty body: the principal is judged before the body is looked at
            response = await api.http.post(path, json={}, headers=api.auth(str(kind)))
            refused = response.status_code in (401, 403, 404)
            if allowed == refused:
                failures.append(f"{name} as {kind}: {response.status_code} {response.text}")
            if refused and response.status_code != 403:
                failures.append(f"{name} as {kind}: {response.status_code}, expected 403")
    assert not failures, failures
    for event in await api.pool.fetch(
        "SELECT metadata FROM events WHERE stream_id = $1 AND version > $2", case_id, before
    ):
        meta = json.loads(event["metadata"])
        name = str(meta.get("command"))
        if name in MESSAGES:  # an empty body that is a whole message was recorded, if allowed
            row = SENDER_MATRIX[name]
            assert PrincipalKind(meta["principal"]["kind"]) in (*row.senders, "secas")


async def test_an_allowed_update_records_the_principal_and_request_id(api: ApiStack) -> None:
    case_id = await started(api, f"p{uuid.uuid4().hex[:10]}")
    response = await api.http.post(
        f"/cases/{case_id}/record_srept_completed",
        json={"effective_on": "2026-01-05"},
        headers=api.auth("dcc") | {"X-Request-Id": "req-srept-1"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["events"] == ["SreptCompleted"]
    stored = await api.pool.fetchrow(
        "SELECT position, metadata FROM events WHERE stream_id = $1 AND type = 'SreptCompleted'",
        case_id,
    )
    assert stored is not None
    # the workflow's answer names the event's own position (no query after the update)
    assert answer["position"] == stored["position"]
    meta = json.loads(stored["metadata"])
    assert meta["principal"]["kind"] == "dcc"
    assert meta["request_id"] == "req-srept-1"
    # read your write: the read waits for the position the write gave
    read = await asyncio.gather(
        api.http.get(
            f"/cases/{case_id}/timeline",
            params={"after_position": answer["position"], "wait": 10},
            headers=api.auth("auditor"),
        ),
        api.catch_up(),
    )
    assert read[0].status_code == 200, read[0].text
    assert any("dcc" in str(line["who"]) for line in read[0].json()["items"])


async def test_secas_on_behalf_of(api: ApiStack) -> None:
    case_id = await started(api, f"p{uuid.uuid4().hex[:10]}")
    response = await api.http.post(
        f"/cases/{case_id}/record_srept_completed",
        json={},
        headers=api.auth("secas") | {"X-On-Behalf-Of": "dcc"},
    )
    assert response.status_code == 200, response.text
    meta = json.loads(
        await api.pool.fetchval(
            "SELECT metadata FROM events WHERE stream_id = $1 AND type = 'SreptCompleted'",
            case_id,
        )
    )
    assert meta["principal"]["kind"] == "secas"
    assert meta["on_behalf_of"]["kind"] == "dcc"
    refused = await api.http.post(
        f"/cases/{case_id}/record_srept_completed",
        json={},
        headers=api.auth("secas") | {"X-On-Behalf-Of": "panel"},
    )
    problem(refused, 403)
    problem(
        await api.http.post(
            f"/cases/{case_id}/withdraw",
            json={"reason": "x"},
            headers=api.auth("dcc") | {"X-On-Behalf-Of": "party:zz"},
        ),
        403,
    )


async def test_a_party_gets_404_for_another_partys_case(api: ApiStack) -> None:
    other = await started(api, f"p{uuid.uuid4().hex[:10]}")
    await api.catch_up()
    before = await api.events(other)
    problem(await api.http.get(f"/cases/{other}", headers=api.auth("party")), 404)
    problem(await api.http.get(f"/cases/{other}/events", headers=api.auth("party")), 404)
    problem(await api.http.get(f"/cases/{other}/timeline", headers=api.auth("party")), 404)
    write = await api.http.post(
        f"/cases/{other}/withdraw", json={"reason": "mine now"}, headers=api.auth("party")
    )
    assert problem(write, 404)["detail"] == "no such case"
    unknown = await api.http.get("/cases/uep-nobody-gas_supplier", headers=api.auth("secas"))
    assert problem(unknown, 404)["detail"] == "no such case"
    board = await api.http.get("/cases", headers=api.auth("party"))
    assert all(r["party_id"] == api.party_id for r in board.json()["items"])
    assert await api.events(other) == before


async def test_an_auditor_reads_everything_and_writes_nothing(api: ApiStack) -> None:
    case_id = await started(api, f"p{uuid.uuid4().hex[:10]}")
    await api.catch_up()
    before = await api.events(case_id)
    for path in ("/cases", f"/cases/{case_id}", f"/cases/{case_id}/events", "/reports/dcc",
                 "/reports/mandates", "/user-ids", "/senders"):  # fmt: skip
        assert (await api.http.get(path, headers=api.auth("auditor"))).status_code == 200, path
    as_of = await api.http.get(
        f"/cases/{case_id}/events",
        params={"as_of": "2000-01-01T00:00:00Z"},
        headers=api.auth("auditor"),
    )
    assert as_of.json()["items"] == []
    for name in ("record_srept_completed", "correct_calendar", "withdraw"):
        response = await api.http.post(
            f"/cases/{case_id}/{name}", json={}, headers=api.auth("auditor")
        )
        problem(response, 403)
    problem(
        await api.http.post("/cases", json=start_body("audx"), headers=api.auth("auditor")), 403
    )
    assert await api.events(case_id) == before


async def test_same_idempotency_key_twice_records_once(api: ApiStack) -> None:
    case_id = await started(api, f"p{uuid.uuid4().hex[:10]}")
    before = await api.events(case_id)
    headers = api.auth("dcc") | {"Idempotency-Key": "srept-once"}
    first = await api.http.post(
        f"/cases/{case_id}/record_srept_completed", json={}, headers=headers
    )
    again = await api.http.post(
        f"/cases/{case_id}/record_srept_completed", json={}, headers=headers
    )
    assert first.status_code == again.status_code == 200
    assert first.json()["events"] == again.json()["events"] == ["SreptCompleted"]
    assert first.json()["position"] == again.json()["position"] is not None
    assert await api.events(case_id) == before + 1


async def test_twenty_concurrent_duplicates_record_one_event(api: ApiStack) -> None:
    case_id = await started(api, f"p{uuid.uuid4().hex[:10]}")
    before = await api.events(case_id)
    headers = api.auth("secas") | {"Idempotency-Key": "calendar-fix-1"}
    body = {"add_holidays": ["2030-01-02"]}
    answers = await asyncio.gather(
        *(
            api.http.post(f"/cases/{case_id}/correct_calendar", json=body, headers=headers)
            for _ in range(20)
        )
    )
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    assert await api.events(case_id) == before + 1


async def test_bad_input_is_422_and_records_nothing(api: ApiStack) -> None:
    case_id = await started(api, f"p{uuid.uuid4().hex[:10]}")
    before = await api.events(case_id)
    url = f"/cases/{case_id}/correct_calendar"
    auth = api.auth("secas")
    cases = [
        {"add_holidays": ["2030-02-30"]},  # impossible date
        {"add_holidays": "2030-01-02"},  # wrong type
        {"add_holidays": ["2030-01-02"], "typo": 1},  # unknown field
        {"add_holidays": [True]},
    ]
    for body in cases:
        got = problem(await api.http.post(url, json=body, headers=auth), 422)
        assert got["field"], got
    malformed = await api.http.post(
        url, content=b"{not json", headers=auth | {"content-type": "application/json"}
    )
    problem(malformed, 422)
    huge = {"add_holidays": ["2030-01-02"], "actor": "x" * 100_000}
    problem(await api.http.post(url, json=huge, headers=auth), 413)
    out_of_stage = await api.http.post(
        f"/cases/{case_id}/issue_test_certificate",
        json={"certificate_ref": "T1"},
        headers=api.auth("dcc"),
    )
    got = problem(out_of_stage, 409)
    assert got["waiting_for"]
    assert await api.events(case_id) == before


async def test_token_table_grants_are_least_privilege(api: ApiStack, api_database: str) -> None:
    auditor = await asyncpg.connect(with_user(api_database, "uep_auditor"))
    try:
        assert await auditor.fetchval("SELECT count(*) FROM (SELECT token_id FROM api_tokens) t")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await auditor.fetchval("SELECT token_hash FROM api_tokens LIMIT 1")
    finally:
        await auditor.close()
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await api.pool.execute("DELETE FROM api_tokens")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await api.pool.execute("UPDATE api_tokens SET kind = 'admin'")


async def test_postgresql_down_is_503_with_retry_after(api: ApiStack) -> None:
    """A pool on a port where nothing listens: the token lookup and the reads answer 503."""
    from uep.api.app import create_app
    from uep.devstack.postgres import free_port
    from uep.settings import Settings

    gone = await asyncpg.create_pool(
        f"postgresql://uep_app@127.0.0.1:{free_port()}/postgres", min_size=0, max_size=1
    )
    services = api.app.state.services
    app = create_app(Settings(), client=services.client, pool=gone)
    app.state.services = type(services)(
        services.client, gone, TokenCache(TokenStore(gone), ttl=10), services.task_queue
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.get("/cases", headers=api.auth("secas"))
    body = problem(response, 503)
    assert response.headers["retry-after"]
    assert "PostgreSQL" in body["detail"]
    await gone.close()


async def test_temporal_down_is_503_and_nothing_recorded(api: ApiStack) -> None:
    """A Temporal server stopped under the API: a write answers 503 with Retry-After."""
    from temporalio.client import Client
    from temporalio.service import RetryConfig

    from tests.workflows.conftest import time_skipping_server
    from uep.api.app import create_app
    from uep.converter import DATA_CONVERTER
    from uep.principal import PrincipalHeaders
    from uep.settings import Settings

    case_id = workflow_id(f"p{uuid.uuid4().hex[:10]}", "gas_supplier")
    async with time_skipping_server() as doomed:
        client = await Client.connect(
            doomed.client.service_client.config.target_host,
            namespace=doomed.client.namespace,
            data_converter=DATA_CONVERTER,
            interceptors=[PrincipalHeaders(b"k" * 32)],
            retry_config=RetryConfig(max_retries=1),  # fail fast here; the service retries more
        )
    services = api.app.state.services
    app = create_app(Settings(), client=client, pool=api.pool)
    app.state.services = type(services)(client, api.pool, services.tokens, services.task_queue)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.post(
            f"/cases/{case_id}/record_srept_completed", json={}, headers=api.auth("dcc")
        )
    problem(response, 503)
    assert response.headers["retry-after"]
    assert await api.events(case_id) == 0


async def test_the_typed_client(api: ApiStack) -> None:
    from uep.api.client import ApiError, UepClient

    pid = f"p{uuid.uuid4().hex[:10]}"
    transport = httpx.ASGITransport(app=api.app)
    async with UepClient("http://api", api.tokens["secas"], transport=transport) as secas:
        started_case = await secas.start_case(start_body(pid), key=f"start-{pid}")
        assert started_case.case_id == workflow_id(pid, "gas_supplier")
        again = await secas.start_case(start_body(pid), key=f"start-{pid}")
        assert again.already_open
    case_id = await started(api, pid)
    async with UepClient(
        "http://api", api.tokens["secas"], on_behalf_of="dcc", transport=transport
    ) as dcc:
        answer = await dcc.send(case_id, "record_srept_completed", {}, key="typed-1")
        assert answer.events == ["SreptCompleted"]
    async with UepClient("http://api", api.tokens["ofgem"], transport=transport) as ofgem:
        with pytest.raises(ApiError) as refused:
            await ofgem.send(case_id, "withdraw", {"reason": "no"})
    assert refused.value.status == 403


async def test_an_update_that_meets_a_run_handing_over_is_taken_by_the_next_run(
    api: ApiStack,
) -> None:
    """A case continues as new (a low event limit in its memo, ten refused signals); an update
    sent to the run that handed over is refused by Temporal ("already completed") and asked
    again, once, at the case's current run, which takes it."""
    from temporalio.api.enums.v1 import EventType

    from domain.principals import Principal
    from uep.principal import signing_as
    from uep.updates import execute_update
    from workflows import limits
    from workflows.names import WORKFLOW_TYPE

    client = api.app.state.services.client
    pid = f"p{uuid.uuid4().hex[:10]}"
    secas = Principal(kind=PrincipalKind.SECAS, id="secas", name="SECAS")
    with signing_as(secas):
        handle = await client.start_workflow(
            WORKFLOW_TYPE,
            start_body(pid),
            id=workflow_id(pid, "gas_supplier"),
            task_queue=api.app.state.services.task_queue,
            memo={limits.MEMO_EVENTS_LIMIT: 1},
        )
        first_run = client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
        for n in range(limits.MIN_TAKEN_PER_RUN):
            await handle.signal("verify_evidence", {"requirement": "uept", "message_id": f"v{n}"})
        handed_over = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        for _ in range(2_000):  # each look a round trip: no sleep
            history = await first_run.fetch_history()
            if history.events[-1].event_type == handed_over:
                break
        assert history.events[-1].event_type == handed_over
        before = await api.events(handle.id)
        result = await execute_update(
            client, first_run, "correct_calendar", {"add_holidays": ["2031-01-02"]}, "cal-1"
        )
    assert result["events"] == ["CalendarCorrected"]
    assert await api.events(handle.id) == before + 1


async def test_probes_answered_200_are_not_logged_and_requests_are(api: ApiStack) -> None:
    """An orchestrator asks /healthz and /readyz every few seconds: a 200 there is not worth a
    log line; any other request is logged once, with its route and status."""
    with structlog.testing.capture_logs() as logged:
        assert (await api.http.get("/healthz")).status_code == 200
        assert (await api.http.get("/readyz")).status_code == 200
        assert (await api.http.get("/senders", headers=api.auth("secas"))).status_code == 200
        problem(await api.http.get("/cases"), 401)
    requests = [(e["route"], e["status"]) for e in logged if e["event"] == "request"]
    assert requests == [("/senders", 200), ("/cases", 401)]
