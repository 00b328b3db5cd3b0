"""Temporal workflows: orchestration only; every rule lives in ``domain``."""
