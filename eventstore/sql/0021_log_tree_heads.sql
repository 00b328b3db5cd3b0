-- Whole-log checkpoints: signed tree heads (RFC 9162 shape) over the events' hashes in global
-- position order, and the leaves they were computed from. Both append-only.

CREATE TABLE log_tree_heads (
    seq             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tree_size       bigint      NOT NULL UNIQUE CHECK (tree_size >= 0),
    root_hash       text        NOT NULL,
    -- the signed text of the time, exactly as signed
    signed_at       text        NOT NULL,
    key_fingerprint text        NOT NULL,
    signature       text        NOT NULL,
    -- Roots of the perfect subtrees covering [0, tree_size): lets the next checkpoint resume
    -- without rereading the log. Not signed; it must reproduce root_hash to be used.
    compact_range   text[]      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The leaves as each checkpoint saw them: which event sat at each position, and its hash. A
-- rewritten past is located by comparing the events with these (once they reproduce a signed
-- root), not merely bracketed between two tree heads.
CREATE TABLE log_tree_leaves (
    position  bigint  PRIMARY KEY CHECK (position > 0),
    stream_id text    NOT NULL,
    version   integer NOT NULL,
    hash      text    NOT NULL
);

CREATE TRIGGER log_tree_heads_no_update_delete BEFORE UPDATE OR DELETE ON log_tree_heads
    FOR EACH ROW EXECUTE FUNCTION uep_refuse_change();
CREATE TRIGGER log_tree_heads_no_truncate BEFORE TRUNCATE ON log_tree_heads
    FOR EACH STATEMENT EXECUTE FUNCTION uep_refuse_change();
CREATE TRIGGER log_tree_leaves_no_update_delete BEFORE UPDATE OR DELETE ON log_tree_leaves
    FOR EACH ROW EXECUTE FUNCTION uep_refuse_change();
CREATE TRIGGER log_tree_leaves_no_truncate BEFORE TRUNCATE ON log_tree_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION uep_refuse_change();

-- A stream's last checkpointed event, for the next checkpoint's chain check.
CREATE INDEX log_tree_leaves_stream ON log_tree_leaves (stream_id, version);
