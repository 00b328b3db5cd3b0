-- One round trip for the start of an append: take the head-row lock, then read what the append
-- must check. A VOLATILE plpgsql function takes a fresh snapshot for each statement, so the
-- reads after the lock see every append that committed before it.

CREATE FUNCTION uep_lock_and_read(event_ids uuid[], stream_ids text[], user_ids text[])
RETURNS TABLE (kind text, key text, "position" bigint, version integer, hash text,
               event_id uuid, party_id text, role text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM event_log_head FOR UPDATE;
    RETURN QUERY
    SELECT 'head', NULL::text, h.position, NULL::int, NULL::text, NULL::uuid, NULL::text,
           NULL::text
      FROM event_log_head h
    UNION ALL
    SELECT 'dup', e.stream_id, e.position, e.version, e.hash, e.event_id, NULL, NULL
      FROM events e WHERE e.event_id = ANY(event_ids)
    UNION ALL
    SELECT 'stream', s.id, NULL, l.version, l.hash, NULL, NULL, NULL
      FROM unnest(stream_ids) AS s(id)
      CROSS JOIN LATERAL (
          SELECT e.version, e.hash FROM events e
           WHERE e.stream_id = s.id ORDER BY e.version DESC LIMIT 1
      ) AS l
    UNION ALL
    SELECT 'claim', c.user_id, NULL, NULL, NULL, NULL, c.party_id, c.role
      FROM user_id_claims c WHERE c.user_id = ANY(user_ids);
END;
$$;
