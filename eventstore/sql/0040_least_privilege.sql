-- Least privilege. Three roles touch the event store:
--
--   the owner (whoever runs the migrations: uep_owner in docker-compose.yml, the embedded
--     server's superuser under `uep dev`) owns every table and function;
--   uep_app (the worker and the projector) reads, appends ONLY through the SECURITY DEFINER
--     functions below, and keeps the read models and their checkpoints;
--   uep_auditor reads, and nothing else.
--
-- Why SECURITY DEFINER functions rather than INSERT on events: an INSERT grant would let the
-- application write any row - a gap in the positions, a version out of turn, a forked hash
-- chain. Through these functions it can only extend each stream's chain at the global head:
-- they check, before taking the head-row lock, that every row continues its stream's version and
-- hash link, and under the lock that the heads are still the ones the caller built on. No role
-- but the owner holds UPDATE, DELETE or TRUNCATE on the store's tables (the triggers of 0001
-- refuse them even to the owner), and only a table's owner can disable its triggers.
--
-- Each function pins its search_path to this schema with pg_temp last, so a caller's own
-- objects can never stand in for the tables or built-ins it uses (PostgreSQL's advice for
-- SECURITY DEFINER functions).

-- The roles are created here only when missing and only when the migrator may create roles
-- (a superuser, as under `uep dev` and in the tests). In production an administrator creates
-- them first, with LOGIN and passwords (deploy/postgres/initdb/20-uep-roles.sh).
DO $$
DECLARE
    wanted text;
BEGIN
    FOREACH wanted IN ARRAY ARRAY['uep_app', 'uep_auditor'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = wanted) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', wanted);
            EXCEPTION
                WHEN duplicate_object THEN NULL;  -- another database's migration made it first
                WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'role % does not exist and % may not create it', wanted,
                        current_user
                        USING HINT = 'an administrator creates uep_app and uep_auditor first '
                            '(deploy/postgres/initdb/20-uep-roles.sh shows how)';
            END;
        END IF;
    END LOOP;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO uep_app, uep_auditor', current_database());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO uep_app, uep_auditor', current_schema());
    -- Tables the owner adds later (read models made by `uep migrate`, other migrations' tables)
    -- are readable by the auditor without another grant; the application gets what each grants.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO uep_auditor',
                   current_schema());
END
$$;

REVOKE ALL ON events, event_log_head, user_id_claims, projection_checkpoints, schema_migrations
    FROM PUBLIC;
GRANT SELECT ON events, event_log_head, user_id_claims, projection_checkpoints, schema_migrations
    TO uep_app, uep_auditor;
-- The projector moves its checkpoints (SELECT ... FOR UPDATE needs UPDATE too).
GRANT INSERT, UPDATE ON projection_checkpoints TO uep_app;

-- The append of 0005, now the application's only way in, checking what it is given.
CREATE OR REPLACE FUNCTION uep_append_fast(
    check_streams text[], check_versions integer[], check_hashes text[],
    stream_ids text[], versions integer[], event_ids uuid[], types text[],
    schema_versions integer[], data text[], metadata text[], recorded timestamptz,
    prev_hashes text[], hashes text[]
) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    head bigint;
    broken text;
BEGIN
    -- Before the lock, so it does not lengthen the serialised part: each row must be the next
    -- version of a stream the caller names, linked to the hash before it.
    SELECT format('stream %s version %s', r.s, r.v) INTO broken
      FROM (
          SELECT r.s, r.v, r.ph, c.s AS named,
                 lag(r.v) OVER w AS before_v, lag(r.h) OVER w AS before_h,
                 c.v AS head_v, c.h AS head_h
            FROM unnest(stream_ids, versions, prev_hashes, hashes)
                 WITH ORDINALITY AS r(s, v, ph, h, n)
            LEFT JOIN unnest(check_streams, check_versions, check_hashes) AS c(s, v, h)
                   ON c.s = r.s
          WINDOW w AS (PARTITION BY r.s ORDER BY r.n)
      ) AS r
     WHERE r.named IS NULL
        OR r.v IS DISTINCT FROM coalesce(r.before_v, r.head_v) + 1
        OR r.ph IS DISTINCT FROM CASE WHEN r.before_v IS NULL THEN r.head_h ELSE r.before_h END
     LIMIT 1;
    IF broken IS NOT NULL
       OR cardinality(check_streams) <> (SELECT count(DISTINCT s) FROM unnest(check_streams) s)
    THEN
        RAISE EXCEPTION 'uep_append: % does not continue its stream', coalesce(broken, 'a head')
            USING ERRCODE = 'data_exception';
    END IF;
    SELECT h.position INTO head FROM event_log_head h FOR UPDATE;
    IF EXISTS (
        SELECT 1
          FROM unnest(check_streams, check_versions, check_hashes) AS c(s, v, h)
          LEFT JOIN LATERAL (
              SELECT e.version, e.hash FROM events e
               WHERE e.stream_id = c.s ORDER BY e.version DESC LIMIT 1
          ) AS cur ON true
         WHERE coalesce(cur.version, 0) <> c.v OR cur.hash IS DISTINCT FROM c.h
    ) THEN
        RETURN NULL;
    END IF;
    INSERT INTO events (position, stream_id, version, event_id, type, schema_version, data,
                        metadata, recorded_at, prev_hash, hash)
    SELECT head + r.n, r.s, r.v, r.e, r.t, r.sv, r.d::jsonb, r.m::jsonb, recorded, r.ph, r.h
      FROM unnest(stream_ids, versions, event_ids, types, schema_versions, data, metadata,
                  prev_hashes, hashes) WITH ORDINALITY AS r(s, v, e, t, sv, d, m, ph, h, n);
    UPDATE event_log_head SET position = head + cardinality(event_ids);
    PERFORM pg_notify('uep_events', '');
    RETURN head + 1;
END;
$$;

-- The checked path's write (it replaces the store's direct INSERTs): the events as above, and
-- the User ID claims they make or release, in the caller's transaction, which already holds the
-- head-row lock from uep_lock_and_read. Claims change only together with events.
CREATE FUNCTION uep_append_checked(
    check_streams text[], check_versions integer[], check_hashes text[],
    stream_ids text[], versions integer[], event_ids uuid[], types text[],
    schema_versions integer[], data text[], metadata text[], recorded timestamptz,
    prev_hashes text[], hashes text[],
    claim_users text[], claim_parties text[], claim_roles text[], claim_streams text[],
    claim_positions bigint[],
    release_users text[], release_parties text[], release_roles text[]
) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    first bigint;
BEGIN
    first := uep_append_fast(check_streams, check_versions, check_hashes, stream_ids, versions,
                             event_ids, types, schema_versions, data, metadata, recorded,
                             prev_hashes, hashes);
    IF first IS NULL THEN
        RAISE EXCEPTION 'uep_append_checked: a stream head moved although the head row is locked'
            USING ERRCODE = 'serialization_failure';
    END IF;
    IF EXISTS (
        SELECT 1 FROM unnest(claim_streams, claim_positions) AS c(s, p)
         WHERE c.p NOT BETWEEN first AND first + cardinality(event_ids) - 1
            OR c.s IS DISTINCT FROM (SELECT e.stream_id FROM events e WHERE e.position = c.p)
    ) THEN
        RAISE EXCEPTION 'uep_append_checked: a claim does not point at an event of this append'
            USING ERRCODE = 'data_exception';
    END IF;
    DELETE FROM user_id_claims c
     USING unnest(release_users, release_parties, release_roles) AS d(u, p, r)
     WHERE c.user_id = d.u AND c.party_id = d.p AND c.role = d.r;
    INSERT INTO user_id_claims (user_id, party_id, role, stream_id, position, claimed_at)
    SELECT u, p, r, s, pos, recorded
      FROM unnest(claim_users, claim_parties, claim_roles, claim_streams, claim_positions)
           AS c(u, p, r, s, pos);
    RETURN first;
END;
$$;

ALTER FUNCTION uep_lock_and_read(uuid[], text[], text[]) SECURITY DEFINER;

-- Functions are executable by PUBLIC unless revoked; then pin each one's search_path.
DO $$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        'uep_lock_and_read(uuid[], text[], text[])',
        'uep_append_fast(text[], integer[], text[], text[], integer[], uuid[], text[], '
            'integer[], text[], text[], timestamptz, text[], text[])',
        'uep_append_checked(text[], integer[], text[], text[], integer[], uuid[], text[], '
            'integer[], text[], text[], timestamptz, text[], text[], text[], text[], text[], '
            'text[], bigint[], text[], text[], text[])'
    ] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO uep_app', fn);
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, current_schema());
    END LOOP;
END
$$;
