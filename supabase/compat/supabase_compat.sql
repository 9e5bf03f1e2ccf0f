-- Supabase compatibility layer for a plain PostgreSQL.
--
-- Applied by scripts/dbctl.py as the cluster's superuser (playing the platform's
-- supabase_admin) to a database that is NOT a Supabase one (no GoTrue
-- auth.schema_migrations). It recreates what the hosted platform sets up before
-- a project's migrations run, as published in
--   supabase/postgres  migrations/db/init-scripts/00000000000000-initial-schema.sql,
--                      00000000000001-auth-schema.sql, 00000000000003-post-setup.sql,
--                      migrations/db/migrations/* (cited below by file name), and
--                      ansible/files/postgresql_extension_custom_scripts/*/after-create.sql
--   supabase/auth      migrations/*.up.sql (auth.users)
-- Migrations never create any of this. Safe to run again.

-- Roles ------------------------------------------------------------------------
-- initial-schema creates the API roles NOINHERIT; 20230529180330_alter_api_roles_for_inherit
-- made them INHERIT. `postgres` itself (a non-superuser, 10000000000000_demote-postgres)
-- is made by scripts/provision.sh before this runs.
do $roles$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin inherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin inherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin inherit bypassrls;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
        create role supabase_auth_admin login noinherit createrole noreplication;
    end if;
end
$roles$;

alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit;
grant anon to authenticator;
grant authenticated to authenticator;
grant service_role to authenticator;
-- 20230201083204_grant_auth_roles_to_postgres: postgres may `set role` to each.
grant anon to postgres;
grant authenticated to postgres;
grant service_role to postgres;
-- 20230306081037_grant_pg_monitor_to_postgres, 20240606060239_grant_predefined_roles_to_postgres.
grant pg_monitor to postgres;
grant pg_read_all_data to postgres;
grant pg_signal_backend to postgres;
-- supautils lets postgres (its privileged_role) set a few superuser-only settings: supabase/postgres
-- ansible/files/postgresql_config/supautils.conf.j2, supautils.privileged_role_allowed_configs =
-- 'pgaudit.log, ..., pgaudit.role, session_replication_role, track_io_timing'. PostgreSQL 15's
-- GRANT SET ON PARAMETER gives postgres exactly those (pgaudit is not installed here), and no
-- other role. Not mirrored, so stricter here than there: supautils (2.9 and later) also lets
-- postgres create event triggers (which then skip superusers); PostgreSQL has no grant for that.
-- (In a DO block only because sqlfluff does not parse GRANT SET ON PARAMETER.)
do $supautils$
begin
    grant set on parameter session_replication_role, track_io_timing to postgres;
end
$supautils$;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';

-- public and extensions ---------------------------------------------------------
-- initial-schema ran these as postgres (then still a superuser), so the default
-- privileges are those of objects postgres creates, plus the admin's own.
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to postgres, anon, authenticated, service_role;

-- The extensions schema: usage for the API roles, everything for postgres
-- (demote-postgres, 20230224042246_grant_extensions_perms_for_postgres); no
-- default grants to the API roles (extension functions are executable through
-- PUBLIC, as anywhere).
create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
grant all on schema extensions to postgres;
alter default privileges in schema extensions grant all on tables to postgres with grant option;
alter default privileges in schema extensions grant all on routines to postgres with grant option;
alter default privileges in schema extensions grant all on sequences to postgres with grant option;

-- Extensions the platform creates (or lets the project enable through supautils),
-- created here by the superuser before any migration runs.
create extension if not exists pgcrypto with schema extensions;
create extension if not exists btree_gist with schema extensions;
create extension if not exists pgtap with schema extensions;
create extension if not exists plpgsql_check with schema extensions;

-- pg_cron lives in the one database cron.database_name names; there, the grants of
-- pg_cron/after-create.sql and 20260730000000_revoke_trigger_on_cron_tables_from_postgres.
-- pg_cron's install script also allows contrib_regression (its own tests' database; no job runs
-- there): tests/test_pgmq_versions.py migrates scratch databases under that name.
do $cron$
begin
    if current_database() in (current_setting('cron.database_name', true), 'contrib_regression') then
        create extension if not exists pg_cron;
        grant usage on schema cron to postgres with grant option;
        grant all on all functions in schema cron to postgres with grant option;
        alter default privileges in schema cron grant all on sequences to postgres with grant option;
        alter default privileges in schema cron grant all on tables to postgres with grant option;
        alter default privileges in schema cron grant all on functions to postgres with grant option;
        grant all privileges on all tables in schema cron to postgres with grant option;
        revoke all on table cron.job from postgres;
        grant select on table cron.job to postgres with grant option;
        revoke trigger on cron.job_run_details from postgres;
    end if;
end
$cron$;

-- auth ---------------------------------------------------------------------------
-- 00000000000001-auth-schema.sql: the schema belongs to the admin, GoTrue's tables to
-- supabase_auth_admin; 20211115181400_update-auth-permissions and demote-postgres give
-- postgres usage and ALL on the tables, 20250421084701_revoke_admin_roles_from_postgres
-- takes CREATE on the schema away again.
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role, postgres;
grant all on schema auth to supabase_auth_admin;
revoke create on schema auth from postgres;

-- auth.users as GoTrue's migrations leave it today (supabase/auth migrations/,
-- 00_init_auth_schema through 20240612123726_enable_rls_update_grants).
create table if not exists auth.users (
    instance_id uuid,
    id uuid not null,
    aud varchar(255),
    role varchar(255),  -- noqa: RF04
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    email_change_token_new varchar(255),
    email_change varchar(255),
    email_change_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz,
    updated_at timestamptz,
    phone text unique default null,
    phone_confirmed_at timestamptz,
    phone_change text default '',
    phone_change_token varchar(255) default '',
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
    email_change_token_current varchar(255) default '',
    email_change_confirm_status smallint default 0
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
    banned_until timestamptz,
    reauthentication_token varchar(255) default '',
    reauthentication_sent_at timestamptz,
    is_sso_user boolean not null default false,
    deleted_at timestamptz,
    is_anonymous boolean not null default false,
    constraint users_pkey primary key (id)
);
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower(email));
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
alter table auth.users owner to supabase_auth_admin;
alter table auth.users enable row level security;
revoke all on auth.users from anon, authenticated, service_role;
grant all on auth.users to postgres;
grant select on auth.users to postgres with grant option;

-- The claim helpers exactly as Supabase defines them today: the legacy
-- per-claim settings first, then the request.jwt.claims JSON PostgREST sets.
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.role', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.email', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

-- 20211124212715_update-auth-owner.
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
to postgres, anon, authenticated, service_role;

-- 00000000000003-post-setup.sql: the extensions schema on postgres' search path.
alter role postgres set search_path = "$user", public, extensions;  -- noqa: RF05

-- realtime ----------------------------------------------------------------------
-- 00000000000000-initial-schema.sql creates the empty supabase_realtime publication
-- and the platform leaves it to postgres, so migrations add their tables to it
-- (alter publication needs its owner). Created here as there, before any migration.
do $realtime$
begin
    if not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        create publication supabase_realtime;
    end if;
end
$realtime$;
alter publication supabase_realtime owner to postgres;
