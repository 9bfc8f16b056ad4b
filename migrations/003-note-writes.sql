-- createNote and updateNote as one statement each: a function call is one round trip and one
-- implicit transaction, where BEGIN … COMMIT from the API took five (createNote) and six
-- (updateNote). On a core PostgreSQL shares with the server, every round trip waits behind
-- everything else the event loop has to do, so at 1000 req/s of the write mix the mutations'
-- p99 grew with their round trips. statement_timeout covers the whole call, and a call that is
-- cancelled or fails leaves no transaction open.
--
-- The statements, their order and their locks are those the API sent before: tags inserted
-- with `on conflict do nothing` in name order (no lock on a tag that exists), the links
-- written in tag-id order, the note locked before anything else it touches. A VOLATILE
-- plpgsql function takes a new snapshot for each statement, so the tag ids read after the
-- insert include names a concurrent writer committed while the insert waited for it.

create function jotter_set_note_tags(p_note_id bigint, p_names text[])
returns table (tag_id bigint, tag_name text, removed_tag_id bigint)
language plpgsql as $$
begin
  if cardinality(p_names) > 0 then
    insert into tags (name) select n from unnest(p_names) as n order by n on conflict (name) do nothing;
  end if;
  -- One pass over note_tags: links no longer wanted go, wanted ones are added, and the rows
  -- say which is which.
  return query
    with wanted as (select t.id, t.name from tags t where t.name = any(p_names)),
    removed as (
      delete from note_tags nt where nt.note_id = p_note_id and nt.tag_id not in (select w.id from wanted w)
      returning nt.tag_id),
    added as (
      insert into note_tags (note_id, tag_id) select p_note_id, w.id from wanted w order by w.id
      on conflict do nothing)
    select w.id, w.name, null::bigint from wanted w
    union all select null::bigint, null::text, r.tag_id from removed r;
end
$$;

-- The new note, and its tags (as ids and names, in no particular order).
create function jotter_create_note(p_author_id bigint, p_title text, p_body text, p_visibility text, p_tags text[])
returns table (id bigint, author_id bigint, title text, body text, visibility text, created_at timestamptz,
               updated_at timestamptz, tag_ids bigint[], tag_names text[])
language plpgsql as $$
declare
  new_note notes;
  linked_ids bigint[] := '{}';
  linked_names text[] := '{}';
begin
  insert into notes (author_id, title, body, visibility) values (p_author_id, p_title, p_body, p_visibility)
  returning * into new_note;
  -- A new note has no links to replace: without tags there is nothing to write.
  if cardinality(p_tags) > 0 then
    select coalesce(array_agg(s.tag_id), '{}'), coalesce(array_agg(s.tag_name), '{}') into linked_ids, linked_names
    from jotter_set_note_tags(new_note.id, p_tags) s where s.removed_tag_id is null;
  end if;
  return query select new_note.id, new_note.author_id, new_note.title, new_note.body, new_note.visibility,
    new_note.created_at, new_note.updated_at, linked_ids, linked_names;
end
$$;

-- The note after the update (no row: missing, or not the editor's to edit), the visibility it
-- had before, and with p_tags (null = leave the tags alone) its new tags and the removed ones.
-- Null title, body or visibility leave that column as it was.
create function jotter_update_note(p_id bigint, p_editor_id bigint, p_editor_is_admin boolean, p_title text,
                                   p_body text, p_visibility text, p_tags text[])
returns table (id bigint, author_id bigint, title text, body text, visibility text, created_at timestamptz,
               updated_at timestamptz, visibility_before text, tag_ids bigint[], tag_names text[], removed_tag_ids bigint[])
language plpgsql as $$
declare
  old_note notes;
  new_note notes;
  linked_ids bigint[];
  linked_names text[];
  unlinked_ids bigint[];
begin
  select * into old_note from notes n where n.id = p_id and (p_editor_is_admin or n.author_id = p_editor_id) for update;
  if not found then
    return;
  end if;
  update notes n set
    title = coalesce(p_title, n.title),
    body = coalesce(p_body, n.body),
    visibility = coalesce(p_visibility, n.visibility),
    updated_at = now()
  where n.id = p_id
  returning * into new_note;
  if p_tags is not null then
    select coalesce(array_agg(s.tag_id) filter (where s.removed_tag_id is null), '{}'),
           coalesce(array_agg(s.tag_name) filter (where s.removed_tag_id is null), '{}'),
           coalesce(array_agg(s.removed_tag_id) filter (where s.removed_tag_id is not null), '{}')
      into linked_ids, linked_names, unlinked_ids
    from jotter_set_note_tags(p_id, p_tags) s;
  end if;
  return query select new_note.id, new_note.author_id, new_note.title, new_note.body, new_note.visibility,
    new_note.created_at, new_note.updated_at, old_note.visibility, linked_ids, linked_names, unlinked_ids;
end
$$;
