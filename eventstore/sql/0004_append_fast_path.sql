-- The common append in ONE round trip and one transaction (autocommit): the caller already
-- knows each stream's head (version and hash), so it computed the hash chain beforehand.
-- Under the head-row lock this checks those heads and that no event id is stored yet; if
-- anything differs it writes nothing and returns NULL, and the caller takes the slow path
-- (lock, read, validate, write), which reports exactly what went wrong. NOTIFY is sent by the
-- store after commit, outside the head-row lock, so it does not lengthen the serialised part.

CREATE FUNCTION uep_append_fast(
    check_streams text[], check_versions integer[], check_hashes text[],
    stream_ids text[], versions integer[], event_ids uuid[], types text[],
    schema_versions integer[], data text[], metadata text[], recorded timestamptz,
    prev_hashes text[], hashes text[]
) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head bigint;
BEGIN
    SELECT h.position INTO head FROM event_log_head h FOR UPDATE;
    IF EXISTS (
        SELECT 1
          FROM unnest(check_streams, check_versions, check_hashes) AS c(s, v, h)
          LEFT JOIN LATERAL (
              SELECT e.version, e.hash FROM events e
               WHERE e.stream_id = c.s ORDER BY e.version DESC LIMIT 1
          ) AS cur ON true
         WHERE coalesce(cur.version, 0) <> c.v OR cur.hash IS DISTINCT FROM c.h
    ) OR EXISTS (SELECT 1 FROM events e WHERE e.event_id = ANY(event_ids)) THEN
        RETURN NULL;
    END IF;
    INSERT INTO events (position, stream_id, version, event_id, type, schema_version, data,
                        metadata, recorded_at, prev_hash, hash)
    SELECT head + r.n, r.s, r.v, r.e, r.t, r.sv, r.d::jsonb, r.m::jsonb, recorded, r.ph, r.h
      FROM unnest(stream_ids, versions, event_ids, types, schema_versions, data, metadata,
                  prev_hashes, hashes) WITH ORDINALITY AS r(s, v, e, t, sv, d, m, ph, h, n);
    UPDATE event_log_head SET position = head + cardinality(event_ids);
    RETURN head + 1;
END;
$$;
