-- The cache invalidation bus: every committed change to users, notes, note_tags and tags is
-- announced with pg_notify on one channel, whoever made it (this API in any process, psql, a
-- migration). Notifications are delivered at commit, in commit order, to every session that
-- LISTENs; src/cache/invalidation-bus.ts turns them into cache tags.
--
-- Statement-level triggers with transition tables: one notification per statement, not per
-- row. The payload holds ids and tag names only (never bodies), as JSON:
--   n note ids · a author ids whose note lists changed · t tag ids whose note lists changed
--   m tag names · u user ids · l lists whose membership changed ("notes", "users", "tags")
--   s the trigger's clock in epoch ms (for the delivery-delay metric)
-- A statement touching too many rows for NOTIFY's 8000-byte payload sends {"all":true}: every
-- cache drops everything.

create function jotter_cache_notify(n text[], a text[], t text[], m text[], u text[], l text[]) returns void
language plpgsql as $$
declare
  stamp double precision := extract(epoch from clock_timestamp()) * 1000;
  payload text;
begin
  if coalesce(cardinality(n), 0) + coalesce(cardinality(a), 0) + coalesce(cardinality(t), 0) + coalesce(cardinality(m), 0)
     + coalesce(cardinality(u), 0) + coalesce(cardinality(l), 0) = 0 then
    return; -- nothing a cache holds changed
  end if;
  payload := json_strip_nulls(json_build_object(
    'n', nullif(n, '{}'), 'a', nullif(a, '{}'), 't', nullif(t, '{}'), 'm', nullif(m, '{}'),
    'u', nullif(u, '{}'), 'l', nullif(l, '{}'), 's', round(stamp::numeric, 3)))::text;
  -- 8000 bytes is PostgreSQL's limit; leave room for the channel name and framing.
  if octet_length(payload) > 7900 then
    payload := json_build_object('all', true, 's', round(stamp::numeric, 3))::text;
  end if;
  perform pg_notify('jotter_cache_invalidation', payload);
end
$$;

create function jotter_notes_changed() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    perform jotter_cache_notify(
      (select array_agg(distinct id::text) from new_rows), (select array_agg(distinct author_id::text) from new_rows),
      null, null, null, array['notes']);
  elsif tg_op = 'DELETE' then
    -- The note's tags go with it through note_tags' cascade, which announces them itself.
    perform jotter_cache_notify(
      (select array_agg(distinct id::text) from old_rows), (select array_agg(distinct author_id::text) from old_rows),
      null, null, null, array['notes']);
  else
    -- A title or body change is seen through the note's own id; a visibility or author change
    -- moves the note in or out of lists: its author's, every list of its tags, all notes, tags.
    perform jotter_cache_notify(
      (select array_agg(distinct id::text) from new_rows),
      (select array_agg(distinct x.author_id::text) from (
        select o.author_id from old_rows o join new_rows w using (id) where o.visibility is distinct from w.visibility or o.author_id is distinct from w.author_id
        union select w.author_id from old_rows o join new_rows w using (id) where o.visibility is distinct from w.visibility or o.author_id is distinct from w.author_id) x),
      (select array_agg(distinct nt.tag_id::text) from old_rows o join new_rows w using (id) join note_tags nt on nt.note_id = w.id
        where o.visibility is distinct from w.visibility or o.author_id is distinct from w.author_id),
      (select array_agg(distinct tg.name) from old_rows o join new_rows w using (id) join note_tags nt on nt.note_id = w.id join tags tg on tg.id = nt.tag_id
        where o.visibility is distinct from w.visibility or o.author_id is distinct from w.author_id),
      null,
      case when exists (select 1 from old_rows o join new_rows w using (id)
        where o.visibility is distinct from w.visibility or o.author_id is distinct from w.author_id) then array['notes', 'tags'] end);
  end if;
  return null;
end
$$;

create function jotter_note_tags_changed() returns trigger language plpgsql as $$
begin
  -- A note's tags changed: the note itself, the lists of those tags (by id and by name), and
  -- the tag list (a tag is listed while a visible note carries it).
  if tg_op = 'INSERT' then
    perform jotter_cache_notify(
      (select array_agg(distinct note_id::text) from new_rows), null,
      (select array_agg(distinct tag_id::text) from new_rows),
      (select array_agg(distinct tg.name) from new_rows r join tags tg on tg.id = r.tag_id), null, array['tags']);
  elsif tg_op = 'DELETE' then
    perform jotter_cache_notify(
      (select array_agg(distinct note_id::text) from old_rows), null,
      (select array_agg(distinct tag_id::text) from old_rows),
      (select array_agg(distinct tg.name) from old_rows r join tags tg on tg.id = r.tag_id), null, array['tags']);
  else
    perform jotter_cache_notify(
      (select array_agg(distinct x.note_id::text) from (select note_id from old_rows union select note_id from new_rows) x), null,
      (select array_agg(distinct x.tag_id::text) from (select tag_id from old_rows union select tag_id from new_rows) x),
      (select array_agg(distinct tg.name) from (select tag_id from old_rows union select tag_id from new_rows) x join tags tg on tg.id = x.tag_id),
      null, array['tags']);
  end if;
  return null;
end
$$;

create function jotter_tags_changed() returns trigger language plpgsql as $$
begin
  -- A new tag carries no note yet, so no cache can hold it: inserts are not announced. The
  -- tag upsert's no-op `set name = excluded.name` is an UPDATE that changes nothing: only a
  -- real rename is announced.
  if tg_op = 'DELETE' then
    perform jotter_cache_notify(null, null,
      (select array_agg(distinct id::text) from old_rows), (select array_agg(distinct name) from old_rows), null, array['tags']);
  elsif tg_op = 'UPDATE' then
    perform jotter_cache_notify(null, null,
      (select array_agg(distinct o.id::text) from old_rows o join new_rows w using (id) where o.name is distinct from w.name),
      (select array_agg(distinct x.name) from (
        select o.name from old_rows o join new_rows w using (id) where o.name is distinct from w.name
        union select w.name from old_rows o join new_rows w using (id) where o.name is distinct from w.name) x),
      null,
      case when exists (select 1 from old_rows o join new_rows w using (id) where o.name is distinct from w.name) then array['tags'] end);
  end if;
  return null;
end
$$;

create function jotter_users_changed() returns trigger language plpgsql as $$
begin
  -- Any column may matter: the name is shown, the role decides what the viewer may see, and
  -- a deleted user's token must stop working. Deleting a user deletes their notes by
  -- cascade, and notes announce that themselves.
  if tg_op = 'INSERT' then
    perform jotter_cache_notify(null, null, null, null, (select array_agg(distinct id::text) from new_rows), array['users']);
  elsif tg_op = 'DELETE' then
    perform jotter_cache_notify(null, null, null, null, (select array_agg(distinct id::text) from old_rows), array['users']);
  else
    perform jotter_cache_notify(null, null, null, null, (select array_agg(distinct id::text) from new_rows), null);
  end if;
  return null;
end
$$;

-- A trigger with transition tables serves one event, hence three per table.
create trigger notes_cache_insert after insert on notes referencing new table as new_rows
  for each statement execute function jotter_notes_changed();
create trigger notes_cache_update after update on notes referencing old table as old_rows new table as new_rows
  for each statement execute function jotter_notes_changed();
create trigger notes_cache_delete after delete on notes referencing old table as old_rows
  for each statement execute function jotter_notes_changed();

create trigger note_tags_cache_insert after insert on note_tags referencing new table as new_rows
  for each statement execute function jotter_note_tags_changed();
create trigger note_tags_cache_update after update on note_tags referencing old table as old_rows new table as new_rows
  for each statement execute function jotter_note_tags_changed();
create trigger note_tags_cache_delete after delete on note_tags referencing old table as old_rows
  for each statement execute function jotter_note_tags_changed();

create trigger tags_cache_update after update on tags referencing old table as old_rows new table as new_rows
  for each statement execute function jotter_tags_changed();
create trigger tags_cache_delete after delete on tags referencing old table as old_rows
  for each statement execute function jotter_tags_changed();

create trigger users_cache_insert after insert on users referencing new table as new_rows
  for each statement execute function jotter_users_changed();
create trigger users_cache_update after update on users referencing old table as old_rows new table as new_rows
  for each statement execute function jotter_users_changed();
create trigger users_cache_delete after delete on users referencing old table as old_rows
  for each statement execute function jotter_users_changed();
