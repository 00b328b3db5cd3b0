"""Activities: the I/O edge of the workflow. Thin, idempotent adapters; no business rules."""
