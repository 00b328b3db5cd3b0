-- The history archive: every closed workflow run's full Temporal history, copied before the
-- namespace's retention deletes it (uep archiver). Append-only and hash-chained per workflow id
-- like the events: `hash` covers the row's fields and the SHA-256 of the history text, chained
-- to the previous run archived for the same workflow id.

CREATE FUNCTION uep_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % table is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TABLE history_archive (
    seq             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id     text        NOT NULL,
    run_id          text        NOT NULL UNIQUE,
    version         integer     NOT NULL CHECK (version > 0),
    workflow_type   text        NOT NULL,
    status          text        NOT NULL,
    started_at      timestamptz NOT NULL,
    closed_at       timestamptz NOT NULL,
    previous_run_id text,
    history_events  integer     NOT NULL,
    -- The history exactly as Temporal returned it (proto JSON), as text so the hash covers
    -- these very bytes (jsonb would reorder keys).
    history         text        NOT NULL,
    history_sha256  text        NOT NULL,
    archived_at     timestamptz NOT NULL,
    prev_hash       text,
    hash            text        NOT NULL,
    UNIQUE (workflow_id, version)
);

CREATE TRIGGER history_archive_no_update_delete BEFORE UPDATE OR DELETE ON history_archive
    FOR EACH ROW EXECUTE FUNCTION uep_refuse_change();
CREATE TRIGGER history_archive_no_truncate BEFORE TRUNCATE ON history_archive
    FOR EACH STATEMENT EXECUTE FUNCTION uep_refuse_change();

-- Where the archiver has got to in Temporal visibility: runs closed at or after this moment
-- (less an overlap for visibility's lag) are looked at again on the next pass.
CREATE TABLE archiver_checkpoint (
    id           boolean     PRIMARY KEY DEFAULT true CHECK (id),
    closed_after timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
