-- The application role's rights on the tables that came with the history archive, the whole-log
-- tree heads and the notice outbox (migrations 0010, 0020, 0021): append where the table is
-- append-only, keep the checkpoint and the outbox's delivery state. The auditor reads them.

GRANT SELECT, INSERT ON history_archive, log_tree_heads, log_tree_leaves TO uep_app;
GRANT SELECT, INSERT, UPDATE ON archiver_checkpoint, notice_outbox TO uep_app;
GRANT SELECT ON history_archive, log_tree_heads, log_tree_leaves, archiver_checkpoint,
    notice_outbox TO uep_auditor;
DO $$
DECLARE
    seq text;
BEGIN
    FOREACH seq IN ARRAY ARRAY[
        pg_get_serial_sequence('history_archive', 'seq'),
        pg_get_serial_sequence('log_tree_heads', 'seq')
    ] LOOP
        EXECUTE format('GRANT USAGE ON SEQUENCE %s TO uep_app', seq);
    END LOOP;
END
$$;
