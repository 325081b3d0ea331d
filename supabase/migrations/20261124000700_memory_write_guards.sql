-- Write guards on memories: users edit a memory's own fields; the vector follows the text.

-- Column privileges --------------------------------------------------------------------------
-- A table-wide UPDATE let a user write the embedding columns directly: plant a vector that
-- pulls a memory into other people's searches of a shared project, or mark a row 'ready'
-- without one. Users now update only what they author (user_id stays listed so that the
-- authorship trigger answers with its own clear message); the embed worker, the sweep and the
-- access tracker write the rest as privileged roles. INSERT stays table-wide: an import brings
-- vectors made by this stack's model.
revoke update on public.memories from authenticated;
grant update (user_id, project_id, kind, title, content, tags, metadata, repo, file_path,
  language, symbol, commit_sha, importance, expires_at) on public.memories to authenticated;

-- The vector embeds the title with the content (embeddingText), so either one changing makes it
-- stale: reset it, and send the webhook for either.
create or replace function private.memories_before_update() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.version := old.version + 1;
  new.updated_at := now();
  if new.content is distinct from old.content or new.title is distinct from old.title then
    new.embedding := null;
    new.embedding_model := null;
    new.embedding_status := 'pending';
    new.embedding_attempts := 0;
    new.embedding_error := null;
    new.embedded_at := null;
  end if;
  return new;
end $$;

drop trigger if exists memories_embed_on_update on public.memories;
create trigger memories_embed_on_update after update of content, title on public.memories
  for each row when ((old.content is distinct from new.content
      or old.title is distinct from new.title)
    and new.embedding_status <> 'ready')
  execute function private.memories_embed_on_update();
