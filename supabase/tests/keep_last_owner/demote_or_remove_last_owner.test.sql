begin;
create extension if not exists pgtap with schema extensions;
select plan(10);

-- Runs a statement and returns what it raised: sqlstate, message and detail.
create function pg_temp.caught(p_sql text)
returns jsonb
language plpgsql
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

grant execute on function pg_temp.caught(text) to authenticated;

-- Runs a statement as the current role and returns how many rows it touched.
create function pg_temp.affected(p_sql text)
returns integer
language plpgsql
as $$
declare
    v_count integer;
begin
    execute p_sql;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

grant execute on function pg_temp.affected(text) to authenticated;

-- North Clinic has one owner, Olive, and one staff member, Sam.
insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('22222222-2222-2222-2222-222222222222', 'staff@example.test', '{"full_name": "Sam Staff"}');

insert into public.workspaces (id, name, slug, timezone, created_by) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'North Clinic', 'north-clinic', 'Europe/Paris', '11111111-1111-1111-1111-111111111111'
);

insert into public.workspace_members (workspace_id, user_id, role) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'owner'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222', 'staff');

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);
set local role authenticated;

select throws_ok(
    $$
        update public.workspace_members set role = 'staff'
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'the last owner cannot demote themselves'
);

select is(
    pg_temp.caught(
        $$
            update public.workspace_members set role = 'staff'
            where user_id = '11111111-1111-1111-1111-111111111111'
        $$
    ),
    jsonb_build_object(
        'sqlstate', 'PT409',
        'message', 'last_owner',
        'detail', 'A workspace must keep at least one owner.'
    ),
    'last_owner carries its description'
);

select throws_ok(
    $$
        delete from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'the last owner cannot leave'
);

select throws_ok(
    $$delete from public.workspace_members where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT409',
    'last_owner',
    'the last owner cannot empty the workspace'
);

select throws_ok(
    $$update public.workspace_members set role = 'staff' where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT409',
    'last_owner',
    'the last owner cannot demote everyone at once'
);

select is(
    pg_temp.affected(
        $$
            update public.workspace_members set role = 'owner'
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
        $$
    ),
    1,
    'the last owner may update their row as long as it stays owner'
);

select is(
    pg_temp.affected(
        $$
            update public.workspace_members set role = 'staff'
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '22222222-2222-2222-2222-222222222222'
        $$
    ),
    1,
    'rows of staff members pass the trigger'
);

reset role;

select throws_ok(
    $$
        delete from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'postgres, past RLS, cannot remove the last owner either'
);

select throws_ok(
    $$
        update public.workspace_members set role = 'staff'
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'postgres cannot demote the last owner either'
);

select results_eq(
    $$
        select user_id, role from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        order by user_id
    $$,
    $$
        values
        ('11111111-1111-1111-1111-111111111111'::uuid, 'owner'::text),
        ('22222222-2222-2222-2222-222222222222'::uuid, 'staff'::text)
    $$,
    'the memberships are unchanged'
);

select * from finish();
rollback;
