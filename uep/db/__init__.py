"""Which PostgreSQL we talk to, its schema migrations and connection pools."""
