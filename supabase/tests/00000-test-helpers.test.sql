-- Shared pgTAP helpers in schema tests (in the spirit of basejump's
-- supabase_test_helpers). pg_prove runs files in name order, so this one
-- installs them before the others. It commits on purpose (the test database is
-- disposable) and can run again. Nothing here is part of the migrations.

set client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
-- Tests call pgtap while acting as anon/authenticated/service_role. Created by the
-- platform's admin (hosted Supabase, the local clusters) its functions are executable
-- through PUBLIC; created by postgres they fall under the foundation's
-- `alter default privileges revoke execute on functions from public`. Either way:
do $pgtap_grants$
declare
    v_function regprocedure;
begin
    for v_function in
        select p.oid::regprocedure
        from pg_catalog.pg_depend as d
        inner join pg_catalog.pg_extension as e on d.refobjid = e.oid
        inner join pg_catalog.pg_proc as p on d.objid = p.oid
        where
            d.classid = 'pg_catalog.pg_proc'::regclass
            and e.extname = 'pgtap'
            and not pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
    loop
        execute pg_catalog.format('grant execute on function %s to anon, authenticated, service_role', v_function);
    end loop;
end
$pgtap_grants$;
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- A user as GoTrue sign-up writes it (the profile trigger fires).
create or replace function tests.create_user(p_id uuid, p_email text, p_full_name text default null)
returns uuid
language sql
security invoker
set search_path = ''
as $$
    insert into auth.users (
        instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at
    )
    values (
        '00000000-0000-0000-0000-000000000000', p_id, 'authenticated', 'authenticated', p_email,
        '{"provider": "email", "providers": ["email"]}',
        case when p_full_name is null then '{}'::jsonb else jsonb_build_object('full_name', p_full_name) end,
        now(), now()
    )
    returning id;
$$;

-- What PostgREST does for every request: the JWT's role and its claims, for the transaction.
create or replace function tests.authenticate(p_role text, p_claims jsonb)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform set_config('request.jwt.claims', p_claims::text, true);
    perform set_config('role', p_role, true);
end
$$;

-- A signed-in user. Can switch from another identity: it reads auth.users as the session user first.
create or replace function tests.authenticate_as(p_user_id uuid)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform set_config('role', 'none', true);
    perform tests.authenticate(
        'authenticated',
        jsonb_build_object(
            'sub', p_user_id,
            'role', 'authenticated',
            'aud', 'authenticated',
            'email', (select u.email from auth.users as u where u.id = p_user_id)
        )
    );
end
$$;

-- An authenticated request whose JWT has no subject: auth.uid() is null.
create or replace function tests.authenticate_without_user()
returns void
language sql
security invoker
set search_path = ''
as $$
    select tests.authenticate('authenticated', '{"role": "authenticated"}');
$$;

create or replace function tests.authenticate_as_anon()
returns void
language sql
security invoker
set search_path = ''
as $$
    select tests.authenticate('anon', '{"role": "anon"}');
$$;

create or replace function tests.authenticate_as_service_role()
returns void
language sql
security invoker
set search_path = ''
as $$
    select tests.authenticate('service_role', '{"role": "service_role"}');
$$;

-- Back to the test's own session role (postgres), without claims.
create or replace function tests.clear_authentication()
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
end
$$;

-- A workspace with its owner, written directly (create_workspace has its own tests).
create or replace function tests.create_workspace(
    p_id uuid, p_slug text, p_owner_id uuid, p_name text default null, p_timezone text default 'UTC'
)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
begin
    insert into public.workspaces (id, name, slug, timezone, created_by)
    values (p_id, coalesce(p_name, initcap(replace(p_slug, '-', ' '))), p_slug, p_timezone, p_owner_id);
    insert into public.workspace_members (workspace_id, user_id, role) values (p_id, p_owner_id, 'owner');
    return p_id;
end
$$;

create or replace function tests.add_member(p_workspace_id uuid, p_user_id uuid, p_role text default 'staff')
returns void
language sql
security invoker
set search_path = ''
as $$
    insert into public.workspace_members (workspace_id, user_id, role) values (p_workspace_id, p_user_id, p_role);
$$;

-- An open invitation from the workspace's creator, valid for 7 days, whose token is known.
-- Tests that need it accepted, revoked or expired update the row afterwards.
create or replace function tests.create_invitation(
    p_workspace_id uuid, p_email text, p_token text, p_role text default 'staff', p_id uuid default null
)
returns uuid
language sql
security invoker
set search_path = ''
as $$
    insert into public.invitations (id, workspace_id, email, role, token_hash, invited_by, expires_at)
    values (
        coalesce(p_id, gen_random_uuid()), p_workspace_id, p_email, p_role, private.token_hash(p_token),
        (select w.created_by from public.workspaces as w where w.id = p_workspace_id), now() + interval '7 days'
    )
    returning id;
$$;

-- The error a statement raises as {sqlstate, message, detail}, or null when it succeeds.
create or replace function tests.caught(p_sql text)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_state text;
    v_message text;
    v_detail text;
begin
    execute p_sql;
    return null;
exception when others then
    get stacked diagnostics
        v_state = returned_sqlstate,
        v_message = message_text,
        v_detail = pg_exception_detail;
    return jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail);
end
$$;

-- How many rows a statement touched, as the current role.
create or replace function tests.affected(p_sql text)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_count integer;
begin
    execute p_sql;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;


-- An active workspace whose owner performs one booking type (p_duration minutes, on its own
-- grid) every day from 00:00 to 24:00; returns the booking type's id. The owner's
-- practitioner row comes from the creator trigger.
create or replace function tests.create_bookable_workspace(
    p_id uuid, p_slug text, p_owner_id uuid, p_timezone text default 'UTC', p_duration integer default 30
)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_type_id uuid;
begin
    perform tests.create_workspace(p_id, p_slug, p_owner_id, null, p_timezone);
    update public.workspaces set status = 'active' where id = p_id;
    insert into public.booking_types (workspace_id, name, duration_minutes)
    values (p_id, 'Consultation', p_duration)
    returning id into v_type_id;
    insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)
    select p_id, v_type_id, p.id from public.practitioners as p where p.workspace_id = p_id;
    insert into public.availability_rules (workspace_id, practitioner_id, weekday, start_time, end_time)
    select p_id, p.id, d, '00:00', '24:00'
    from public.practitioners as p cross join generate_series(1, 7) as d
    where p.workspace_id = p_id;
    return v_type_id;
end
$$;

-- The worker's part of the outbox, run now: what booking and contact changes queued as
-- message_events jobs is written (private.write_event_messages) and the jobs removed. Deferred
-- triggers (a new contact's event, at commit) fire first. Works as any role.
create or replace function tests.write_events()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_ids bigint[];
    v_events jsonb;
begin
    set constraints all immediate;
    set constraints all deferred;
    select array_agg(q.msg_id order by q.msg_id) into v_ids
    from pgmq.q_events as q;
    if v_ids is null then
        return 0;
    end if;
    select jsonb_agg(e.event order by q.msg_id, e.ordinal) into v_events
    from pgmq.q_events as q
    cross join lateral jsonb_array_elements(q.message -> 'payload' -> 'events') with ordinality as e (event, ordinal)
    where q.msg_id = any(v_ids);
    perform pgmq.delete('events', v_ids);
    return private.write_event_messages(v_events);
end
$$;
grant execute on function tests.write_events() to anon, authenticated, service_role;

begin;
select plan(6);
select has_function('tests', 'authenticate_as', array['uuid'], 'tests.authenticate_as is installed');
select has_function('tests', 'caught', array['text'], 'tests.caught is installed');
select is(
    tests.caught('select private.raise_error(''forbidden'')') ->> 'sqlstate',
    'PT403',
    'tests.caught reports the SQLSTATE of a raised error'
);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'first@example.test');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'second@example.test');
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select is(
    auth.uid(),
    '22222222-2222-2222-2222-222222222222'::uuid,
    'tests.authenticate_as switches from one signed-in user to another'
);
select tests.clear_authentication();
select is(current_user::text, session_user::text, 'tests.clear_authentication returns to the session user');

select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'helper-check', '11111111-1111-1111-1111-111111111111'
);
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test', 'known-token');
select results_eq(
    $$
        select i.email, i.role, i.token_hash, i.invited_by, i.expires_at, i.accepted_at, i.revoked_at
        from public.invitations as i
        where i.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    $$,
    $$
        values (
            'new@example.test', 'staff', private.token_hash('known-token'),
            '11111111-1111-1111-1111-111111111111'::uuid, now() + interval '7 days', null::timestamptz,
            null::timestamptz
        )
    $$,
    'tests.create_invitation stores an open invitation from the owner with the hash of the token'
);
select * from finish();
rollback;
