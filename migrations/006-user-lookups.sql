-- A user's fields and the user's existence are two facts: "u" names users whose row changed
-- (every answer showing their name or email), "e" users created or gone (answers that looked
-- the id up, found or not, without showing a field: `user(id) { notes { … } }`). So a rename
-- leaves alone the answers that list a user's notes without showing the user.

drop function jotter_cache_notify(text[], text[], text[], text[], text[], text[], text[]);

create function jotter_cache_notify(n text[], a text[], t text[], m text[], u text[], l text[], g text[] default null, e text[] default null) returns void
language plpgsql as $$
declare
  stamp double precision := extract(epoch from clock_timestamp()) * 1000;
  tx text := pg_current_xact_id()::text;
  payload text;
begin
  if coalesce(cardinality(n), 0) + coalesce(cardinality(a), 0) + coalesce(cardinality(t), 0) + coalesce(cardinality(m), 0)
     + coalesce(cardinality(u), 0) + coalesce(cardinality(l), 0) + coalesce(cardinality(g), 0) + coalesce(cardinality(e), 0) = 0 then
    return; -- nothing a cache holds changed
  end if;
  payload := json_strip_nulls(json_build_object(
    'n', nullif(n, '{}'), 'a', nullif(a, '{}'), 't', nullif(t, '{}'), 'm', nullif(m, '{}'),
    'u', nullif(u, '{}'), 'l', nullif(l, '{}'), 'g', nullif(g, '{}'), 'e', nullif(e, '{}'),
    's', round(stamp::numeric, 3), 'x', tx))::text;
  -- 8000 bytes is PostgreSQL's limit; leave room for the channel name and framing.
  if octet_length(payload) > 7900 then
    payload := json_build_object('all', true, 's', round(stamp::numeric, 3), 'x', tx)::text;
  end if;
  perform pg_notify('jotter_cache_invalidation', payload);
end
$$;

create or replace function jotter_users_changed() returns trigger language plpgsql as $$
begin
  -- Any column may matter to an answer showing the user: the name is shown, the role decides
  -- what the viewer may see, and a deleted user's token must stop working. Deleting a user
  -- deletes their notes by cascade, and notes announce that themselves.
  if tg_op = 'INSERT' then
    perform jotter_cache_notify(null, null, null, null, (select array_agg(distinct id::text) from new_rows), array['users'],
      null, (select array_agg(distinct id::text) from new_rows));
  elsif tg_op = 'DELETE' then
    perform jotter_cache_notify(null, null, null, null, (select array_agg(distinct id::text) from old_rows), array['users'],
      null, (select array_agg(distinct id::text) from old_rows));
  else
    perform jotter_cache_notify(null, null, null, null, (select array_agg(distinct id::text) from new_rows), null);
  end if;
  return null;
end
$$;
