"""The event store: port and records, the PostgreSQL and in-memory stores, hashing, checkpoints."""
