-- The append-only event log, its head row (next global position) and User ID claims.

CREATE TABLE events (
    position       bigint      PRIMARY KEY,
    stream_id      text        NOT NULL,
    version        integer     NOT NULL CHECK (version > 0),
    event_id       uuid        NOT NULL UNIQUE,
    type           text        NOT NULL,
    schema_version integer     NOT NULL DEFAULT 1,
    data           jsonb       NOT NULL,
    metadata       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    recorded_at    timestamptz NOT NULL,
    prev_hash      text,
    hash           text        NOT NULL,
    UNIQUE (stream_id, version)
);

-- One row; every append locks it, so positions are assigned gapless and in commit order.
CREATE TABLE event_log_head (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    position bigint  NOT NULL
);
INSERT INTO event_log_head (id, position) VALUES (true, 0);

CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the events table is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Current holders of each User ID; written in the same transaction as the events.
CREATE TABLE user_id_claims (
    user_id    text        NOT NULL,
    party_id   text        NOT NULL,
    role       text        NOT NULL,
    stream_id  text        NOT NULL,
    position   bigint      NOT NULL,
    claimed_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, party_id, role)
);
