-- Each notification names the transaction that made the change ("x": pg_current_xact_id()),
-- so that a writer can wait for its own commit's notification to come back before its
-- response leaves (read-your-writes, src/cache/invalidation-bus.ts `awaitCommits`). It used to
-- send a marker of its own with pg_notify and wait for that: one more notifying transaction
-- per mutation, and a notifying commit holds PostgreSQL's notify lock across its WAL flush,
-- so on a busy core those transactions queued behind each other (sampled in
-- pg_stat_activity during the write mix: `Lock / object` was the most frequent wait after
-- the WAL flush itself).

create or replace function jotter_cache_notify(n text[], a text[], t text[], m text[], u text[], l text[]) returns void
language plpgsql as $$
declare
  stamp double precision := extract(epoch from clock_timestamp()) * 1000;
  tx text := pg_current_xact_id()::text;
  payload text;
begin
  if coalesce(cardinality(n), 0) + coalesce(cardinality(a), 0) + coalesce(cardinality(t), 0) + coalesce(cardinality(m), 0)
     + coalesce(cardinality(u), 0) + coalesce(cardinality(l), 0) = 0 then
    return; -- nothing a cache holds changed
  end if;
  payload := json_strip_nulls(json_build_object(
    'n', nullif(n, '{}'), 'a', nullif(a, '{}'), 't', nullif(t, '{}'), 'm', nullif(m, '{}'),
    'u', nullif(u, '{}'), 'l', nullif(l, '{}'), 's', round(stamp::numeric, 3), 'x', tx))::text;
  -- 8000 bytes is PostgreSQL's limit; leave room for the channel name and framing.
  if octet_length(payload) > 7900 then
    payload := json_build_object('all', true, 's', round(stamp::numeric, 3), 'x', tx)::text;
  end if;
  perform pg_notify('jotter_cache_invalidation', payload);
end
$$;
