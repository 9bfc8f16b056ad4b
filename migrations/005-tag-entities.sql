-- A tag's own fields (its name) and the notes that carry it are two facts: "g" names tags whose
-- name changed or that are gone (every answer showing the tag), "t" tags whose notes changed
-- (the lists of the tag's notes). So adding a note to a tag leaves alone the answers that merely
-- show the tag's name beside another note.

drop function jotter_cache_notify(text[], text[], text[], text[], text[], text[]);

create function jotter_cache_notify(n text[], a text[], t text[], m text[], u text[], l text[], g text[] default null) returns void
language plpgsql as $$
declare
  stamp double precision := extract(epoch from clock_timestamp()) * 1000;
  tx text := pg_current_xact_id()::text;
  payload text;
begin
  if coalesce(cardinality(n), 0) + coalesce(cardinality(a), 0) + coalesce(cardinality(t), 0) + coalesce(cardinality(m), 0)
     + coalesce(cardinality(u), 0) + coalesce(cardinality(l), 0) + coalesce(cardinality(g), 0) = 0 then
    return; -- nothing a cache holds changed
  end if;
  payload := json_strip_nulls(json_build_object(
    'n', nullif(n, '{}'), 'a', nullif(a, '{}'), 't', nullif(t, '{}'), 'm', nullif(m, '{}'),
    'u', nullif(u, '{}'), 'l', nullif(l, '{}'), 'g', nullif(g, '{}'), 's', round(stamp::numeric, 3), 'x', tx))::text;
  -- 8000 bytes is PostgreSQL's limit; leave room for the channel name and framing.
  if octet_length(payload) > 7900 then
    payload := json_build_object('all', true, 's', round(stamp::numeric, 3), 'x', tx)::text;
  end if;
  perform pg_notify('jotter_cache_invalidation', payload);
end
$$;

create or replace function jotter_tags_changed() returns trigger language plpgsql as $$
begin
  -- A new tag carries no note yet, so no cache can hold it: inserts are not announced. The
  -- tag upsert's no-op `set name = excluded.name` is an UPDATE that changes nothing: only a
  -- real rename is announced.
  if tg_op = 'DELETE' then
    perform jotter_cache_notify(null, null,
      (select array_agg(distinct id::text) from old_rows), (select array_agg(distinct name) from old_rows), null, array['tags'],
      (select array_agg(distinct id::text) from old_rows));
  elsif tg_op = 'UPDATE' then
    perform jotter_cache_notify(null, null,
      (select array_agg(distinct o.id::text) from old_rows o join new_rows w using (id) where o.name is distinct from w.name),
      (select array_agg(distinct x.name) from (
        select o.name from old_rows o join new_rows w using (id) where o.name is distinct from w.name
        union select w.name from old_rows o join new_rows w using (id) where o.name is distinct from w.name) x),
      null,
      case when exists (select 1 from old_rows o join new_rows w using (id) where o.name is distinct from w.name) then array['tags'] end,
      (select array_agg(distinct o.id::text) from old_rows o join new_rows w using (id) where o.name is distinct from w.name));
  end if;
  return null;
end
$$;
