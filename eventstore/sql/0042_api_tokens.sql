-- API tokens (`uep token create|list|revoke`, `uep api`). Only a token's SHA-256 is kept: the
-- token itself is printed once, at creation. A token names the principal it speaks for (kind,
-- id, display name). Tokens are revoked, never deleted, so the record of who could write stays.

CREATE TABLE api_tokens (
    token_id      text        PRIMARY KEY,
    token_hash    bytea       NOT NULL UNIQUE,
    kind          text        NOT NULL,
    principal_id  text        NOT NULL,
    name          text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CHECK (kind IN ('party', 'dcc', 'secas', 'panel', 'user_cio', 'ofgem', 'auditor', 'admin')),
    CHECK (octet_length(token_hash) = 32)
);

-- The application (the API and the `uep token` commands) creates, reads, marks used and
-- revokes; it never deletes nor rewrites a token's hash or principal.
REVOKE ALL ON api_tokens FROM PUBLIC;
GRANT SELECT, INSERT ON api_tokens TO uep_app;
GRANT UPDATE (last_used_at, revoked_at) ON api_tokens TO uep_app;
-- The auditor sees who holds tokens, not their hashes (default privileges gave it the table).
REVOKE ALL ON api_tokens FROM uep_auditor;
GRANT SELECT (token_id, kind, principal_id, name, created_at, last_used_at, revoked_at)
    ON api_tokens TO uep_auditor;
