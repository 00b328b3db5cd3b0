"""Chaos tests: the dev stack under worker kills and a PostgreSQL outage."""
