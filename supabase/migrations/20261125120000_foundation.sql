-- Foundation: extensions, the private schema, the privilege baseline and shared helpers.

create schema if not exists extensions;

create extension if not exists pg_cron;
create extension if not exists btree_gist with schema extensions;
create extension if not exists pgcrypto with schema extensions;

-- pgmq is an extension on Supabase; on a plain PostgreSQL scripts/dbctl.py
-- installs the SQL the pgmq package embeds before migrations run.
do $pgmq$
begin
    if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pgmq') then
        create extension if not exists pgmq;
    elsif not exists (select 1 from pg_catalog.pg_namespace where nspname = 'pgmq') then
        raise exception 'pgmq is neither an available extension nor installed as SQL'
        using hint = 'run scripts/dbctl.py prepare against this database first';
    end if;
end
$pgmq$;

-- Security-definer helpers and internals live here; PostgREST does not expose it.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- Functions are not executable by anyone unless granted one by one. The
-- global PUBLIC default can only be revoked without "in schema".
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon, authenticated;
alter default privileges in schema private revoke execute on functions from anon, authenticated;

-- anon reaches the database only through the public RPCs, never a table.
alter default privileges in schema public revoke all on tables from anon;
alter default privileges in schema public revoke all on sequences from anon;
-- TRUNCATE ignores RLS; nobody but the owner and service_role may use it.
alter default privileges in schema public revoke truncate, references, trigger on tables from authenticated;

create function private.touch_updated_at()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end
$$;

comment on function private.touch_updated_at() is
'Trigger: keeps updated_at current on every update.';
