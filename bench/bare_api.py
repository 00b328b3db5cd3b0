"""The bare FastAPI app bench/api.py serves as its baseline: one constant endpoint.

.venv/bin/python -m uvicorn bare_api:app --app-dir bench --port PORT
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/cases/{case_id}")
async def read(case_id: str) -> dict[str, str]:
    """What a read returns, without a token, a database or a model."""
    return {"case_id": case_id}
