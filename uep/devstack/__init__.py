"""`uep dev`: the whole stack on one machine (Temporal, embedded PostgreSQL, worker, projector)."""
