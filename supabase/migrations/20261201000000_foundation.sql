-- Foundation and platform: schemas, extensions, privileges, the job queue, error codes, text helpers.
--
-- One migration per domain, each in the same section order. Until the first hosted release a
-- definition is changed here, in place (docs/development.md, "Migrations"); docs/schema/ shows every object.
-- ==============================================================================================
--
-- Foundation: extensions, the private schema, the privilege baseline and shared helpers.
--
-- The job queues: pgmq queues that triggers and RPCs feed and the worker drains (jobs; events for the outbox).
--
-- Error codes: one registry of the stable codes RPCs and triggers raise, and the helper that raises them.
--
-- Convention: MESSAGE is the stable code a frontend switches on (error.message in
-- supabase-js), DETAIL says it for humans, SQLSTATE is 'PT' || http_status, which
-- PostgREST answers with that HTTP status. docs/errors.md lists the same rows
-- (a test keeps the two equal).
--
-- Human text: one shared rule for every name, label and note people type and other people read.
--
-- A clean text is trimmed (no leading or trailing blank or invisible characters),
-- holds no control characters (C0, C1, line/paragraph separators, bidi overrides),
-- has at least one visible character and at most p_max_length characters.
-- Tables use private.is_clean_text in a check constraint (the backstop whatever
-- the code path) and their validation triggers call private.clean_text, which
-- trims and raises the column's stable error code.
--
-- Queue retention: archived pgmq jobs and pg_cron's run history are pruned daily.

-- Schemas, extensions and default privileges --------------------------------------------

create schema if not exists extensions;

create extension if not exists pg_cron;

create extension if not exists btree_gist with schema extensions;

create extension if not exists pgcrypto with schema extensions;

-- pgmq is an extension on Supabase. There `create extension pgmq` runs as the platform admin
-- (supautils), which would own a schema pgmq it had to create, and the platform's after-create
-- script hands pgmq's objects to postgres but not the schema: pgmq.create below would be denied.
-- So the schema is made here first, as the migration role. Locally the extension is made the
-- same way (supabase/compat/pgmq_extension.sql); on a plain PostgreSQL without it,
-- scripts/dbctl.py installs the SQL the pgmq package embeds before migrations run.
do $pgmq$
begin
    if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pgmq') then
        create schema if not exists pgmq;
        create extension if not exists pgmq with schema pgmq;
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

-- Tables --------------------------------------------------------------------------------

select pgmq.create('jobs');

-- The outbox's events (message_events jobs) have a queue of their own, which the worker reads
-- in its own loop: a booking's messages are written without waiting behind deliveries.
select pgmq.create('events');

create table private.error_codes (
    code text primary key check (code ~ '^[a-z][a-z0-9_]*$'),
    http_status integer not null check (http_status between 400 and 499),
    description text not null
);

comment on table private.error_codes is
'Registry of stable error codes: what private.raise_error raises and docs/errors.md lists.';

-- Functions -----------------------------------------------------------------------------

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

create function private.job_queue(p_kind text)
returns text
language sql
immutable
security invoker
set search_path = ''
as $$
    select case p_kind when 'message_events' then 'events' else 'jobs' end;
$$;

comment on function private.job_queue(text) is
'The pgmq queue a job of this kind goes to: the outbox''s message_events to events (read in a loop of its own, never '
'behind deliveries), every other kind to jobs.';

create function private.enqueue_job(p_kind text, p_payload jsonb, p_delay_seconds integer default 0)
returns bigint
language sql
security definer
set search_path = ''
as $$
    select pgmq.send(
        private.job_queue(p_kind),
        pg_catalog.jsonb_build_object('kind', p_kind, 'payload', p_payload),
        p_delay_seconds
    );
$$;

comment on function private.enqueue_job(text, jsonb, integer) is
'Puts a job {kind, payload} on its queue (private.job_queue) for the worker; returns the message id.';

-- The outbox's hot path (every booking's one job): the row pgmq.send would insert, written
-- directly: pgmq.send builds its insert with format() and EXECUTE, planned on every call (about
-- 0.1 ms of a booking's ~2 ms). The row is the same on pgmq 1.4.4 (hosted) and 1.13: vt =
-- clock_timestamp() as send sets it, the message, every other column its default
-- (tests/test_pgmq_versions.py reads, archives and counts such rows on both).
create function private.enqueue_events(p_events jsonb)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_msg_id bigint;
begin
    -- plpgsql, not sql: its plan is kept for the session (a sql function's is made per call).
    insert into pgmq.q_events (vt, message)
    values (
        pg_catalog.clock_timestamp(),
        pg_catalog.jsonb_build_object('kind', 'message_events', 'payload', pg_catalog.jsonb_build_object('events', p_events))
    )
    returning msg_id into v_msg_id;
    return v_msg_id;
end
$$;

comment on function private.enqueue_events(jsonb) is
'Puts one message_events job {kind, payload: {events}} on the events queue, as pgmq.send would (a direct insert: '
'the booking transaction''s one job); returns the message id.';

create function private.raise_error(p_code text, p_detail text default null)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_error private.error_codes;
begin
    select e.* into v_error from private.error_codes as e where e.code = p_code;
    if not found then
        raise exception 'unknown error code: %', p_code using errcode = 'XX000';
    end if;
    raise exception using
        errcode = 'PT' || v_error.http_status::text,
        message = v_error.code,
        detail = coalesce(p_detail, v_error.description);
end
$$;

comment on function private.raise_error(text, text) is
'Raises a registered error: message = stable code, sqlstate = PT<http status>, detail = description.';

create function private.is_clean_text(p_value text, p_max_length integer)
returns boolean
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
    return
        p_value is not null
        and char_length(p_value) between 1 and p_max_length
        -- nothing invisible at either end
        and p_value !~ U&'^[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]'
        and p_value !~ U&'[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]$'
        -- no control characters (tabs and newlines included), separators or bidi controls
        and p_value !~ U&'[\0001-\001F\007F-\009F\2028\2029\202A-\202E\2066-\2069]'
        -- at least one character that is neither blank nor invisible
        and p_value ~ U&'[^\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]';
end
$$;

comment on function private.is_clean_text(text, integer) is
'Whether a human text is trimmed, free of control characters, visible and at most p_max_length long.';

create function private.clean_text(p_value text, p_max_length integer, p_error_code text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_trimmed text := pg_catalog.regexp_replace(
        p_value,
        U&'^[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]+|[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]+$',
        '',
        'g'
    );
begin
    if not private.is_clean_text(v_trimmed, p_max_length) then
        perform private.raise_error(
            p_error_code,
            format(
                'Text needs 1 to %s characters with at least one visible character and no control characters.',
                p_max_length
            )
        );
    end if;
    return v_trimmed;
end
$$;

comment on function private.clean_text(text, integer, text) is
'Trims a human text and returns it, or raises p_error_code when it is not clean (see is_clean_text).';

create function private.prune_queue_archive(p_keep interval default interval '7 days')
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_queue text;
    v_deleted bigint;
    v_archived bigint := 0;
    v_cron_runs bigint;
begin
    if p_keep is null or p_keep < interval '1 hour' then
        raise exception 'keep at least one hour of history, not %', p_keep using errcode = '22023';
    end if;
    -- Every queue's archive (pgmq.a_<queue>), through its archived_at index.
    for v_queue in select m.queue_name from pgmq.meta as m order by m.queue_name loop
        execute pg_catalog.format('delete from pgmq.%I where archived_at < $1', 'a_' || v_queue)
        using now() - p_keep;
        get diagnostics v_deleted = row_count;
        v_archived := v_archived + v_deleted;
    end loop;
    delete from cron.job_run_details as d where d.end_time < now() - p_keep;
    get diagnostics v_cron_runs = row_count;
    return pg_catalog.jsonb_build_object('archived_jobs', v_archived, 'cron_runs', v_cron_runs);
end
$$;

comment on function private.prune_queue_archive(interval) is
'Daily (careops_prune_queue_archive): deletes archived jobs of every pgmq queue and pg_cron run details older than p_keep (default 7 days); returns the counts. Safe to run twice or concurrently.';

-- Row level security, policies and Realtime ---------------------------------------------

-- Reached only through security definer functions; RLS with no policy is a second lock.
alter table private.error_codes enable row level security;

-- Grants --------------------------------------------------------------------------------

revoke execute on function private.enqueue_job(text, jsonb, integer) from public;

revoke execute on function private.enqueue_events(jsonb) from public;

grant execute on function private.enqueue_job(text, jsonb, integer) to service_role;

revoke all on private.error_codes from public, anon, authenticated;

grant select on private.error_codes to service_role;

revoke execute on function private.raise_error(text, text) from public;

grant execute on function private.raise_error(text, text) to authenticated, service_role;

-- Check constraints run with the caller's privileges: API roles that write
-- tables directly need to execute the predicate (it reads nothing).
revoke execute on function private.is_clean_text(text, integer), private.clean_text(text, integer, text) from public;

grant execute on function private.is_clean_text(text, integer), private.clean_text(text, integer, text)
to authenticated, service_role;

revoke execute on function private.prune_queue_archive(interval) from public;

grant execute on function private.prune_queue_archive(interval) to service_role;

-- Schedules (pg_cron) -------------------------------------------------------------------

-- Installed idempotently: unschedule by name, schedule again.
select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_prune_queue_archive';

select cron.schedule('careops_prune_queue_archive', '17 3 * * *', 'select private.prune_queue_archive()');

-- Data ----------------------------------------------------------------------------------

insert into private.error_codes (code, http_status, description) values
('not_authenticated', 401, 'The request carries no signed-in user.'),
('forbidden', 403, 'The caller''s role in this workspace does not allow this.'),
('not_found', 404, 'No such record, or it is not visible to the caller.'),
('invalid_name', 400, 'A name needs 1 to 120 characters, at least one visible, and no control characters.'),
('invalid_slug', 400, 'A slug has 3 to 63 lowercase letters, digits or inner hyphens (for example "north-clinic").'),
('slug_taken', 409, 'Another workspace already uses this slug.'),
('invalid_timezone', 400, 'Not a canonical IANA time zone name (for example "Europe/Paris" or "UTC").'),
('invalid_email', 400, 'Not a valid email address.'),
('invalid_role', 400, 'A role is either owner or staff.'),
('invalid_expiry', 400, 'An invitation is valid for 1 to 30 days.'),
('already_member', 409, 'That person is already a member of this workspace.'),
('invitation_not_found', 404, 'No invitation matches this token.'),
('invitation_expired', 410, 'The invitation has expired; ask for a new one.'),
('invitation_revoked', 410, 'The invitation was revoked by an owner, or its inviter is no longer an owner.'),
('invitation_used', 409, 'The invitation was already accepted.'),
('invitation_wrong_user', 403, 'The invitation was sent to a different email address.'),
('last_owner', 409, 'A workspace must keep at least one owner.'),
('invalid_full_name', 400, 'A full name has at most 200 characters, at least one visible, and no control characters.'),
('invalid_token', 401, 'The access token is malformed, expired, not signed by this project or not meant for this API.'),
('invalid_parameter', 400, 'A request parameter is missing or malformed.'),
('method_not_allowed', 405, 'This endpoint does not answer that HTTP method.');
