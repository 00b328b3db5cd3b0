"""Errors as ``application/problem+json`` (RFC 9457), and how each fault maps to a status.

Every foreseeable fault has its status: 401 no valid token, 403 a principal the sender matrix
refuses, 404 an unknown case or another Party's, 409 the case's stage does not allow the
message (with what it waits for), 413 a body over the limit, 422 the field and the reason,
503 with ``Retry-After`` when Temporal or PostgreSQL does not answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

PROBLEM = "application/problem+json"
RETRY_AFTER_SECONDS = 5

# refusal type (workflows.errors.Refusal and the domain's codes) -> HTTP status
REFUSAL_STATUS: dict[str, int] = {
    "invalid_input": 422,
    "unauthenticated": 403,
    "forbidden": 403,
    "not_found": 404,
    "duplicate_conflict": 409,
    "user_id_conflict": 409,
    "store_refused": 409,
    "out_of_stage": 409,
    "ineligible": 409,
    "calendar_range": 422,
    "unstorable": 422,
    "not_ready": 503,
    "internal_error": 503,
}


class ProblemBody(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    field: str | None = None
    waiting_for: list[str] | None = None
    request_id: str | None = None


class Problem(Exception):
    """An error the API answers with; raised anywhere in a request."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        field: str | None = None,
        waiting_for: list[str] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.field = field
        self.waiting_for = waiting_for
        self.retry_after = retry_after if retry_after is not None else _retry(status)


_TITLES = {
    400: "Bad request",
    401: "Unauthorised",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    422: "Unprocessable content",
    503: "Service unavailable",
}


def _retry(status: int) -> int | None:
    return RETRY_AFTER_SECONDS if status == 503 else None


def unavailable(what: str) -> Problem:
    """503: a dependency did not answer; try again shortly."""
    return Problem(503, f"{what} did not answer; nothing was recorded by this request")


def problem_response(request: Request | None, problem: Problem) -> JSONResponse:
    """The JSON response for a problem (with the request id, and Retry-After for 503)."""
    request_id = getattr(request.state, "request_id", None) if request is not None else None
    body = ProblemBody(
        title=problem.title,
        status=problem.status,
        detail=problem.detail,
        field=problem.field,
        waiting_for=problem.waiting_for,
        request_id=request_id,
    )
    headers: dict[str, str] = {}
    if problem.retry_after is not None:
        headers["Retry-After"] = str(problem.retry_after)
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=problem.status,
        headers=headers,
        media_type=PROBLEM,
    )


def validation_problem(err: RequestValidationError) -> Problem:
    """422 naming the first problem's field and reason (and how many more)."""
    errors: list[Any] = list(err.errors())
    if not errors:
        return Problem(422, "the request does not fit its schema")
    first = errors[0]
    loc = [str(x) for x in first.get("loc", ()) if x not in ("body",)]
    field = ".".join(loc) or "body"
    reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")[:300]
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return Problem(422, f"{field}: {reason}{more}", field=field)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemBody, "description": title, "content": {PROBLEM: {}}}
    for status, title in _TITLES.items()
    if status not in (400, 405)
}
"""The error responses every endpoint documents in the OpenAPI schema."""
