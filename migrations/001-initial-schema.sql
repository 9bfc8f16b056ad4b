-- Users, notes, tags and the join table, with the indexes the batched loaders read through.
create table users (
  id            bigint generated always as identity primary key,
  name          text not null check (char_length(name) between 1 and 100),
  email         text not null,
  password_hash text not null,
  role          text not null default 'user' check (role in ('user', 'admin')),
  created_at    timestamptz not null default now()
);
-- Emails are unique case-insensitively.
create unique index users_email_lower_key on users (lower(email));

create table notes (
  id          bigint generated always as identity primary key,
  author_id   bigint not null references users (id) on delete cascade,
  title       text not null check (char_length(title) between 1 and 200),
  body        text not null default '',
  visibility  text not null default 'PRIVATE' check (visibility in ('PRIVATE', 'PUBLIC')),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
-- notesByAuthor windows (author, id > after order by id limit n) and noteCount.
create index notes_author_id_id_idx on notes (author_id, id);
-- Anonymous and cross-user lists walk public notes in id order.
create index notes_public_id_idx on notes (id) where visibility = 'PUBLIC';

create table tags (
  id    bigint generated always as identity primary key,
  name  text not null unique check (char_length(name) between 1 and 40)
);

create table note_tags (
  note_id  bigint not null references notes (id) on delete cascade,
  tag_id   bigint not null references tags (id) on delete cascade,
  primary key (note_id, tag_id)
);
-- notesByTag windows (tag, note id > after order by note id).
create index note_tags_tag_id_note_id_idx on note_tags (tag_id, note_id);
