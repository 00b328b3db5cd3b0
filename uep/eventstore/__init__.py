"""The PostgreSQL event store: append-only, hash-chained, gapless global positions."""
