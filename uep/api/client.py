"""A typed client of the HTTP API (httpx) for backend services and `uep case` with
``UEP_API_URL``: the answers are the API's own models; an error is an :class:`ApiError` with
the problem+json body's status, detail, field and what the case waits for."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from uep.api.params import Page, SignalAnswer, StartAnswer, WriteAnswer
from uep.api.problems import ProblemBody

DEFAULT_TIMEOUT = 30.0


class ApiError(Exception):
    """The API answered with a problem (or could not be reached: status 503)."""

    def __init__(self, problem: ProblemBody, retry_after: str | None = None) -> None:
        super().__init__(f"{problem.status} {problem.title}: {problem.detail}")
        self.problem = problem
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        """The HTTP status."""
        return self.problem.status


class UepClient:
    """One API base URL and one token; use ``async with``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        on_behalf_of: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if on_behalf_of:
            headers["X-On-Behalf-Of"] = on_behalf_of
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> UepClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _call(
        self, method: str, path: str, *, key: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else {}
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as err:
            raise ApiError(
                ProblemBody(title="Service unavailable", status=503, detail=str(err))
            ) from None
        if response.status_code >= 400:
            try:
                problem = ProblemBody.model_validate(response.json())
            except ValueError:
                problem = ProblemBody(
                    title=response.reason_phrase,
                    status=response.status_code,
                    detail=response.text[:500],
                )
            raise ApiError(problem, response.headers.get("retry-after"))
        body: dict[str, Any] = response.json()
        return body

    async def start_case(self, start: dict[str, Any], *, key: str | None = None) -> StartAnswer:
        """Start a case (the StartCase input)."""
        return StartAnswer.model_validate(await self._call("POST", "/cases", json=start, key=key))

    async def send(
        self, case_id: str, message: str, payload: dict[str, Any], *, key: str | None = None
    ) -> WriteAnswer:
        """Send one message as an update; the validator's answer comes back."""
        body = await self._call("POST", f"/cases/{case_id}/{message}", json=payload, key=key)
        return WriteAnswer.model_validate(body)

    async def signal(
        self, case_id: str, message: str, payload: dict[str, Any], *, key: str | None = None
    ) -> SignalAnswer:
        """Send one message as a signal (fire-and-forget)."""
        path = f"/cases/{case_id}/{message}/signal"
        return SignalAnswer.model_validate(await self._call("POST", path, json=payload, key=key))

    async def send_to_party(
        self, party_id: str, message: str, payload: dict[str, Any], *, key: str | None = None
    ) -> WriteAnswer:
        """Send one message to a Party record."""
        body = await self._call("POST", f"/parties/{party_id}/{message}", json=payload, key=key)
        return WriteAnswer.model_validate(body)

    async def case(self, case_id: str, *, after_position: int | None = None) -> dict[str, Any]:
        """One case from the case board (waiting for ``after_position`` if given)."""
        params = {} if after_position is None else {"after_position": after_position}
        return await self._call("GET", f"/cases/{case_id}", params=params)

    async def cases(self, **filters: Any) -> Page:
        """The case board (stage, role, party_id, limit, offset)."""
        params = {k: v for k, v in filters.items() if v is not None}
        return Page.model_validate(await self._call("GET", "/cases", params=params))

    async def events(self, case_id: str, *, as_of: str | None = None) -> Page:
        """The case's events (as recorded up to ``as_of``)."""
        params = {} if as_of is None else {"as_of": as_of}
        body = await self._call("GET", f"/cases/{case_id}/events", params=params)
        return Page.model_validate(body)

    async def timeline(self, case_id: str) -> Page:
        """The case's timeline."""
        return Page.model_validate(await self._call("GET", f"/cases/{case_id}/timeline"))
